//! Errors from loading a contract. All of them are the contract author's to fix.

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
    #[error("`apiVersion` `{found}` is not supported; expected ODCS v3.0.x or v3.1.x")]
    UnsupportedVersion { found: String },
}

fn at_line_col(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(" at line {line}, column {column}"),
        _ => String::new(),
    }
}
