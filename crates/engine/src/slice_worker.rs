//! The inside of a built-in slice: `runi slice-worker` runs this in a
//! confined process. It reads a job and batches from stdin, runs the
//! slice's steps over them exactly as a run in one process would, and
//! writes the answers to stdout (`slice_messages.rs`).

use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, RecordBatch, UInt32Array};
use arrow::compute::filter;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::prelude::SessionContext;
use runink_contract::{MaskKeys, Masker, TOKEN_KEY_BYTES};

use crate::EngineError;
use crate::Isolation;
use crate::body_pool::BodyPool;
use crate::exec_step::ExecSettings;
use crate::limits::Limits;
use crate::slice_frames::{FRAME_IO_BUFFER_BYTES, FrameOut, read_frame, write_frame};
use crate::slice_messages::{
    Confinement, FromSlice, INPUT_ROW_COLUMN, SliceJob, SliceReject, StepTally, ToSlice,
};
use crate::steps::{Kept, PlannedStep, StepContext};

/// How serving a slice ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Served {
    /// Every step finished and the parent has every answer.
    Finished,
    /// A step failed, and the parent was told why.
    FailureReported,
}

/// Serves one slice over `input` and `output` until the parent's end. An
/// error is returned only when the pipes themselves fail.
pub fn serve_step_slice(
    input: impl Read,
    mut output: impl FrameOut,
) -> Result<Served, EngineError> {
    let mut input = BufReader::with_capacity(FRAME_IO_BUFFER_BYTES, input);
    match serve(&mut input, &mut output) {
        Ok(()) => Ok(Served::Finished),
        Err(Failure::Step(error)) => {
            let (step, label, message, on_rows) = match error {
                EngineError::Step {
                    step,
                    label,
                    message,
                } => (step, label, message, false),
                EngineError::StepFailed {
                    step,
                    label,
                    message,
                } => (step, label, message, true),
                other => (0, String::new(), other.to_string(), false),
            };
            let failed = FromSlice::Failed {
                step,
                label,
                message,
                on_rows,
            };
            write_frame(&mut output, &failed, None).map_err(pipe_failure)?;
            Ok(Served::FailureReported)
        }
        Err(Failure::Pipe(error)) => Err(pipe_failure(error)),
    }
}

fn pipe_failure(error: io::Error) -> EngineError {
    EngineError::Isolation(format!(
        "a slice of built-in steps lost its pipe to the run: {error}"
    ))
}

enum Failure {
    Step(EngineError),
    Pipe(io::Error),
}

impl From<EngineError> for Failure {
    fn from(error: EngineError) -> Self {
        Self::Step(error)
    }
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        Self::Pipe(error)
    }
}

fn serve(input: &mut impl Read, output: &mut impl FrameOut) -> Result<(), Failure> {
    let bodies = BodyPool::new();
    let Some((ToSlice::Job(job), Some(schema_batch))) = read_frame::<_, ToSlice>(input, &bodies)?
    else {
        return Err(Failure::Pipe(io::Error::other(
            "the first frame is not a job with the input's schema",
        )));
    };
    let mut worker = Worker::plan(&job, &schema_batch.schema())?;
    let answered = answer_projection(&job, &worker)?;
    loop {
        match read_frame::<_, ToSlice>(input, &bodies)? {
            Some((ToSlice::Rows, Some(batch))) => {
                let rows_in = batch.num_rows();
                let rows = UInt32Array::from_iter_values(0..rows_in as u32);
                let (left, rejects) = worker.push(0, batch, Some(rows))?;
                let counts = worker.take_counts();
                let mut every_row = false;
                let body = left
                    .map(|(batch, rows)| {
                        let batch = match &answered {
                            Some(columns) => batch.project(columns).map_err(EngineError::from)?,
                            None => batch,
                        };
                        every_row = rows.as_ref().is_some_and(|r| is_every_row(r, rows_in));
                        match every_row {
                            true => Ok(batch),
                            false => with_input_rows(&batch, rows),
                        }
                    })
                    .transpose()?;
                let answer = FromSlice::Answer {
                    counts,
                    rejects,
                    every_row,
                };
                write_frame(output, &answer, body.as_ref())?;
            }
            Some((ToSlice::End, _)) | None => break,
            Some((other, _)) => {
                return Err(Failure::Pipe(io::Error::other(format!(
                    "an unexpected frame: {other:?}"
                ))));
            }
        }
    }
    for index in 0..worker.steps.len() {
        let emitted = worker.steps[index].finish()?;
        for batch in emitted.batches {
            worker.counts[index].rows_out += batch.num_rows() as u64;
            let (left, rejects) = worker.push(index + 1, batch, None)?;
            let counts = worker.take_counts();
            let body = left.map(|(batch, _)| batch);
            write_frame(
                output,
                &FromSlice::Emitted { counts, rejects },
                body.as_ref(),
            )?;
        }
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let done = FromSlice::Done {
        counts: worker.take_counts(),
        confinement: Confinement::from_status(&status),
    };
    write_frame(output, &done, None)?;
    Ok(())
}

/// What one push through the steps gave: the rows that left the last step
/// (with their input positions, when they have them) and the rejects.
type Pushed = (Option<(RecordBatch, Option<UInt32Array>)>, Vec<SliceReject>);

/// The slice's steps, planned for their input schema.
struct Worker {
    steps: Vec<PlannedStep>,
    masker: Masker,
    counts: Vec<StepTally>,
}

impl Worker {
    fn plan(job: &SliceJob, input: &SchemaRef) -> Result<Self, EngineError> {
        let masker = Masker::new(mask_keys(job)?);
        let session = SessionContext::new();
        // The hashed columns each step writes as digests.
        let digests_of: Vec<Vec<String>> = (0..job.steps.len())
            .map(|step| {
                job.digests
                    .iter()
                    .filter(|(at, _)| *at == step)
                    .map(|(_, name)| name.clone())
                    .collect()
            })
            .collect();
        let mut context = StepContext {
            session: &session,
            sensitive: &job.sensitive,
            default_mask: job.default_mask,
            unique_keys_max: job.unique_keys_max,
            sql_rows_max: job.sql_rows_max,
            // Never used: a built-in slice holds no `exec` step.
            exec: ExecSettings {
                base_dir: Path::new("/"),
                limits: Limits::default(),
                output_columns: &[],
                column_kinds: &[],
                hides_values: false,
                resources: Default::default(),
                isolation: Isolation::Slice,
            },
            slices: &[],
            digests: &[],
        };
        let mut schema = Arc::clone(input);
        let mut steps = Vec::with_capacity(job.steps.len());
        for step in &job.steps {
            if !step.kind.is_trusted() {
                return Err(EngineError::Plan(format!(
                    "slice {}: step {} (`{}`) is not a built-in step",
                    job.slice, step.number, step.label
                )));
            }
            context.digests = &digests_of[steps.len()];
            let planned = PlannedStep::plan(step, &schema, &context)?;
            schema = Arc::clone(&planned.output_schema);
            steps.push(planned);
        }
        Ok(Self {
            counts: vec![StepTally::default(); steps.len()],
            steps,
            masker,
        })
    }

    /// Pushes a batch through the steps from `first`. `rows` says which
    /// input row each row is (none for rows emitted at the end). Returns
    /// the rows that left the last step, if any, and the rows rejected.
    fn push(
        &mut self,
        first: usize,
        batch: RecordBatch,
        mut rows: Option<UInt32Array>,
    ) -> Result<Pushed, EngineError> {
        let mut batch = batch;
        let mut rejects = Vec::new();
        for index in first..self.steps.len() {
            let rows_in = batch.num_rows() as u64;
            self.counts[index].rows_in += rows_in;
            // Arcs of the columns: a rejected row's fields come from here.
            let input = batch.clone();
            let Some(output) = self.steps[index].push(batch, &self.masker)? else {
                return Ok((None, rejects));
            };
            let rejected = output.rejects.len() as u64;
            for reject in output.rejects {
                rejects.push(SliceReject {
                    step_index: index,
                    input_row: rows.as_ref().map(|r| r.value(reject.row)),
                    fields: crate::dlq::row_texts(&input, reject.row),
                    field: reject.field,
                    value: reject.value,
                    message: reject.message,
                });
                self.counts[index].rows_rejected += 1;
            }
            let rows_out = output.batch.num_rows() as u64;
            let tally = &mut self.counts[index];
            tally.rows_out += rows_out;
            tally.rows_dropped += rows_in - rows_out - rejected;
            if let (Kept::Some(mask), Some(kept)) = (&output.kept, rows.as_ref()) {
                let mask = BooleanArray::new(mask.clone(), None);
                let filtered = filter(kept, &mask)?;
                rows = filtered.as_any().downcast_ref::<UInt32Array>().cloned();
            }
            batch = output.batch;
        }
        Ok((Some((batch, rows)), rejects))
    }

    fn take_counts(&mut self) -> Vec<StepTally> {
        let empty = vec![StepTally::default(); self.counts.len()];
        std::mem::replace(&mut self.counts, empty)
    }
}

/// The positions in the last step's output of the columns the job asks
/// answers to carry; `None` for all of them.
fn answer_projection(job: &SliceJob, worker: &Worker) -> Result<Option<Vec<usize>>, Failure> {
    let Some(names) = &job.answer_columns else {
        return Ok(None);
    };
    let Some(last) = worker.steps.last() else {
        return Err(Failure::Pipe(io::Error::other(
            "a job that names answer columns has no steps",
        )));
    };
    let schema = &last.output_schema;
    names
        .iter()
        .map(|name| {
            schema.index_of(name).map_err(|_| {
                Failure::Pipe(io::Error::other(format!(
                    "the job asks for a column `{name}` the steps do not give"
                )))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Whether `rows` are the positions 0, 1, ... of all `rows_in` rows.
fn is_every_row(rows: &UInt32Array, rows_in: usize) -> bool {
    rows.len() == rows_in && rows.values().iter().zip(0..).all(|(row, at)| *row == at)
}

/// The rows with their input positions appended as [`INPUT_ROW_COLUMN`].
fn with_input_rows(batch: &RecordBatch, rows: Option<UInt32Array>) -> Result<RecordBatch, Failure> {
    let rows = rows.ok_or_else(|| {
        Failure::Pipe(io::Error::other("rows from the input lost their positions"))
    })?;
    let mut fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(INPUT_ROW_COLUMN, DataType::UInt32, false));
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.push(Arc::new(rows));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| Failure::Step(EngineError::from(e)))
}

fn mask_keys(job: &SliceJob) -> Result<MaskKeys, EngineError> {
    let bad =
        |what: &str| EngineError::Plan(format!("slice {}: a bad {what} in its job", job.slice));
    let salt = hex::decode(&job.mask_salt_hex).map_err(|_| bad("masking salt"))?;
    let token_key: [u8; TOKEN_KEY_BYTES] = hex::decode(&job.token_key_hex)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| bad("token key"))?;
    Ok(MaskKeys { salt, token_key })
}

#[cfg(test)]
mod tests {
    use arrow::array::{Float64Array, Int64Array, StringArray};
    use runink_contract::MaskRule;
    use runink_plan::{Step, StepKind};

    use super::*;
    use crate::slice_frames::copied::CopiedFrames;

    fn step(number: usize, kind: StepKind) -> Step {
        Step {
            number,
            label: kind.name().to_owned(),
            kind,
            slice: 1,
            line: number,
        }
    }

    fn job(steps: Vec<Step>, unique_keys_max: usize) -> ToSlice {
        ToSlice::Job(Box::new(SliceJob {
            slice: 1,
            steps,
            sensitive: Vec::new(),
            default_mask: MaskRule::Hash,
            unique_keys_max,
            sql_rows_max: 1000,
            mask_salt_hex: hex::encode(b"salt"),
            token_key_hex: hex::encode([7u8; TOKEN_KEY_BYTES]),
            answer_columns: None,
            digests: Vec::new(),
        }))
    }

    fn rows() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("code", DataType::Utf8, true),
            Field::new("amount", DataType::Float64, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
                Arc::new(StringArray::from(vec!["1", "x", "3", "4"])),
                Arc::new(Float64Array::from(vec![5.0, 6.0, 0.0, 2.0])),
            ],
        )
        .unwrap()
    }

    /// Serves `frames` and returns what the slice answered.
    fn serve_frames(
        frames: &[(ToSlice, Option<RecordBatch>)],
    ) -> (Served, Vec<(FromSlice, Option<RecordBatch>)>) {
        let mut input = CopiedFrames::new(Vec::new());
        for (header, body) in frames {
            write_frame(&mut input, header, body.as_ref()).unwrap();
        }
        let input = input.into_inner();
        let mut output = CopiedFrames::new(Vec::new());
        let served = serve_step_slice(input.as_slice(), &mut output).unwrap();
        let output = output.into_inner();
        let mut answers = Vec::new();
        let mut reader = output.as_slice();
        let bodies = BodyPool::new();
        while let Some(frame) = read_frame::<_, FromSlice>(&mut reader, &bodies).unwrap() {
            answers.push(frame);
        }
        (served, answers)
    }

    #[test]
    fn a_batch_is_answered_with_its_rows_their_positions_counts_and_rejects() {
        let steps = vec![
            step(
                1,
                StepKind::Cast {
                    columns: vec![("code".to_owned(), "BIGINT".to_owned())],
                },
            ),
            step(
                2,
                StepKind::Filter {
                    predicate: "amount > 1".to_owned(),
                },
            ),
        ];
        let empty = RecordBatch::new_empty(rows().schema());
        let (served, answers) = serve_frames(&[
            (job(steps, 100), Some(empty)),
            (ToSlice::Rows, Some(rows())),
            (ToSlice::End, None),
        ]);
        assert_eq!(served, Served::Finished);
        assert_eq!(answers.len(), 2, "{answers:?}");
        let (
            FromSlice::Answer {
                counts,
                rejects,
                every_row: false,
            },
            Some(body),
        ) = &answers[0]
        else {
            panic!("not an answer with some rows: {:?}", answers[0]);
        };
        let tally = |rows_in, rows_out, rows_rejected, rows_dropped| StepTally {
            rows_in,
            rows_out,
            rows_rejected,
            rows_dropped,
        };
        assert_eq!(counts, &vec![tally(4, 3, 1, 0), tally(3, 2, 0, 1)]);
        assert_eq!(rejects.len(), 1);
        assert_eq!((rejects[0].step_index, rejects[0].input_row), (0, Some(1)));
        assert_eq!(rejects[0].value.as_deref(), Some("x"));
        let positions = body
            .column_by_name(INPUT_ROW_COLUMN)
            .unwrap()
            .as_any()
            .downcast_ref::<UInt32Array>()
            .unwrap();
        assert_eq!(positions.values().to_vec(), vec![0, 3]);
        assert_eq!(body.schema().field(1).data_type(), &DataType::Int64);
        assert!(matches!(answers[1].0, FromSlice::Done { .. }));
    }

    #[test]
    fn a_batch_whose_rows_all_leave_in_order_is_answered_without_positions() {
        let steps = vec![step(
            1,
            StepKind::Filter {
                predicate: "amount >= 0".to_owned(),
            },
        )];
        let empty = RecordBatch::new_empty(rows().schema());
        let (_, answers) = serve_frames(&[
            (job(steps, 100), Some(empty)),
            (ToSlice::Rows, Some(rows())),
            (ToSlice::End, None),
        ]);
        let (FromSlice::Answer { every_row, .. }, Some(body)) = &answers[0] else {
            panic!("not an answer with rows: {:?}", answers[0]);
        };
        assert!(every_row);
        assert_eq!(body.schema(), rows().schema());
        assert_eq!(body, &rows());
    }

    #[test]
    fn a_hash_the_job_asks_digests_of_is_answered_as_digests() {
        let steps = vec![
            step(
                1,
                StepKind::Mask {
                    fields: vec!["id".to_owned()],
                    explicit: true,
                },
            ),
            step(
                2,
                StepKind::Cast {
                    columns: vec![("code".to_owned(), "BIGINT".to_owned())],
                },
            ),
        ];
        let ToSlice::Job(mut job) = job(steps, 100) else {
            unreachable!("job() makes a job");
        };
        job.digests = vec![(0, "id".to_owned())];
        let masker = Masker::new(mask_keys(&job).unwrap());
        let empty = RecordBatch::new_empty(rows().schema());
        let (_, answers) = serve_frames(&[
            (ToSlice::Job(job), Some(empty)),
            (ToSlice::Rows, Some(rows())),
            (ToSlice::End, None),
        ]);
        let (FromSlice::Answer { rejects, .. }, Some(body)) = &answers[0] else {
            panic!("not an answer with rows: {:?}", answers[0]);
        };
        let ids = body.column(0).as_any().downcast_ref().unwrap();
        let ids = runink_contract::hex_digests(ids).unwrap();
        let expected: Vec<String> = ["1", "3", "4"]
            .iter()
            .map(|id| masker.mask_value(MaskRule::Hash, id))
            .collect();
        assert_eq!(ids.iter().flatten().collect::<Vec<_>>(), expected);
        // A row a later step rejects shows the hash as its text, as it
        // would without digests.
        let id = rejects[0].fields.iter().find(|(name, _)| name == "id");
        let hash = masker.mask_value(MaskRule::Hash, "2");
        assert_eq!(id, Some(&("id".to_owned(), Some(hash))));
    }

    #[test]
    fn answers_carry_only_the_columns_the_job_names_and_the_positions() {
        let filter = || {
            vec![step(
                1,
                StepKind::Filter {
                    predicate: "amount > 1".to_owned(),
                },
            )]
        };
        let empty = RecordBatch::new_empty(rows().schema());
        for (names, expected) in [
            (vec!["amount", "id"], vec!["amount", "id", INPUT_ROW_COLUMN]),
            (vec![], vec![INPUT_ROW_COLUMN]),
        ] {
            let ToSlice::Job(mut job) = job(filter(), 100) else {
                unreachable!("job() makes a job");
            };
            job.answer_columns = Some(names.iter().map(|n| (*n).to_owned()).collect());
            let (_, answers) = serve_frames(&[
                (ToSlice::Job(job), Some(empty.clone())),
                (ToSlice::Rows, Some(rows())),
                (ToSlice::End, None),
            ]);
            let (FromSlice::Answer { .. }, Some(body)) = &answers[0] else {
                panic!("not an answer with rows: {:?}", answers[0]);
            };
            let columns: Vec<&str> = body
                .schema_ref()
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            assert_eq!(columns, expected);
            assert_eq!(body.num_rows(), 3);
        }
    }

    #[test]
    fn a_job_that_names_a_column_its_steps_do_not_give_is_refused() {
        let filter = step(
            1,
            StepKind::Filter {
                predicate: "amount > 1".to_owned(),
            },
        );
        let ToSlice::Job(mut job) = job(vec![filter], 100) else {
            unreachable!("job() makes a job");
        };
        job.answer_columns = Some(vec!["nowhere".to_owned()]);
        let mut input = CopiedFrames::new(Vec::new());
        let empty = RecordBatch::new_empty(rows().schema());
        write_frame(&mut input, &ToSlice::Job(job), Some(&empty)).unwrap();
        let input = input.into_inner();
        let output = CopiedFrames::new(Vec::new());
        assert!(serve_step_slice(input.as_slice(), output).is_err());
    }

    #[test]
    fn a_sql_step_answers_empty_then_emits_at_the_end_through_later_steps() {
        let steps = vec![
            step(
                1,
                StepKind::Sql {
                    query: "SELECT id, amount FROM input ORDER BY id DESC".to_owned(),
                    origin: runink_plan::StepOrigin::Inline,
                },
            ),
            step(
                2,
                StepKind::Filter {
                    predicate: "amount > 1".to_owned(),
                },
            ),
        ];
        let empty = RecordBatch::new_empty(rows().schema());
        let (_, answers) = serve_frames(&[
            (job(steps, 100), Some(empty)),
            (ToSlice::Rows, Some(rows())),
            (ToSlice::End, None),
        ]);
        assert!(
            matches!(answers[0], (FromSlice::Answer { .. }, None)),
            "{answers:?}"
        );
        let emitted: Vec<i64> = answers
            .iter()
            .filter(|(h, _)| matches!(h, FromSlice::Emitted { .. }))
            .filter_map(|(_, body)| body.as_ref())
            .flat_map(|b| {
                let ids = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                ids.values().to_vec()
            })
            .collect();
        assert_eq!(emitted, vec![4, 2, 1]);
        assert!(matches!(answers.last().unwrap().0, FromSlice::Done { .. }));
    }

    #[test]
    fn a_failing_step_is_reported_with_its_number_and_message() {
        let steps = vec![step(
            3,
            StepKind::Dedupe {
                keys: vec!["id".to_owned()],
            },
        )];
        let empty = RecordBatch::new_empty(rows().schema());
        let (served, answers) = serve_frames(&[
            (job(steps, 2), Some(empty)),
            (ToSlice::Rows, Some(rows())),
            (ToSlice::End, None),
        ]);
        assert_eq!(served, Served::FailureReported);
        let Some((FromSlice::Failed { step, message, .. }, None)) = answers.last() else {
            panic!("no failure reported: {answers:?}");
        };
        assert_eq!(*step, 3);
        assert!(message.contains("unique_keys_max"), "{message}");
    }

    #[test]
    fn an_exec_step_is_refused() {
        let steps = vec![step(
            1,
            StepKind::Exec {
                cmd: "cat".to_owned(),
                format: runink_plan::ExecFormat::Jsonl,
                network: false,
                origin: runink_plan::StepOrigin::Inline,
            },
        )];
        let empty = RecordBatch::new_empty(rows().schema());
        let (served, answers) = serve_frames(&[(job(steps, 2), Some(empty))]);
        assert_eq!(served, Served::FailureReported);
        let Some((FromSlice::Failed { message, .. }, _)) = answers.last() else {
            panic!("no failure reported: {answers:?}");
        };
        assert!(message.contains("not a built-in step"), "{message}");
    }
}
