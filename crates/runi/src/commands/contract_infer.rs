//! `runi contract infer DATA`: a draft contract for a data file, as YAML
//! on stdout, for a person to review.

use std::collections::BTreeMap;

use anyhow::Context;
use runink_contract::{InferOptions, Profiler, contract_yaml, infer_columns};
use runink_engine::{Limits, read_file};
use runink_plan::{DataFormat, OptionValue};

use super::contract::data_format;
use crate::cli::{ContractInferArgs, GlobalOptions};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::print_json;

pub fn infer(global: &GlobalOptions, args: &ContractInferArgs) -> Outcome {
    let format = data_format(&args.data, args.format)?;
    if !args.data.is_file() {
        return Err(Failure::usage(anyhow::anyhow!(
            "data file `{}` does not exist or is not a file",
            args.data.display()
        )));
    }
    let mut options = BTreeMap::new();
    if format == DataFormat::Csv {
        options.insert(
            "delimiter".to_owned(),
            OptionValue::Text(args.delimiter.to_string()),
        );
    }
    let mut batches = read_file(&args.data, format, options, &Limits::default());
    let mut profiler: Option<Profiler> = None;
    let mut rows = 0u64;
    for batch in batches.by_ref() {
        let batch = batch
            .with_context(|| format!("cannot read `{}`", args.data.display()))
            .map_err(Failure::usage)?;
        let profiler =
            profiler.get_or_insert_with(|| Profiler::new(&batch.schema(), args.distinct_keys_max));
        profiler
            .add(&batch)
            .context("profiling the data (this is a bug in Runink)")
            .map_err(Failure::infra)?;
        rows += batch.num_rows() as u64;
    }
    let Some(profiler) = profiler else {
        return Err(Failure::usage(anyhow::anyhow!(
            "`{}` has no rows to infer a contract from",
            args.data.display()
        )));
    };
    if batches.rows_unreadable > 0 {
        tracing::warn!(
            "{} records of `{}` could not be read and were left out",
            batches.rows_unreadable,
            args.data.display()
        );
    }
    let name = args.name.clone().unwrap_or_else(|| stem(&args.data));
    let columns = infer_columns(&profiler.finish());
    let yaml = contract_yaml(
        &columns,
        rows,
        &InferOptions {
            name,
            source: format!("`{}`", args.data.display()),
        },
    );
    if global.json {
        print_json(&serde_json::json!({ "rows": rows, "contract": yaml }))
            .map_err(Failure::infra)?;
    } else {
        out!("{yaml}");
    }
    Ok(Exit::Ok)
}

/// The file's name without its extensions (`orders.csv.gz` → `orders`).
fn stem(path: &std::path::Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default();
    if stem.is_empty() {
        "data".to_owned()
    } else {
        stem.to_owned()
    }
}
