//! Checks one data file against one schema object of a contract, with no
//! scenario: the engine's reader (on its own thread), the contract's
//! `RowChecker`, the contract's dataset rules over the rows it accepts,
//! and, when asked, the DLQ writer. Memory is bounded by [`Limits`] as in a
//! run. The result counts rows and, per row rule, the rows that failed it;
//! each dataset rule gives its measure and verdict.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use runink_contract::{
    CheckOptions, CheckedBatch, DatasetMeasurement, Drift, MaskRule, Masker, RowChecker, RuleKind,
    SchemaObject,
};
use runink_plan::{DataFormat, Endpoint, Location, OptionValue};
use serde::Serialize;
use serde_json::Value;

use crate::EngineError;
use crate::data_file::file_source;
use crate::dataset_checks::DatasetChecks;
use crate::dlq::{DlqWriter, Rejection, checked_rejections};
use crate::limits::Limits;
use crate::source::{ExpectedColumns, SourceBatch, spawn_reader};

/// The `_runink.step` of rows that `validate` rejects.
const STEP_NAME: &str = "validate";

/// What to check and how.
#[derive(Debug)]
pub struct ValidateRequest<'a> {
    /// The data file (`.gz` / `.zst` text files are decompressed).
    pub data: &'a Path,
    pub format: DataFormat,
    /// Source options as a scenario writes them (`delimiter`, `header`, …).
    pub source_options: BTreeMap<String, OptionValue>,
    pub object: &'a SchemaObject,
    /// The contract file, named in errors about its rules.
    pub contract: &'a Path,
    /// Where rejected rows go (JSON Lines, written atomically); none: only count.
    pub dlq: Option<&'a Path>,
    /// Names the DLQ's rows (`_runink.run_id`) and its temporary file.
    pub run_id: String,
    pub masker: Masker,
    pub limits: Limits,
    pub all_violations: bool,
    pub block_on_drift: bool,
    /// The masking rule for sensitive columns with no `mask` of their own.
    pub default_mask: MaskRule,
}

/// What a validation found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ValidateReport {
    pub data: String,
    pub format: String,
    pub object: String,
    /// Records read, readable or not.
    pub rows_in: u64,
    pub rows_valid: u64,
    /// Rows that failed a rule or could not be read at all.
    pub rows_rejected: u64,
    /// Records the reader could not turn into a row (counted in `rows_rejected`).
    pub rows_unreadable: u64,
    pub duration_ms: u64,
    /// One entry per rule of the contract: the row rules in the order they
    /// rank, with the rows that failed each (rules that no row failed
    /// included), then the dataset rules with their measures.
    pub rules: Vec<RuleResult>,
    pub drift: Option<Drift>,
    pub dlq: Option<String>,
}

impl ValidateReport {
    /// Every row passed and no `severity: error` dataset rule failed.
    pub fn passed(&self) -> bool {
        self.rows_rejected == 0 && !self.rules.iter().any(RuleResult::fails)
    }
}

/// The outcome of one rule. Row rules count failing rows; dataset rules
/// are measured once over the rows the contract accepted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "level", rename_all = "lowercase")]
pub enum RuleResult {
    Row {
        /// The column (or, for `duplicate`, the key's columns joined by `,`).
        field: String,
        rule: String,
        /// Rows rejected for this rule: its first broken rule, or any
        /// broken rule with `all_violations`.
        rows_failed: u64,
        passed: bool,
    },
    Dataset(DatasetMeasurement),
}

impl RuleResult {
    /// Makes the validation fail: a row rule that some row broke, or a
    /// failed dataset rule of severity `error` (warnings are reported only).
    pub fn fails(&self) -> bool {
        match self {
            Self::Row { passed, .. } => !passed,
            Self::Dataset(measurement) => measurement.fails_run(),
        }
    }
}

/// Reads the whole file and checks every row. On success the DLQ (if any)
/// has been committed; on error nothing was written.
pub fn validate(request: ValidateRequest<'_>) -> Result<ValidateReport, EngineError> {
    let started = Instant::now();
    let source = file_source(request.data, request.format, request.source_options.clone());
    let uri = source.endpoint.uri.clone();
    let sensitive: HashMap<String, MaskRule> = request
        .object
        .columns
        .iter()
        .filter(|c| c.is_sensitive())
        .map(|c| {
            (
                c.name.clone(),
                c.mask_rule().unwrap_or(request.default_mask),
            )
        })
        .collect();
    let dlq = request
        .dlq
        .map(|path| {
            let endpoint = Endpoint {
                uri: format!("jsonl://{}", path.display()),
                format: DataFormat::Jsonl,
                location: Location::File {
                    path: path.display().to_string(),
                },
            };
            DlqWriter::open(
                &endpoint,
                Path::new(""),
                &request.run_id,
                sensitive.clone(),
                request.masker.clone(),
                false,
            )
        })
        .transpose()?;
    let mut validation = Validation {
        uri,
        dlq,
        tally: BTreeMap::new(),
        report: ValidateReport {
            data: request.data.display().to_string(),
            format: request.format.as_str().to_owned(),
            object: request.object.name.clone(),
            dlq: request.dlq.map(|p| p.display().to_string()),
            ..ValidateReport::default()
        },
        checker: None,
        dataset: None,
        contract: request.contract.display().to_string(),
        limits: request.limits,
    };
    let receiver = spawn_reader(
        vec![source],
        &PathBuf::from(""),
        Some(ExpectedColumns::of(request.object)),
        &request.limits,
    );
    let check_options = CheckOptions {
        all_violations: request.all_violations,
        unique_keys_max: request.limits.unique_keys_max,
        block_on_drift: request.block_on_drift,
        withheld: sensitive.keys().cloned().collect(),
    };
    let outcome = receiver.into_iter().try_for_each(|event| {
        let (_, batch) = event?;
        validation.take(batch, request.object, &check_options)
    });
    let result = outcome.and_then(|()| validation.finish(request.object, &check_options));
    match result {
        Ok(mut report) => {
            report.duration_ms = started.elapsed().as_millis() as u64;
            Ok(report)
        }
        Err(error) => Err(error),
    }
}

struct Validation {
    uri: String,
    dlq: Option<DlqWriter>,
    /// Rows failed per (field, rule).
    tally: BTreeMap<(String, RuleKind), u64>,
    report: ValidateReport,
    /// Built from the first batch's schema.
    checker: Option<RowChecker>,
    /// The dataset rules, planned with the checker; `None` before the
    /// first batch, or when the contract has none.
    dataset: Option<DatasetChecks>,
    contract: String,
    limits: Limits,
}

impl Validation {
    fn take(
        &mut self,
        source_batch: SourceBatch,
        object: &SchemaObject,
        options: &CheckOptions,
    ) -> Result<(), EngineError> {
        let SourceBatch {
            batch, lines, bad, ..
        } = source_batch;
        let rows = (batch.num_rows() + bad.len()) as u64;
        self.report.rows_in += rows;
        self.report.rows_unreadable += bad.len() as u64;
        self.report.rows_rejected += bad.len() as u64;
        for record in bad {
            let fields: Vec<(String, Value)> = record
                .fields
                .into_iter()
                .map(|(k, v)| (k, v.map_or(Value::Null, Value::String)))
                .collect();
            let rejection = Rejection {
                step: "source".to_owned(),
                rule: "parse".to_owned(),
                field: String::new(),
                message: record.message,
                source: self.uri.clone(),
                line: Some(record.line),
                violations: None,
            };
            self.write_reject(&fields, &rejection)?;
        }
        if self.checker.is_none() {
            self.start_checks(object, &batch.schema(), options)?;
        }
        let checker = self.checker.as_mut().expect("built above");
        let checked = checker.check(&batch)?;
        if let Some(dataset) = self.dataset.as_mut() {
            // Only dataset rules need the passing rows; otherwise validation
            // only counts and copies none.
            dataset.observe(&checked.valid()?)?;
        }
        self.report.rows_valid += checked.rows_valid as u64;
        self.report.rows_rejected += checked.rejected_rows.len() as u64;
        self.reject_checked(&batch, &lines, &checked, options.all_violations)
    }

    /// Builds the row checker for the data's schema and plans the dataset
    /// rules over what it accepts (a `type: sql` rule that does not plan
    /// fails here, before any row is counted).
    fn start_checks(
        &mut self,
        object: &SchemaObject,
        schema: &arrow::datatypes::Schema,
        options: &CheckOptions,
    ) -> Result<(), EngineError> {
        let checker = RowChecker::new(object, schema, options.clone()).map_err(|e| {
            EngineError::Contract {
                path: self.contract.clone(),
                message: e.to_string(),
            }
        })?;
        self.dataset = DatasetChecks::plan(
            object,
            &checker.output_schema(),
            &self.contract,
            &self.limits,
        )?;
        self.checker = Some(checker);
        Ok(())
    }

    fn reject_checked(
        &mut self,
        raw: &arrow::array::RecordBatch,
        lines: &[u64],
        checked: &CheckedBatch,
        all_violations: bool,
    ) -> Result<(), EngineError> {
        for findings in &checked.findings {
            let counted = if all_violations {
                &findings[..]
            } else {
                &findings[..1]
            };
            for finding in counted {
                let field = match finding.rule {
                    RuleKind::Drift => String::new(),
                    _ => finding.field.clone(),
                };
                *self.tally.entry((field, finding.rule)).or_default() += 1;
            }
        }
        if self.dlq.is_none() {
            return Ok(());
        }
        let rejections =
            checked_rejections(raw, lines, checked, STEP_NAME, &self.uri, all_violations)?;
        if let Some(dlq) = self.dlq.as_mut() {
            for (row, rejection) in rejections.rejections.iter().enumerate() {
                dlq.write_row(&rejections.columns, row, rejection, &HashSet::new())?;
            }
        }
        Ok(())
    }

    fn write_reject(
        &mut self,
        fields: &[(String, Value)],
        rejection: &Rejection,
    ) -> Result<(), EngineError> {
        match self.dlq.as_mut() {
            Some(dlq) => dlq.write(fields, rejection, &HashSet::new()),
            None => Ok(()),
        }
    }

    /// Lists every rule with its count and commits the DLQ.
    fn finish(
        mut self,
        object: &SchemaObject,
        options: &CheckOptions,
    ) -> Result<ValidateReport, EngineError> {
        // An empty file never built a checker: its rules come from a text
        // schema of the contract's columns.
        if self.checker.is_none() {
            self.start_checks(object, &object.text_schema(), options)?;
        }
        let checker = self.checker.take().expect("built above");
        let mut rules: Vec<RuleResult> = Vec::new();
        for (field, rule) in checker.rules() {
            let rows_failed = self.tally.remove(&(field.clone(), rule)).unwrap_or(0);
            rules.push(RuleResult::Row {
                field,
                rule: rule.name().to_owned(),
                rows_failed,
                passed: rows_failed == 0,
            });
        }
        // Anything counted that the rule list does not name (never expected).
        for ((field, rule), rows_failed) in std::mem::take(&mut self.tally) {
            rules.push(RuleResult::Row {
                field,
                rule: rule.name().to_owned(),
                rows_failed,
                passed: false,
            });
        }
        if self.report.rows_unreadable > 0 {
            rules.push(RuleResult::Row {
                field: String::new(),
                rule: "parse".to_owned(),
                rows_failed: self.report.rows_unreadable,
                passed: false,
            });
        }
        if let Some(dataset) = self.dataset.take() {
            rules.extend(dataset.finish()?.into_iter().map(RuleResult::Dataset));
        }
        self.report.rules = rules;
        let drift = checker.drift().clone();
        self.report.drift = (!drift.is_empty()).then_some(drift);
        if let Some(dlq) = self.dlq.take()
            && let Some(staged) = dlq.finish()?
        {
            staged.commit()?;
        }
        Ok(std::mem::take(&mut self.report))
    }
}

impl Drop for Validation {
    /// A validation that stopped early leaves no half-written DLQ.
    fn drop(&mut self) {
        if let Some(dlq) = self.dlq.take() {
            dlq.abort();
        }
    }
}
