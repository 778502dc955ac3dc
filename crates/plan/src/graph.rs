//! `runi graph`: the DAG of one or more plans as Graphviz dot or Mermaid.

use std::fmt::Write;

use crate::{Plan, Slice};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

/// A node of the drawn DAG; ids are unique across all drawn plans.
struct Node {
    id: String,
    label: String,
    shape: Shape,
}

#[derive(Clone, Copy)]
enum Shape {
    Data,
    Check,
    Step,
    Dlq,
}

struct Edge {
    from: String,
    to: String,
    label: Option<String>,
    rejected: bool,
}

/// The DAG of one plan, independent of how it is drawn.
struct Dag {
    title: String,
    prefix: String,
    loose: Vec<Node>,
    /// (slice number, nodes of that slice's steps)
    slices: Vec<(usize, bool, Vec<Node>)>,
    edges: Vec<Edge>,
}

fn build(plan: &Plan, index: usize) -> Dag {
    let prefix = format!("s{}_", index + 1);
    let id = |name: &str| format!("{prefix}{name}");
    let mut loose = Vec::new();
    let mut edges = Vec::new();
    let mut edge = |from: &str, to: &str, label: Option<String>, rejected: bool| {
        edges.push(Edge {
            from: from.to_owned(),
            to: to.to_owned(),
            label,
            rejected,
        })
    };

    let entry = if let Some(contract) = &plan.input_contract {
        let check = id("check_in");
        loose.push(Node {
            id: check.clone(),
            label: format!("check {}", contract.path),
            shape: Shape::Check,
        });
        check
    } else {
        id("union")
    };
    if plan.input_contract.is_none() {
        loose.push(Node {
            id: entry.clone(),
            label: "read".to_owned(),
            shape: Shape::Check,
        });
    }
    for (i, source) in plan.sources.iter().enumerate() {
        let source_id = id(&format!("source{}", i + 1));
        loose.push(Node {
            id: source_id.clone(),
            label: source.endpoint.uri.clone(),
            shape: Shape::Data,
        });
        edge(&source_id, &entry, None, false);
    }
    let dlq = id("dlq");
    loose.push(Node {
        id: dlq.clone(),
        label: format!("DLQ {}", plan.dlq.endpoint.uri),
        shape: Shape::Dlq,
    });
    if plan.input_contract.is_some() {
        edge(&entry, &dlq, Some("rejected".to_owned()), true);
    }

    let mut previous = entry;
    let mut slices = Vec::new();
    for slice in &plan.slices {
        slices.push((
            slice.number,
            slice.trusted,
            slice_nodes(plan, slice, &prefix),
        ));
    }
    for step in &plan.steps {
        let step_id = id(&format!("step{}", step.number));
        edge(&previous, &step_id, None, false);
        if matches!(step.kind, crate::StepKind::Cast { .. }) || !step.kind.is_trusted() {
            edge(&step_id, &dlq, Some("rejected".to_owned()), true);
        }
        previous = step_id;
    }
    if let Some(contract) = &plan.output_contract {
        let check = id("check_out");
        loose.push(Node {
            id: check.clone(),
            label: format!("check {}", contract.path),
            shape: Shape::Check,
        });
        edge(&previous, &check, None, false);
        edge(&check, &dlq, Some("rejected".to_owned()), true);
        previous = check;
    }
    for (i, sink) in plan.sinks.iter().enumerate() {
        let sink_id = id(&format!("sink{}", i + 1));
        loose.push(Node {
            id: sink_id.clone(),
            label: format!("{} {}", sink.name, sink.endpoint.uri),
            shape: Shape::Data,
        });
        edge(&previous, &sink_id, sink.when.clone(), false);
    }
    Dag {
        title: plan.scenario.clone(),
        prefix,
        loose,
        slices,
        edges,
    }
}

fn slice_nodes(plan: &Plan, slice: &Slice, prefix: &str) -> Vec<Node> {
    plan.steps
        .iter()
        .filter(|step| slice.steps.contains(&step.number))
        .map(|step| Node {
            id: format!("{prefix}step{}", step.number),
            label: format!("{}. {}", step.number, step.label),
            shape: Shape::Step,
        })
        .collect()
}

/// Draws every plan into one graph, each scenario in its own cluster.
pub fn render_graph(plans: &[Plan], format: GraphFormat) -> String {
    let dags: Vec<Dag> = plans.iter().enumerate().map(|(i, p)| build(p, i)).collect();
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = match format {
        GraphFormat::Dot => write_dot(&mut out, &dags),
        GraphFormat::Mermaid => write_mermaid(&mut out, &dags),
    };
    out
}

fn dot_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

fn dot_node(out: &mut String, node: &Node, indent: &str) -> std::fmt::Result {
    let style = match node.shape {
        Shape::Data => "shape=cylinder",
        Shape::Check => "shape=diamond",
        Shape::Step => "shape=box, style=rounded",
        Shape::Dlq => "shape=cylinder, color=red, fontcolor=red",
    };
    writeln!(
        out,
        "{indent}{} [label=\"{}\", {style}];",
        node.id,
        dot_escape(&node.label)
    )
}

fn write_dot(out: &mut String, dags: &[Dag]) -> std::fmt::Result {
    writeln!(out, "digraph runink {{")?;
    writeln!(out, "  rankdir=LR;")?;
    writeln!(out, "  node [fontname=\"Helvetica\"];")?;
    writeln!(out, "  edge [fontname=\"Helvetica\"];")?;
    for dag in dags {
        writeln!(out, "  subgraph cluster_{}scenario {{", dag.prefix)?;
        writeln!(out, "    label=\"{}\";", dot_escape(&dag.title))?;
        for node in &dag.loose {
            dot_node(out, node, "    ")?;
        }
        for (number, trusted, nodes) in &dag.slices {
            writeln!(out, "    subgraph cluster_{}slice{number} {{", dag.prefix)?;
            let trust = if *trusted { "" } else { " (user code)" };
            writeln!(out, "      label=\"slice {number}{trust}\";")?;
            writeln!(out, "      style=dashed;")?;
            for node in nodes {
                dot_node(out, node, "      ")?;
            }
            writeln!(out, "    }}")?;
        }
        for edge in &dag.edges {
            let mut attributes = Vec::new();
            if let Some(label) = &edge.label {
                attributes.push(format!("label=\"{}\"", dot_escape(label)));
            }
            if edge.rejected {
                attributes.push("style=dashed, color=red".to_owned());
            }
            let attributes = if attributes.is_empty() {
                String::new()
            } else {
                format!(" [{}]", attributes.join(", "))
            };
            writeln!(out, "    {} -> {}{attributes};", edge.from, edge.to)?;
        }
        writeln!(out, "  }}")?;
    }
    writeln!(out, "}}")
}

/// A label inside Mermaid's double quotes: quotes as an entity, and line
/// ends as `<br>`, since a raw line end ends the statement (and a next line
/// starting `%%` is read as a comment).
fn mermaid_escape(text: &str) -> String {
    text.replace('"', "#quot;")
        .replace("\r\n", "<br>")
        .replace(['\n', '\r'], "<br>")
}

fn mermaid_node(out: &mut String, node: &Node, indent: &str) -> std::fmt::Result {
    let label = mermaid_escape(&node.label);
    match node.shape {
        Shape::Data | Shape::Dlq => writeln!(out, "{indent}{}[(\"{label}\")]", node.id),
        Shape::Check => writeln!(out, "{indent}{}{{\"{label}\"}}", node.id),
        Shape::Step => writeln!(out, "{indent}{}(\"{label}\")", node.id),
    }
}

fn write_mermaid(out: &mut String, dags: &[Dag]) -> std::fmt::Result {
    writeln!(out, "flowchart LR")?;
    for dag in dags {
        writeln!(
            out,
            "  subgraph {}scenario[\"{}\"]",
            dag.prefix,
            mermaid_escape(&dag.title)
        )?;
        for node in &dag.loose {
            mermaid_node(out, node, "    ")?;
        }
        for (number, trusted, nodes) in &dag.slices {
            let trust = if *trusted { "" } else { " (user code)" };
            writeln!(
                out,
                "    subgraph {}slice{number}[\"slice {number}{trust}\"]",
                dag.prefix
            )?;
            for node in nodes {
                mermaid_node(out, node, "      ")?;
            }
            writeln!(out, "    end")?;
        }
        for edge in &dag.edges {
            let arrow = if edge.rejected { "-.->" } else { "-->" };
            match &edge.label {
                Some(label) => writeln!(
                    out,
                    "    {} {arrow}|\"{}\"| {}",
                    edge.from,
                    mermaid_escape(label),
                    edge.to
                )?,
                None => writeln!(out, "    {} {arrow} {}", edge.from, edge.to)?,
            }
        }
        for node in dag.loose.iter().filter(|n| matches!(n.shape, Shape::Dlq)) {
            writeln!(out, "    style {} stroke:#c00,color:#c00", node.id)?;
        }
        writeln!(out, "  end")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::mermaid_escape;

    #[test]
    fn a_mermaid_label_stays_on_its_line() {
        assert_eq!(
            mermaid_escape("name LIKE 'x\n%%'\r\n\"q\""),
            "name LIKE 'x<br>%%'<br>#quot;q#quot;"
        );
    }
}
