//! Diagnostics: what is wrong in a scenario, where, what was expected, and a
//! likely fix. The compiler collects them instead of stopping at the first.

use std::fmt::Write;

use serde::Serialize;
use unicode_width::UnicodeWidthChar;

use crate::span::{LineIndex, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// What is wrong, lowercase, values in backticks.
    pub message: String,
    pub span: Span,
    /// What was expected, shown under the caret.
    pub expected: Option<String>,
    /// A likely fix, such as a close spelling.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            message: message.into(),
            span,
            expected: None,
            help: None,
        }
    }

    pub fn warning(span: Span, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(span, message)
        }
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A diagnostic resolved to lines and columns, for JSON output.
#[derive(Debug, Clone, Serialize)]
pub struct LocatedDiagnostic {
    pub file: String,
    pub severity: Severity,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: String,
    pub expected: Option<String>,
    pub help: Option<String>,
}

pub fn locate(file: &str, source: &str, diagnostic: &Diagnostic) -> LocatedDiagnostic {
    let index = LineIndex::new(source);
    let (line, column) = index.line_col(diagnostic.span.start);
    let (end_line, end_column) = index.line_col(diagnostic.span.end);
    LocatedDiagnostic {
        file: file.to_owned(),
        severity: diagnostic.severity,
        line,
        column,
        end_line,
        end_column,
        message: diagnostic.message.clone(),
        expected: diagnostic.expected.clone(),
        help: diagnostic.help.clone(),
    }
}

/// Whether rendered diagnostics carry ANSI colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    Never,
    Always,
}

struct Paint {
    colour: Colour,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        match self.colour {
            Colour::Never => text.to_owned(),
            Colour::Always => format!("\x1b[{code}m{text}\x1b[0m"),
        }
    }
}

/// Renders `FILE:LINE:COL: error: message`, the source line with a caret
/// under the span, what was expected, and a hint.
pub fn render(file: &str, source: &str, diagnostic: &Diagnostic, colour: Colour) -> String {
    let paint = Paint { colour };
    let index = LineIndex::new(source);
    let (line, column) = index.line_col(diagnostic.span.start);
    let colour_code = match diagnostic.severity {
        Severity::Error => "1;31",
        Severity::Warning => "1;33",
    };
    let severity = paint.wrap(colour_code, diagnostic.severity.as_str());
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{}: {severity}: {}",
        paint.wrap("1", &format!("{file}:{line}:{column}")),
        paint.wrap("1", &diagnostic.message)
    );
    let text = index.line_text(line);
    let gutter = " ".repeat(line.to_string().len());
    let bar = paint.wrap("34", "|");
    let _ = writeln!(out, "{gutter} {bar}");
    let _ = writeln!(out, "{} {bar} {text}", paint.wrap("34", &line.to_string()));
    let line_end = index.line_start(line) + text.len();
    let span_end = diagnostic.span.end.clamp(diagnostic.span.start, line_end);
    // Carets line up by the columns a terminal gives each character: two
    // for CJK text, none for a combining mark.
    let width = source
        .get(diagnostic.span.start..span_end)
        .map_or(1, |s| s.chars().map(display_width).sum::<usize>())
        .max(1);
    let lead: String = text
        .chars()
        .take(column - 1)
        .map(|c| match c {
            '\t' => "\t".to_owned(),
            c => " ".repeat(display_width(c)),
        })
        .collect();
    let carets = paint.wrap(colour_code, &"^".repeat(width));
    match &diagnostic.expected {
        Some(expected) => {
            let _ = writeln!(out, "{gutter} {bar} {lead}{carets} expected {expected}");
        }
        None => {
            let _ = writeln!(out, "{gutter} {bar} {lead}{carets}");
        }
    }
    if let Some(help) = &diagnostic.help {
        let _ = writeln!(out, "{gutter} = {}: {help}", paint.wrap("1;36", "help"));
    }
    out
}

/// The columns a terminal gives `c`; a tab counts as one, control
/// characters as none.
fn display_width(c: char) -> usize {
    match c {
        '\t' => 1,
        c => UnicodeWidthChar::width(c).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_caret_expected_and_help() {
        let source = "Feature: f\n  @step(\"filtr\")\n";
        let start = source.find("\"filtr\"").unwrap();
        let diagnostic = Diagnostic::error(Span::new(start, start + 7), "unknown step `filtr`")
            .expected("a built-in or named step")
            .help("did you mean `filter`?");
        let text = render("a.dsl", source, &diagnostic, Colour::Never);
        assert_eq!(
            text,
            "a.dsl:2:9: error: unknown step `filtr`\n  |\n2 |   @step(\"filtr\")\n  |         ^^^^^^^ expected a built-in or named step\n  = help: did you mean `filter`?\n"
        );
    }

    #[test]
    fn carets_line_up_under_wide_and_combining_characters() {
        // "注文" takes four columns in a terminal; "é" written as `e` and a
        // combining accent takes one.
        let source = "Feature: f\n  @step(\"注文\", \"e\u{301}\", \"filtr\")\n";
        let start = source.find("\"filtr\"").unwrap();
        let diagnostic = Diagnostic::error(Span::new(start, start + 7), "unknown step");
        let text = render("a.dsl", source, &diagnostic, Colour::Never);
        let lines: Vec<&str> = text.lines().collect();
        let (code, carets) = (lines[2], lines[3]);
        let code_columns: usize = code[..code.find("\"filtr").unwrap()]
            .chars()
            .map(display_width)
            .sum();
        assert_eq!(carets.find('^'), Some(code_columns), "{text}");
        assert_eq!(carets.matches('^').count(), 7);
        // The span itself wide: one caret per column.
        let start = source.find("\"注文\"").unwrap();
        let diagnostic = Diagnostic::error(Span::new(start, start + 8), "unknown step");
        let text = render("a.dsl", source, &diagnostic, Colour::Never);
        assert!(text.contains("        ^^^^^^\n"), "{text}");
    }
}
