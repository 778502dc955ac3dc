//! Errors from loading a contract. All of them are the contract author's to fix.

use crate::Violation;

#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    #[error("the contract is not valid YAML{}: {message}", at_line_col(*.line, *.column))]
    Yaml {
        message: String,
        line: Option<usize>,
        column: Option<usize>,
    },
    #[error("`{path}`: expected {expected}, found {found}")]
    Shape {
        path: String,
        expected: &'static str,
        found: String,
    },
    #[error("`apiVersion` `{found}` is not supported; expected ODCS v3.0.0 to v3.0.2 or v3.1.x")]
    UnsupportedVersion { found: String },
    /// A rule the contract states that Runink cannot run as written (a
    /// regular expression it cannot compile, a bound of the wrong kind).
    #[error("column `{column}`: {message}")]
    Rule { column: String, message: String },
    /// The document breaks the ODCS JSON Schema of its `apiVersion`; every
    /// violation is listed, in the order they appear in the text.
    #[error(
        "the contract does not match the ODCS `{schema}` JSON Schema: {}",
        join(violations)
    )]
    Invalid {
        /// The schema version checked against (every v3.1.x uses `v3.1.0`).
        schema: &'static str,
        violations: Vec<Violation>,
    },
}

fn join(violations: &[Violation]) -> String {
    let parts: Vec<String> = violations.iter().map(Violation::to_string).collect();
    parts.join("; ")
}

fn at_line_col(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(" at line {line}, column {column}"),
        _ => String::new(),
    }
}
