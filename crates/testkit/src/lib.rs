//! Test fixtures shared by the crates' tests: golden files that regenerate
//! with `UPDATE_GOLDEN=1`, and the paths of the repository's own material.

use std::path::{Path, PathBuf};

/// The environment variable that rewrites golden files instead of comparing.
pub const UPDATE_GOLDEN: &str = "UPDATE_GOLDEN";

/// Compares `actual` with the golden file at `path`; with `UPDATE_GOLDEN=1`
/// writes it instead. A mismatch panics with the first differing line.
pub fn assert_golden(path: &Path, actual: &str) {
    if std::env::var(UPDATE_GOLDEN).is_ok_and(|v| v == "1") {
        std::fs::write(path, actual)
            .unwrap_or_else(|e| panic!("cannot write golden file `{}`: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "cannot read golden file `{}`: {e}; run with {UPDATE_GOLDEN}=1 to create it",
            path.display()
        )
    });
    if expected == actual {
        return;
    }
    let first_difference = expected
        .lines()
        .zip(actual.lines())
        .position(|(e, a)| e != a)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
    panic!(
        "golden file `{}` differs at line {}:\n  expected: {:?}\n  actual:   {:?}\n--- actual output ---\n{actual}\n(run with {UPDATE_GOLDEN}=1 to accept it)",
        path.display(),
        first_difference + 1,
        expected
            .lines()
            .nth(first_difference)
            .unwrap_or("<end of file>"),
        actual
            .lines()
            .nth(first_difference)
            .unwrap_or("<end of file>"),
    );
}

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    // At run time, cargo names the tested crate's folder (crates/<name>);
    // the compile-time value can be stale when one target folder serves
    // clones at several paths.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
        .ancestors()
        .nth(2)
        .expect("every crate lives at crates/<name>")
        .to_owned()
}

/// The bundled example scenarios, sorted.
pub fn example_scenarios() -> Vec<PathBuf> {
    let mut files = Vec::new();
    collect_dsl(&repo_root().join("examples"), &mut files);
    files.sort();
    files
}

fn collect_dsl(folder: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_dsl(&path, out);
        } else if path.extension().is_some_and(|e| e == "dsl") {
            out.push(path);
        }
    }
}

/// Every `.dsl` file directly in `folder`, sorted.
pub fn dsl_files_in(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("cannot list `{}`: {e}", folder.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "dsl"))
        .collect();
    files.sort();
    files
}

/// The names of every entry directly in `folder`, sorted: what a test
/// asserts when it checks that nothing was left behind.
pub fn file_names_in(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("cannot list `{}`: {e}", folder.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Copies a folder tree (an example) into `to`, leaving out `out/` folders,
/// so that a test can run it without touching the repository.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("cannot create `{}`: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("cannot list `{}`: {e}", from.display()));
    for entry in entries.flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            if entry.file_name() != "out" {
                copy_tree(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("cannot copy `{}`: {e}", entry.path().display()));
        }
    }
}
