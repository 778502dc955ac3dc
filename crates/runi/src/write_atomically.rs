//! Replacing a small file whole, never leaving half of it.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Writes beside the file and renames over it, so that a crash never leaves
/// half a file (a formatted scenario, the state folder's lists).
pub fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    // Through a symbolic link to the file it names: renaming over the link
    // would replace it with a copy and leave the file as it was.
    let real = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path)
            .with_context(|| format!("`{}` is a link to nothing", path.display()))?,
        _ => path.to_path_buf(),
    };
    let path = real.as_path();
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = folder.join(format!(".{name}.runi-tmp.{}", std::process::id()));
    let result = (|| -> anyhow::Result<()> {
        let mut out = std::fs::File::create(&temporary)
            .with_context(|| format!("cannot create `{}`", temporary.display()))?;
        out.write_all(text.as_bytes())?;
        out.sync_all()?;
        if let Ok(metadata) = std::fs::metadata(path) {
            std::fs::set_permissions(&temporary, metadata.permissions())?;
        }
        std::fs::rename(&temporary, path)
            .with_context(|| format!("cannot replace `{}`", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symbolic_link_is_written_through_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("real.dsl");
        let link = dir.path().join("link.dsl");
        std::fs::write(&file, "old").unwrap();
        std::os::unix::fs::symlink("real.dsl", &link).unwrap();
        write_atomically(&link, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}
