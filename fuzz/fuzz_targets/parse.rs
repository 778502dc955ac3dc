//! Fuzz target for the scenario language: for any UTF-8 text the parser,
//! formatter and compiler must return (diagnostics are fine), never panic.
//! When formatting succeeds its output must parse cleanly and be a fixed
//! point of the formatter.

#![no_main]

use std::io;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use runink_dsl::{CompileOptions, Loader};

/// A file system with no files, so the compiler's "missing file" paths run
/// and the fuzzer never touches the disk.
struct EmptyLoader;

impl Loader for EmptyLoader {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        Err(not_found(path))
    }

    fn read_bytes(&self, path: &Path) -> io::Result<Vec<u8>> {
        Err(not_found(path))
    }

    fn is_file(&self, _path: &Path) -> bool {
        false
    }

    fn is_executable(&self, _path: &Path) -> bool {
        false
    }

    fn list_dir(&self, _path: &Path) -> Vec<String> {
        Vec::new()
    }
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("`{}` does not exist", path.display()),
    )
}

fuzz_target!(|source: &str| {
    let _ = runink_dsl::parse(source);

    if let Ok(formatted) = runink_dsl::format::format_source(source) {
        let (_, diagnostics) = runink_dsl::parse(&formatted);
        let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(
            errors.is_empty(),
            "formatted output does not parse\n--- input ---\n{source:?}\n--- formatted ---\n{formatted:?}\n--- errors ---\n{errors:#?}"
        );
        let again = runink_dsl::format::format_source(&formatted)
            .expect("formatted output parses, checked above");
        assert_eq!(
            formatted, again,
            "format is not idempotent\n--- input ---\n{source:?}"
        );
    }

    let _ = runink_dsl::compile(
        "fuzz.dsl",
        source,
        Path::new("/fuzz"),
        &EmptyLoader,
        &CompileOptions::default(),
    );
});
