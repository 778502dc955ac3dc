//! The file tree a slice sees, decided in the parent: which host paths are
//! bound read-only, which directories, files and links the new root needs,
//! and where `/dev`, `/proc` and the scratch `/tmp` go.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::error::{Result, SliceError};

/// The devices a slice gets, bound from the host.
pub(crate) const DEVICES: &[&str] = &["/dev/null", "/dev/zero", "/dev/urandom"];

/// Links every slice gets in `/dev`.
const DEV_LINKS: &[(&str, &str)] = &[
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
];

/// Top-level paths the slice's own mounts take; binds may not go there.
const RESERVED: &[&str] = &["/dev", "/proc", "/tmp"];

/// One read-only bind of a host path (`source`) at `path` inside the slice;
/// the two are the same path except for the binds of `SliceSpec::binds_ro_at`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TreeBind {
    pub path: PathBuf,
    pub is_dir: bool,
    pub source: PathBuf,
}

/// The new root's layout; every path is absolute as seen from inside.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    pub dirs: BTreeSet<PathBuf>,
    pub files: BTreeSet<PathBuf>,
    /// (link target, link path)
    pub symlinks: Vec<(PathBuf, PathBuf)>,
    pub binds: Vec<TreeBind>,
    /// The canonical path of the program, where it is exec'd from.
    pub program: PathBuf,
}

/// Plans the tree for `program`, the `libraries` (skipped when missing),
/// the extra `binds` (which must exist) and the directories `binds_at`
/// (host directory, path inside the slice).
pub(crate) fn plan(
    program: &Path,
    libraries: &[PathBuf],
    binds: &[PathBuf],
    binds_at: &[(PathBuf, PathBuf)],
) -> Result<Tree> {
    let mut tree = Tree::default();
    let mut wanted: Vec<TreeBind> = Vec::new();
    for lib in libraries {
        if fs::symlink_metadata(lib).is_err() {
            continue;
        }
        add(&mut tree, &mut wanted, lib)?;
    }
    for bind in binds {
        add(&mut tree, &mut wanted, bind)?;
    }
    let program_canonical = fs::canonicalize(program).map_err(|source| SliceError::Path {
        path: program.to_owned(),
        error: source,
    })?;
    if !program_canonical.is_file() {
        return Err(SliceError::InvalidSpec(format!(
            "program `{}` is not a file",
            program.display()
        )));
    }
    add(&mut tree, &mut wanted, &program_canonical)?;
    tree.program = program_canonical;

    // A bind inside another is already visible (read-only) through it.
    wanted.sort();
    wanted.dedup();
    for bind in wanted {
        if tree
            .binds
            .iter()
            .any(|b| b.is_dir && bind.path.starts_with(&b.path))
        {
            continue;
        }
        add_parents(&mut tree.dirs, &bind.path);
        if bind.is_dir {
            tree.dirs.insert(bind.path.clone());
        } else {
            tree.files.insert(bind.path.clone());
        }
        tree.binds.push(bind);
    }
    for (source, inside) in binds_at {
        let bind = mapped_bind(source, inside)?;
        if let Some(outer) = tree.binds.iter().find(|b| bind.path.starts_with(&b.path)) {
            return Err(SliceError::InvalidSpec(format!(
                "`{}` cannot be bound inside `{}`, which is already bound",
                bind.path.display(),
                outer.path.display()
            )));
        }
        add_parents(&mut tree.dirs, &bind.path);
        tree.dirs.insert(bind.path.clone());
        tree.binds.push(bind);
    }
    for dir in RESERVED {
        tree.dirs.insert(PathBuf::from(dir));
    }
    for device in DEVICES {
        tree.files.insert(PathBuf::from(device));
    }
    for (target, link) in DEV_LINKS {
        tree.symlinks
            .push((PathBuf::from(target), PathBuf::from(link)));
    }
    Ok(tree)
}

/// Adds one requested path: a link is recreated and its target bound.
fn add(tree: &mut Tree, wanted: &mut Vec<TreeBind>, path: &Path) -> Result<()> {
    let path_error = |source| SliceError::Path {
        path: path.to_owned(),
        error: source,
    };
    if !path.is_absolute() || path.components().any(|c| c == Component::ParentDir) {
        return Err(SliceError::InvalidSpec(format!(
            "bind `{}` must be an absolute path without `..`",
            path.display()
        )));
    }
    let meta = fs::symlink_metadata(path).map_err(path_error)?;
    if meta.file_type().is_symlink() {
        let target = fs::read_link(path).map_err(path_error)?;
        // The link's own parent may be a link too (`/bin/x` with `/bin -> usr/bin`).
        let parent = path.parent().unwrap_or(Path::new("/"));
        let parent = fs::canonicalize(parent).map_err(path_error)?;
        let link = parent.join(path.file_name().unwrap_or_default());
        check_not_reserved(&link)?;
        add_parents(&mut tree.dirs, &link);
        tree.symlinks.push((target, link));
        let resolved = fs::canonicalize(path).map_err(path_error)?;
        return add(tree, wanted, &resolved);
    }
    let canonical = fs::canonicalize(path).map_err(path_error)?;
    check_not_reserved(&canonical)?;
    wanted.push(TreeBind {
        is_dir: meta.is_dir(),
        source: canonical.clone(),
        path: canonical,
    });
    Ok(())
}

/// A host directory bound at another path inside the slice. The host path
/// may be anywhere (even under `/tmp`); the inside path may not be reserved.
fn mapped_bind(source: &Path, inside: &Path) -> Result<TreeBind> {
    if !inside.is_absolute() || inside.components().any(|c| c == Component::ParentDir) {
        return Err(SliceError::InvalidSpec(format!(
            "bind target `{}` must be an absolute path without `..`",
            inside.display()
        )));
    }
    check_not_reserved(inside)?;
    let canonical = fs::canonicalize(source).map_err(|source_error| SliceError::Path {
        path: source.to_owned(),
        error: source_error,
    })?;
    if !canonical.is_dir() {
        return Err(SliceError::InvalidSpec(format!(
            "`{}` is not a directory; only directories can be bound at another path",
            source.display()
        )));
    }
    Ok(TreeBind {
        path: inside.to_owned(),
        is_dir: true,
        source: canonical,
    })
}

fn check_not_reserved(path: &Path) -> Result<()> {
    if path == Path::new("/") || RESERVED.iter().any(|r| path.starts_with(r)) {
        return Err(SliceError::InvalidSpec(format!(
            "`{}` cannot be bound into a slice: `/` and {} belong to the slice itself",
            path.display(),
            RESERVED.join(", ")
        )));
    }
    Ok(())
}

fn add_parents(dirs: &mut BTreeSet<PathBuf>, path: &Path) {
    let mut ancestors: Vec<&Path> = path.ancestors().skip(1).collect();
    ancestors.retain(|a| *a != Path::new("/"));
    dirs.extend(ancestors.into_iter().map(Path::to_path_buf));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libraries_links_are_recreated_and_their_targets_bound() {
        // Not under /tmp: that path is reserved for the slice's scratch (and
        // the repository itself may be cloned under /tmp).
        let tmp = tempfile::tempdir_in("/var/tmp").unwrap();
        let lib = tmp.path().join("usr/lib");
        fs::create_dir_all(&lib).unwrap();
        std::os::unix::fs::symlink("usr/lib", tmp.path().join("lib")).unwrap();
        let program = lib.join("prog");
        fs::write(&program, "").unwrap();
        let tree = plan(
            &program,
            &[tmp.path().join("lib"), tmp.path().join("absent")],
            &[],
            &[],
        )
        .unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        assert_eq!(
            tree.symlinks[0],
            (PathBuf::from("usr/lib"), root.join("lib"))
        );
        // The program is inside the bound directory: no bind of its own.
        assert_eq!(
            tree.binds,
            vec![TreeBind {
                path: root.join("usr/lib"),
                is_dir: true,
                source: root.join("usr/lib"),
            }]
        );
        assert!(tree.dirs.contains(&root.join("usr")));
        assert_eq!(tree.program, root.join("usr/lib/prog"));
    }

    #[test]
    fn reserved_and_relative_paths_are_refused() {
        let program = std::env::current_exe().unwrap();
        for bad in ["/proc/self", "/", "relative", "/dev/null"] {
            assert!(
                plan(&program, &[], &[PathBuf::from(bad)], &[]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_directory_can_be_bound_at_another_path_even_from_tmp() {
        let program = std::env::current_exe().unwrap();
        let tmp = tempfile::tempdir_in("/tmp").unwrap();
        let tree = plan(
            &program,
            &[],
            &[],
            &[(tmp.path().to_owned(), PathBuf::from("/step"))],
        )
        .unwrap();
        let bind = tree.binds.last().unwrap();
        assert_eq!(bind.path, PathBuf::from("/step"));
        assert_eq!(bind.source, fs::canonicalize(tmp.path()).unwrap());
        assert!(tree.dirs.contains(Path::new("/step")));
        for bad in ["/tmp/x", "step", "/proc", "/"] {
            let at = [(tmp.path().to_owned(), PathBuf::from(bad))];
            assert!(plan(&program, &[], &[], &at).is_err(), "{bad}");
        }
        let file = tmp.path().join("file");
        fs::write(&file, "").unwrap();
        let at = [(file, PathBuf::from("/step"))];
        assert!(plan(&program, &[], &[], &at).is_err());
    }

    #[test]
    fn a_missing_program_names_its_path() {
        let err = plan(Path::new("/no/such/program"), &[], &[], &[]).unwrap_err();
        assert!(err.to_string().contains("/no/such/program"), "{err}");
    }
}
