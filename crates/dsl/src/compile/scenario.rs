//! One scenario from its outline to a `Plan`: contracts first (prose may
//! name them anywhere in the body), then the tags in order, tracking the
//! columns each step sees.

use std::path::Path;

use runink_model::{DagHash, HerdName, Sha256Hex};
use runink_plan::{
    ContractRef, Dlq, Golden, Module, Placement, Plan, Prose, Sink, Source, Step, Window,
    compute_dag_hash,
};

use super::Context;
use super::args::{Args, backticked};
use super::contracts::LoadFailure;
use super::cron::check_cron;
use super::io::{check_outputs_distinct, compile_dlq, compile_sink, compile_source, default_dlq};
use super::outline::{BodyLine, Draft};
use super::placement::{affinity, parse_window, requires};
use super::schema::Columns;
use super::slices::{StepShape, slice_steps};
use super::sql;
use super::steps::{ContractView, compile_step};
use super::tags::{KNOWN_TAGS, PLACEMENT_TAGS, SCENARIO_TAGS};
use crate::ast::{Arg, StrLit, Tag};
use crate::diagnostic::Diagnostic;
use crate::span::{Span, Spanned};
use crate::structure::PIPELINE_TAGS;
use crate::suggest::did_you_mean;

/// Run metrics an `@assert` may name.
const ASSERT_METRICS: [&str; 4] = ["rows_in", "rows_out", "rows_rejected", "rows_dropped"];

struct LoadedContract {
    reference: ContractRef,
    span: Span,
}

/// Settings that may appear once per scenario, with where they were set.
#[derive(Default)]
struct Settings {
    herd: Option<(HerdName, Span)>,
    module: Option<(Module, Span)>,
    schedule: Option<(String, Span)>,
    golden: Option<(Golden, Span)>,
    windows: Vec<Window>,
    emits: Vec<String>,
    asserts: Vec<StrLit>,
}

/// `@requires`/`@affinity` waiting for the step below them.
struct Pending {
    placement: Placement,
    line: usize,
    span: Span,
}

struct StepDraft {
    step: Step,
    placement: Option<(Placement, usize)>,
    colocate: Option<(String, Span)>,
}

pub fn compile_scenario(
    ctx: &Context<'_>,
    feature: &str,
    draft: &Draft<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Plan> {
    let mut settings = Settings::default();
    let mut defaults = Placement::default();
    let mut prose = Vec::new();
    let mut input_contract: Option<LoadedContract> = None;
    let mut output_contract: Option<LoadedContract> = None;
    let (mut first_input, mut first_output): (Option<Span>, Option<Span>) = (None, None);

    for line in &draft.body {
        let BodyLine::Prose(keyword, text) = line else {
            continue;
        };
        prose.push(Prose {
            keyword: keyword.canonical().as_str().to_owned(),
            text: text.value.clone(),
        });
        if let Some(meant) = misspelt_contract_line(&text.value) {
            diagnostics.push(
                Diagnostic::error(
                    text.span,
                    "this line names a contract, but in a spelling read as prose",
                )
                .expected(format!("`{meant} PATH`, spelled exactly so"))
                .help("as written, the scenario would run with no contract: no row checked, no column masked"),
            );
        }
        for (prefix, slot, first) in [
            ("the contract:", &mut input_contract, &mut first_input),
            (
                "the output contract:",
                &mut output_contract,
                &mut first_output,
            ),
        ] {
            let Some(path) = prose_path(text, prefix) else {
                continue;
            };
            // Remember the first line even when its contract fails to load,
            // so a second line is still reported rather than used.
            if let Some(first) = first {
                let first_line = ctx.lines.line_col(first.start).0;
                diagnostics.push(
                    Diagnostic::error(path.span, format!("`{prefix}` is given twice")).expected(
                        format!("one `{prefix} PATH` line; the first is on line {first_line}"),
                    ),
                );
            } else {
                *first = Some(path.span);
                *slot = load_contract(ctx, &path, diagnostics);
            }
        }
    }

    for tag in &draft.header {
        let name = tag.name.value.as_str();
        if PIPELINE_TAGS.contains(&name) {
            diagnostics.push(
                Diagnostic::error(
                    tag.name.span,
                    format!("`@{name}` belongs in the scenario body"),
                )
                .expected(format!("`@{name}(...)` on a line below `Scenario:`")),
            );
        } else if PLACEMENT_TAGS.contains(&name) {
            let args = Args::new(tag, diagnostics);
            apply_placement(&mut defaults, name, &args, diagnostics);
        } else if !scenario_tag(&mut settings, tag, diagnostics) {
            unknown_tag(tag, diagnostics);
        }
    }

    let mut columns = Columns(input_contract.as_ref().map(|c| c.reference.columns.clone()));
    let sensitive: Vec<String> = input_contract
        .as_ref()
        .map(|c| c.reference.sensitive_columns.clone())
        .unwrap_or_default();
    let contract_view = ContractView {
        // Named, even if it failed to load (that error is reported): the
        // steps then say nothing more about a missing contract.
        present: input_contract.is_some() || first_input.is_some(),
        loaded: input_contract.is_some(),
        sensitive: &sensitive,
    };
    let mut sources: Vec<Source> = Vec::new();
    let mut steps: Vec<StepDraft> = Vec::new();
    let mut sinks: Vec<(Sink, Span)> = Vec::new();
    let mut dlq: Option<(Dlq, Span)> = None;
    let mut pending: Option<Pending> = None;
    let mut sink_columns: Option<Columns> = None;

    for line in &draft.body {
        let BodyLine::Tag(tag) = line else { continue };
        let name = tag.name.value.as_str();
        let args = Args::new(tag, diagnostics);
        match name {
            "source" => {
                if !steps.is_empty() || !sinks.is_empty() {
                    diagnostics.push(
                        Diagnostic::error(tag.name.span, "`@source` after a step or sink")
                            .expected("every `@source` above the first `@step` and `@sink`"),
                    );
                }
                let source = compile_source(&args, diagnostics);
                let stdin_again =
                    source.as_ref().is_some_and(is_stdin) && sources.iter().any(is_stdin);
                if stdin_again {
                    diagnostics.push(
                        Diagnostic::error(tag.name.span, "a second `@source(\"stdin://\")`")
                            .expected("stdin read by one source: the first reads it to its end, the second would read nothing"),
                    );
                }
                sources.extend(source);
            }
            "step" => {
                if !sinks.is_empty() {
                    diagnostics.push(
                        Diagnostic::error(tag.name.span, "`@step` after a `@sink`")
                            .expected("every `@step` above the first `@sink`"),
                    );
                }
                let pending = pending.take();
                let compiled = compile_step(ctx, &args, &mut columns, &contract_view, diagnostics);
                if let Some(compiled) = compiled {
                    let number = steps.len() + 1;
                    let colocate = pending.as_ref().and_then(|p| {
                        p.placement
                            .affinity
                            .as_ref()
                            .and_then(|a| a.colocate_with.clone())
                            .map(|c| (c, p.span))
                    });
                    let mut placement = pending.map(|p| (p.placement, p.line));
                    if let Some(resources) = compiled.resources {
                        let line = ctx.lines.line_col(tag.span.start).0;
                        let (placement, _) =
                            placement.get_or_insert_with(|| (Placement::default(), line));
                        placement.resources = placement.resources.or(&resources);
                    }
                    steps.push(StepDraft {
                        step: Step {
                            number,
                            label: compiled.label,
                            kind: compiled.kind,
                            slice: 0,
                            line: ctx.lines.line_col(tag.span.start).0,
                        },
                        placement,
                        colocate,
                    });
                }
            }
            "sink" => {
                let columns =
                    sink_columns.get_or_insert_with(|| rows_at_sinks(&columns, &output_contract));
                if let Some(sink) = compile_sink(&args, columns, diagnostics) {
                    if let Some((_, _)) = sinks.iter().find(|(s, _)| s.name == sink.name) {
                        diagnostics.push(
                            Diagnostic::error(
                                tag.span,
                                format!("a second sink is named `{}`", sink.name),
                            )
                            .expected("sink names that differ; they name the golden files")
                            .help("give one of them `name=\"...\"`"),
                        );
                    } else if sink.name == "dlq" {
                        diagnostics.push(
                            Diagnostic::error(tag.span, "a sink cannot be named `dlq`")
                                .expected("another name; `dlq` names the dead-letter queue")
                                .help("give it `name=\"...\"`"),
                        );
                    }
                    sinks.push((sink, tag.span));
                }
            }
            "dlq" => {
                if let Some((_, first)) = &dlq {
                    let first_line = ctx.lines.line_col(first.start).0;
                    diagnostics.push(Diagnostic::error(tag.span, "a second `@dlq`").expected(
                        format!("one `@dlq` per scenario; the first is on line {first_line}"),
                    ));
                } else if let Some(compiled) = compile_dlq(&args, diagnostics) {
                    dlq = Some((compiled, tag.span));
                }
            }
            _ if PLACEMENT_TAGS.contains(&name) => {
                let pending = pending.get_or_insert_with(|| Pending {
                    placement: Placement::default(),
                    line: ctx.lines.line_col(tag.span.start).0,
                    span: tag.span,
                });
                apply_placement(&mut pending.placement, name, &args, diagnostics);
            }
            _ => {
                if !scenario_tag(&mut settings, tag, diagnostics) {
                    unknown_tag(tag, diagnostics);
                }
            }
        }
    }

    if let Some(pending) = pending {
        diagnostics.push(
            Diagnostic::error(pending.span, "`@requires`/`@affinity` with no `@step` below it")
                .expected("the tag directly above the `@step` it places, or above `Scenario:` for the whole scenario"),
        );
    }
    // A tag that was written but failed has its own error; saying the
    // scenario has none would only repeat it.
    let written = |tag: &str| {
        draft.has_invalid_lines
            || draft
                .body
                .iter()
                .any(|line| matches!(line, BodyLine::Tag(t) if t.name.value == tag))
    };
    if !written("source") {
        diagnostics.push(
            Diagnostic::error(
                draft.name.span,
                format!("scenario `{}` has no `@source`", draft.name.value),
            )
            .expected("at least one `@source(\"csv://PATH\")` in the scenario body"),
        );
    }
    if !written("sink") {
        diagnostics.push(
            Diagnostic::error(
                draft.name.span,
                format!("scenario `{}` has no `@sink`", draft.name.value),
            )
            .expected("at least one `@sink(\"parquet://PATH\")` in the scenario body"),
        );
    }
    check_colocation(&steps, diagnostics);
    let (dlq, dlq_span) = match dlq {
        Some((dlq, span)) => (dlq, span),
        None => (
            default_dlq(sinks.first().map(|(sink, _)| sink), &draft.name.value),
            draft.name.span,
        ),
    };
    check_outputs_distinct(&sinks, &dlq, dlq_span, diagnostics);
    let sinks: Vec<Sink> = sinks.into_iter().map(|(sink, _)| sink).collect();
    check_asserts(&settings.asserts, &sinks, diagnostics);
    if let (Some(output), Some(known)) = (
        &output_contract,
        sink_columns.as_ref().and_then(|c| c.0.as_ref()),
    ) {
        let missing: Vec<&str> = output
            .reference
            .columns
            .iter()
            .filter(|column| !known.iter().any(|k| k.eq_ignore_ascii_case(column)))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            diagnostics.push(
                Diagnostic::warning(
                    output.span,
                    format!("the pipeline does not produce the output contract's {}", backticked(&missing)),
                )
                .help("rows will reach the output check without these columns; add them with `derive` or drop them from the contract"),
            );
        }
    }

    let shapes: Vec<StepShape> = steps
        .iter()
        .map(|s| StepShape {
            number: s.step.number,
            trusted: s.step.kind.is_trusted(),
            placement: s.placement.clone(),
        })
        .collect();
    let slices = slice_steps(&shapes, &defaults);
    let mut steps: Vec<Step> = steps.into_iter().map(|s| s.step).collect();
    for slice in &slices {
        for number in &slice.steps {
            steps[number - 1].slice = slice.number;
        }
    }
    let (herd, module, schedule, golden) = (
        settings
            .herd
            .map_or_else(HerdName::default_herd, |(h, _)| h),
        settings.module.map(|(m, _)| m).unwrap_or_default(),
        settings.schedule.map(|(s, _)| s),
        settings.golden.map(|(g, _)| g),
    );
    let mut plan = Plan {
        feature: feature.to_owned(),
        scenario: draft.name.value.clone(),
        file: ctx.file.to_owned(),
        dag_hash: DagHash(Sha256Hex::from_digest(&[0; 32])),
        herd,
        module,
        schedule,
        windows: settings.windows,
        emits: settings.emits,
        defaults,
        input_contract: input_contract.map(|c| c.reference),
        output_contract: output_contract.map(|c| c.reference),
        sources,
        steps,
        slices,
        sinks,
        dlq,
        golden,
        asserts: settings.asserts.iter().map(|a| a.value.clone()).collect(),
        prose,
    };
    plan.dag_hash = compute_dag_hash(&plan);
    Some(plan)
}

/// Rows reach the sinks with the pipeline's columns, or, when those cannot
/// be known, with the output contract's.
fn rows_at_sinks(columns: &Columns, output: &Option<LoadedContract>) -> Columns {
    match (&columns.0, output) {
        (None, Some(output)) => Columns(Some(output.reference.columns.clone())),
        _ => columns.clone(),
    }
}

fn apply_placement(
    placement: &mut Placement,
    name: &str,
    args: &Args<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if name == "requires" {
        if !placement.resources.is_empty() {
            diagnostics.push(
                Diagnostic::error(args.tag_span(), "a second `@requires` here")
                    .expected("one `@requires` listing every resource"),
            );
        }
        placement.resources = requires(args, diagnostics);
    } else {
        if placement.affinity.is_some() {
            diagnostics.push(
                Diagnostic::error(args.tag_span(), "a second `@affinity` here")
                    .expected("one `@affinity` with every constraint"),
            );
        }
        placement.affinity = Some(affinity(args, diagnostics));
    }
}

/// Handles a scenario-wide tag; false when `tag` is not one.
fn scenario_tag(settings: &mut Settings, tag: &Tag, diagnostics: &mut Vec<Diagnostic>) -> bool {
    let name = tag.name.value.as_str();
    if !SCENARIO_TAGS.contains(&name) {
        return false;
    }
    let args = Args::new(tag, diagnostics);
    let once = |slot_set: bool, diagnostics: &mut Vec<Diagnostic>| {
        if slot_set {
            diagnostics.push(
                Diagnostic::error(tag.span, format!("a second `@{name}`"))
                    .expected(format!("one `@{name}` per scenario")),
            );
        }
    };
    match name {
        "herd" => {
            once(settings.herd.is_some(), diagnostics);
            args.only_keys(&[], None, diagnostics);
            if let Some(value) =
                args.single_positional("herd name", "`@herd(\"finance\")`", diagnostics)
            {
                match HerdName::new(&value.value) {
                    Ok(herd) => settings.herd = Some((herd, tag.span)),
                    Err(error) => {
                        diagnostics.push(Diagnostic::error(value.span, error.to_string()))
                    }
                }
            }
        }
        "module" => {
            once(settings.module.is_some(), diagnostics);
            args.no_positional("`@module(layer=\"silver\", domain=\"sales\")`", diagnostics);
            args.only_keys(&["layer", "domain"], None, diagnostics);
            let module = Module {
                layer: args.get_str("layer", diagnostics).map(|v| v.value.clone()),
                domain: args.get_str("domain", diagnostics).map(|v| v.value.clone()),
            };
            settings.module = Some((module, tag.span));
        }
        "schedule" => {
            once(settings.schedule.is_some(), diagnostics);
            args.only_keys(&[], None, diagnostics);
            if let Some(cron) =
                args.single_positional("cron expression", "`@schedule(\"0 2 * * *\")`", diagnostics)
            {
                match check_cron(&cron.value) {
                    Ok(()) => settings.schedule = Some((cron.value.clone(), tag.span)),
                    Err(expected) => diagnostics.push(
                        Diagnostic::error(
                            cron.span,
                            format!("`{}` is not a cron expression", cron.value),
                        )
                        .expected(expected),
                    ),
                }
            }
        }
        "golden" => {
            once(settings.golden.is_some(), diagnostics);
            args.only_keys(&["ordered"], None, diagnostics);
            if let Some(dir) =
                args.single_positional("folder", "`@golden(\"golden/orders\")`", diagnostics)
            {
                let ordered = args.get_bool("ordered", diagnostics).unwrap_or(false);
                settings.golden = Some((
                    Golden {
                        dir: dir.value.clone(),
                        ordered,
                    },
                    tag.span,
                ));
            }
        }
        "assert" => {
            args.only_keys(&[], None, diagnostics);
            if let Some(expr) =
                args.single_positional("expression", "`@assert(\"rows_out >= 1\")`", diagnostics)
            {
                settings.asserts.push(expr.clone());
            }
        }
        "window" => {
            args.only_keys(
                &["sliding", "every", "session", "tumbling"],
                None,
                diagnostics,
            );
            let words: Vec<String> = tag.args.iter().map(Arg::window_word).collect();
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            match parse_window(&words) {
                Ok(window) => settings.windows.push(window),
                Err(expected) => diagnostics
                    .push(Diagnostic::error(tag.span, "this is not a window").expected(expected)),
            }
        }
        _ => {
            args.only_keys(&[], None, diagnostics);
            if let Some(what) =
                args.single_positional("alert name", "`@emits(\"late_data\")`", diagnostics)
            {
                settings.emits.push(what.value.clone());
            }
        }
    }
    true
}

fn unknown_tag(tag: &Tag, diagnostics: &mut Vec<Diagnostic>) {
    let name = &tag.name.value;
    let known: Vec<String> = KNOWN_TAGS.iter().map(|t| format!("`@{t}`")).collect();
    diagnostics.push(
        Diagnostic::error(tag.name.span, format!("unknown tag `@{name}`"))
            .expected(format!("one of {}", known.join(", ")))
            .help_opt(
                super::super::suggest::closest(name, KNOWN_TAGS)
                    .map(|t| format!("did you mean `@{t}`?")),
            ),
    );
}

fn check_colocation(steps: &[StepDraft], diagnostics: &mut Vec<Diagnostic>) {
    for draft in steps {
        let Some((target, span)) = &draft.colocate else {
            continue;
        };
        if !steps.iter().any(|s| &s.step.label == target) {
            let labels: Vec<&str> = steps.iter().map(|s| s.step.label.as_str()).collect();
            diagnostics.push(
                Diagnostic::error(*span, format!("`colocate_with` names no step `{target}`"))
                    .expected(format!("`step:NAME` with one of {}", backticked(&labels)))
                    .help_opt(did_you_mean(target, labels.iter().copied())),
            );
        }
    }
}

fn check_asserts(asserts: &[StrLit], sinks: &[Sink], diagnostics: &mut Vec<Diagnostic>) {
    for assert in asserts {
        let expr = match sql::parse_expression(&assert.value) {
            Ok(expr) => expr,
            Err(error) => {
                diagnostics.push(
                    Diagnostic::error(
                        assert.span,
                        format!("`@assert` is not a valid SQL expression: {}", error.message),
                    )
                    .expected("a condition over run metrics, like `rows_out >= 1`"),
                );
                continue;
            }
        };
        for parts in sql::compound_names(&expr) {
            let known = match parts.as_slice() {
                [metric] => ASSERT_METRICS.contains(&metric.as_str()),
                [metric, sink] if metric == "rows_out" => sinks.iter().any(|s| &s.name == sink),
                _ => false,
            };
            if !known {
                let name = parts.join(".");
                let mut expected: Vec<String> =
                    ASSERT_METRICS.iter().map(|m| format!("`{m}`")).collect();
                expected.extend(sinks.iter().map(|s| format!("`rows_out.{}`", s.name)));
                diagnostics.push(
                    Diagnostic::error(
                        assert.span,
                        format!("unknown run metric `{name}` in `@assert`"),
                    )
                    .expected(format!("one of {}", expected.join(", ")))
                    .help_opt(did_you_mean(&name, ASSERT_METRICS)),
                );
            }
        }
    }
}

/// `the contract: PATH` → PATH with its span.
/// The contract line `text` was meant to be, when it names a contract in
/// another spelling (`The Contract:`, `a contract:`, `the  contract :`):
/// read as prose, it would leave the scenario with no contract at all.
/// `None` for an exact contract line and for prose that is no contract line
/// (`the contract terms apply`).
fn misspelt_contract_line(text: &str) -> Option<&'static str> {
    let collapsed = text
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" :", ":");
    let unarticled = ["the ", "a ", "an "]
        .iter()
        .find_map(|article| collapsed.strip_prefix(article))
        .unwrap_or(&collapsed);
    let meant = if unarticled.starts_with("output contract:") {
        "the output contract:"
    } else if unarticled.starts_with("contract:") {
        "the contract:"
    } else {
        return None;
    };
    (!text.starts_with(meant)).then_some(meant)
}

fn is_stdin(source: &Source) -> bool {
    source.endpoint.location == runink_plan::Location::Stdin
}

fn prose_path(text: &Spanned<String>, prefix: &str) -> Option<Spanned<String>> {
    let rest = text.value.strip_prefix(prefix)?;
    let leading = rest.len() - rest.trim_start().len();
    let path = rest.trim();
    let start = text.span.start + prefix.len() + leading;
    Some(Spanned::new(
        path.to_owned(),
        Span::new(start, start + path.len().max(1)),
    ))
}

fn load_contract(
    ctx: &Context<'_>,
    written: &Spanned<String>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<LoadedContract> {
    if written.value.is_empty() {
        diagnostics.push(
            Diagnostic::error(written.span, "no contract path")
                .expected("a path to an ODCS YAML file, like `contracts/orders.yaml`"),
        );
        return None;
    }
    let (path, object) = match written.value.split_once('#') {
        Some((path, object)) => (path, Some(object)),
        None => (written.value.as_str(), None),
    };
    let full = ctx.base_dir.join(path);
    let is_file = ctx.loader.is_file(&full);
    // Listed only when it is no file: a folder has names in it.
    let listed = if is_file {
        Vec::new()
    } else {
        ctx.loader.list_dir(&full)
    };
    if !listed.is_empty() {
        let yaml = listed
            .iter()
            .find(|name| name.ends_with(".yaml") || name.ends_with(".yml"))
            .map(|name| {
                format!(
                    "name one of its files, such as `{}`",
                    Path::new(path).join(name).display()
                )
            });
        diagnostics.push(
            Diagnostic::error(
                written.span,
                format!("`{path}` is a folder, not a contract file"),
            )
            .expected("an ODCS YAML file")
            .help_opt(yaml),
        );
        return None;
    }
    if !is_file {
        let folder = full.parent().unwrap_or(ctx.base_dir);
        let siblings = ctx.loader.list_dir(folder);
        let file_name = Path::new(path)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let help = super::super::suggest::closest(&file_name, siblings.iter().map(String::as_str))
            .map(|close| {
                let shown = Path::new(path).with_file_name(close);
                format!("did you mean `{}`?", shown.display())
            });
        diagnostics.push(
            Diagnostic::error(
                written.span,
                format!("contract file `{path}` does not exist"),
            )
            .expected(format!(
                "an ODCS YAML file, relative to the scenario's folder `{}`",
                shown_dir(ctx.base_dir)
            ))
            .help_opt(help),
        );
        return None;
    }
    let contract = match ctx.contracts.load(&full, ctx.loader) {
        Ok(contract) => contract,
        Err(LoadFailure::Unreadable(error)) => {
            diagnostics.push(Diagnostic::error(
                written.span,
                format!("cannot read contract `{path}`: {error}"),
            ));
            return None;
        }
        Err(LoadFailure::Invalid(error)) => {
            diagnostics.push(
                Diagnostic::error(
                    written.span,
                    format!("contract `{path}` is not valid: {error}"),
                )
                .expected("an ODCS v3.0.x or v3.1.x data contract")
                .help(format!("`runi contract check {path}` lists every problem")),
            );
            return None;
        }
    };
    let chosen = match object {
        Some(name) => contract.object(name),
        None => contract.objects.first(),
    };
    let Some(chosen) = chosen else {
        let names: Vec<&str> = contract.objects.iter().map(|o| o.name.as_str()).collect();
        let message = match object {
            Some(name) => format!("contract `{path}` has no schema object `{name}`"),
            None => format!("contract `{path}` describes no schema object"),
        };
        diagnostics.push(
            Diagnostic::error(written.span, message).expected(if names.is_empty() {
                "a `schema:` list with the columns".to_owned()
            } else {
                format!("one of {}", backticked(&names))
            }),
        );
        return None;
    };
    Some(LoadedContract {
        reference: ContractRef {
            path: path.to_owned(),
            object: chosen.name.clone(),
            hash: contract.hash.clone(),
            columns: chosen.columns.iter().map(|c| c.name.clone()).collect(),
            sensitive_columns: chosen
                .columns
                .iter()
                .filter(|c| c.is_sensitive())
                .map(|c| c.name.clone())
                .collect(),
        },
        span: written.span,
    })
}

fn shown_dir(dir: &Path) -> String {
    let shown = dir.display().to_string();
    if shown.is_empty() {
        ".".to_owned()
    } else {
        shown
    }
}
