//! `runi contract validate DATA --contract FILE`: every row of a data
//! file checked against a contract, with a summary per rule; rejected rows
//! optionally written to a DLQ, and the contract's dataset rules measured
//! over the rows it accepts. Exit 0 when every row passes and no
//! `severity: error` dataset rule fails, 1 otherwise, 2 for bad input, 3
//! when the DLQ cannot be written.

use std::collections::BTreeMap;
use std::fmt::Write;

use runink_contract::{MaskRule, Masker};
use runink_engine::{
    EngineError, Limits, RuleResult, ValidateReport, ValidateRequest, validate as validate_file,
};
use runink_plan::{DataFormat, OptionValue};

use super::contract::{data_format, load_valid, pick_object};
use crate::cli::{ContractValidateArgs, GlobalOptions};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::print_json;
use crate::run_id::new_run_id;
use crate::state_dir::{mask_keys, state_dir};
use crate::summary::dataset_rule_text;

pub fn validate(global: &GlobalOptions, args: &ContractValidateArgs) -> Outcome {
    let contract = load_valid(&args.contract)?;
    let object = pick_object(&contract, &args.contract, args.object.as_deref())?;
    let format = data_format(&args.data, args.format)?;
    if !args.data.is_file() {
        return Err(Failure::usage(anyhow::anyhow!(
            "data file `{}` does not exist or is not a file",
            args.data.display()
        )));
    }
    let masker = match &args.dlq {
        // Keys are needed only to mask sensitive values in the DLQ.
        Some(_) => {
            let state = state_dir().map_err(Failure::infra)?;
            let keys =
                mask_keys(&state, &args.herd, args.mask_salt.as_deref()).map_err(Failure::infra)?;
            Masker::new(keys)
        }
        None => Masker::new(runink_contract::MaskKeys {
            salt: Vec::new(),
            token_key: [0; runink_contract::TOKEN_KEY_BYTES],
        }),
    };
    let request = ValidateRequest {
        data: &args.data,
        format,
        source_options: source_options(args, format)?,
        object: &object,
        contract: &args.contract,
        dlq: args.dlq.as_deref(),
        run_id: new_run_id(),
        masker,
        limits: Limits {
            batch_rows_max: args.batch_rows_max as usize,
            queue_len_max: args.queue_len_max as usize,
            unique_keys_max: args.unique_keys_max,
            ..Limits::default()
        },
        all_violations: args.all_violations,
        block_on_drift: args.block_on_drift,
        default_mask: MaskRule::Hash,
    };
    let report = validate_file(request).map_err(|error| {
        let context = format!("cannot validate `{}`", args.data.display());
        match error {
            EngineError::Write { .. } | EngineError::Arrow(_) => {
                Failure::infra(anyhow::Error::new(error).context(context))
            }
            // The data made a rule fail: a failed validation.
            EngineError::RuleFailed { .. } => Failure {
                exit: Exit::Failures,
                error: anyhow::Error::new(error).context(context),
            },
            _ => Failure::usage(anyhow::Error::new(error).context(context)),
        }
    })?;
    if global.json {
        print_json(&serde_json::json!({ "ok": report.passed(), "report": report }))
            .map_err(Failure::infra)?;
    } else if !global.quiet {
        out!("{}", render(&report, &args.contract.display().to_string()));
    }
    Ok(if report.passed() {
        Exit::Ok
    } else {
        Exit::Failures
    })
}

fn source_options(
    args: &ContractValidateArgs,
    format: DataFormat,
) -> Result<BTreeMap<String, OptionValue>, Failure> {
    let mut options = BTreeMap::new();
    if format == DataFormat::Csv {
        if !args.delimiter.is_ascii() {
            return Err(Failure::usage(anyhow::anyhow!(
                "`--delimiter` must be one ASCII character, found `{}`",
                args.delimiter
            )));
        }
        options.insert(
            "delimiter".to_owned(),
            OptionValue::Text(args.delimiter.to_string()),
        );
        options.insert("header".to_owned(), OptionValue::Flag(!args.no_header));
    }
    Ok(options)
}

fn render(report: &ValidateReport, contract: &str) -> String {
    let mut out = String::new();
    let seconds = report.duration_ms as f64 / 1000.0;
    let verdict = match (report.rows_rejected, report.passed()) {
        (_, true) => "ok",
        (0, false) => "failed dataset rules",
        (_, false) => "rejected rows",
    };
    let _ = writeln!(
        out,
        "{verdict}: {} against {contract} (object `{}`), {:.2} s",
        report.data, report.object, seconds
    );
    let _ = writeln!(out, "  rows      {:>12}", report.rows_in);
    let _ = writeln!(out, "  valid     {:>12}", report.rows_valid);
    let _ = writeln!(out, "  rejected  {:>12}", report.rows_rejected);
    for rule in &report.rules {
        match rule {
            RuleResult::Row {
                field,
                rule,
                rows_failed,
                passed,
            } => {
                let mark = if *passed { "ok" } else { "FAILED" };
                let field = if field.is_empty() { "-" } else { field };
                let _ = writeln!(out, "    {rows_failed:>10}  {mark:<6}  {field} / {rule}");
            }
            RuleResult::Dataset(measurement) => {
                let _ = writeln!(
                    out,
                    "  rule      {:>12}  {}",
                    measurement.verdict(),
                    dataset_rule_text(measurement)
                );
            }
        }
    }
    if let Some(drift) = &report.drift {
        let _ = writeln!(
            out,
            "  drift     extra {:?}, missing {:?}, retyped {:?}",
            drift.extra, drift.missing, drift.retyped
        );
    }
    if let Some(dlq) = &report.dlq {
        let _ = writeln!(out, "  dlq       {dlq}");
    }
    if seconds > 0.0 {
        let _ = writeln!(
            out,
            "  rate      {:>12.0}  rows/s",
            report.rows_in as f64 / seconds
        );
    }
    out
}
