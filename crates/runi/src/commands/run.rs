//! `runi run FILE`: compile the scenario, then execute it. Execution lands
//! with the engine; until then the command checks the scenario and says
//! plainly that nothing was run.

use crate::cli::{GlobalOptions, RunArgs};
use crate::exit::{Failure, Outcome};
use crate::scenario_file::{compile_or_fail, select_plans};

pub fn run(global: &GlobalOptions, args: &RunArgs) -> Outcome {
    let (file, compilation) = compile_or_fail(global, &args.file)?;
    let plans = select_plans(compilation, args.scenario.as_deref(), &file)?;
    let names: Vec<String> = plans
        .iter()
        .map(|p| format!("`{}` ({})", p.scenario, p.dag_hash.0.short()))
        .collect();
    Err(Failure::infra(anyhow::anyhow!(
        "`runi run` cannot execute scenarios yet: the engine is not built; nothing was read or written\n\
         the scenario compiles: {}; see it with `runi explain {}`",
        names.join(", "),
        file.shown
    )))
}
