//! Golden diagnostics: every `.dsl` file in `tests/diagnostics/` is compiled
//! and its rendered diagnostics (and, when it compiles, its explained plans)
//! are compared with `NAME.expected`. Regenerate with `UPDATE_GOLDEN=1`.

use std::path::Path;

use runink_dsl::diagnostic::render;
use runink_dsl::{Colour, CompileOptions, FsLoader, compile};
use runink_testkit::{assert_golden, dsl_files_in};

fn golden_text(path: &Path) -> (String, usize) {
    // Relative to the crate (the test's working folder), so messages that
    // show the folder read the same on every machine.
    let folder = Path::new("tests/diagnostics");
    let shown = path
        .file_name()
        .expect("a file")
        .to_string_lossy()
        .into_owned();
    let source = std::fs::read_to_string(path).expect("test files are readable");
    let compilation = compile(
        &shown,
        &source,
        folder,
        &FsLoader,
        &CompileOptions::default(),
    );
    let mut text = String::new();
    for diagnostic in &compilation.diagnostics {
        text.push_str(&render(&shown, &source, diagnostic, Colour::Never));
    }
    let errors = compilation
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .count();
    text.push_str(&format!(
        "-- {errors} error(s), {} warning(s)\n",
        compilation.diagnostics.len() - errors
    ));
    if errors == 0 {
        for plan in &compilation.plans {
            text.push('\n');
            text.push_str(&runink_plan::explain_text(plan));
        }
    }
    (text, errors)
}

#[test]
fn diagnostics_match_golden_files() {
    let folder = Path::new(
        &std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"),
    )
    .join("tests/diagnostics");
    let files = dsl_files_in(&folder);
    assert!(
        files.len() >= 15,
        "the golden cases are missing from `{}`",
        folder.display()
    );
    for path in files {
        let (text, errors) = golden_text(&path);
        let name = path
            .file_stem()
            .expect("a stem")
            .to_string_lossy()
            .into_owned();
        let clean = name.starts_with("ok_") || name == "warnings";
        assert_eq!(
            errors == 0,
            clean,
            "`{name}`: expected {} errors\n{text}",
            if clean { "no" } else { "some" }
        );
        assert_golden(&path.with_extension("expected"), &text);
    }
}

#[test]
fn a_scenario_with_two_errors_reports_both() {
    let path = Path::new(
        &std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"),
    )
    .join("tests/diagnostics/two_errors.dsl");
    let (text, errors) = golden_text(&path);
    assert_eq!(errors, 2, "{text}");
    assert!(
        text.contains("two_errors.dsl:4:9: error: unknown step `filtr`"),
        "{text}"
    );
    assert!(text.contains("did you mean `filter`?"), "{text}");
    assert!(
        text.contains("two_errors.dsl:5:36: error: unknown column `amont`"),
        "{text}"
    );
}
