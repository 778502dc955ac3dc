//! Replacing a small file whole, never leaving half of it.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Writes beside the file and renames over it, so that a crash never leaves
/// half a file (a formatted scenario, the state folder's lists).
pub fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
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
