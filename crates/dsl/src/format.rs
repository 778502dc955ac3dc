//! `runi fmt`: rewrites a scenario in the canonical spelling. Comments and
//! prose stay; original-docs spellings become canonical; layout is fixed
//! (header tags at column 0, body lines indented two spaces, one tag per line).

use crate::ast::{Arg, ArgValue, Document, Item, ItemKind, Tag};
use crate::diagnostic::Diagnostic;
use crate::parse;
use crate::structure::{PIPELINE_TAGS, Region, regions};

const INDENT: &str = "  ";

/// The canonical text of `source`, or the parse errors that prevent it.
pub fn format_source(source: &str) -> Result<String, Vec<Diagnostic>> {
    let (doc, diagnostics) = parse(source);
    let errors: Vec<Diagnostic> = diagnostics.into_iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(format_document(&doc, source))
}

fn format_document(doc: &Document, source: &str) -> String {
    let regions = regions(doc);
    let mut lines: Vec<String> = Vec::new();
    for (item, region) in doc.items.iter().zip(regions) {
        let indent = match region {
            Region::Top | Region::Header(_) => "",
            Region::Description | Region::Body(_) => INDENT,
        };
        match &item.kind {
            ItemKind::Blank => {
                if lines.last().is_some_and(|l| !l.is_empty()) {
                    lines.push(String::new());
                }
            }
            ItemKind::Comment(text) => {
                let at_column_zero = item.span.start == 0
                    || source.as_bytes().get(item.span.start - 1) == Some(&b'\n');
                let indent = if at_column_zero { "" } else { indent };
                lines.push(format!("{indent}#{text}"));
            }
            ItemKind::Separator => lines.push("---".to_owned()),
            ItemKind::Feature { name } => lines.push(format!("Feature: {}", name.value)),
            ItemKind::Description(text) => lines.push(format!("{INDENT}{}", text.trim())),
            ItemKind::Scenario { name } => lines.push(format!("Scenario: {}", name.value)),
            ItemKind::Prose { keyword, text } => {
                let keyword = keyword.canonical().as_str();
                lines.push(
                    format!("{INDENT}{keyword} {}", text.value)
                        .trim_end()
                        .to_owned(),
                );
            }
            ItemKind::Tags(tags) => {
                let in_body = matches!(region, Region::Body(_));
                lines.extend(tag_lines(item, tags, indent, in_body));
            }
            // format_source refuses documents with parse errors.
            ItemKind::Invalid => {}
        }
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// One tag a line; in a scenario's body, the tags written after a line's
/// last pipeline tag (`@source`, `@step`, `@sink`, `@dlq`) stay on its
/// line. Alone on a line of their own just above the next `Scenario:`,
/// they would become that scenario's header (`@sink(..) @herd("x")`
/// would give the next scenario herd `x`).
fn tag_lines(item: &Item, tags: &[Tag], indent: &str, in_body: bool) -> Vec<String> {
    let kept_from = tags
        .iter()
        .rposition(|tag| PIPELINE_TAGS.contains(&tag.name.value.as_str()))
        .filter(|_| in_body)
        .unwrap_or(tags.len());
    let mut lines: Vec<String> = tags[..kept_from]
        .iter()
        .map(|tag| format!("{indent}{}", tag_text(tag)))
        .collect();
    if kept_from < tags.len() {
        let kept: Vec<String> = tags[kept_from..].iter().map(tag_text).collect();
        lines.push(format!("{indent}{}", kept.join(" ")));
    }
    if let (Some(comment), Some(last)) = (&item.trailing_comment, lines.last_mut()) {
        last.push_str(&format!(" #{comment}"));
    }
    lines
}

/// A tag in canonical spelling: `@name("positional", key="value", flag=true)`.
pub fn tag_text(tag: &Tag) -> String {
    let args: Vec<String> = tag.args.iter().filter_map(arg_text).collect();
    if args.is_empty() {
        format!("@{}", tag.name.value)
    } else {
        format!("@{}({})", tag.name.value, args.join(", "))
    }
}

fn arg_text(arg: &Arg) -> Option<String> {
    let value = match &arg.value {
        // `key=` means unset: the canonical spelling leaves it out.
        ArgValue::Empty(_) => return None,
        ArgValue::Str(s) => quote(&s.value),
        ArgValue::Bare(b) => b.value.clone(),
    };
    Some(match &arg.key {
        Some(key) => format!("{}={value}", key.value),
        None => value,
    })
}

/// A double-quoted string with the escapes the parser reads.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_original_spellings_and_layout() {
        let source = "# keep me\nFeature:   Legacy\n    A description.\n\n\n@module(layer=\"bronze\", domain=)   @herd(\"ops\")\nScenario:  Old style\n@source(\"csv://in.csv\" @meta(region=\"us\"))\n      @sink(\"jsonl://out.jsonl\" when \"amount > 1\") # big ones\n  @sink(\"csv://ops.csv\" with \"role=ops\")\nDo   the thing\n---\n## Next\n";
        let formatted = format_source(source).unwrap();
        assert_eq!(
            formatted,
            "# keep me\nFeature: Legacy\n  A description.\n\n@module(layer=\"bronze\")\n@herd(\"ops\")\nScenario: Old style\n  @source(\"csv://in.csv\", meta.region=\"us\")\n  @sink(\"jsonl://out.jsonl\", when=\"amount > 1\") # big ones\n  @sink(\"csv://ops.csv\", role=\"ops\")\n  And the thing\n---\n## Next\n"
        );
        assert_eq!(format_source(&formatted).unwrap(), formatted, "idempotent");
    }

    #[test]
    fn a_lone_carriage_return_is_blank_so_formatting_keeps_the_meaning() {
        // Read as description text, the line below became a tag once
        // `fmt` dropped its `\r`: the file then failed to compile.
        let source = "Feature: F\n  desc\n\r  @herd(\"x\")\nScenario: S\n  @source(\"csv://d.csv\")\n  @sink(\"jsonl://out/a.jsonl\")\n";
        let formatted = format_source(source).unwrap();
        assert_eq!(format_source(&formatted).unwrap(), formatted, "idempotent");
        let (doc, _) = parse(source);
        let (again, _) = parse(&formatted);
        let kinds = |doc: &Document| -> Vec<String> {
            doc.items
                .iter()
                .map(|item| format!("{:?}", std::mem::discriminant(&item.kind)))
                .filter(|kind| !kind.is_empty())
                .collect()
        };
        assert_eq!(kinds(&doc), kinds(&again), "{formatted}");
    }

    #[test]
    fn tags_after_a_lines_last_pipeline_tag_stay_in_its_scenario() {
        let source = "Feature: f\nScenario: One\n  @source(\"csv://in.csv\")\n  @sink(\"jsonl://out/one.jsonl\") @herd(\"x\")\nScenario: Two\n  @source(\"csv://in.csv\") @requires(cpu=1) @step(\"filter\", where=\"a > 1\")\n  @sink(\"jsonl://out/two.jsonl\")\n";
        let formatted = format_source(source).unwrap();
        assert_eq!(
            formatted,
            "Feature: f\nScenario: One\n  @source(\"csv://in.csv\")\n  @sink(\"jsonl://out/one.jsonl\") @herd(\"x\")\nScenario: Two\n  @source(\"csv://in.csv\")\n  @requires(cpu=1)\n  @step(\"filter\", where=\"a > 1\")\n  @sink(\"jsonl://out/two.jsonl\")\n"
        );
        assert_eq!(format_source(&formatted).unwrap(), formatted, "idempotent");
        // `@herd("x")` is still in scenario One's body, not Two's header.
        let (doc, _) = parse(&formatted);
        let herd_line = doc
            .items
            .iter()
            .position(|item| matches!(&item.kind, ItemKind::Tags(tags) if tags.iter().any(|t| t.name.value == "herd")))
            .unwrap();
        assert_eq!(regions(&doc)[herd_line], Region::Body(0));
    }

    #[test]
    fn lines_of_any_whitespace_are_blank() {
        for source in [
            "Feature: x\n\u{b}\n",
            "Feature: x\n\u{a0}\n",
            "Feature: x\n \u{2003}\t\n",
        ] {
            let formatted = format_source(source).unwrap();
            assert_eq!(formatted, "Feature: x\n", "{source:?}");
        }
    }

    #[test]
    fn refuses_files_that_do_not_parse() {
        assert!(format_source("Feature: f\n  @step(\"x\"\n").is_err());
    }

    #[test]
    fn quotes_round_trip() {
        assert_eq!(quote("a \"b\" \\ c"), r#""a \"b\" \\ c""#);
    }
}
