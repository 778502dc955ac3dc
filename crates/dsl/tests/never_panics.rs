//! Property tests: the parser, formatter and compiler never panic, whatever
//! the input; formatting is idempotent and keeps the plan's identity.

use std::io;
use std::path::Path;

use proptest::prelude::*;
use runink_dsl::format::format_source;
use runink_dsl::{CompileOptions, Loader, compile, parse};

/// A file system with nothing in it.
struct EmptyLoader;

impl Loader for EmptyLoader {
    fn read_to_string(&self, _: &Path) -> io::Result<String> {
        Err(io::ErrorKind::NotFound.into())
    }
    fn read_bytes(&self, _: &Path) -> io::Result<Vec<u8>> {
        Err(io::ErrorKind::NotFound.into())
    }
    fn is_file(&self, _: &Path) -> bool {
        false
    }
    fn is_executable(&self, _: &Path) -> bool {
        false
    }
    fn list_dir(&self, _: &Path) -> Vec<String> {
        Vec::new()
    }
}

/// Pieces of real scenarios, so that random input reaches deep into the grammar.
const FRAGMENTS: &[&str] = &[
    "Feature: F\n",
    "Scenario: S\n",
    "  ",
    "\n",
    "@source(",
    "@step(",
    "@sink(",
    "@dlq(",
    "@herd(",
    "@module(",
    "@requires(",
    "@window(",
    "@meta(",
    "@affinity(",
    ")",
    "(",
    ",",
    "=",
    "\"",
    "\\",
    "\"csv://a.csv\"",
    "\"jsonl://b.jsonl\"",
    "\"filter\"",
    "\"derive\"",
    "\"sql\"",
    "where=",
    "when=",
    "query=",
    "\"a > 0\"",
    "\"SELECT * FROM input\"",
    " when ",
    " with ",
    "\"role=ops\"",
    "sliding:10m",
    "every:2m",
    "5m",
    "domain=",
    "# c\n",
    "---\n",
    "## h\n",
    "Given the contract: c.yaml\n",
    "Then the output contract: o.yaml\n",
    "Do x\n",
    "And y\n",
    "é",
    "\t",
    "\r\n",
    "@",
    "x=1",
    "true",
    "\"\"",
];

fn fragments() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..60).prop_map(|parts| parts.concat())
}

fn check_everything(source: &str) {
    let _ = parse(source);
    let _ = compile(
        "f.dsl",
        source,
        Path::new("."),
        &EmptyLoader,
        &CompileOptions::default(),
    );
    if let Ok(formatted) = format_source(source) {
        let again = format_source(&formatted).expect("formatted text parses");
        assert_eq!(again, formatted, "formatting is idempotent");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(source in any::<String>()) {
        check_everything(&source);
    }

    #[test]
    fn scenario_like_text_never_panics(source in fragments()) {
        check_everything(&source);
    }
}
