//! The `exec` step: the user's program, started as a slice of its own, fed
//! the step's rows on stdin and read back from stdout, concurrently.
//!
//! Three threads talk to the program: one writes batches to its stdin, one
//! reads its stdout into batches, one captures its stderr. They report to
//! the run's thread through one bounded event channel, and the run's thread
//! never blocks on a full pipe: before it hands over another input batch it
//! handles events until fewer than `queue_len_max` batches are in flight,
//! and it takes every output batch that is ready. So a program that writes
//! a lot before it reads everything cannot deadlock the run.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, sync_channel};
use std::thread::JoinHandle;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use runink_model::Resources;
use runink_plan::{ExecFormat, Step, StepKind, StepOrigin};
use runink_slice::{RunningSlice, Slice, SliceError, SliceExit, SliceSpec, Stdio};

use runink_contract::LogicalType;

use crate::EngineError;
use crate::Isolation;
use crate::exec_rows::{RowEncoder, conform, declared_schema};
use crate::limits::Limits;
use crate::source::{CsvOptions, CsvReader, JsonlReader, SourceBatch, SourceReader, TypedReader};
use crate::steps::{Emitted, EmittedReject};

/// Where the folder that defines the step appears inside its slice; it is
/// the program's working directory.
pub const STEP_DIR_INSIDE: &str = "/step";
/// Host directories of programs, bound read-only so that `cmd` can name
/// `python3`, `awk` or a script's interpreter. Missing ones are skipped.
const PROGRAM_DIRS: &[&str] = &[
    "/bin",
    "/usr/bin",
    "/usr/local/bin",
    "/usr/share",
    // Debian's alternatives: `/usr/bin/awk` is a link through here.
    "/etc/alternatives",
];
/// `PATH` inside the slice.
const PROGRAM_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
/// The shell that runs `cmd`.
const SHELL: &str = "/bin/sh";
/// Bytes buffered before a write to the program's stdin.
const STDIN_BUFFER_BYTES: usize = 1 << 20;
/// Kernel buffer of each pipe of a slice the engine starts (an `exec`
/// step's program, a slice of built-in steps): a batch is megabytes, and
/// through the default 64 KiB it would wake the other side many times.
pub(crate) const PIPE_BUFFER_BYTES: usize = 1 << 20;
/// Bytes kept of one stderr line; the rest of a longer line is cut.
const STDERR_LINE_BYTES_MAX: usize = 4096;
/// stderr lines kept in the run's record; later lines are counted only.
const STDERR_LINES_KEPT_MAX: usize = 1000;
/// How often a program's end is looked for while its output is awaited.
const EXIT_POLL: std::time::Duration = std::time::Duration::from_millis(50);
/// stderr lines quoted when the program fails.
const STDERR_TAIL_LINES: usize = 10;

/// What starting an `exec` step needs besides the step.
#[derive(Debug, Clone)]
pub struct ExecSettings<'a> {
    /// The scenario's folder: the working directory of inline steps.
    pub base_dir: &'a Path,
    pub limits: Limits,
    /// The output contract's columns: a program may add these.
    pub output_columns: &'a [String],
    /// The contracts' type of each column they name (the output
    /// contract's first): a JSON array or object the program emits is
    /// read only into an `object` or `array` column.
    pub column_kinds: &'a [(String, LogicalType)],
    /// The resources of the step's slice.
    pub resources: Resources,
    pub isolation: Isolation,
    /// The scenario has sensitive columns: quoted values in the program's
    /// stderr are hidden before it is kept or shown (`quoted_values.rs`).
    pub hides_values: bool,
}

/// A running `exec` step.
#[derive(Debug)]
pub struct ExecStep {
    number: usize,
    label: String,
    cmd: String,
    declared: SchemaRef,
    slice: RunningSlice,
    memory_bytes: u64,
    to_stdin: Option<SyncSender<RecordBatch>>,
    in_flight: usize,
    in_flight_max: usize,
    events: Receiver<Event>,
    stdin_open: bool,
    stdin_failure: Option<String>,
    rows_unread: u64,
    stdout_open: bool,
    stdout_failure: Option<String>,
    stderr: Option<JoinHandle<StderrLines>>,
    stderr_lines: Vec<String>,
    ready: Emitted,
}

/// What the helper threads report.
enum Event {
    /// The writer wrote one batch to stdin.
    Written,
    /// The writer is done: `Err` when it could not write everything.
    StdinEnded(Result<(), StdinFailure>),
    Output(SourceBatch),
    OutputFailed(EngineError),
    OutputEnded,
}

enum StdinFailure {
    /// The program closed its stdin before reading everything.
    ProgramStoppedReading,
    Other(String),
}

#[derive(Debug, Default)]
struct StderrLines {
    kept: Vec<String>,
    tail: VecDeque<String>,
    dropped: u64,
}

impl ExecStep {
    /// Starts the step's program with `input` as the schema of its rows.
    pub fn start(
        step: &Step,
        input: &SchemaRef,
        settings: &ExecSettings<'_>,
    ) -> Result<Self, EngineError> {
        let StepKind::Exec {
            cmd,
            format,
            network,
            origin,
        } = &step.kind
        else {
            unreachable!("ExecStep::start is called for exec steps only");
        };
        let fail = |message: String| EngineError::Step {
            step: step.number,
            label: step.label.clone(),
            message,
        };
        let (step_dir, cmd) = working_dir_and_command(settings.base_dir, cmd, origin);
        let limits = slice_limits(&settings.resources);
        let mut spec = SliceSpec::new(SHELL);
        spec.args = vec!["-c".into(), cmd.clone().into()];
        spec.env = vec![
            ("PATH".into(), PROGRAM_PATH.into()),
            ("HOME".into(), "/tmp".into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("RUNINK_STEP".into(), step.label.clone().into()),
            ("RUNINK_FORMAT".into(), format.as_str().into()),
        ];
        spec.binds_ro = PROGRAM_DIRS
            .iter()
            .map(PathBuf::from)
            .filter(|p| p.exists())
            .collect();
        spec.binds_ro_at = vec![(step_dir.clone(), PathBuf::from(STEP_DIR_INSIDE))];
        spec.workdir = PathBuf::from(STEP_DIR_INSIDE);
        spec.network = *network;
        spec.limits = limits;
        spec.stdin = Stdio::Piped;
        spec.stdout = Stdio::Piped;
        spec.stderr = Stdio::Piped;
        spec.pipe_buffer_bytes = Some(PIPE_BUFFER_BYTES);
        let started = match settings.isolation {
            Isolation::Slice => Slice::spawn(&spec),
            Isolation::None => {
                tracing::warn!(
                    step = step.number,
                    "`--isolation none`: the program of step {} (`{}`) runs unconfined, with no limits",
                    step.number,
                    step.label
                );
                Slice::spawn_unconfined(&spec)
            }
        };
        let mut slice = started.map_err(|e| match e {
            SliceError::Unsupported { .. } => EngineError::Isolation(e.to_string()),
            SliceError::Path { .. } => fail(format!(
                "cannot give the program the folder `{}`: {e}",
                step_dir.display()
            )),
            other => EngineError::Isolation(format!(
                "cannot start the program of step {} (`{}`) as a slice: {other}",
                step.number, step.label
            )),
        })?;
        let in_flight_max = settings.limits.queue_len_max.max(1);
        let (events_out, events) = sync_channel(in_flight_max * 2 + 2);
        let (to_stdin, batches) = sync_channel(in_flight_max);
        let stdin = slice.stdin.take().expect("stdin is piped");
        let stdout = slice.stdout.take().expect("stdout is piped");
        let stderr = slice.stderr.take().expect("stderr is piped");
        let declared = declared_schema(input, settings.output_columns);
        let input_schema = SchemaRef::clone(input);
        let format = *format;
        let writer_events = events_out.clone();
        std::thread::spawn(move || {
            feed_stdin(stdin, format, &input_schema, &batches, &writer_events);
        });
        let origin_name = format!("the output of step {} (`{}`)", step.number, step.label);
        let output_columns: Vec<(String, LogicalType)> = declared
            .fields()
            .iter()
            .map(|f| {
                let kind = settings
                    .column_kinds
                    .iter()
                    .find(|(name, _)| name == f.name())
                    .map_or(LogicalType::String, |(_, kind)| *kind);
                (f.name().clone(), kind)
            })
            .collect();
        let limits_copy = settings.limits;
        std::thread::spawn(move || {
            read_stdout(
                stdout,
                format,
                &output_columns,
                &origin_name,
                &limits_copy,
                &events_out,
            );
        });
        let label = step.label.clone();
        let hides_values = settings.hides_values;
        let stderr = std::thread::spawn(move || capture_stderr(stderr, &label, hides_values));
        Ok(Self {
            number: step.number,
            label: step.label.clone(),
            cmd,
            declared,
            slice,
            memory_bytes: limits.memory_bytes,
            to_stdin: Some(to_stdin),
            in_flight: 0,
            in_flight_max,
            events,
            stdin_open: true,
            stdin_failure: None,
            rows_unread: 0,
            stdout_open: true,
            stdout_failure: None,
            stderr: Some(stderr),
            stderr_lines: Vec::new(),
            ready: Emitted::default(),
        })
    }

    /// The columns the program may emit.
    pub fn declared_schema(&self) -> SchemaRef {
        SchemaRef::clone(&self.declared)
    }

    /// Hands one batch to the program; output that is ready waits in
    /// [`ExecStep::take_ready`].
    pub fn push(&mut self, batch: RecordBatch) -> Result<(), EngineError> {
        while self.stdin_open && self.in_flight >= self.in_flight_max {
            let event = self
                .events
                .recv()
                .expect("the writer reports before it ends");
            self.handle(event)?;
        }
        let rows = batch.num_rows() as u64;
        let sent = self.stdin_open
            && self
                .to_stdin
                .as_ref()
                .is_some_and(|sender| sender.send(batch).is_ok());
        if sent {
            self.in_flight += 1;
        } else {
            // The program closed its stdin: these rows are never read.
            self.rows_unread += rows;
        }
        self.handle_ready_events()
    }

    /// Output the program has emitted so far, checked.
    pub fn take_ready(&mut self) -> Emitted {
        std::mem::take(&mut self.ready)
    }

    /// Closes the program's stdin, reads the rest of its output and waits
    /// for it. A non-zero exit, a kill or unreadable output fails the step.
    pub fn finish(&mut self) -> Result<Emitted, EngineError> {
        drop(self.to_stdin.take());
        while self.stdin_open || self.stdout_open {
            match self.events.recv_timeout(EXIT_POLL) {
                Ok(event) => self.handle(event)?,
                // Once the program has exited, what it left running in the
                // background is killed, so its pipes close (in a slice,
                // its pid namespace ends with it anyway).
                Err(RecvTimeoutError::Timeout) => {
                    self.slice.has_ended().map_err(|e| {
                        EngineError::Isolation(format!("cannot wait for step {}: {e}", self.number))
                    })?;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let exit = self.slice.wait().map_err(|e| {
            EngineError::Isolation(format!("cannot wait for step {}: {e}", self.number))
        })?;
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        self.stderr_lines = stderr.kept.clone();
        if stderr.dropped > 0 {
            self.stderr_lines.push(format!(
                "… {} more lines of stderr not kept (`STDERR_LINES_KEPT_MAX` is {STDERR_LINES_KEPT_MAX})",
                stderr.dropped
            ));
        }
        if let Some(message) = self.exit_failure(&exit, &stderr.tail) {
            return Err(EngineError::StepFailed {
                step: self.number,
                label: self.label.clone(),
                message,
            });
        }
        if let Some(message) = self.stdout_failure.take().or(self.stdin_failure.take()) {
            return Err(EngineError::StepFailed {
                step: self.number,
                label: self.label.clone(),
                message,
            });
        }
        if self.rows_unread > 0 {
            tracing::warn!(
                step = self.number,
                rows = self.rows_unread,
                "the program of step {} (`{}`) closed its stdin early; {} rows were not read",
                self.number,
                self.label,
                self.rows_unread
            );
        }
        Ok(std::mem::take(&mut self.ready))
    }

    /// The program's stderr, once it has ended.
    pub fn take_stderr(&mut self) -> Vec<String> {
        std::mem::take(&mut self.stderr_lines)
    }

    fn exit_failure(&self, exit: &SliceExit, tail: &VecDeque<String>) -> Option<String> {
        let stderr = if tail.is_empty() {
            "; it wrote nothing on stderr".to_owned()
        } else {
            let lines: Vec<&str> = tail.iter().map(String::as_str).collect();
            format!("; the last lines of its stderr:\n  {}", lines.join("\n  "))
        };
        let what = format!("`{}`", self.cmd);
        crate::slice_exit::exit_failure(exit, &what, self.memory_bytes, &stderr)
    }

    fn handle_ready_events(&mut self) -> Result<(), EngineError> {
        loop {
            match self.events.try_recv() {
                Ok(event) => self.handle(event)?,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return Ok(()),
            }
        }
    }

    fn handle(&mut self, event: Event) -> Result<(), EngineError> {
        match event {
            Event::Written => self.in_flight = self.in_flight.saturating_sub(1),
            Event::StdinEnded(result) => {
                self.stdin_open = false;
                match result {
                    Ok(()) | Err(StdinFailure::ProgramStoppedReading) => {}
                    Err(StdinFailure::Other(message)) => {
                        self.stdin_failure = Some(format!(
                            "cannot write the step's rows to `{}`: {message}",
                            self.cmd
                        ));
                    }
                }
            }
            Event::Output(batch) => self.take_output(batch)?,
            Event::OutputFailed(error) => {
                self.stdout_open = false;
                self.stdout_failure = Some(format!(
                    "`{}` emitted output that cannot be read: {error}",
                    self.cmd
                ));
            }
            Event::OutputEnded => self.stdout_open = false,
        }
        Ok(())
    }

    fn take_output(&mut self, output: SourceBatch) -> Result<(), EngineError> {
        let SourceBatch {
            batch, lines, bad, ..
        } = output;
        for record in bad {
            self.ready.rejects.push(EmittedReject {
                line: record.line,
                rule: "exec_output",
                field: String::new(),
                message: record.message,
                fields: record.fields,
            });
        }
        let conformed =
            conform(&batch, &self.declared).map_err(|message| EngineError::StepFailed {
                step: self.number,
                label: self.label.clone(),
                message,
            })?;
        for reject in conformed.rejects {
            // The whole row as the program emitted it, not only the field.
            let fields = crate::dlq::row_texts(&batch, reject.row);
            self.ready.rejects.push(EmittedReject {
                line: lines[reject.row],
                rule: "cast",
                field: reject.field,
                message: reject.message,
                fields,
            });
        }
        if conformed.batch.num_rows() > 0 {
            self.ready.batches.push(conformed.batch);
        }
        Ok(())
    }
}

/// The folder the program runs in (the one that defines the step) and the
/// command to run there. A registry executable runs as `./NAME`.
fn working_dir_and_command(base_dir: &Path, cmd: &str, origin: &StepOrigin) -> (PathBuf, String) {
    match origin {
        StepOrigin::Inline => (base_dir.to_path_buf(), cmd.to_owned()),
        StepOrigin::Registry { path, .. } => {
            let file = base_dir.join(path);
            let folder = file.parent().unwrap_or(base_dir).to_path_buf();
            let cmd = if cmd == path {
                let name = file.file_name().unwrap_or_default().to_string_lossy();
                format!("'./{}'", name.replace('\'', "'\\''"))
            } else {
                cmd.to_owned()
            };
            (folder, cmd)
        }
    }
}

/// The slice's cgroup limits from the step group's resources; what is not
/// asked for keeps the slice defaults.
pub fn slice_limits(resources: &Resources) -> runink_slice::Limits {
    let defaults = runink_slice::Limits::default();
    runink_slice::Limits {
        memory_bytes: resources.memory_bytes.unwrap_or(defaults.memory_bytes),
        pids_max: resources.pids_max.unwrap_or(defaults.pids_max),
        cpu_millis: resources.cpu_millis.map_or(defaults.cpu_millis, |m| {
            u32::try_from(m).unwrap_or(u32::MAX)
        }),
    }
}

fn feed_stdin(
    stdin: std::io::PipeWriter,
    format: ExecFormat,
    schema: &SchemaRef,
    batches: &Receiver<RecordBatch>,
    events: &SyncSender<Event>,
) {
    let result = (|| {
        let out = BufWriter::with_capacity(STDIN_BUFFER_BYTES, stdin);
        let mut encoder = RowEncoder::new(format, schema, out)?;
        for batch in batches {
            encoder.write(&batch)?;
            encoder.flush()?;
            if events.send(Event::Written).is_err() {
                return Ok(());
            }
        }
        encoder.finish()?;
        Ok(())
    })();
    let result = result.map_err(|e: arrow::error::ArrowError| match &e {
        arrow::error::ArrowError::IoError(_, io) if io.kind() == std::io::ErrorKind::BrokenPipe => {
            StdinFailure::ProgramStoppedReading
        }
        arrow::error::ArrowError::IoError(_, io) => StdinFailure::Other(io.to_string()),
        _ => StdinFailure::Other(e.to_string()),
    });
    let _ = events.send(Event::StdinEnded(result));
}

fn read_stdout(
    stdout: std::io::PipeReader,
    format: ExecFormat,
    columns: &[(String, LogicalType)],
    origin: &str,
    limits: &Limits,
    events: &SyncSender<Event>,
) {
    let input = BufReader::with_capacity(1 << 20, stdout);
    let reader = match format {
        ExecFormat::Jsonl => {
            let names: Vec<String> = columns.iter().map(|(name, _)| name.clone()).collect();
            Ok(SourceReader::Jsonl(
                JsonlReader::new(input, Some(&names), origin, limits)
                    .rejecting_undeclared_fields()
                    .with_column_kinds(columns.to_vec()),
            ))
        }
        ExecFormat::Csv => {
            let options = CsvOptions {
                delimiter: b',',
                quote: b'"',
                escape: None,
                header: true,
            };
            CsvReader::new(input, &options, None, origin, limits).map(SourceReader::Csv)
        }
        ExecFormat::Arrow => {
            TypedReader::arrow_ipc(Box::new(input), origin).map(SourceReader::Typed)
        }
    };
    let mut reader = match reader {
        Ok(reader) => reader,
        Err(e) => {
            let _ = events.send(Event::OutputFailed(e));
            return;
        }
    };
    loop {
        match reader.next_batch() {
            Ok(Some(batch)) => {
                if events.send(Event::Output(batch)).is_err() {
                    return;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = events.send(Event::OutputFailed(e));
                return;
            }
        }
    }
    let _ = events.send(Event::OutputEnded);
}

fn capture_stderr(stderr: std::io::PipeReader, label: &str, hides_values: bool) -> StderrLines {
    let mut lines = StderrLines::default();
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = std::io::Read::take(&mut reader, STDERR_LINE_BYTES_MAX as u64)
            .read_until(b'\n', &mut line);
        match read {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.last() != Some(&b'\n') {
            // Cut: skip the rest of the line.
            let mut rest = Vec::new();
            let _ = reader.read_until(b'\n', &mut rest);
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        let text = match hides_values {
            true => crate::quoted_values::hide_quoted_text(&text),
            false => text,
        };
        tracing::info!(target: "runink::exec", step = label, "{text}");
        if lines.tail.len() == STDERR_TAIL_LINES {
            lines.tail.pop_front();
        }
        lines.tail.push_back(text.clone());
        if lines.kept.len() < STDERR_LINES_KEPT_MAX {
            lines.kept.push(text);
        } else {
            lines.dropped += 1;
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use runink_model::Sha256Hex;

    use super::*;

    #[test]
    fn inline_steps_run_in_the_scenario_folder_and_registry_ones_in_theirs() {
        let base = Path::new("/data/scenario");
        let (dir, cmd) = working_dir_and_command(base, "python3 enrich.py", &StepOrigin::Inline);
        assert_eq!((dir.as_path(), cmd.as_str()), (base, "python3 enrich.py"));
        let registry = StepOrigin::Registry {
            name: "Enrich".to_owned(),
            path: "steps/Enrich".to_owned(),
            hash: Sha256Hex::from_digest(&[0; 32]),
        };
        let (dir, cmd) = working_dir_and_command(base, "steps/Enrich", &registry);
        assert_eq!(dir, Path::new("/data/scenario/steps"));
        assert_eq!(cmd, "'./Enrich'");
        let (_, cmd) = working_dir_and_command(base, "python3 enrich.py", &registry);
        assert_eq!(cmd, "python3 enrich.py");
    }

    #[test]
    fn limits_come_from_the_slice_s_resources_or_the_defaults() {
        let limits = slice_limits(&Resources {
            memory_bytes: Some(64 << 20),
            ..Resources::default()
        });
        assert_eq!(limits.memory_bytes, 64 << 20);
        assert_eq!(limits.pids_max, runink_slice::Limits::default().pids_max);
    }
}
