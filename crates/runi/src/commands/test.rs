//! `runi test FILE`: runs every scenario that has `@golden(DIR)` into a
//! temporary folder and compares each sink and the DLQ with
//! `DIR/<sink name>.expected.jsonl` (`DIR/dlq.expected.jsonl` for the DLQ).
//! Rows compare as JSON, in any order unless `@golden(DIR, ordered=true)`;
//! `_runink.run_id` is left out. Golden runs mask with a fixed test salt and
//! key, so expected files hold stable hashes and tokens, never a herd's.
//! `--update` rewrites the expected files. A scenario whose run fails
//! (an assert, a step's program) fails its test and the others are still
//! tested; only a machine that cannot run it (isolation it cannot give)
//! stops the command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use runink_contract::{MaskKeys, Masker, TOKEN_KEY_BYTES};
use runink_engine::{EngineError, Isolation, RunError, RunOptions, RunRequest, execute, read_rows};
use runink_plan::{DataFormat, Location, OptionValue, Plan};
use serde_json::Value;

use crate::cli::{GlobalOptions, TestArgs};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::print_json_line;
use crate::scenario_file::{compile_or_fail, select_plans};

const GOLDEN_SALT: &str = "runink-golden";
/// Rows of a mismatch shown before `…`.
const DIFF_ROWS_SHOWN_MAX: usize = 5;

pub fn test(global: &GlobalOptions, args: &TestArgs) -> Outcome {
    runink_engine::keep_freed_memory();
    let (file, compilation) = compile_or_fail(global, &args.file)?;
    let plans = select_plans(compilation, args.scenario.as_deref(), &file)?;
    let base_dir = file.base_dir();
    let isolation = args.isolation.engine();
    let mut tested = 0;
    let mut failed = 0;
    for plan in plans.iter().filter(|p| p.golden.is_some()) {
        tested += 1;
        let mismatches =
            test_plan(plan, &base_dir, args.update, isolation).map_err(Failure::infra)?;
        if global.json {
            // One line per scenario; its problems as the text shows them.
            let problems: Vec<&str> = mismatches.iter().map(|m| m.trim_start()).collect();
            print_json_line(&serde_json::json!({
                "scenario": plan.scenario,
                "passed": mismatches.is_empty(),
                "updated": args.update,
                "problems": problems,
            }))
            .map_err(Failure::infra)?;
            failed += usize::from(!mismatches.is_empty());
            continue;
        }
        if mismatches.is_empty() {
            if !global.quiet {
                eprintln!("ok: `{}`", plan.scenario);
            }
        } else {
            failed += 1;
            eprintln!("FAILED: `{}`", plan.scenario);
            for mismatch in mismatches {
                eprintln!("{mismatch}");
            }
        }
    }
    if tested == 0 {
        return Err(Failure::usage(anyhow::anyhow!(
            "no scenario in `{}` has `@golden(DIR)`; add one to test it",
            file.shown
        )));
    }
    if !global.quiet && !global.json {
        eprintln!("{} passed, {failed} failed", tested - failed);
    }
    Ok(if failed == 0 {
        Exit::Ok
    } else {
        Exit::Failures
    })
}

/// Runs one scenario into a temporary folder and compares its outputs.
fn test_plan(
    plan: &Plan,
    base_dir: &Path,
    update: bool,
    isolation: Isolation,
) -> anyhow::Result<Vec<String>> {
    let golden = plan
        .golden
        .as_ref()
        .expect("only plans with @golden are tested");
    let golden_dir = base_dir.join(&golden.dir);
    let temp_dir =
        tempfile::tempdir().context("cannot create a temporary folder for the golden run")?;
    let temp = temp_dir.path();
    let mut redirected = plan.clone();
    // Each output: its name, format, where the golden run writes it, and
    // its sink's options (to read it back as written).
    let mut outputs: Vec<(String, DataFormat, PathBuf, BTreeMap<String, OptionValue>)> = Vec::new();
    for sink in &mut redirected.sinks {
        let path = temp.join(format!("{}.{}", sink.name, sink.endpoint.format.as_str()));
        sink.endpoint.location = Location::File {
            path: path.display().to_string(),
        };
        outputs.push((
            sink.name.clone(),
            sink.endpoint.format,
            path,
            sink.options.clone(),
        ));
    }
    let dlq_path = temp.join("dlq.jsonl");
    redirected.dlq.endpoint.location = Location::File {
        path: dlq_path.display().to_string(),
    };
    outputs.push((
        "dlq".to_owned(),
        DataFormat::Jsonl,
        dlq_path,
        BTreeMap::new(),
    ));

    let keys = MaskKeys {
        salt: GOLDEN_SALT.as_bytes().to_vec(),
        token_key: [7; TOKEN_KEY_BYTES],
    };
    let request = RunRequest {
        plan: &redirected,
        base_dir,
        run_id: "golden".to_owned(),
        masker: Masker::new(keys),
        options: RunOptions {
            isolation,
            slice_program: crate::run_settings::slice_program(),
            ..RunOptions::default()
        },
    };
    if let Err(failure) = execute(request) {
        if let RunError::Engine(EngineError::Isolation(_)) = failure.error {
            return Err(anyhow::Error::new(failure.error)
                .context(format!("scenario `{}` cannot run here", plan.scenario)));
        }
        // Nothing to compare: the run wrote nothing.
        return Ok(vec![format!("  the run failed: {}", failure.error)]);
    }
    let mut mismatches = Vec::new();
    for (name, format, path, options) in &outputs {
        let actual = normalise(
            if path.exists() {
                read_rows(*format, path, options)?
            } else {
                Vec::new()
            },
            golden.ordered,
        );
        let expected_path = golden_dir.join(format!("{name}.expected.jsonl"));
        if update {
            std::fs::create_dir_all(&golden_dir)
                .with_context(|| format!("cannot create `{}`", golden_dir.display()))?;
            let text: String = actual.iter().map(|row| format!("{row}\n")).collect();
            std::fs::write(&expected_path, text)
                .with_context(|| format!("cannot write `{}`", expected_path.display()))?;
            continue;
        }
        if !expected_path.exists() {
            mismatches.push(format!(
                "  {name}: no `{}`; create it with `runi test --update`",
                expected_path.display()
            ));
            continue;
        }
        let bytes = std::fs::read(&expected_path)
            .with_context(|| format!("cannot read `{}`", expected_path.display()))?;
        let Ok(text) = String::from_utf8(bytes) else {
            // The scenario fails; the others are still tested.
            mismatches.push(format!(
                "  {name}: `{}` is not UTF-8 text; fix it, or rewrite the file with `runi test --update`",
                expected_path.display()
            ));
            continue;
        };
        let expected = match expected_rows(&text) {
            Ok(rows) => normalise(rows, golden.ordered),
            Err((line, error)) => {
                // The scenario fails; the others are still tested.
                let text = error.to_string();
                let reason = text.split(" at line ").next().unwrap_or_default();
                mismatches.push(format!(
                    "  {name}: line {line}, column {} of `{}` is not JSON ({reason}); fix it, or rewrite the file with `runi test --update`",
                    error.column(),
                    expected_path.display()
                ));
                continue;
            }
        };
        if expected != actual {
            mismatches.push(describe_difference(name, &expected, &actual));
        }
    }
    Ok(mismatches)
}

/// The rows of an expected file, or the 1-based line that is not JSON.
fn expected_rows(text: &str) -> Result<Vec<Value>, (usize, serde_json::Error)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| serde_json::from_str(line).map_err(|e| (index + 1, e)))
        .collect()
}

/// Drops the volatile `_runink.run_id`; sorts rows unless order matters.
fn normalise(rows: Vec<Value>, ordered: bool) -> Vec<Value> {
    let mut rows: Vec<Value> = rows
        .into_iter()
        .map(|mut row| {
            if let Some(meta) = row.get_mut("_runink").and_then(Value::as_object_mut) {
                meta.remove("run_id");
            }
            row
        })
        .collect();
    if !ordered {
        rows.sort_by_key(|r| r.to_string());
    }
    rows
}

fn describe_difference(name: &str, expected: &[Value], actual: &[Value]) -> String {
    let count = |rows: &[Value]| {
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for row in rows {
            *counts.entry(row.to_string()).or_default() += 1;
        }
        counts
    };
    let (want, got) = (count(expected), count(actual));
    let missing: Vec<&String> = want
        .iter()
        .filter(|(k, n)| got.get(*k).copied().unwrap_or(0) < **n)
        .map(|(k, _)| k)
        .collect();
    let extra: Vec<&String> = got
        .iter()
        .filter(|(k, n)| want.get(*k).copied().unwrap_or(0) < **n)
        .map(|(k, _)| k)
        .collect();
    let mut out = format!(
        "  {name}: expected {} rows, got {}",
        expected.len(),
        actual.len()
    );
    if missing.is_empty() && extra.is_empty() {
        out.push_str("; the same rows in another order (`ordered=true`)");
    }
    for row in missing.iter().take(DIFF_ROWS_SHOWN_MAX) {
        out.push_str(&format!("\n    - {row}"));
    }
    for row in extra.iter().take(DIFF_ROWS_SHOWN_MAX) {
        out.push_str(&format!("\n    + {row}"));
    }
    if missing.len() > DIFF_ROWS_SHOWN_MAX || extra.len() > DIFF_ROWS_SHOWN_MAX {
        out.push_str("\n    …");
    }
    out
}
