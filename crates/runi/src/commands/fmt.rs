//! `runi fmt FILE... [--check]`: rewrite scenario files canonically.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use runink_dsl::diagnostic::render;
use runink_dsl::format::format_source;
use serde::Serialize;

use crate::cli::{FmtArgs, GlobalOptions};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::{print_json, stderr_colour};
use crate::scenario_file::ScenarioFile;

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
            println!("{verb}: {}", file.shown);
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

/// Writes beside the file and renames over it, so that a crash never leaves
/// half a scenario.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = folder.join(format!(".{name}.runi-fmt.{}", std::process::id()));
    let result = (|| -> anyhow::Result<()> {
        let mut out = std::fs::File::create(&temporary)
            .with_context(|| format!("cannot create `{}`", temporary.display()))?;
        out.write_all(text.as_bytes())?;
        out.sync_all()?;
        if let Ok(metadata) = std::fs::metadata(path) {
            std::fs::set_permissions(&temporary, metadata.permissions())?;
        }
        std::fs::rename(&temporary, path)
            .with_context(|| format!("cannot replace `{}`", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}
