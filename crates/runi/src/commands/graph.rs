//! `runi graph FILE --format dot|mermaid`: the pipeline DAG.

use runink_plan::{GraphFormat, render_graph};

use crate::cli::{GlobalOptions, GraphArgs, GraphFormatArg};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::print_json;
use crate::scenario_file::{compile_or_fail, select_plans};

pub fn graph(global: &GlobalOptions, args: &GraphArgs) -> Outcome {
    let (file, compilation) = compile_or_fail(global, &args.file)?;
    let plans = select_plans(compilation, args.scenario.as_deref(), &file)?;
    let (format, name) = match args.format {
        GraphFormatArg::Dot => (GraphFormat::Dot, "dot"),
        GraphFormatArg::Mermaid => (GraphFormat::Mermaid, "mermaid"),
    };
    let text = render_graph(&plans, format);
    if global.json {
        print_json(&serde_json::json!({ "file": file.shown, "format": name, "graph": text }))
            .map_err(Failure::infra)?;
    } else {
        out!("{text}");
    }
    Ok(Exit::Ok)
}
