//! `@source`, `@sink` and `@dlq`: where rows come from and go to.

use std::collections::BTreeMap;

use runink_plan::{Dlq, Endpoint, Location, Sink, Source, Window};

use super::args::{Args, value_text};
use super::endpoint::{Direction, format_option_keys, parse_endpoint, read_options};
use super::placement::parse_window;
use super::schema::Columns;
use super::steps::check_expression;
use crate::ast::ArgValue;
use crate::diagnostic::Diagnostic;

pub fn compile_source(args: &Args<'_>, diagnostics: &mut Vec<Diagnostic>) -> Option<Source> {
    let uri = args.single_positional("URI", "`@source(\"csv://data/orders.csv\")`", diagnostics)?;
    let endpoint = parse_endpoint(uri, Direction::Read, args.get("format"), diagnostics)?;
    let mut keys = format_option_keys(&endpoint, Direction::Read);
    keys.push("window");
    args.only_keys(&keys, Some("meta"), diagnostics);
    let mut options = read_options(args, &endpoint, &keys, diagnostics);
    options.remove("window");
    let mut meta = BTreeMap::new();
    for (key, value) in &args.named {
        if let (Some(name), false) = (
            key.value.strip_prefix("meta."),
            matches!(value, ArgValue::Empty(_)),
        ) {
            meta.insert(name.to_owned(), value_text(value).to_owned());
        }
    }
    let window = args
        .get("window")
        .and_then(|value| window_of(value, diagnostics));
    Some(Source {
        endpoint,
        options,
        meta,
        window,
    })
}

fn window_of(value: &ArgValue, diagnostics: &mut Vec<Diagnostic>) -> Option<Window> {
    let words: Vec<&str> = value_text(value).split(',').map(str::trim).collect();
    match parse_window(&words) {
        Ok(window) => Some(window),
        Err(expected) => {
            diagnostics.push(
                Diagnostic::error(
                    value.span(),
                    format!("`{}` is not a window", value_text(value)),
                )
                .expected(expected),
            );
            None
        }
    }
}

pub fn compile_sink(
    args: &Args<'_>,
    columns: &Columns,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Sink> {
    let uri = args.single_positional(
        "URI",
        "`@sink(\"parquet://out/orders.parquet\")`",
        diagnostics,
    )?;
    let endpoint = parse_endpoint(uri, Direction::Write, args.get("format"), diagnostics)?;
    let mut keys = format_option_keys(&endpoint, Direction::Write);
    keys.extend(["when", "role", "name"]);
    args.only_keys(&keys, None, diagnostics);
    let when = args.get_str("when", diagnostics);
    if let Some(when) = when {
        check_expression(when, columns, "`when`", diagnostics);
    }
    let role = args.get_str("role", diagnostics).map(|r| r.value.clone());
    let name = match args.get_str("name", diagnostics) {
        Some(name) => {
            if !is_sink_name(&name.value) {
                diagnostics.push(
                    Diagnostic::error(name.span, format!("`{}` cannot name a sink", name.value))
                        .expected("letters, digits, `_` and `-`; it names the golden file"),
                );
                return None;
            }
            name.value.clone()
        }
        None => default_sink_name(&endpoint),
    };
    let mut options = read_options(
        args,
        &endpoint,
        &format_option_keys(&endpoint, Direction::Write),
        diagnostics,
    );
    options.remove("format");
    Some(Sink {
        name,
        endpoint,
        when: when.map(|w| w.value.clone()),
        role,
        options,
    })
}

pub fn compile_dlq(args: &Args<'_>, diagnostics: &mut Vec<Diagnostic>) -> Option<Dlq> {
    let uri =
        args.single_positional("URI", "`@dlq(\"jsonl://out/rejected.jsonl\")`", diagnostics)?;
    args.only_keys(&[], None, diagnostics);
    let endpoint = parse_endpoint(uri, Direction::Write, None, diagnostics)?;
    if endpoint.format != runink_plan::DataFormat::Jsonl {
        diagnostics.push(
            Diagnostic::error(uri.span, "the DLQ is written as JSON lines")
                .expected("a `jsonl://` URI (or `stdout://`)"),
        );
        return None;
    }
    Some(Dlq {
        endpoint,
        defaulted: false,
    })
}

/// `<first sink's folder>/<scenario>.dlq.jsonl`, or beside the scenario file
/// when the first sink is not a file.
pub fn default_dlq(sinks: &[Sink], scenario: &str) -> Dlq {
    let folder = sinks
        .first()
        .and_then(|sink| match &sink.endpoint.location {
            Location::File { path } => {
                let path = std::path::Path::new(path);
                path.parent().map(|p| p.to_string_lossy().into_owned())
            }
            _ => None,
        });
    let file = format!("{}.dlq.jsonl", slug(scenario));
    let path = match folder {
        Some(folder) if !folder.is_empty() => format!("{folder}/{file}"),
        _ => file,
    };
    Dlq {
        endpoint: Endpoint {
            uri: format!("jsonl://{path}"),
            format: runink_plan::DataFormat::Jsonl,
            location: Location::File { path },
        },
        defaulted: true,
    }
}

/// A scenario name as a file name: lowercase, `_` for anything else.
pub fn slug(name: &str) -> String {
    let mut slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    while slug.contains("__") {
        slug = slug.replace("__", "_");
    }
    let slug = slug.trim_matches('_').to_owned();
    if slug.is_empty() {
        "scenario".to_owned()
    } else {
        slug
    }
}

fn default_sink_name(endpoint: &Endpoint) -> String {
    match &endpoint.location {
        Location::File { path } => {
            let file = path.rsplit('/').next().unwrap_or(path);
            let stem = file.split('.').next().unwrap_or(file);
            if stem.is_empty() {
                "sink".to_owned()
            } else {
                stem.to_owned()
            }
        }
        Location::Stdout => "stdout".to_owned(),
        Location::Stdin => "stdin".to_owned(),
    }
}

fn is_sink_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_scenario_names() {
        assert_eq!(
            slug("Validate and mask incoming orders"),
            "validate_and_mask_incoming_orders"
        );
        assert_eq!(slug("  --  "), "scenario");
    }
}
