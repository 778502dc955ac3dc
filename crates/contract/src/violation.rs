//! One way in which a contract breaks the ODCS JSON Schema, placed in the
//! contract's YAML text so its author can go straight to it.

use std::fmt;

/// A schema error at one value of the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON path of the value, e.g. `schema[0].properties[3].logicalType`;
    /// empty for the document itself.
    pub path: String,
    /// Line (from 1) where the value stands in the YAML text; `None` only
    /// when the positional parser could not place it.
    pub line: Option<usize>,
    /// Column (from 1, in characters) where the value starts.
    pub column: Option<usize>,
    /// What was found and what was expected, lowercase, values in backticks.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(document)"
        } else {
            &self.path
        };
        f.write_str(path)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, " at line {line}, column {column}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_path_position_message() {
        let violation = Violation {
            path: "schema[0].properties[3].logicalType".to_owned(),
            line: Some(21),
            column: Some(22),
            message: "found `strin`, expected one of `string`, `date`".to_owned(),
        };
        assert_eq!(
            violation.to_string(),
            "schema[0].properties[3].logicalType at line 21, column 22: \
             found `strin`, expected one of `string`, `date`"
        );
        let root = Violation {
            path: String::new(),
            line: None,
            column: None,
            message: "missing required property `kind`".to_owned(),
        };
        assert_eq!(
            root.to_string(),
            "(document): missing required property `kind`"
        );
    }
}
