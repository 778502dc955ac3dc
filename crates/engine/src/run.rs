//! Runs one compiled scenario: a reader thread feeds raw batches through a
//! bounded channel; the pipeline checks them against the input contract,
//! applies the steps, routes rows to the sinks and rejects to the DLQ. All
//! outputs are staged and committed together only if the run succeeds.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{BooleanArray, RecordBatch};
use arrow::buffer::BooleanBuffer;
use arrow::compute::filter_record_batch;
use arrow::datatypes::{Schema, SchemaRef};
use datafusion::prelude::SessionContext;
use runink_contract::{
    CheckOptions, CheckedBatch, Contract, LogicalType, MaskRule, Masker, REDACTED, RowChecker,
    SchemaObject,
};
use runink_plan::{ContractRef, Plan, Slice as PlanSlice, Step, StepKind};
use serde_json::Value;

use crate::EngineError;
use crate::Isolation;
use crate::asserts::evaluate_asserts;
use crate::dataset_checks::DatasetChecks;
use crate::dlq::{DlqWriter, Rejection, checked_rejections};
use crate::exec_step::ExecSettings;
use crate::expr::CompiledExpr;
use crate::limits::Limits;
use crate::masking::{apply_masks, masked_schema};
use crate::progress::{ProgressSnapshot, RunProgress};
use crate::report::{
    DlqCounts, RejectTally, RunReport, SinkCounts, SliceRun, SourceCounts, StepCounts,
};
use crate::sink::SinkWriter;
use crate::sink_thread::SinkThread;
use crate::slice_columns::SliceColumns;
use crate::source::{ExpectedColumns, SourceBatch, spawn_reader};
use crate::staging;
use crate::step_slice::{SliceOutput, SpawnedSlice, StepSlice, StepSliceSettings};
use crate::steps::{Emitted, Kept, PlannedStep, StepContext};

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub limits: Limits,
    pub all_violations: bool,
    pub block_on_drift: bool,
    /// Read and check everything, write nothing.
    pub dry_run: bool,
    /// The herd's masking rule for sensitive columns with no `mask` of
    /// their own.
    pub default_mask: MaskRule,
    /// Counters to show progress from another thread, updated per batch.
    pub progress: Option<Arc<RunProgress>>,
    /// Confine step code in slices, or not (`--isolation none`).
    pub isolation: Isolation,
    /// Contract texts by path (`base_dir` joined with the path the scenario
    /// names), read instead of the files: a run submitted to a cluster
    /// brings its contracts with it.
    pub contract_texts: BTreeMap<String, String>,
    /// The program a slice of built-in steps runs: `runi`, which serves
    /// `runi slice-worker`. With [`Isolation::Slice`] a plan with built-in
    /// steps needs it; the run fails without it.
    pub slice_program: Option<PathBuf>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            all_violations: false,
            block_on_drift: false,
            dry_run: false,
            default_mask: MaskRule::Hash,
            progress: None,
            isolation: Isolation::default(),
            contract_texts: BTreeMap::new(),
            slice_program: None,
        }
    }
}

/// One run to execute.
#[derive(Debug)]
pub struct RunRequest<'a> {
    pub plan: &'a Plan,
    /// The scenario file's folder: relative paths are read from here.
    pub base_dir: &'a Path,
    pub run_id: String,
    pub masker: Masker,
    pub options: RunOptions,
}

/// A run that failed; the report says how far it got.
#[derive(Debug)]
pub struct RunFailure {
    pub error: RunError,
    pub report: RunReport,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("{failed} of the scenario's asserts failed: {list}")]
    Asserts { failed: usize, list: String },
    #[error("dataset rules with `severity: error` failed: {0}")]
    DatasetRules(String),
}

/// Runs the scenario; on success every output has been committed.
pub fn execute(request: RunRequest<'_>) -> Result<RunReport, Box<RunFailure>> {
    let started = Instant::now();
    let mut run = match Run::prepare(&request) {
        Ok(run) => run,
        Err(error) => {
            return Err(Box::new(RunFailure {
                error: error.into(),
                report: RunReport::default(),
            }));
        }
    };
    let outcome = run.stream(&request);
    run.report.duration_ms = started.elapsed().as_millis() as u64;
    // A failed run's report counts what it read and rejected, its
    // rejects by rule included, like a run that succeeded.
    let failed_report = |run: &Run| RunReport {
        rejects: run.tally.counts(),
        ..run.report.clone()
    };
    match outcome {
        Ok(()) => {
            let report = failed_report(&run);
            run.commit()
                .map_err(|error| Box::new(RunFailure { error, report }))
        }
        Err(error) => {
            let report = failed_report(&run);
            run.abort();
            Err(Box::new(RunFailure { error, report }))
        }
    }
}

struct Run {
    run_id: String,
    base_dir: PathBuf,
    masker: Masker,
    options: RunOptions,
    input: Option<(Contract, SchemaObject)>,
    output: Option<(Contract, SchemaObject)>,
    sensitive: Vec<(String, MaskRule)>,
    /// Entry `i`: the columns the `mask` steps before step `i` mask (the
    /// last entry, after every step). A row rejected there is not masked
    /// again in the DLQ.
    masked_before_step: Vec<HashSet<String>>,
    session: SessionContext,
    pipeline: Option<Pipeline>,
    /// The workers of the plan's slices of built-in steps, started while
    /// the reader reads the first batches and the run plans, until they
    /// get their jobs.
    spawned: Vec<SpawnedSlice>,
    dlq: Option<DlqWriter>,
    tally: RejectTally,
    report: RunReport,
}

/// Everything planned once the input's schema is known.
struct Pipeline {
    checker: Option<RowChecker>,
    input_rules: Option<DatasetChecks>,
    stages: Vec<Stage>,
    output_checker: Option<RowChecker>,
    output_rules: Option<DatasetChecks>,
    sinks: Vec<PlannedSink>,
    raw_schema: SchemaRef,
}

/// The steps as they run: one step in this process, or a group of built-in
/// steps in a slice.
enum Stage {
    /// A step run here: built-in steps under `--isolation none`, and `exec`
    /// steps (whose programs are slices of their own).
    Here { index: usize, step: PlannedStep },
    /// The built-in steps from index `first` on, in a slice.
    Slice { first: usize, slice: Box<StepSlice> },
}

/// A row a step rejected (a failed `cast`), on its way to the DLQ.
struct StepRejected {
    /// `step N (label)`.
    step: String,
    /// The step's place in the plan's steps.
    step_index: usize,
    /// The row as it entered the step.
    fields: Vec<(String, Value)>,
    /// The field that failed, and its value.
    field: String,
    value: Option<String>,
    /// What went wrong, without the value.
    message: String,
    line: Option<u64>,
}

/// A sink with its routing condition and, for a role-scoped sink, the
/// columns that role may not read in clear.
struct PlannedSink {
    writer: SinkThread,
    when: Option<CompiledExpr>,
    role_masks: Vec<(usize, MaskRule)>,
    schema: SchemaRef,
}

impl Run {
    fn prepare(request: &RunRequest<'_>) -> Result<Self, EngineError> {
        let plan = request.plan;
        let input = plan
            .input_contract
            .as_ref()
            .map(|c| load_contract(c, request.base_dir, &request.options.contract_texts))
            .transpose()?;
        let output = plan
            .output_contract
            .as_ref()
            .map(|c| load_contract(c, request.base_dir, &request.options.contract_texts))
            .transpose()?;
        let sensitive = sensitive_columns(
            input.iter().chain(output.iter()).map(|(_, object)| object),
            request.options.default_mask,
        );
        refuse_outputs_on_one_file(plan, request.base_dir)?;
        let masked_in_dlq: HashMap<String, MaskRule> = sensitive.iter().cloned().collect();
        let dlq = DlqWriter::open(
            &plan.dlq.endpoint,
            request.base_dir,
            &request.run_id,
            masked_in_dlq,
            request.masker.clone(),
            request.options.dry_run,
        )?;
        let report = RunReport {
            run_id: request.run_id.clone(),
            scenario: plan.scenario.clone(),
            dag_hash: plan.dag_hash.0.to_string(),
            dry_run: request.options.dry_run,
            sources: plan
                .sources
                .iter()
                .map(|s| SourceCounts {
                    uri: s.endpoint.uri.clone(),
                    ..SourceCounts::default()
                })
                .collect(),
            steps: plan
                .steps
                .iter()
                .map(|s| StepCounts {
                    number: s.number,
                    label: s.label.clone(),
                    ..StepCounts::default()
                })
                .collect(),
            sinks: plan
                .sinks
                .iter()
                .map(|s| SinkCounts {
                    name: s.name.clone(),
                    uri: s.endpoint.uri.clone(),
                    rows_out: 0,
                })
                .collect(),
            dlq: DlqCounts {
                uri: plan.dlq.endpoint.uri.clone(),
                rows: 0,
            },
            ..RunReport::default()
        };
        Ok(Self {
            run_id: request.run_id.clone(),
            base_dir: request.base_dir.to_path_buf(),
            masker: request.masker.clone(),
            options: request.options.clone(),
            input,
            output,
            masked_before_step: masked_before_step(&plan.steps, &sensitive),
            sensitive,
            session: SessionContext::new(),
            pipeline: None,
            spawned: Vec::new(),
            dlq: Some(dlq),
            tally: RejectTally::default(),
            report,
        })
    }

    fn stream(&mut self, request: &RunRequest<'_>) -> Result<(), RunError> {
        let plan = request.plan;
        let expected = self.input.as_ref().map(|(_, o)| ExpectedColumns::of(o));
        let receiver = spawn_reader(
            plan.sources.clone(),
            &self.base_dir,
            expected,
            &self.options.limits,
        );
        // The reader reads its first batches while the workers start.
        self.spawned = spawn_built_in_slices(plan, &self.options)?;
        for event in receiver {
            let (source_index, batch) = event?;
            self.take_source_batch(plan, source_index, batch)?;
        }
        if self.pipeline.is_none() {
            // No rows at all: plan from the contract (or nothing) so that
            // the sinks still write their (empty) outputs.
            let schema = match &self.input {
                Some((_, object)) => Arc::new(object.text_schema()),
                None => Arc::new(Schema::empty()),
            };
            let spawned = std::mem::take(&mut self.spawned);
            self.pipeline = Some(self.plan_pipeline(plan, &schema, spawned)?);
        }
        // SQL steps run now, over everything they buffered; slices finish.
        let stage_count = self.pipeline.as_ref().map_or(0, |p| p.stages.len());
        for stage_index in 0..stage_count {
            let pipeline = self.pipeline.as_mut().expect("planned above");
            match &mut pipeline.stages[stage_index] {
                Stage::Here { index, step } => {
                    let index = *index;
                    let finished = step.finish();
                    self.report.steps[index].stderr = step.take_stderr();
                    self.push_emitted(stage_index, finished?)?;
                }
                Stage::Slice { slice, .. } => {
                    let (outputs, confinement) = slice.finish()?;
                    self.report.slices.push(SliceRun {
                        number: slice.number(),
                        steps: slice.step_numbers().to_vec(),
                        confinement,
                    });
                    self.push_slice_outputs(stage_index, outputs)?;
                }
            }
        }
        if let Some(drift) = self
            .pipeline
            .as_ref()
            .and_then(|p| p.checker.as_ref())
            .map(|c| c.drift().clone())
        {
            self.report.drift = (!drift.is_empty()).then_some(drift);
        }
        let rule_sets = self
            .pipeline
            .as_mut()
            .map(|p| [p.input_rules.take(), p.output_rules.take()])
            .unwrap_or_default();
        for rules in rule_sets.into_iter().flatten() {
            self.report.dataset_rules.extend(rules.finish()?);
        }
        let outcomes = evaluate_asserts(&self.session, &plan.asserts, &self.report)
            .map_err(EngineError::Plan)?;
        let failed: Vec<String> = outcomes
            .iter()
            .filter(|a| !a.passed)
            .map(|a| format!("`{}`", a.expression))
            .collect();
        self.report.asserts = outcomes;
        let failed_rules: Vec<String> = self
            .report
            .dataset_rules
            .iter()
            .filter(|r| r.fails_run())
            .map(|r| {
                format!(
                    "`{}` measured {}, expected {}",
                    r.name,
                    r.measured_text(),
                    r.expectation
                )
            })
            .collect();
        if !failed_rules.is_empty() {
            return Err(RunError::DatasetRules(failed_rules.join("; ")));
        }
        if !failed.is_empty() {
            return Err(RunError::Asserts {
                failed: failed.len(),
                list: failed.join(", "),
            });
        }
        Ok(())
    }

    fn take_source_batch(
        &mut self,
        plan: &Plan,
        source_index: usize,
        source_batch: SourceBatch,
    ) -> Result<(), RunError> {
        let uri = plan.sources[source_index].endpoint.uri.clone();
        let SourceBatch {
            batch,
            lines,
            bad,
            bytes_read,
        } = source_batch;
        let counts = &mut self.report.sources[source_index];
        counts.rows_in += (batch.num_rows() + bad.len()) as u64;
        counts.rows_unreadable += bad.len() as u64;
        counts.bytes_in = bytes_read;
        self.report.rows_in += (batch.num_rows() + bad.len()) as u64;
        self.report.bytes_in = self.report.sources.iter().map(|s| s.bytes_in).sum();
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
                source: uri.clone(),
                line: Some(record.line),
                violations: None,
            };
            self.reject(&fields, rejection, 0)?;
        }
        if self.pipeline.is_none() {
            let spawned = std::mem::take(&mut self.spawned);
            self.pipeline = Some(self.plan_pipeline(plan, &batch.schema(), spawned)?);
        }
        let pipeline = self.pipeline.as_mut().expect("planned above");
        if batch.schema().fields() != pipeline.raw_schema.fields() {
            return Err(EngineError::Plan(format!(
                "`{uri}` has the columns {}, but the first source had {}",
                crate::steps::column_list(&batch.schema()),
                crate::steps::column_list(&pipeline.raw_schema)
            ))
            .into());
        }
        let (batch, passing, lines) = match pipeline.checker.as_mut() {
            None => (batch, None, lines),
            Some(checker) => {
                let checked = checker.check(&batch).map_err(EngineError::from)?;
                self.reject_checked(&batch, &lines, &checked, "input contract", &uri, 0)?;
                let kept = keep_lines(&lines, &checked);
                let pipeline = self.pipeline.as_mut().expect("planned above");
                match pipeline.input_rules.as_mut() {
                    // Dataset rules see the passing rows; the stages get them as they are.
                    Some(rules) => {
                        let valid = checked.valid().map_err(EngineError::from)?;
                        rules.observe(&valid)?;
                        (valid, None, kept)
                    }
                    // The first stage picks the passing rows, of the columns it needs.
                    None => {
                        let (typed, passing) = checked.into_marked();
                        (typed, passing, kept)
                    }
                }
            }
        };
        self.push_stages(0, batch, passing, Some(lines), &uri)?;
        self.show_progress();
        Ok(())
    }

    fn show_progress(&self) {
        if let Some(progress) = &self.options.progress {
            progress.store(ProgressSnapshot {
                rows_in: self.report.rows_in,
                bytes_in: self.report.bytes_in,
                rows_out: self.report.rows_out,
                rows_rejected: self.report.rows_rejected,
            });
        }
    }

    /// Pushes a batch through the stages from `first`, then to the sinks:
    /// the rows `passing` marks (every row when `None`), whose source lines
    /// are `lines`. A slice picks them itself, of the columns it is sent;
    /// anything else is handed them picked.
    fn push_stages(
        &mut self,
        first: usize,
        batch: RecordBatch,
        passing: Option<BooleanArray>,
        mut lines: Option<Vec<u64>>,
        source: &str,
    ) -> Result<(), RunError> {
        let mut batch = batch;
        let mut passing = passing;
        let stage_count = self.pipeline.as_ref().map_or(0, |p| p.stages.len());
        for stage_index in first..stage_count {
            let pipeline = self.pipeline.as_mut().expect("planned before rows flow");
            let (index, step) = match &mut pipeline.stages[stage_index] {
                Stage::Here { index, step } => (*index, step),
                Stage::Slice { slice, .. } => {
                    slice.push(batch, passing.as_ref(), lines, source)?;
                    let outputs = slice.take_ready();
                    return self.push_slice_outputs(stage_index, outputs);
                }
            };
            batch = picked(batch, passing.take())?;
            let rows_in = batch.num_rows() as u64;
            self.report.steps[index].rows_in += rows_in;
            let label = format!("step {} ({})", step.number, step.label);
            // Arcs of the columns: a row the step rejects takes its fields from here.
            let input = batch.clone();
            let Some(output) = step.push(batch, &self.masker)? else {
                let emitted = step.take_emitted();
                return self.push_emitted(stage_index, emitted);
            };
            for reject in &output.rejects {
                let line = lines.as_ref().map(|l| l[reject.row]);
                let rejected = StepRejected {
                    step: label.clone(),
                    step_index: index,
                    fields: crate::dlq::row_fields(&input, reject.row),
                    field: reject.field.clone(),
                    value: reject.value.clone(),
                    message: reject.message.clone(),
                    line,
                };
                self.reject_cast(rejected, source)?;
            }
            let rejected = output.rejects.len() as u64;
            let rows_out = output.batch.num_rows() as u64;
            self.report.steps[index].rows_out += rows_out;
            self.report.steps[index].rows_rejected += rejected;
            self.report.rows_dropped += rows_in - rows_out - rejected;
            lines = match (&output.kept, lines) {
                (Kept::All, lines) => lines,
                (Kept::Some(mask), Some(lines)) => Some(
                    lines
                        .iter()
                        .zip(mask.iter())
                        .filter(|(_, k)| *k)
                        .map(|(l, _)| *l)
                        .collect(),
                ),
                _ => None,
            };
            batch = output.batch;
        }
        let batch = picked(batch, passing)?;
        self.write_sinks(batch, lines, source)
    }

    /// A row a step could not cast goes to the DLQ.
    fn reject_cast(&mut self, rejected: StepRejected, source: &str) -> Result<(), RunError> {
        let StepRejected {
            step,
            step_index,
            mut fields,
            field,
            value,
            message,
            line,
        } = rejected;
        let sensitive = self.sensitive.iter().any(|(name, _)| *name == field);
        let shown = match (&value, sensitive) {
            (None, _) => "null".to_owned(),
            (Some(_), true) => format!("`{REDACTED}`"),
            (Some(value), false) => format!("`{value}`"),
        };
        let rejection = Rejection {
            step,
            rule: "cast".to_owned(),
            field: field.clone(),
            message: format!("{shown} {message}"),
            source: source.to_owned(),
            line,
            violations: None,
        };
        let failed = value.map_or(Value::Null, Value::String);
        match fields.iter_mut().find(|(name, _)| *name == field) {
            Some((_, slot)) => *slot = failed,
            None => fields.push((field, failed)),
        }
        self.reject(&fields, rejection, step_index)
    }

    /// Pushes what the step of stage `stage_index` emitted on its own
    /// schedule through the stages after it; its rejects go to the DLQ
    /// with their output line.
    fn push_emitted(&mut self, stage_index: usize, emitted: Emitted) -> Result<(), RunError> {
        let pipeline = self.pipeline.as_ref().expect("planned before rows flow");
        let Stage::Here { index, step } = &pipeline.stages[stage_index] else {
            unreachable!("only a step run here emits on its own schedule");
        };
        let index = *index;
        let label = format!("step {} ({})", step.number, step.label);
        let source = format!("output of {label}");
        for reject in emitted.rejects {
            self.report.steps[index].rows_rejected += 1;
            let fields: Vec<(String, Value)> = reject
                .fields
                .into_iter()
                .map(|(k, v)| (k, v.map_or(Value::Null, Value::String)))
                .collect();
            let rejection = Rejection {
                step: label.clone(),
                rule: reject.rule.to_owned(),
                field: reject.field,
                message: reject.message,
                source: source.clone(),
                line: Some(reject.line),
                violations: None,
            };
            // The rows a step emits passed the `mask` steps before it.
            self.reject(&fields, rejection, index + 1)?;
        }
        for batch in emitted.batches {
            self.report.steps[index].rows_out += batch.num_rows() as u64;
            // Emitted rows have no source lines.
            self.push_stages(stage_index + 1, batch, None, None, "")?;
        }
        Ok(())
    }

    /// Counts what left the slice of stage `stage_index`, sends its
    /// rejects to the DLQ and pushes its rows through the stages after it.
    fn push_slice_outputs(
        &mut self,
        stage_index: usize,
        outputs: Vec<SliceOutput>,
    ) -> Result<(), RunError> {
        let pipeline = self.pipeline.as_ref().expect("planned before rows flow");
        let Stage::Slice { first, .. } = &pipeline.stages[stage_index] else {
            unreachable!("outputs come from a slice stage");
        };
        let first = *first;
        for output in outputs {
            for (offset, tally) in output.counts.iter().enumerate() {
                let counts = &mut self.report.steps[first + offset];
                counts.rows_in += tally.rows_in;
                counts.rows_out += tally.rows_out;
                counts.rows_rejected += tally.rows_rejected;
                self.report.rows_dropped += tally.rows_dropped;
            }
            for reject in output.rejects {
                let step = &self.report.steps[first + reject.step_index];
                let label = format!("step {} ({})", step.number, step.label);
                let rejected = StepRejected {
                    step: label,
                    step_index: first + reject.step_index,
                    fields: reject.fields,
                    field: reject.field,
                    value: reject.value,
                    message: reject.message,
                    line: reject.line,
                };
                self.reject_cast(rejected, &output.source)?;
            }
            if let Some(batch) = output.batch {
                self.push_stages(stage_index + 1, batch, None, output.lines, &output.source)?;
            }
        }
        Ok(())
    }

    fn write_sinks(
        &mut self,
        batch: RecordBatch,
        lines: Option<Vec<u64>>,
        source: &str,
    ) -> Result<(), RunError> {
        let pipeline = self.pipeline.as_mut().expect("planned before rows flow");
        let batch = match pipeline.output_checker.as_mut() {
            None => batch,
            Some(checker) => {
                let checked = checker.check(&batch).map_err(EngineError::from)?;
                let valid = checked.valid().map_err(EngineError::from)?;
                if let Some(rules) = pipeline.output_rules.as_mut() {
                    rules.observe(&valid)?;
                }
                let lines = lines.unwrap_or_default();
                let after_steps = self.masked_before_step.len() - 1;
                self.reject_checked(
                    &batch,
                    &lines,
                    &checked,
                    "output contract",
                    source,
                    after_steps,
                )?;
                valid
            }
        };
        self.report.rows_out += batch.num_rows() as u64;
        let pipeline = self.pipeline.as_mut().expect("planned before rows flow");
        // Which rows some sink took, when every sink has a `when` (else
        // every row is taken).
        let mut taken = pipeline
            .sinks
            .iter()
            .all(|sink| sink.when.is_some())
            .then(|| BooleanBuffer::new_unset(batch.num_rows()));
        for (index, sink) in pipeline.sinks.iter_mut().enumerate() {
            let routed = match &sink.when {
                None => batch.clone(),
                Some(expr) => {
                    let keep = expr.evaluate_true(&batch).map_err(EngineError::Plan)?;
                    taken = taken.map(|taken| &taken | &keep);
                    filter_record_batch(&batch, &BooleanArray::new(keep, None))
                        .map_err(EngineError::from)?
                }
            };
            self.report.sinks[index].rows_out += routed.num_rows() as u64;
            if self.options.dry_run {
                continue;
            }
            let routed = apply_masks(routed, &sink.role_masks, &[], &sink.schema, &self.masker)
                .map_err(|e| EngineError::Plan(e.to_string()))?;
            sink.writer.write(routed)?;
        }
        if let Some(taken) = taken {
            self.report.rows_unrouted += (batch.num_rows() - taken.count_set_bits()) as u64;
        }
        Ok(())
    }

    /// Sends the rows a contract rejected before step `step_index` (the
    /// input contract's 0, the output contract's the step count) to the DLQ.
    fn reject_checked(
        &mut self,
        raw: &RecordBatch,
        lines: &[u64],
        checked: &CheckedBatch,
        step: &str,
        source: &str,
        step_index: usize,
    ) -> Result<(), RunError> {
        let rejections = checked_rejections(
            raw,
            lines,
            checked,
            step,
            source,
            self.options.all_violations,
        )
        .map_err(EngineError::from)?;
        for (row, rejection) in rejections.rejections.iter().enumerate() {
            self.count_reject(rejection);
            if let Some(dlq) = self.dlq.as_mut() {
                let masked = &self.masked_before_step[step_index];
                dlq.write_row(&rejections.columns, row, rejection, masked)?;
            }
        }
        Ok(())
    }

    /// Sends a row rejected before step `step_index` to the DLQ.
    fn reject(
        &mut self,
        fields: &[(String, Value)],
        rejection: Rejection,
        step_index: usize,
    ) -> Result<(), RunError> {
        self.count_reject(&rejection);
        if let Some(dlq) = self.dlq.as_mut() {
            dlq.write(fields, &rejection, &self.masked_before_step[step_index])?;
        }
        Ok(())
    }

    fn count_reject(&mut self, rejection: &Rejection) {
        self.tally
            .add(&rejection.step, &rejection.field, &rejection.rule);
        self.report.rows_rejected += 1;
        self.report.dlq.rows += 1;
    }

    /// Plans the checks, steps and sinks for the input's schema; the
    /// slices of built-in steps get their jobs (their workers `spawned`
    /// ahead, or started now).
    fn plan_pipeline(
        &self,
        plan: &Plan,
        raw_schema: &SchemaRef,
        mut spawned: Vec<SpawnedSlice>,
    ) -> Result<Pipeline, EngineError> {
        let check_options = CheckOptions {
            all_violations: self.options.all_violations,
            unique_keys_max: self.options.limits.unique_keys_max,
            block_on_drift: self.options.block_on_drift,
            withheld: self.sensitive.iter().map(|(n, _)| n.clone()).collect(),
        };
        let checker = self
            .input
            .as_ref()
            .map(|(_, object)| {
                row_checker(
                    object,
                    raw_schema,
                    &check_options,
                    plan.input_contract.as_ref(),
                )
            })
            .transpose()?;
        let input_rules = self.dataset_checks(
            self.input.as_ref(),
            checker.as_ref(),
            plan.input_contract.as_ref(),
        )?;
        let mut schema = checker
            .as_ref()
            .map_or_else(|| Arc::clone(raw_schema), RowChecker::output_schema);
        // The output contract's types first: it says what a step may emit.
        let column_kinds: Vec<(String, LogicalType)> = self
            .output
            .iter()
            .chain(self.input.iter())
            .flat_map(|(_, object)| object.columns.iter())
            .map(|c| (c.name.clone(), LogicalType::of(c.logical_type.as_deref())))
            .collect();
        let context = StepContext {
            session: &self.session,
            sensitive: &self.sensitive,
            default_mask: self.options.default_mask,
            unique_keys_max: self.options.limits.unique_keys_max,
            sql_rows_max: self.options.limits.sql_rows_max,
            exec: ExecSettings {
                base_dir: &self.base_dir,
                limits: self.options.limits,
                output_columns: plan
                    .output_contract
                    .as_ref()
                    .map_or(&[], |c| c.columns.as_slice()),
                column_kinds: &column_kinds,
                hides_values: !self.sensitive.is_empty(),
                resources: Default::default(),
                isolation: self.options.isolation,
            },
            slices: &plan.slices,
            digests: &[],
        };
        let mut stages = Vec::new();
        for (plan_slice, index, steps) in steps_by_slice(plan)? {
            let count = steps.len();
            let input_schema = Arc::clone(&schema);
            let mut planned = Vec::with_capacity(count);
            for step in steps {
                let step = PlannedStep::plan(step, &schema, &context)?;
                schema = Arc::clone(&step.output_schema);
                planned.push(step);
            }
            let isolated = plan_slice.trusted && self.options.isolation == Isolation::Slice;
            if isolated {
                // Planned here to check the steps and learn their schema;
                // they run in the slice.
                let worker = match spawned.iter().position(|s| s.number == plan_slice.number) {
                    Some(at) => spawned.swap_remove(at),
                    None => StepSlice::spawn(plan_slice, steps, slice_program(&self.options)?)?,
                };
                let settings = StepSliceSettings {
                    sensitive: &self.sensitive,
                    default_mask: self.options.default_mask,
                    masker: &self.masker,
                    limits: self.options.limits,
                };
                let touched: Vec<_> = planned.iter().map(|s| s.touched.clone()).collect();
                let columns = SliceColumns::plan(&touched, &input_schema, &schema);
                let slice = StepSlice::start(
                    worker,
                    plan_slice,
                    steps,
                    &input_schema,
                    &schema,
                    columns,
                    &settings,
                )?;
                stages.push(Stage::Slice {
                    first: index,
                    slice: Box::new(slice),
                });
            } else {
                for (offset, step) in planned.into_iter().enumerate() {
                    stages.push(Stage::Here {
                        index: index + offset,
                        step,
                    });
                }
            }
        }
        let output_checker = self
            .output
            .as_ref()
            .map(|(_, object)| {
                row_checker(
                    object,
                    &schema,
                    &check_options,
                    plan.output_contract.as_ref(),
                )
            })
            .transpose()?;
        let output_rules = self.dataset_checks(
            self.output.as_ref(),
            output_checker.as_ref(),
            plan.output_contract.as_ref(),
        )?;
        if let Some(checker) = &output_checker {
            schema = checker.output_schema();
        }
        let mut sinks = Vec::new();
        for sink in &plan.sinks {
            let when = sink_condition(&self.session, sink, &schema)?;
            let role_masks = sink
                .role
                .as_deref()
                .map(|role| self.role_masks(role, &schema))
                .unwrap_or_default();
            let sink_schema = masked_schema(&schema, &role_masks, &[]);
            crate::sink::check_schema(&sink.endpoint, &sink_schema)?;
            let writer = if self.options.dry_run {
                staging::check_output(&sink.endpoint, &self.base_dir)?;
                SinkWriter::discard(&sink.endpoint.uri)
            } else {
                SinkWriter::open(
                    &sink.endpoint,
                    &sink.options,
                    &sink_schema,
                    &self.base_dir,
                    &self.run_id,
                    &self.options.limits,
                )?
            };
            sinks.push(PlannedSink {
                writer: SinkThread::spawn(writer, self.options.limits.queue_len_max)?,
                when,
                role_masks,
                schema: sink_schema,
            });
        }
        Ok(Pipeline {
            checker,
            input_rules,
            stages,
            output_checker,
            output_rules,
            sinks,
            raw_schema: Arc::clone(raw_schema),
        })
    }

    /// The dataset rules of a contract, measured over what its checker
    /// accepts.
    fn dataset_checks(
        &self,
        contract: Option<&(Contract, SchemaObject)>,
        checker: Option<&RowChecker>,
        reference: Option<&ContractRef>,
    ) -> Result<Option<DatasetChecks>, EngineError> {
        match (contract, checker) {
            (Some((_, object)), Some(checker)) => DatasetChecks::plan(
                object,
                &checker.output_schema(),
                &contract_path(reference),
                &self.options.limits,
            ),
            _ => Ok(None),
        }
    }

    /// The columns a sink for `role` masks: those whose contract `access`
    /// names another role, but for those a `mask` step masked already.
    fn role_masks(&self, role: &str, schema: &SchemaRef) -> Vec<(usize, MaskRule)> {
        let masked_by_steps = self.masked_before_step.last();
        let columns = self
            .input
            .iter()
            .chain(self.output.iter())
            .flat_map(|(_, object)| object.columns.iter());
        let mut masks: Vec<(usize, MaskRule)> = Vec::new();
        for column in columns {
            let other_role = column
                .access
                .as_deref()
                .is_some_and(|access| access != role);
            let masked_already = masked_by_steps.is_some_and(|m| m.contains(&column.name));
            if let (true, false, Ok(index)) =
                (other_role, masked_already, schema.index_of(&column.name))
                && !masks.iter().any(|(i, _)| *i == index)
            {
                masks.push((
                    index,
                    column.mask_rule().unwrap_or(self.options.default_mask),
                ));
            }
        }
        masks
    }

    /// Finishes every output, then makes all of them visible.
    fn commit(mut self) -> Result<RunReport, RunError> {
        let mut staged = Vec::new();
        let sinks = self.pipeline.take().map(|p| p.sinks).unwrap_or_default();
        let mut failure = None;
        for sink in sinks {
            if failure.is_some() {
                sink.writer.abort();
                continue;
            }
            match sink.writer.finish() {
                Ok(file) => staged.extend(file),
                Err(e) => failure = Some(e),
            }
        }
        if let Some(dlq) = self.dlq.take() {
            match failure {
                Some(_) => dlq.abort(),
                None => match dlq.finish() {
                    Ok(file) => staged.extend(file),
                    Err(e) => failure = Some(e),
                },
            }
        }
        if let Some(error) = failure {
            staging::abort_all(staged);
            return Err(error.into());
        }
        staging::commit_all(staged).map_err(EngineError::from)?;
        self.report.rejects = std::mem::take(&mut self.tally).into_counts();
        Ok(self.report)
    }

    fn abort(mut self) {
        if let Some(pipeline) = self.pipeline.take() {
            for sink in pipeline.sinks {
                sink.writer.abort();
            }
        }
        if let Some(dlq) = self.dlq.take() {
            dlq.abort();
        }
    }
}

/// The rows of `batch` that `passing` marks; all of them when `None`.
fn picked(batch: RecordBatch, passing: Option<BooleanArray>) -> Result<RecordBatch, EngineError> {
    match passing {
        None => Ok(batch),
        Some(passing) => filter_record_batch(&batch, &passing).map_err(EngineError::from),
    }
}

/// Starts the worker of every slice of built-in steps the plan has, when
/// they run in slices: a worker loads its program while the reader reads
/// the first batches and the run plans (a few milliseconds of a small
/// run's wall time).
fn spawn_built_in_slices(
    plan: &Plan,
    options: &RunOptions,
) -> Result<Vec<SpawnedSlice>, EngineError> {
    if options.isolation != Isolation::Slice {
        return Ok(Vec::new());
    }
    let mut spawned = Vec::new();
    for (slice, _, steps) in steps_by_slice(plan)? {
        if slice.trusted && !steps.is_empty() {
            spawned.push(StepSlice::spawn(slice, steps, slice_program(options)?)?);
        }
    }
    Ok(spawned)
}

/// A slice of the plan, the index of its first step, and its steps.
type SliceSteps<'p> = (&'p PlanSlice, usize, &'p [Step]);

/// Each slice of the plan with its steps (the plan lists steps in order,
/// slice after slice).
fn steps_by_slice(plan: &Plan) -> Result<Vec<SliceSteps<'_>>, EngineError> {
    let mut index = 0;
    let mut slices = Vec::with_capacity(plan.slices.len());
    for slice in &plan.slices {
        let count = slice.steps.len();
        let Some(steps) = plan.steps.get(index..index + count) else {
            return Err(EngineError::Plan(format!(
                "internal error (this is a bug in Runink): slice {} names steps the plan does not have",
                slice.number
            )));
        };
        slices.push((slice, index, steps));
        index += count;
    }
    Ok(slices)
}

/// The program that serves slices of built-in steps.
fn slice_program(options: &RunOptions) -> Result<&Path, EngineError> {
    options.slice_program.as_deref().ok_or_else(|| {
        EngineError::Isolation(
            "built-in steps run in slices, but no program to run them was given \
             (`RunOptions::slice_program`); use `--isolation none` to run them in \
             this process"
                .to_owned(),
        )
    })
}

pub(crate) fn keep_lines(lines: &[u64], checked: &CheckedBatch) -> Vec<u64> {
    if checked.rejected_rows.is_empty() {
        return lines.to_vec();
    }
    let mut rejected = checked.rejected_rows.iter().peekable();
    let mut kept = Vec::with_capacity(lines.len() - checked.rejected_rows.len());
    for (row, line) in lines.iter().enumerate() {
        if rejected.peek().is_some_and(|r| **r as usize == row) {
            rejected.next();
        } else {
            kept.push(*line);
        }
    }
    kept
}

pub(crate) fn load_contract(
    reference: &ContractRef,
    base_dir: &Path,
    texts: &BTreeMap<String, String>,
) -> Result<(Contract, SchemaObject), EngineError> {
    let path = base_dir.join(&reference.path);
    let fail = |message: String| EngineError::Contract {
        path: reference.path.clone(),
        message,
    };
    let text = match texts.get(&path.display().to_string()) {
        Some(text) => text.clone(),
        None => std::fs::read_to_string(&path)
            .map_err(|e| fail(format!("cannot read `{}`: {e}", path.display())))?,
    };
    let contract = Contract::from_yaml(&text).map_err(|e| fail(e.to_string()))?;
    let object = contract
        .object(&reference.object)
        .cloned()
        .ok_or_else(|| fail(format!("has no schema object `{}`", reference.object)))?;
    Ok((contract, object))
}

/// Two outputs (sinks, the DLQ) whose paths differ but name one file, by
/// a symbolic link in their folders, or an output that is the scenario
/// file or a contract it reads: the compiler compares paths as written;
/// here the file system says what they are.
fn refuse_outputs_on_one_file(plan: &Plan, base_dir: &Path) -> Result<(), EngineError> {
    let read: Vec<(PathBuf, String)> = plan
        .input_contract
        .iter()
        .chain(plan.output_contract.iter())
        .map(|c| {
            let file = staging::real_target(&base_dir.join(&c.path));
            (file, format!("the contract `{}`", c.path))
        })
        .chain(std::iter::once((
            staging::real_target(Path::new(&plan.file)),
            "the scenario file".to_owned(),
        )))
        .collect();
    let mut seen: Vec<(PathBuf, &str)> = Vec::new();
    for endpoint in plan.outputs() {
        let runink_plan::Location::File { path } = &endpoint.location else {
            continue;
        };
        let real = staging::real_target(&base_dir.join(path));
        if let Some((_, what)) = read.iter().find(|(file, _)| *file == real) {
            return Err(EngineError::Plan(format!(
                "`{}` is {what} (`{}`); it would replace it: write the output somewhere else",
                endpoint.uri,
                real.display()
            )));
        }
        if let Some((_, other)) = seen.iter().find(|(file, _)| *file == real) {
            return Err(EngineError::Plan(format!(
                "`{}` and `{other}` are one file (`{}`); give each output a file of its own",
                endpoint.uri,
                real.display()
            )));
        }
        seen.push((real, &endpoint.uri));
    }
    Ok(())
}

/// For each step and after the last, the columns the `mask` steps before
/// it mask: those a step lists, else the sensitive ones.
fn masked_before_step(steps: &[Step], sensitive: &[(String, MaskRule)]) -> Vec<HashSet<String>> {
    let mut masked = HashSet::new();
    let mut before = vec![masked.clone()];
    for step in steps {
        if let StepKind::Mask { fields, explicit } = &step.kind {
            match explicit {
                true => masked.extend(fields.iter().cloned()),
                false => masked.extend(sensitive.iter().map(|(name, _)| name.clone())),
            }
        }
        before.push(masked.clone());
    }
    before
}

/// The sensitive columns of `objects` with their masking rule (the
/// column's own, else `default_mask`), each once: a column both contracts
/// mark takes the first's rule (a `mask` step masked it twice when listed
/// twice).
pub(crate) fn sensitive_columns<'a>(
    objects: impl Iterator<Item = &'a SchemaObject>,
    default_mask: MaskRule,
) -> Vec<(String, MaskRule)> {
    let mut sensitive: Vec<(String, MaskRule)> = Vec::new();
    for column in objects.flat_map(|object| object.columns.iter()) {
        if column.is_sensitive() && !sensitive.iter().any(|(name, _)| *name == column.name) {
            sensitive.push((
                column.name.clone(),
                column.mask_rule().unwrap_or(default_mask),
            ));
        }
    }
    sensitive
}

/// The row checker of a contract's schema object over rows of `schema`;
/// a contract it cannot check is the contract's error.
/// A sink's `when`, planned on what reaches the sinks; `None` without one.
pub(crate) fn sink_condition(
    session: &SessionContext,
    sink: &runink_plan::Sink,
    schema: &Schema,
) -> Result<Option<CompiledExpr>, EngineError> {
    sink.when
        .as_ref()
        .map(|text| {
            CompiledExpr::plan_condition(session, text, schema)
                .map_err(|m| EngineError::Plan(format!("sink `{}`: `when`: {m}", sink.name)))
        })
        .transpose()
}

pub(crate) fn row_checker(
    object: &SchemaObject,
    schema: &SchemaRef,
    options: &CheckOptions,
    reference: Option<&ContractRef>,
) -> Result<RowChecker, EngineError> {
    RowChecker::new(object, schema, options.clone()).map_err(|e| EngineError::Contract {
        path: contract_path(reference),
        message: e.to_string(),
    })
}

fn contract_path(reference: Option<&ContractRef>) -> String {
    reference.map(|r| r.path.clone()).unwrap_or_default()
}
