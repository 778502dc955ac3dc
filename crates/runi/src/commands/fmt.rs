//! `runi fmt FILE... [--check]`: rewrite scenario files canonically.

use runink_dsl::diagnostic::render;
use runink_dsl::format::format_source;
use serde::Serialize;

use crate::cli::{FmtArgs, GlobalOptions};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::{print_json, stderr_colour};
use crate::scenario_file::ScenarioFile;
use crate::write_atomically::write_atomically;

#[derive(Serialize)]
struct FmtReport {
    file: String,
    changed: bool,
}

pub fn fmt(global: &GlobalOptions, args: &FmtArgs) -> Outcome {
    let mut reports = Vec::new();
    let mut unparsable = 0;
    for path in &args.files {
        let file = ScenarioFile::read(path)?;
        let formatted = match format_source(&file.source) {
            Ok(formatted) => formatted,
            Err(diagnostics) => {
                for diagnostic in &diagnostics {
                    eprint!(
                        "{}",
                        render(&file.shown, &file.source, diagnostic, stderr_colour(global))
                    );
                }
                unparsable += 1;
                continue;
            }
        };
        let changed = formatted != file.source;
        if changed && !args.check {
            write_atomically(path, &formatted).map_err(Failure::infra)?;
        }
        if changed && !global.json && !global.quiet {
            let verb = if args.check {
                "would reformat"
            } else {
                "reformatted"
            };
            outln!("{verb}: {}", file.shown);
        }
        reports.push(FmtReport {
            file: file.shown,
            changed,
        });
    }
    if global.json {
        print_json(&serde_json::json!({ "files": reports })).map_err(Failure::infra)?;
    }
    if unparsable > 0 {
        return Err(Failure::usage(anyhow::anyhow!(
            "{unparsable} file{} could not be parsed; nothing was written to {}",
            if unparsable == 1 { "" } else { "s" },
            if unparsable == 1 { "it" } else { "them" }
        )));
    }
    if args.check && reports.iter().any(|r| r.changed) {
        return Ok(Exit::Failures);
    }
    Ok(Exit::Ok)
}
