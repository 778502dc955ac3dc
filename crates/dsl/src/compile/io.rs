//! `@source`, `@sink` and `@dlq`: where rows come from and go to.

use std::collections::BTreeMap;
use std::path::{Component, PathBuf};

use runink_plan::{Dlq, Endpoint, Location, Plan, Sink, Source, Window};

use super::args::{Args, value_text};
use super::endpoint::{Direction, format_option_keys, parse_endpoint, read_options};
use super::placement::parse_window;
use super::schema::Columns;
use super::steps::check_expression;
use crate::ast::ArgValue;
use crate::diagnostic::Diagnostic;
use crate::span::Span;

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

/// The file an endpoint reads or writes, spelled so that `out/a.jsonl`,
/// `./out//a.jsonl` and `out/x/../a.jsonl` compare equal; `None` for
/// stdin and stdout.
pub fn output_file(endpoint: &Endpoint) -> Option<PathBuf> {
    match &endpoint.location {
        Location::File { path } => Some(folded_path(path)),
        Location::Stdin | Location::Stdout => None,
    }
}

/// `path` with `.` and `name/..` folded away, by its name alone: the files
/// may not exist yet.
fn folded_path(path: &str) -> PathBuf {
    let mut folded = PathBuf::new();
    for component in std::path::Path::new(path).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(folded.components().next_back(), Some(Component::Normal(_))) =>
            {
                folded.pop();
            }
            other => folded.push(other),
        }
    }
    folded
}

/// Refuses two outputs of one scenario on the same file: each is staged
/// beside its target under a lock, so the second would wait for the first
/// forever. `dlq_span` is the `@dlq` tag, or the scenario's name when the
/// DLQ is the default one.
pub fn check_outputs_distinct(
    sinks: &[(Sink, Span)],
    dlq: &Dlq,
    dlq_span: Span,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut seen: Vec<PathBuf> = Vec::new();
    for (sink, span) in sinks {
        let Some(file) = output_file(&sink.endpoint) else {
            continue;
        };
        if seen.contains(&file) {
            diagnostics.push(
                Diagnostic::error(
                    *span,
                    format!(
                        "another sink of this scenario writes `{}` too",
                        sink.endpoint.uri
                    ),
                )
                .expected("each sink writing a file of its own"),
            );
        } else {
            seen.push(file);
        }
    }
    check_stdout_shared(sinks, dlq, dlq_span, diagnostics);
    let Some(file) = output_file(&dlq.endpoint) else {
        return;
    };
    if seen.contains(&file) {
        let diagnostic = if dlq.defaulted {
            Diagnostic::error(
                dlq_span,
                format!(
                    "this scenario's default DLQ, `{}`, is also one of its sinks",
                    dlq.endpoint.uri
                ),
            )
            .help("name the DLQ's file with `@dlq(\"jsonl://PATH\")`")
        } else {
            Diagnostic::error(
                dlq_span,
                format!(
                    "the DLQ writes `{}`, which a sink of this scenario writes too",
                    dlq.endpoint.uri
                ),
            )
            .expected("the DLQ writing a file of its own")
        };
        diagnostics.push(diagnostic);
    }
}

/// Refuses a default DLQ that another scenario of the file also writes
/// (two names with the same slug, `Load orders` and `load orders!`): the
/// later run would replace the earlier one's rejected rows.
/// Outputs on stdout are printed as they come, one after another: JSON
/// lines can share it (each DLQ row has its `_runink`), but a CSV or
/// Arrow stream mixed with other output can no longer be read.
fn check_stdout_shared(
    sinks: &[(Sink, Span)],
    dlq: &Dlq,
    dlq_span: Span,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let on_stdout: Vec<(&Endpoint, Span)> = sinks
        .iter()
        .map(|(sink, span)| (&sink.endpoint, *span))
        .chain(std::iter::once((&dlq.endpoint, dlq_span)))
        .filter(|(endpoint, _)| endpoint.location == Location::Stdout)
        .collect();
    if on_stdout.len() < 2 {
        return;
    }
    for (endpoint, span) in &on_stdout {
        if endpoint.format != runink_plan::DataFormat::Jsonl {
            diagnostics.push(
                Diagnostic::error(
                    *span,
                    format!(
                        "`{}` prints {} on stdout, which another output of this scenario prints to too",
                        endpoint.uri,
                        endpoint.format.as_str()
                    ),
                )
                .expected("a CSV or Arrow stream alone on stdout (JSON lines may share it)")
                .help("write the other outputs to files"),
            );
        }
    }
}

pub fn check_default_dlqs_distinct(plans: &[(Plan, Span)], diagnostics: &mut Vec<Diagnostic>) {
    for (plan, span) in plans.iter().filter(|(plan, _)| plan.dlq.defaulted) {
        let Some(file) = output_file(&plan.dlq.endpoint) else {
            continue;
        };
        let other = plans.iter().find(|(other, _)| {
            !std::ptr::eq(other, plan)
                && other
                    .outputs()
                    .any(|endpoint| output_file(endpoint).as_ref() == Some(&file))
        });
        if let Some((other, _)) = other {
            diagnostics.push(
                Diagnostic::error(
                    *span,
                    format!(
                        "this scenario's default DLQ, `{}`, is also written by scenario `{}`",
                        plan.dlq.endpoint.uri, other.scenario
                    ),
                )
                .help("name the DLQ's file with `@dlq(\"jsonl://PATH\")`"),
            );
        }
    }
}

/// Refuses a sink or a named DLQ that an earlier scenario of the file also
/// writes: the later run would replace the earlier one's output while its
/// record still counted the rows. (A shared default DLQ is reported by
/// [`check_default_dlqs_distinct`].)
pub fn check_outputs_distinct_across_scenarios(
    plans: &[(Plan, Span)],
    diagnostics: &mut Vec<Diagnostic>,
) {
    // Each plan's outputs but a default DLQ: their URIs and files.
    let written: Vec<Vec<(&str, PathBuf)>> = plans
        .iter()
        .map(|(plan, _)| {
            plan.sinks
                .iter()
                .map(|sink| &sink.endpoint)
                .chain((!plan.dlq.defaulted).then_some(&plan.dlq.endpoint))
                .filter_map(|endpoint| {
                    output_file(endpoint).map(|file| (endpoint.uri.as_str(), file))
                })
                .collect()
        })
        .collect();
    for (index, (_, span)) in plans.iter().enumerate() {
        for (uri, file) in &written[index] {
            let earlier =
                (0..index).find(|&other| written[other].iter().any(|(_, theirs)| theirs == file));
            if let Some(other) = earlier {
                diagnostics.push(
                    Diagnostic::error(
                        *span,
                        format!(
                            "`{uri}` is also written by scenario `{}`",
                            plans[other].0.scenario
                        ),
                    )
                    .expected("each scenario writing files of its own"),
                );
            }
        }
    }
}

/// Refuses an output onto the scenario file, a contract it reads or one of
/// its sources: the run would replace what defines it, or the very rows it
/// reads (a rejected row would then survive only in the DLQ).
pub fn check_outputs_spare_definitions(
    plans: &[(Plan, Span)],
    scenario_file: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let scenario_name = std::path::Path::new(scenario_file)
        .file_name()
        .map(PathBuf::from);
    for (plan, span) in plans {
        let mut definitions: Vec<(PathBuf, String)> = plan
            .input_contract
            .iter()
            .chain(plan.output_contract.iter())
            .map(|c| (folded_path(&c.path), format!("the contract `{}`", c.path)))
            .collect();
        if let Some(name) = &scenario_name {
            definitions.push((name.clone(), "the scenario file itself".to_owned()));
        }
        for source in &plan.sources {
            if let Some(file) = output_file(&source.endpoint) {
                definitions.push((file, format!("its source `{}`", source.endpoint.uri)));
            }
        }
        for endpoint in plan.outputs() {
            let Some(file) = output_file(endpoint) else {
                continue;
            };
            if let Some((_, what)) = definitions.iter().find(|(path, _)| *path == file) {
                diagnostics.push(
                    Diagnostic::error(*span, format!("`{}` would replace {what}", endpoint.uri))
                        .expected(
                            "outputs written somewhere else than the files the scenario reads",
                        ),
                );
            }
        }
    }
}

/// Refuses two scenarios of a file keeping golden files in one folder:
/// each writes `dlq.expected.jsonl` there (and its sinks' files by name),
/// so `runi test --update` of one replaced the other's.
pub fn check_golden_dirs_distinct(plans: &[(Plan, Span)], diagnostics: &mut Vec<Diagnostic>) {
    // Named alike once `.` and `name/..` are folded away (`g/b/../a` is
    // `g/a`).
    let folder = |plan: &Plan| Some(folded_path(&plan.golden.as_ref()?.dir));
    for (index, (plan, span)) in plans.iter().enumerate() {
        let Some(mine) = folder(plan) else {
            continue;
        };
        let earlier = plans[..index]
            .iter()
            .find(|(other, _)| folder(other).as_ref() == Some(&mine));
        if let Some((other, _)) = earlier {
            diagnostics.push(
                Diagnostic::error(
                    *span,
                    format!(
                        "scenario `{}` keeps its golden files in `{}` too",
                        other.scenario,
                        mine.display()
                    ),
                )
                .expected("a `@golden` folder for each scenario (both write `dlq.expected.jsonl`)"),
            );
        }
    }
}

/// Bytes of a scenario's slug kept in its default DLQ's file name.
const DLQ_STEM_BYTES_MAX: usize = 200;

/// `<first sink's folder>/<scenario>.dlq.jsonl`, or beside the scenario file
/// when the first sink is not a file.
pub fn default_dlq(first_sink: Option<&Sink>, scenario: &str) -> Dlq {
    let folder = first_sink.and_then(|sink| match &sink.endpoint.location {
        Location::File { path } => {
            let path = std::path::Path::new(path);
            path.parent().map(|p| p.to_string_lossy().into_owned())
        }
        _ => None,
    });
    // A file name has at most 255 bytes; a slug's letters may take several.
    let mut stem = slug(scenario);
    let cut = (0..=DLQ_STEM_BYTES_MAX.min(stem.len()))
        .rev()
        .find(|at| stem.is_char_boundary(*at))
        .unwrap_or(0);
    stem.truncate(cut);
    let file = format!("{stem}.dlq.jsonl");
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

/// A scenario name as a file name: its letters and digits, of any script,
/// in lower case; one `_` for each run of anything else.
pub fn slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_alphanumeric() {
            slug.extend(c.to_lowercase());
        } else if !slug.ends_with('_') {
            slug.push('_');
        }
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
    fn a_long_scenario_name_makes_a_default_dlq_name_a_file_can_have() {
        let name = "Load ".repeat(100);
        let dlq = default_dlq(None, &name);
        let Location::File { path } = &dlq.endpoint.location else {
            panic!("a file");
        };
        assert!(path.len() <= 255, "{path}");
        assert!(path.ends_with(".dlq.jsonl") && path.starts_with("load_load"));
    }

    #[test]
    fn slugs_scenario_names() {
        assert_eq!(
            slug("Validate and mask incoming orders"),
            "validate_and_mask_incoming_orders"
        );
        assert_eq!(slug("  --  "), "scenario");
        // Letters of every script are kept: two scenarios named in
        // Japanese get two DLQ files, not one `scenario` file.
        assert_eq!(slug("注文の検証"), "注文の検証");
        assert_eq!(slug("Commandes d'été, ÉTÉ"), "commandes_d_été_été");
    }

    #[test]
    fn a_long_name_in_a_wide_script_is_cut_at_a_character() {
        let dlq = default_dlq(None, &"検証".repeat(200));
        let Location::File { path } = &dlq.endpoint.location else {
            panic!("a file");
        };
        assert!(path.len() <= 255, "{} bytes", path.len());
        assert!(path.starts_with("検証検証") && path.ends_with(".dlq.jsonl"));
    }
}
