//! `runi explain FILE`: the compiled plan in words, or as JSON.

use crate::cli::{ExplainArgs, GlobalOptions};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::print_json;
use crate::scenario_file::{compile_or_fail, select_plans};

pub fn explain(global: &GlobalOptions, args: &ExplainArgs) -> Outcome {
    let (file, compilation) = compile_or_fail(global, &args.file)?;
    let plans = select_plans(compilation, args.scenario.as_deref(), &file)?;
    if global.json {
        print_json(&serde_json::json!({ "file": file.shown, "plans": plans }))
            .map_err(Failure::infra)?;
        return Ok(Exit::Ok);
    }
    let texts: Vec<String> = plans.iter().map(runink_plan::explain_text).collect();
    out!("{}", texts.join("\n"));
    Ok(Exit::Ok)
}
