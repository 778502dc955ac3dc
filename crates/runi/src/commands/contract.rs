//! `runi contract check|hash FILE...`: validate contracts and print their
//! canonical hashes. The other `contract` commands live in `contract_*.rs`;
//! this file dispatches to them and holds what they share.

use std::path::Path;

use anyhow::Context;
use runink_contract::{Contract, ContractError, Violation};
use serde::Serialize;

use runink_contract::SchemaObject;
use runink_plan::DataFormat;

use crate::cli::{ContractCommand, ContractFilesArgs, DataFormatArg, GlobalOptions};
use crate::exit::{Exit, Failure, Outcome};
use crate::output::{error_label, print_json};

#[derive(Serialize)]
struct ContractReport {
    file: String,
    ok: bool,
    api_version: Option<String>,
    hash: Option<String>,
    objects: Vec<ObjectReport>,
    violations: Vec<ViolationReport>,
}

#[derive(Serialize)]
struct ObjectReport {
    name: String,
    columns: usize,
}

#[derive(Serialize)]
struct ViolationReport {
    path: String,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
}

pub fn contract(global: &GlobalOptions, command: &ContractCommand) -> Outcome {
    match command {
        ContractCommand::Check(args) => check(global, args),
        ContractCommand::Hash(args) => hash(global, args),
        ContractCommand::Diff(args) => super::contract_diff::diff(global, args),
        ContractCommand::Validate(args) => super::contract_validate::validate(global, args),
        ContractCommand::Infer(args) => super::contract_infer::infer(global, args),
        ContractCommand::Synth(args) => super::contract_synth::synth(global, args),
        ContractCommand::Detokenize(args) => super::contract_detokenize::detokenize(global, args),
    }
}

/// A contract that must load; any problem is the user's (exit 2).
pub(super) fn load_valid(path: &Path) -> Result<Contract, Failure> {
    let (file, loaded) = load(path)?;
    loaded
        .with_context(|| {
            format!(
                "contract `{file}` is not valid; `runi contract check {file}` lists every problem"
            )
        })
        .map_err(Failure::usage)
}

/// The named schema object, or the contract's first.
pub(super) fn pick_object(
    contract: &Contract,
    path: &Path,
    name: Option<&str>,
) -> Result<SchemaObject, Failure> {
    let found = match name {
        Some(name) => contract.object(name),
        None => contract.objects.first(),
    };
    found.cloned().ok_or_else(|| {
        let names: Vec<String> = contract
            .objects
            .iter()
            .map(|o| format!("`{}`", o.name))
            .collect();
        Failure::usage(anyhow::anyhow!(
            "contract `{}` has no schema object{}; it has {}",
            path.display(),
            name.map(|n| format!(" `{n}`")).unwrap_or_default(),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        ))
    })
}

/// The format asked for, else the one the file's extension names.
pub(super) fn data_format(
    path: &Path,
    asked: Option<DataFormatArg>,
) -> Result<DataFormat, Failure> {
    if let Some(asked) = asked {
        return Ok(match asked {
            DataFormatArg::Csv => DataFormat::Csv,
            DataFormatArg::Jsonl => DataFormat::Jsonl,
            DataFormatArg::Parquet => DataFormat::Parquet,
            DataFormatArg::Arrow => DataFormat::Arrow,
        });
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name = name
        .strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".zst"))
        .unwrap_or(&name);
    let extension = name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    match extension {
        "csv" | "tsv" | "txt" => Ok(DataFormat::Csv),
        "jsonl" | "ndjson" | "json" => Ok(DataFormat::Jsonl),
        "parquet" | "pq" => Ok(DataFormat::Parquet),
        "arrow" | "ipc" | "feather" => Ok(DataFormat::Arrow),
        _ => Err(Failure::usage(anyhow::anyhow!(
            "cannot tell the format of `{}` from its name; add `--format csv|jsonl|parquet|arrow`",
            path.display()
        ))),
    }
}

fn load(path: &Path) -> Result<(String, Result<Contract, ContractError>), Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read contract file `{}`", path.display()))
        .map_err(Failure::usage)?;
    Ok((path.display().to_string(), Contract::from_yaml(&text)))
}

/// Every problem of a contract that does not load, as violations with places.
fn violations(error: &ContractError) -> Vec<ViolationReport> {
    match error {
        ContractError::Invalid { violations, .. } => {
            violations.iter().map(violation_report).collect()
        }
        ContractError::Yaml { line, column, .. } => vec![ViolationReport {
            path: String::new(),
            line: *line,
            column: *column,
            message: error.to_string(),
        }],
        ContractError::Rule { column, .. } => vec![ViolationReport {
            path: column.clone(),
            line: None,
            column: None,
            message: error.to_string(),
        }],
        ContractError::Shape { path, .. } => vec![ViolationReport {
            path: path.clone(),
            line: None,
            column: None,
            message: error.to_string(),
        }],
        ContractError::UnsupportedVersion { .. } => vec![ViolationReport {
            path: "apiVersion".to_owned(),
            line: None,
            column: None,
            message: error.to_string(),
        }],
    }
}

fn violation_report(violation: &Violation) -> ViolationReport {
    ViolationReport {
        path: violation.path.clone(),
        line: violation.line,
        column: violation.column,
        message: violation.message.clone(),
    }
}

fn check(global: &GlobalOptions, args: &ContractFilesArgs) -> Outcome {
    let label = error_label(global);
    let mut reports = Vec::new();
    for path in &args.files {
        let (file, loaded) = load(path)?;
        let report = match &loaded {
            Ok(contract) => ContractReport {
                file,
                ok: true,
                api_version: Some(contract.api_version.clone()),
                hash: Some(contract.hash.to_string()),
                objects: contract
                    .objects
                    .iter()
                    .map(|o| ObjectReport {
                        name: o.name.clone(),
                        columns: o.columns.len(),
                    })
                    .collect(),
                violations: Vec::new(),
            },
            Err(error) => ContractReport {
                file,
                ok: false,
                api_version: None,
                hash: None,
                objects: Vec::new(),
                violations: violations(error),
            },
        };
        if !global.json {
            print_report(global, &report, label);
        }
        reports.push(report);
    }
    let invalid = reports.iter().filter(|r| !r.ok).count();
    if global.json {
        print_json(&serde_json::json!({ "ok": invalid == 0, "files": reports }))
            .map_err(Failure::infra)?;
    }
    Ok(if invalid == 0 { Exit::Ok } else { Exit::Usage })
}

fn print_report(global: &GlobalOptions, report: &ContractReport, label: &str) {
    if report.ok {
        if !global.quiet {
            let columns: usize = report.objects.iter().map(|o| o.columns).sum();
            outln!(
                "ok: {} (ODCS {}, {} schema object{}, {columns} columns, hash {})",
                report.file,
                report.api_version.as_deref().unwrap_or("?"),
                report.objects.len(),
                if report.objects.len() == 1 { "" } else { "s" },
                report.hash.as_deref().map_or("?", |h| &h[..12]),
            );
        }
        return;
    }
    for v in &report.violations {
        let place = match (v.line, v.column) {
            (Some(line), Some(column)) => format!("{}:{line}:{column}", report.file),
            _ => report.file.clone(),
        };
        if v.path.is_empty() || v.message.contains(&v.path) {
            eprintln!("{place}: {label}: {}", v.message);
        } else {
            eprintln!("{place}: {label}: `{}`: {}", v.path, v.message);
        }
    }
}

fn hash(global: &GlobalOptions, args: &ContractFilesArgs) -> Outcome {
    let mut hashes = Vec::new();
    for path in &args.files {
        let (file, loaded) = load(path)?;
        let contract = loaded
            .with_context(|| format!("contract `{file}` is not valid; `runi contract check {file}` lists every problem"))
            .map_err(Failure::usage)?;
        if !global.json {
            outln!("{}  {file}", contract.hash);
        }
        hashes.push(serde_json::json!({ "file": file, "hash": contract.hash.to_string() }));
    }
    if global.json {
        print_json(&serde_json::json!({ "files": hashes })).map_err(Failure::infra)?;
    }
    Ok(Exit::Ok)
}
