//! `runi check FILE...`: compile every file, report every problem.

use serde::Serialize;

use runink_dsl::diagnostic::LocatedDiagnostic;

use crate::cli::{CheckArgs, GlobalOptions};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::{print_error, print_json};
use crate::scenario_file::ScenarioFile;

#[derive(Serialize)]
struct FileReport {
    file: String,
    ok: bool,
    scenarios: Vec<ScenarioReport>,
    diagnostics: Vec<LocatedDiagnostic>,
    /// Steps that compile but cannot be planned on the input contract's
    /// columns (a type error in an expression): found by planning them
    /// as a run would, without reading data.
    plan_errors: Vec<PlanError>,
    /// Why the file could not be read (then nothing else is reported).
    #[serde(skip_serializing_if = "Option::is_none")]
    read_error: Option<String>,
}

#[derive(Serialize)]
struct PlanError {
    scenario: String,
    /// The line of the step at fault in the file, when a step is.
    line: Option<usize>,
    message: String,
}

#[derive(Serialize)]
struct ScenarioReport {
    name: String,
    dag_hash: String,
}

pub fn check(global: &GlobalOptions, args: &CheckArgs) -> Outcome {
    let mut reports = Vec::new();
    let (mut errors, mut warnings) = (0, 0);
    for path in &args.files {
        // A file that cannot be read is one error; the others are still
        // checked.
        let file = match ScenarioFile::read(path) {
            Ok(file) => file,
            Err(failure) => {
                if !global.json {
                    print_error(global, &failure.error);
                }
                errors += 1;
                reports.push(FileReport {
                    file: path.display().to_string(),
                    ok: false,
                    scenarios: Vec::new(),
                    diagnostics: Vec::new(),
                    plan_errors: Vec::new(),
                    read_error: Some(format!("{:#}", failure.error)),
                });
                continue;
            }
        };
        let compilation = file.compile();
        if !global.json {
            file.print_diagnostics(global, &compilation);
        }
        let compile_errors = compilation
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .count();
        let base_dir = file.base_dir();
        let plan_errors: Vec<PlanError> = if compile_errors == 0 {
            compilation
                .plans
                .iter()
                .flat_map(|plan| {
                    runink_engine::check_steps(plan, &base_dir)
                        .into_iter()
                        .map(|failure| PlanError {
                            scenario: plan.scenario.clone(),
                            line: failure.line,
                            message: failure.error.to_string(),
                        })
                })
                .collect()
        } else {
            Vec::new()
        };
        if !global.json {
            for error in &plan_errors {
                let place = match error.line {
                    Some(line) => format!("{}:{line}", file.shown),
                    None => file.shown.clone(),
                };
                eprintln!(
                    "{place}: error: scenario `{}`: {}",
                    error.scenario, error.message
                );
            }
        }
        let file_errors = compile_errors + plan_errors.len();
        errors += file_errors;
        warnings += compilation.diagnostics.len() - compile_errors;
        if !global.json && !global.quiet && file_errors == 0 {
            let count = compilation.plans.len();
            outln!(
                "ok: {} ({count} scenario{})",
                file.shown,
                if count == 1 { "" } else { "s" }
            );
        }
        reports.push(FileReport {
            file: file.shown.clone(),
            ok: file_errors == 0,
            scenarios: compilation
                .plans
                .iter()
                .map(|p| ScenarioReport {
                    name: p.scenario.clone(),
                    dag_hash: p.dag_hash.to_string(),
                })
                .collect(),
            diagnostics: file.located(&compilation),
            plan_errors,
            read_error: None,
        });
    }
    if global.json {
        print_json(&serde_json::json!({
            "ok": errors == 0,
            "errors": errors,
            "warnings": warnings,
            "files": reports,
        }))
        .map_err(Failure::infra)?;
    }
    if errors > 0 {
        if !global.json {
            eprintln!(
                "{errors} error{} and {warnings} warning{} in {} file{}",
                plural(errors),
                plural(warnings),
                args.files.len(),
                plural(args.files.len())
            );
        }
        return Ok(Exit::Usage);
    }
    Ok(Exit::Ok)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
