//! `runi explain`: the plan in words, for people.

use std::fmt::Write;

use runink_model::Resources;

use crate::{ContractRef, Location, Placement, Plan, StepKind, StepOrigin};

/// Renders one plan as an indented, human-readable description.
pub fn explain_text(plan: &Plan) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail; the helpers below return fmt::Result
    // only to use `?` with `writeln!`.
    let _ = write_plan(&mut out, plan);
    out
}

fn write_plan(out: &mut String, plan: &Plan) -> std::fmt::Result {
    writeln!(out, "Scenario: {}", plan.scenario)?;
    writeln!(out, "  feature:   {}", plan.feature)?;
    writeln!(out, "  file:      {}", plan.file)?;
    writeln!(out, "  dag_hash:  {}", plan.dag_hash)?;
    writeln!(out, "  herd:      {}", plan.herd)?;
    let layer = plan.module.layer.as_deref().unwrap_or("-");
    let domain = plan.module.domain.as_deref().unwrap_or("-");
    writeln!(out, "  module:    layer {layer}, domain {domain}")?;
    if let Some(schedule) = &plan.schedule {
        writeln!(out, "  schedule:  {schedule} (reserved: not triggered yet)")?;
    }
    for window in &plan.windows {
        writeln!(out, "  window:    {window} (reserved: not applied yet)")?;
    }
    for emit in &plan.emits {
        writeln!(out, "  emits:     {emit} (reserved)")?;
    }
    writeln!(out, "  resources: {}", placement_text(&plan.defaults))?;
    writeln!(out, "  contract:  {}", contract_text(&plan.input_contract))?;
    writeln!(out, "  output:    {}", contract_text(&plan.output_contract))?;

    writeln!(out, "\nSources (read in order, as one stream)")?;
    for (i, source) in plan.sources.iter().enumerate() {
        write!(out, "  {}. {}", i + 1, source.endpoint.uri)?;
        let mut details: Vec<String> = source
            .options
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        details.extend(source.meta.iter().map(|(k, v)| format!("meta.{k}={v:?}")));
        if let Some(window) = &source.window {
            details.push(format!("window {window}"));
        }
        if !details.is_empty() {
            write!(out, "  ({})", details.join(", "))?;
        }
        writeln!(out)?;
    }
    if let Some(contract) = &plan.input_contract {
        writeln!(
            out,
            "  every row is checked against `{}`; failing rows go to the DLQ",
            contract.path
        )?;
    }

    writeln!(out, "\nSteps (in order)")?;
    if plan.steps.is_empty() {
        writeln!(out, "  none: rows go from the sources to the sinks as read")?;
    }
    for step in &plan.steps {
        let label = if step.label == step.kind.name() {
            String::new()
        } else {
            format!(" `{}`", step.label)
        };
        writeln!(
            out,
            "  {}. {}{label}  [slice {}]",
            step.number,
            step.kind.name(),
            step.slice
        )?;
        for line in step_lines(&step.kind) {
            writeln!(out, "       {line}")?;
        }
    }

    writeln!(out, "\nSlices (each one isolated process)")?;
    for slice in &plan.slices {
        let steps: Vec<String> = slice.steps.iter().map(usize::to_string).collect();
        let trust = if slice.trusted {
            "built-in code"
        } else {
            "user code: its output rows are checked before they go on"
        };
        writeln!(
            out,
            "  slice {}: step {} ({}); {}; resources {}",
            slice.number,
            steps.join(", "),
            slice.reason,
            trust,
            placement_text(&slice.placement)
        )?;
    }

    writeln!(
        out,
        "\nSinks (a row goes to every sink whose condition holds)"
    )?;
    for (i, sink) in plan.sinks.iter().enumerate() {
        let condition = sink
            .when
            .as_deref()
            .map_or("every row".to_owned(), |w| format!("when {w}"));
        write!(
            out,
            "  {}. `{}` {}  {condition}",
            i + 1,
            sink.name,
            sink.endpoint.uri
        )?;
        if let Some(role) = &sink.role {
            write!(out, "; role `{role}` (columns for other roles masked)")?;
        }
        for (k, v) in &sink.options {
            write!(out, "; {k}={v}")?;
        }
        writeln!(out)?;
    }
    let dlq_note = if plan.dlq.defaulted { " (default)" } else { "" };
    writeln!(
        out,
        "  DLQ: {}{dlq_note}: rejected rows with their reason; PII masked",
        plan.dlq.endpoint.uri
    )?;
    if matches!(plan.dlq.endpoint.location, Location::Stdout) {
        writeln!(
            out,
            "  note: the DLQ shares standard output with other rows"
        )?;
    }

    if !plan.asserts.is_empty() {
        writeln!(out, "\nAsserts (a failed assert fails the run)")?;
        for assert in &plan.asserts {
            writeln!(out, "  - {assert}")?;
        }
    }
    if let Some(golden) = &plan.golden {
        let order = if golden.ordered {
            "in order"
        } else {
            "in any order"
        };
        writeln!(out, "\nGolden outputs: {} (compared {order})", golden.dir)?;
    }
    if !plan.prose.is_empty() {
        writeln!(out, "\nProse")?;
        for prose in &plan.prose {
            writeln!(out, "  {} {}", prose.keyword, prose.text)?;
        }
    }
    Ok(())
}

fn contract_text(contract: &Option<ContractRef>) -> String {
    match contract {
        None => "none".to_owned(),
        Some(c) => {
            let sensitive = if c.sensitive_columns.is_empty() {
                String::new()
            } else {
                format!("; sensitive: {}", c.sensitive_columns.join(", "))
            };
            format!(
                "{} (object `{}`, {} columns, hash {}{sensitive})",
                c.path,
                c.object,
                c.columns.len(),
                c.hash.short()
            )
        }
    }
}

fn step_lines(kind: &StepKind) -> Vec<String> {
    match kind {
        StepKind::Mask { fields, explicit } => {
            let from = if *explicit {
                "listed"
            } else {
                "the contract's sensitive columns"
            };
            let fields = if fields.is_empty() {
                "none".to_owned()
            } else {
                fields.join(", ")
            };
            vec![format!("masks {from}: {fields}")]
        }
        StepKind::Filter { predicate } => vec![format!("keeps rows where {predicate}")],
        StepKind::Derive { columns } => columns
            .iter()
            .map(|(name, expr)| format!("{name} = {expr}"))
            .collect(),
        StepKind::Select { columns } => vec![format!("keeps columns {}", columns.join(", "))],
        StepKind::Rename { pairs } => pairs
            .iter()
            .map(|(old, new)| format!("{old} -> {new}"))
            .collect(),
        StepKind::Cast { columns } => columns
            .iter()
            .map(|(name, ty)| format!("{name} as {ty}; rows that fail go to the DLQ"))
            .collect(),
        StepKind::Dedupe { keys } => vec![format!(
            "drops later rows whose {} was already seen",
            keys.join(", ")
        )],
        StepKind::Sql { query, origin } => {
            let mut lines = vec![format!("query: {query}")];
            lines.extend(origin_line(origin));
            lines
        }
        StepKind::Exec {
            cmd,
            format,
            network,
            origin,
        } => {
            let network = if *network { "on" } else { "off" };
            let mut lines = vec![format!(
                "runs `{cmd}`, rows as {} on stdin/stdout, network {network}",
                format.as_str()
            )];
            lines.extend(origin_line(origin));
            lines
        }
    }
}

fn origin_line(origin: &StepOrigin) -> Option<String> {
    match origin {
        StepOrigin::Inline => None,
        StepOrigin::Registry { name, path, hash } => Some(format!(
            "named step `{name}` from {path} (hash {})",
            hash.short()
        )),
    }
}

fn placement_text(placement: &Placement) -> String {
    let mut parts = resources_parts(&placement.resources);
    if let Some(affinity) = &placement.affinity {
        if let Some(label) = &affinity.label {
            parts.push(format!("node label `{label}`"));
        }
        if let Some(step) = &affinity.colocate_with {
            parts.push(format!("colocated with step `{step}`"));
        }
    }
    if parts.is_empty() {
        "herd default".to_owned()
    } else {
        parts.join(", ")
    }
}

/// Bytes in the largest binary unit that divides them exactly.
fn bytes_text(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("Ti", 1 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ];
    UNITS
        .iter()
        .find(|(_, size)| bytes.is_multiple_of(*size))
        .map_or(format!("{bytes} bytes"), |(unit, size)| {
            format!("{}{unit}", bytes / size)
        })
}

fn resources_parts(resources: &Resources) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(cpu) = resources.cpu_millis {
        parts.push(format!("cpu {}m", cpu));
    }
    if let Some(memory) = resources.memory_bytes {
        parts.push(format!("memory {}", bytes_text(memory)));
    }
    if let Some(gpus) = resources.gpus {
        parts.push(format!("gpu {gpus}"));
    }
    if let Some(pids) = resources.pids_max {
        parts.push(format!("pids {pids}"));
    }
    parts
}
