//! The columns a row has at each point of the pipeline, known from the
//! contract and from what each step does, so that a name that is not there
//! is an error before any data is read.

use crate::ast::StrLit;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::suggest::did_you_mean;

use super::sql::ColumnRef;

/// The columns at one point; `None` when they cannot be known (no contract,
/// after an `exec` step or a complex `sql` step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns(pub Option<Vec<String>>);

impl Columns {
    pub fn unknown() -> Self {
        Self(None)
    }

    /// Finds `name` as DataFusion will: a quoted name as written, an
    /// unquoted one in lower case (`Amount` and `AMOUNT` are `amount`, so
    /// a column `Amount` is reached only as `"Amount"`).
    pub fn resolve(&self, name: &str, quoted: bool) -> Resolution {
        let Some(columns) = &self.0 else {
            return Resolution::Unchecked;
        };
        let sought = if quoted {
            name.to_owned()
        } else {
            name.to_lowercase()
        };
        if columns.contains(&sought) {
            return Resolution::Found;
        }
        Resolution::Missing
    }

    pub fn contains(&self, name: &str) -> bool {
        !matches!(self.resolve(name, true), Resolution::Missing)
    }

    pub fn add(&mut self, name: &str) {
        if let Some(columns) = &mut self.0
            && !columns.iter().any(|c| c == name)
        {
            columns.push(name.to_owned());
        }
    }

    pub fn rename(&mut self, old: &str, new: &str) {
        if let Some(columns) = &mut self.0 {
            for column in columns.iter_mut().filter(|c| *c == old) {
                *column = new.to_owned();
            }
        }
    }

    /// The list for "expected one of" messages, shortened when long.
    pub fn describe(&self) -> String {
        const SHOWN_MAX: usize = 12;
        match &self.0 {
            None => "a column of the input".to_owned(),
            Some(columns) if columns.is_empty() => "a column, but the input has none".to_owned(),
            Some(columns) => {
                let mut shown: Vec<String> = columns
                    .iter()
                    .take(SHOWN_MAX)
                    .map(|c| format!("`{c}`"))
                    .collect();
                if columns.len() > SHOWN_MAX {
                    shown.push(format!("and {} more", columns.len() - SHOWN_MAX));
                }
                format!("one of {}", shown.join(", "))
            }
        }
    }

    /// Reports a column that is not there, pointing at `span`.
    pub fn missing(&self, name: &str, span: Span, context: &str) -> Diagnostic {
        let candidates = self.0.iter().flatten().map(String::as_str);
        let other_case = candidates
            .clone()
            .find(|c| c.to_lowercase() == name.to_lowercase());
        let help = match other_case {
            Some(column) => Some(format!(
                "unquoted names are read in lower case; write `\"{column}\"` for the column `{column}`"
            )),
            None => did_you_mean(name, candidates),
        };
        Diagnostic::error(span, format!("unknown column `{name}` in {context}"))
            .expected(self.describe())
            .help_opt(help)
    }
}

pub enum Resolution {
    Found,
    Missing,
    Unchecked,
}

/// Checks every column an expression names; `allowed` are extra names (aliases).
pub fn check_refs(
    refs: &[ColumnRef],
    lit: &StrLit,
    columns: &Columns,
    allowed: &[String],
    context: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for r in refs {
        if allowed.iter().any(|a| a.eq_ignore_ascii_case(&r.name)) {
            continue;
        }
        if let Resolution::Missing = columns.resolve(&r.name, r.quoted) {
            let span = r
                .range
                .map_or(lit.span, |(start, end)| lit.sub_span(start, end));
            diagnostics.push(columns.missing(&r.name, span, context));
        }
    }
}
