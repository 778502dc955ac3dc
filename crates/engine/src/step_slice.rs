//! A slice of built-in steps, run by the parent: `runi slice-worker`
//! started as a confined process, fed the steps' rows as Arrow IPC frames
//! on its stdin and read back from its stdout (`slice_messages.rs`).
//!
//! A thread writes frames to the slice, another reads its answers; the
//! run's thread hands over at most `queue_len_max` batches that have not
//! been answered yet, and takes the answers as they come, so the slice
//! works on one batch while the run checks the next. The slice answers
//! batches in order, so each answer's rows get back the source lines of
//! the batch they came from.

use std::collections::VecDeque;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use arrow::array::{
    Array, ArrayRef, BooleanArray, FixedSizeBinaryArray, RecordBatch, RecordBatchOptions,
    UInt32Array,
};
use arrow::compute::{FilterBuilder, FilterPredicate, filter_record_batch, take};
use arrow::datatypes::SchemaRef;
use runink_contract::{MaskRule, Masker, hex_digests};
use runink_plan::{Slice as PlanSlice, Step};
use runink_slice::{
    LendingPipeWriter, RunningSlice, Slice, SliceError, SliceExit, SliceSpec, Stdio,
};

use crate::EngineError;
use crate::body_pool::BodyPool;
use crate::exec_step::{PIPE_BUFFER_BYTES, slice_limits};
use crate::limits::Limits;
use crate::slice_columns::SliceColumns;
use crate::slice_frames::{FRAME_IO_BUFFER_BYTES, read_frame, write_frame};
use crate::slice_messages::{
    Confinement, FromSlice, INPUT_ROW_COLUMN, SliceJob, SliceReject, StepTally, ToSlice,
};

/// The argument that makes `runi` serve a slice.
pub const SLICE_WORKER_ARG: &str = "slice-worker";

/// What a built-in slice needs besides its steps.
#[derive(Debug)]
pub struct StepSliceSettings<'a> {
    pub sensitive: &'a [(String, MaskRule)],
    pub default_mask: MaskRule,
    pub masker: &'a Masker,
    pub limits: Limits,
}

/// How the rows of an answer are picked from their batch's carried
/// columns. Built-in steps keep rows in order, so positions usually rise:
/// then every row kept is the column itself, and some dropped is a filter
/// (contiguous runs copied at once); positions in another order are taken
/// one by one.
enum Pick<'a> {
    All,
    Filter(FilterPredicate),
    Take(&'a UInt32Array),
}

impl<'a> Pick<'a> {
    fn new(rows: &'a UInt32Array, rows_in: usize) -> Self {
        let positions = rows.values();
        if !positions.windows(2).all(|pair| pair[0] < pair[1]) {
            return Self::Take(rows);
        }
        if positions.len() == rows_in {
            // Rising, distinct and below `rows_in`: exactly 0..rows_in.
            return Self::All;
        }
        let mut keep = vec![false; rows_in];
        for &row in positions {
            keep[row as usize] = true;
        }
        let mask = BooleanArray::from(keep);
        Self::Filter(FilterBuilder::new(&mask).optimize().build())
    }

    fn apply(&self, column: &ArrayRef) -> Result<ArrayRef, arrow::error::ArrowError> {
        match self {
            Self::All => Ok(ArrayRef::clone(column)),
            Self::Filter(predicate) => predicate.filter(column.as_ref()),
            Self::Take(rows) => take(column.as_ref(), rows, None),
        }
    }
}

/// Rows that left a slice's last step, with what they carry back.
#[derive(Debug)]
pub struct SliceOutput {
    /// None when no row left the last step.
    pub batch: Option<RecordBatch>,
    /// The source line of each row; none for rows a step emitted at the end.
    pub lines: Option<Vec<u64>>,
    /// The source the rows came from ("" for emitted rows).
    pub source: String,
    /// Rows counted at each step of the slice.
    pub counts: Vec<StepTally>,
    pub rejects: Vec<OutputReject>,
}

/// A row a step of the slice rejected, with its source line.
#[derive(Debug)]
pub struct OutputReject {
    pub step_index: usize,
    pub line: Option<u64>,
    /// The row's fields as they entered the slice.
    pub fields: Vec<(String, serde_json::Value)>,
    pub field: String,
    pub value: Option<String>,
    pub message: String,
}

/// A running slice of built-in steps.
#[derive(Debug)]
pub struct StepSlice {
    number: usize,
    /// The numbers of its steps, as the plan gives them.
    step_numbers: Vec<usize>,
    /// Its steps, for messages: "1 (`mask`), 2 (`filter`)".
    steps: String,
    running: RunningSlice,
    memory_bytes: u64,
    output_schema: SchemaRef,
    /// The columns the parent carries instead of sending; `None`: all go.
    columns: Option<SliceColumns>,
    to_stdin: Option<SyncSender<RecordBatch>>,
    /// Each batch handed over and not answered yet.
    unanswered: VecDeque<Unanswered>,
    unanswered_max: usize,
    events: Receiver<Event>,
    stdout_open: bool,
    ready: Vec<SliceOutput>,
    failure: Option<EngineError>,
    confinement: Option<Confinement>,
}

/// A slice's worker started ahead of its job.
#[derive(Debug)]
pub struct SpawnedSlice {
    /// The slice's number in the plan.
    pub number: usize,
    running: RunningSlice,
    memory_bytes: u64,
}

/// What the parent keeps of a batch until the slice answers it.
#[derive(Debug)]
struct Unanswered {
    /// Rows sent to the slice.
    rows: usize,
    lines: Option<Vec<u64>>,
    source: String,
    /// The whole batch as the slice's first step would see it, with rows
    /// it was not sent when `sent_rows` says which were: its carried
    /// columns are put back into the answer from here, and a row a step
    /// rejects goes to the DLQ with its fields from here.
    input: RecordBatch,
    /// The positions in `input` of the rows sent, rising; `None` when
    /// every row was.
    sent_rows: Option<UInt32Array>,
}

impl Unanswered {
    /// The position in `input` of the row sent at `sent`.
    fn input_row(&self, sent: usize) -> usize {
        self.sent_rows
            .as_ref()
            .map_or(sent, |rows| rows.value(sent) as usize)
    }
}

enum Event {
    Frame(FromSlice, Option<RecordBatch>),
    ReadFailed(String),
    Ended,
}

/// The slice that runs built-in steps: `program` (runi) as its worker.
fn worker_spec(program: &Path, limits: runink_slice::Limits) -> SliceSpec {
    let mut spec = SliceSpec::new(program);
    spec.args = vec![SLICE_WORKER_ARG.into()];
    spec.env = vec![
        ("LANG".into(), "C.UTF-8".into()),
        ("RUNINK_LOG".into(), "warn".into()),
    ];
    spec.limits = limits;
    spec.stdin = Stdio::Piped;
    spec.stdout = Stdio::Piped;
    spec.stderr = Stdio::Inherit;
    spec.pipe_buffer_bytes = Some(PIPE_BUFFER_BYTES);
    spec
}

impl StepSlice {
    /// Starts the worker process of `slice` without its job: its program
    /// loads while the run plans, and waits for [`StepSlice::start`].
    /// Dropped unused, it is killed and reaped.
    pub fn spawn(
        slice: &PlanSlice,
        steps: &[Step],
        program: &Path,
    ) -> Result<SpawnedSlice, EngineError> {
        let limits = slice_limits(&slice.placement.resources);
        let spec = worker_spec(program, limits);
        let running = Slice::spawn(&spec).map_err(|e| match e {
            SliceError::Unsupported { .. } => EngineError::Isolation(e.to_string()),
            other => EngineError::Isolation(format!(
                "cannot start slice {} (built-in steps {}) as a slice: {other}",
                slice.number,
                step_list(steps)
            )),
        })?;
        Ok(SpawnedSlice {
            number: slice.number,
            running,
            memory_bytes: limits.memory_bytes,
        })
    }

    /// Sends `spawned` (the worker of `slice`) its job: `steps`, whose
    /// first takes `input` and whose last gives `output_schema` (both
    /// planned by the caller); it is sent only the columns `columns` says,
    /// when it says.
    pub fn start(
        spawned: SpawnedSlice,
        slice: &PlanSlice,
        steps: &[Step],
        input: &SchemaRef,
        output_schema: &SchemaRef,
        columns: Option<SliceColumns>,
        settings: &StepSliceSettings<'_>,
    ) -> Result<Self, EngineError> {
        let SpawnedSlice {
            mut running,
            memory_bytes,
            ..
        } = spawned;
        let keys = settings.masker.keys();
        let job = SliceJob {
            slice: slice.number,
            steps: steps.to_vec(),
            sensitive: settings.sensitive.to_vec(),
            default_mask: settings.default_mask,
            unique_keys_max: settings.limits.unique_keys_max,
            sql_rows_max: settings.limits.sql_rows_max,
            mask_salt_hex: hex::encode(&keys.salt),
            token_key_hex: hex::encode(keys.token_key),
            answer_columns: columns.as_ref().map(SliceColumns::answered_names),
            digests: columns
                .as_ref()
                .map(SliceColumns::digest_steps)
                .unwrap_or_default(),
        };
        let unanswered_max = settings.limits.queue_len_max.max(1);
        let (events_out, events) = sync_channel(unanswered_max + 2);
        let (to_stdin, batches) = sync_channel::<RecordBatch>(unanswered_max);
        let stdin = running.stdin.take().expect("stdin is piped");
        let stdout = running.stdout.take().expect("stdout is piped");
        let sent_schema = columns.as_ref().map_or_else(
            || SchemaRef::clone(input),
            |c| SchemaRef::clone(&c.sent_schema),
        );
        let schema_batch = RecordBatch::new_empty(sent_schema);
        std::thread::spawn(move || {
            // Frames are lent to the pipe, not copied into it (`slice_frames.rs`).
            let mut out = LendingPipeWriter::new(stdin);
            let job = ToSlice::Job(Box::new(job));
            let fed = write_frame(&mut out, &job, Some(&schema_batch)).and_then(|()| {
                for batch in batches {
                    write_frame(&mut out, &ToSlice::Rows, Some(&batch))?;
                }
                write_frame(&mut out, &ToSlice::End, None)
            });
            // A slice that stopped reading has failed or was killed: the
            // reader and the exit status say which.
            drop(fed);
        });
        std::thread::spawn(move || {
            let mut input = BufReader::with_capacity(FRAME_IO_BUFFER_BYTES, stdout);
            let bodies = BodyPool::new();
            loop {
                let event = match read_frame::<_, FromSlice>(&mut input, &bodies) {
                    Ok(Some((header, body))) => Event::Frame(header, body),
                    Ok(None) => Event::Ended,
                    Err(error) => Event::ReadFailed(error.to_string()),
                };
                let last = !matches!(event, Event::Frame(..));
                if events_out.send(event).is_err() || last {
                    return;
                }
            }
        });
        Ok(Self {
            number: slice.number,
            step_numbers: slice.steps.clone(),
            steps: step_list(steps),
            running,
            memory_bytes,
            output_schema: SchemaRef::clone(output_schema),
            columns,
            to_stdin: Some(to_stdin),
            unanswered: VecDeque::new(),
            unanswered_max,
            events,
            stdout_open: true,
            ready: Vec::new(),
            failure: None,
            confinement: None,
        })
    }

    /// The slice's number in the plan.
    pub fn number(&self) -> usize {
        self.number
    }

    /// The numbers of the slice's steps.
    pub fn step_numbers(&self) -> &[usize] {
        &self.step_numbers
    }

    /// Hands one batch to the slice: the rows `passing` marks (all when
    /// `None`), whose source lines are `lines`. Only the columns sent are
    /// picked here; the carried ones are picked once, when the answer says
    /// which rows left the slice. Answers that are ready wait in
    /// [`StepSlice::take_ready`].
    pub fn push(
        &mut self,
        batch: RecordBatch,
        passing: Option<&BooleanArray>,
        lines: Option<Vec<u64>>,
        source: &str,
    ) -> Result<(), EngineError> {
        while self.stdout_open && self.unanswered.len() >= self.unanswered_max {
            let event = self.events.recv().unwrap_or(Event::Ended);
            self.handle(event);
        }
        self.fail_if_failed()?;
        let input = batch;
        let batch = match &self.columns {
            None => input.clone(),
            Some(columns) => input.project(&columns.sent)?,
        };
        let (batch, sent_rows) = match passing {
            None => (batch, None),
            Some(passing) => (
                filter_record_batch(&batch, passing)?,
                Some(positions_marked(passing)),
            ),
        };
        let rows = batch.num_rows();
        let sent = self
            .to_stdin
            .as_ref()
            .is_some_and(|sender| sender.send(batch).is_ok());
        if !sent || !self.stdout_open {
            return Err(self.ended_early());
        }
        self.unanswered.push_back(Unanswered {
            rows,
            lines,
            source: source.to_owned(),
            input,
            sent_rows,
        });
        while let Ok(event) = self.events.try_recv() {
            self.handle(event);
        }
        self.fail_if_failed()
    }

    /// Rows that have left the slice so far.
    pub fn take_ready(&mut self) -> Vec<SliceOutput> {
        std::mem::take(&mut self.ready)
    }

    /// Ends the slice's input, reads the rest of its output and waits for
    /// it: what its steps emit at the end, and how it was confined.
    pub fn finish(&mut self) -> Result<(Vec<SliceOutput>, Confinement), EngineError> {
        drop(self.to_stdin.take());
        while self.stdout_open {
            let event = self.events.recv().unwrap_or(Event::Ended);
            self.handle(event);
        }
        let exit = self.running.wait().map_err(|e| {
            EngineError::Isolation(format!("cannot wait for slice {}: {e}", self.number))
        })?;
        if let Some(error) = self.failure.take() {
            return Err(error);
        }
        if let Some(message) = self.exit_failure(&exit) {
            return Err(self.failed(message));
        }
        let confinement = self
            .confinement
            .take()
            .ok_or_else(|| self.failed("it ended before its steps had finished".to_owned()))?;
        Ok((std::mem::take(&mut self.ready), confinement))
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Frame(header, body) => {
                if let Err(error) = self.take_frame(header, body) {
                    self.failure.get_or_insert(error);
                }
            }
            Event::ReadFailed(message) => {
                self.stdout_open = false;
                let error = self.failed(format!("it sent output that cannot be read: {message}"));
                self.failure.get_or_insert(error);
            }
            Event::Ended => self.stdout_open = false,
        }
    }

    fn take_frame(
        &mut self,
        header: FromSlice,
        body: Option<RecordBatch>,
    ) -> Result<(), EngineError> {
        match header {
            FromSlice::Answer {
                counts,
                rejects,
                every_row,
            } => {
                let asked = self.unanswered.pop_front().ok_or_else(|| {
                    self.failed("it answered a batch it was not given".to_owned())
                })?;
                let (batch, rows) = match body {
                    None => (None, None),
                    Some(body) => {
                        let (batch, rows) = self.split_input_rows(body, asked.rows, every_row)?;
                        let batch = self.put_back_carried(batch, &rows, &asked)?;
                        (Some(batch), Some(rows))
                    }
                };
                if rejects
                    .iter()
                    .any(|r| r.input_row.is_some_and(|row| row as usize >= asked.rows))
                {
                    return Err(self.bad_output("a rejected row past its batch".to_owned()));
                }
                let rejects = rejects
                    .into_iter()
                    .map(|r| {
                        let fields = self.reject_fields(&asked, &r);
                        let line_of = |row: u32| asked.lines.as_ref().map(|l| l[row as usize]);
                        output_reject(r, fields, |row| row.and_then(line_of))
                    })
                    .collect();
                let Unanswered { lines, source, .. } = asked;
                let lines = match (&lines, &rows) {
                    (Some(lines), Some(rows)) => {
                        Some(rows.values().iter().map(|r| lines[*r as usize]).collect())
                    }
                    _ => None,
                };
                self.ready.push(SliceOutput {
                    batch,
                    lines,
                    source,
                    counts,
                    rejects,
                });
            }
            FromSlice::Emitted { counts, rejects } => {
                let batch = body.map(|b| self.conform(b)).transpose()?;
                self.ready.push(SliceOutput {
                    batch,
                    lines: None,
                    source: String::new(),
                    counts,
                    rejects: rejects
                        .into_iter()
                        .map(|r| {
                            let fields = self.reject_fields_emitted(&r);
                            output_reject(r, fields, |_| None)
                        })
                        .collect(),
                });
            }
            FromSlice::Done {
                counts,
                confinement,
            } => {
                self.ready.push(SliceOutput {
                    batch: None,
                    lines: None,
                    source: String::new(),
                    counts,
                    rejects: Vec::new(),
                });
                self.confinement = Some(confinement);
            }
            FromSlice::Failed {
                step,
                label,
                message,
                on_rows,
            } => {
                return Err(match (step, on_rows) {
                    (0, _) => self.failed(message),
                    (_, true) => EngineError::StepFailed {
                        step,
                        label,
                        message,
                    },
                    (_, false) => EngineError::Step {
                        step,
                        label,
                        message,
                    },
                });
            }
        }
        Ok(())
    }

    /// Splits an answer into its rows and their input positions: its last
    /// column, or, when `every_row`, all `rows_in` rows in order.
    fn split_input_rows(
        &self,
        body: RecordBatch,
        rows_in: usize,
        every_row: bool,
    ) -> Result<(RecordBatch, UInt32Array), EngineError> {
        let mut columns = body.columns().to_vec();
        let rows = if every_row {
            if body.num_rows() != rows_in {
                return Err(self.bad_output(format!(
                    "{} rows said to be every one of {rows_in}",
                    body.num_rows()
                )));
            }
            UInt32Array::from_iter_values(0..rows_in as u32)
        } else {
            let last = body.num_columns().checked_sub(1);
            let rows = last
                .filter(|i| body.schema().field(*i).name() == INPUT_ROW_COLUMN)
                .and_then(|i| {
                    body.column(i)
                        .as_any()
                        .downcast_ref::<UInt32Array>()
                        .cloned()
                })
                .filter(|rows| rows.null_count() == 0)
                .ok_or_else(|| self.bad_output(format!("no `{INPUT_ROW_COLUMN}` column")))?;
            if rows.values().iter().any(|r| *r as usize >= rows_in) {
                return Err(self.bad_output("a row position past its batch".to_owned()));
            }
            columns.pop();
            rows
        };
        self.write_digests_as_text(&mut columns)?;
        let schema = self
            .columns
            .as_ref()
            .map_or(&self.output_schema, |c| &c.answered_schema);
        // Every column may be carried: the answer is then its rows only.
        let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
        let batch = RecordBatch::try_new_with_options(SchemaRef::clone(schema), columns, &options)
            .map_err(|e| self.bad_output(e.to_string()))?;
        Ok((batch, rows))
    }

    /// The hashes the slice answered with as raw digests, as their text.
    fn write_digests_as_text(&self, columns: &mut [ArrayRef]) -> Result<(), EngineError> {
        let Some(split) = &self.columns else {
            return Ok(());
        };
        for digest in &split.digests {
            let name = split.answered_schema.field(digest.answered).name();
            let column = columns
                .get_mut(digest.answered)
                .ok_or_else(|| self.bad_output(format!("no column `{name}` of digests")))?;
            let digests = column
                .as_any()
                .downcast_ref::<FixedSizeBinaryArray>()
                .ok_or_else(|| {
                    self.bad_output(format!(
                        "`{name}` as {}, not as digests",
                        column.data_type()
                    ))
                })?;
            let text = hex_digests(digests).map_err(|e| self.bad_output(e.to_string()))?;
            *column = Arc::new(text);
        }
        Ok(())
    }

    /// The slice's answer with the columns the parent carried put back in
    /// their places: each row's value picked from `asked.input` by the
    /// row's position among the rows sent (`rows`).
    fn put_back_carried(
        &self,
        answered: RecordBatch,
        rows: &UInt32Array,
        asked: &Unanswered,
    ) -> Result<RecordBatch, EngineError> {
        let Some(columns) = &self.columns else {
            return Ok(answered);
        };
        let input = &asked.input;
        // `split_input_rows` checked every position against the rows sent.
        let in_input = UInt32Array::from_iter_values(
            rows.values()
                .iter()
                .map(|&row| asked.input_row(row as usize) as u32),
        );
        let pick = Pick::new(&in_input, input.num_rows());
        let mut from_slice = answered.columns().iter();
        let mut arrays = Vec::with_capacity(self.output_schema.fields().len());
        for out in 0..self.output_schema.fields().len() {
            let kept = columns.carried.iter().find(|(c, _)| *c == out);
            let array = match kept {
                Some((_, at)) => pick.apply(input.column(*at))?,
                None => ArrayRef::clone(
                    from_slice
                        .next()
                        .ok_or_else(|| self.bad_output("too few columns".to_owned()))?,
                ),
            };
            arrays.push(array);
        }
        RecordBatch::try_new(SchemaRef::clone(&self.output_schema), arrays)
            .map_err(|e| self.bad_output(e.to_string()))
    }

    /// A rejected row's fields as it entered its step: what the slice sent
    /// of them, and the columns the parent carried (no step of the slice
    /// changes those) from `input`, the batch the row came from; in the
    /// order of `input`'s columns, then the columns the slice's steps
    /// made. A name neither schema has is dropped: the slice is not
    /// trusted to name columns.
    fn reject_fields(
        &self,
        asked: &Unanswered,
        reject: &SliceReject,
    ) -> Vec<(String, serde_json::Value)> {
        let Some(row) = reject.input_row.map(|r| asked.input_row(r as usize)) else {
            return self.reject_fields_emitted(reject);
        };
        let input = &asked.input;
        let sent = |name: &str| reject.fields.iter().find(|(n, _)| n == name);
        let carried = |at: usize| {
            self.columns
                .as_ref()
                .is_some_and(|c| c.carried.iter().any(|(_, from)| *from == at))
        };
        let input_schema = input.schema();
        let mut texts = Vec::new();
        for (at, field) in input_schema.fields().iter().enumerate() {
            let name = field.name();
            if carried(at) {
                texts.push((name.clone(), crate::dlq::value_text(input.column(at), row)));
            } else if let Some(sent) = sent(name) {
                texts.push(sent.clone());
            }
        }
        for (name, value) in &reject.fields {
            let made = input_schema.field_with_name(name).is_err()
                && self.output_schema.field_with_name(name).is_ok();
            if made && !texts.iter().any(|(n, _)| n == name) {
                texts.push((name.clone(), value.clone()));
            }
        }
        crate::dlq::fields_of(texts)
    }

    /// The fields of a row a step emitted at the end (no input row): what
    /// the slice sent, under names of its output schema.
    fn reject_fields_emitted(&self, reject: &SliceReject) -> Vec<(String, serde_json::Value)> {
        let known: Vec<(String, Option<String>)> = reject
            .fields
            .iter()
            .filter(|(name, _)| self.output_schema.field_with_name(name).is_ok())
            .cloned()
            .collect();
        crate::dlq::fields_of(known)
    }

    /// The slice's rows under the schema the parent planned; a slice that
    /// sends other columns has a bug.
    fn conform(&self, body: RecordBatch) -> Result<RecordBatch, EngineError> {
        RecordBatch::try_new(
            SchemaRef::clone(&self.output_schema),
            body.columns().to_vec(),
        )
        .map_err(|e| self.bad_output(e.to_string()))
    }

    fn bad_output(&self, what: String) -> EngineError {
        self.failed(format!(
            "it sent rows that do not fit its steps' output: {what}"
        ))
    }

    fn failed(&self, message: String) -> EngineError {
        EngineError::SliceFailed {
            slice: self.number,
            steps: self.steps.clone(),
            message,
        }
    }

    fn fail_if_failed(&mut self) -> Result<(), EngineError> {
        match self.failure.take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// The slice stopped before its input ended: why, from its exit.
    fn ended_early(&mut self) -> EngineError {
        while self.stdout_open {
            let event = self.events.recv().unwrap_or(Event::Ended);
            self.handle(event);
        }
        if let Some(error) = self.failure.take() {
            return error;
        }
        let exit = self.running.wait();
        let reason = exit
            .ok()
            .and_then(|exit| self.exit_failure(&exit))
            .unwrap_or_else(|| "it stopped reading its rows".to_owned());
        self.failed(reason)
    }

    fn exit_failure(&self, exit: &SliceExit) -> Option<String> {
        crate::slice_exit::exit_failure(exit, "it", self.memory_bytes, "")
    }
}

fn output_reject(
    reject: SliceReject,
    fields: Vec<(String, serde_json::Value)>,
    line: impl Fn(Option<u32>) -> Option<u64>,
) -> OutputReject {
    OutputReject {
        step_index: reject.step_index,
        line: line(reject.input_row),
        fields,
        field: reject.field,
        value: reject.value,
        message: reject.message,
    }
}

/// The positions of the rows `marks` marks true (a null is not), rising.
fn positions_marked(marks: &BooleanArray) -> UInt32Array {
    let values = marks.values();
    let positions = match marks.nulls() {
        None => values.set_indices().map(|i| i as u32).collect::<Vec<_>>(),
        Some(nulls) => (values & nulls.inner())
            .set_indices()
            .map(|i| i as u32)
            .collect(),
    };
    UInt32Array::from(positions)
}

fn step_list(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| format!("{} (`{}`)", s.number, s.label))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, ArrayRef, StringArray, UInt32Array};

    use super::Pick;

    fn codes() -> ArrayRef {
        Arc::new(StringArray::from(vec![
            Some("a"),
            None,
            Some("c"),
            Some("d"),
        ]))
    }

    fn picked(positions: Vec<u32>) -> Vec<Option<String>> {
        let rows = UInt32Array::from(positions);
        let column = Pick::new(&rows, 4).apply(&codes()).unwrap();
        let strings = column.as_any().downcast_ref::<StringArray>().unwrap();
        strings.iter().map(|s| s.map(str::to_owned)).collect()
    }

    #[test]
    fn every_row_kept_in_order_is_the_column_itself() {
        let column = codes();
        let rows = UInt32Array::from(vec![0, 1, 2, 3]);
        let picked = Pick::new(&rows, 4).apply(&column).unwrap();
        assert!(Arc::ptr_eq(&column, &picked));
    }

    #[test]
    fn rows_kept_in_order_are_filtered_and_others_taken() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(picked(vec![0, 2, 3]), vec![some("a"), some("c"), some("d")]);
        assert_eq!(picked(vec![1]), vec![None]);
        assert_eq!(picked(vec![]), Vec::<Option<String>>::new());
        assert_eq!(picked(vec![3, 0]), vec![some("d"), some("a")]);
        assert_eq!(picked(vec![2, 2]), vec![some("c"), some("c")]);
    }
}
