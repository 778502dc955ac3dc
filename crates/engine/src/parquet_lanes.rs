//! A Parquet writer that encodes a file's columns on several threads.
//!
//! Encoding and compressing columns (zstd above all) is the costliest part
//! of a typical run, and done by one thread it paces the whole pipeline:
//! in workload W the sink's thread was busy 90 to 100% of the time while
//! the cores still had 15 to 20% to spare. A file's columns are encoded
//! independently, so they are dealt to *lanes*: the sink's own thread
//! encodes the first lane's columns, one helper thread each of the others.
//! Row groups are cut at `row_group_rows_max` rows and their column chunks
//! written in schema order, so the file is the one `ArrowWriter` writes.
//!
//! Columns are dealt again at each row group, the costliest first, each to
//! the lane with the least so far: the first row group by each column's
//! bytes in the first batch, the next ones by the time each column took to
//! encode in the row group before (a hashed email compresses slowly, a
//! currency's dictionary fast, whatever their sizes). A helper is sent each
//! batch (a reference, not a copy) through a queue of [`LANE_QUEUE_LEN`]
//! batches; the sink's thread waits there when a helper falls behind.

use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Instant;

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::{Fields, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves,
};
use parquet::errors::{ParquetError, Result};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;

/// Batches queued for one helper lane. A helper that falls behind makes the
/// sink's thread wait; two let either side briefly run ahead.
pub(crate) const LANE_QUEUE_LEN: usize = 2;

/// One column's writers in a lane: one per Parquet leaf (a struct or list
/// column has several), with the leaf's index in the Parquet schema.
struct ColumnWriters {
    column: usize,
    leaves: Vec<(usize, ArrowColumnWriter)>,
    /// Time spent encoding this column in the row group, in nanoseconds.
    busy_nanos: u64,
}

/// The columns one lane encodes in the row group being written.
type LaneWriters = Vec<ColumnWriters>;

/// What closing a lane's columns gives: the chunks by leaf index, and the
/// time each column took (by column index).
#[derive(Default)]
struct LaneClosed {
    chunks: Vec<(usize, ArrowColumnChunk)>,
    busy_nanos: Vec<(usize, u64)>,
}

pub(crate) struct ParquetLanesWriter<W: Write + Send> {
    file: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    fields: Fields,
    row_group_rows_max: usize,
    lanes: usize,
    /// Per column: how many Parquet leaves it has.
    leaf_counts: Vec<usize>,
    /// Per column: the time it took to encode in the last row group, once
    /// one has been written.
    costs: Option<Vec<u64>>,
    /// The row group being written: its rows so far and the sink thread's
    /// own writers. `None` between row groups.
    in_progress: Option<(usize, LaneWriters)>,
    /// One per lane after the first, started with the first row group.
    helpers: Vec<Helper>,
}

impl<W: Write + Send> std::fmt::Debug for ParquetLanesWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetLanesWriter")
            .field("lanes", &self.lanes)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send + 'static> ParquetLanesWriter<W> {
    /// A writer of `schema` to `out` that encodes on at most `lanes_max`
    /// threads (the caller's included). Row groups are cut by the
    /// properties' row count (`max_row_group_row_count`), which must be set.
    pub fn try_new(
        out: W,
        schema: SchemaRef,
        properties: WriterProperties,
        lanes_max: usize,
    ) -> Result<Self> {
        let row_group_rows_max = properties
            .max_row_group_row_count()
            .ok_or_else(|| ParquetError::General("no row group size".into()))?
            .max(1);
        let fields = schema.fields().clone();
        // `ArrowWriter` embeds the Arrow schema in the file's metadata, so
        // readers get back the same types (time zones, large strings).
        let (file, factory) =
            ArrowWriter::try_new(out, schema, Some(properties))?.into_serialized_writer()?;
        let descriptor = file.schema_descr();
        let mut leaf_counts = vec![0; fields.len()];
        for leaf in 0..descriptor.num_columns() {
            let root = descriptor.get_column_root_idx(leaf);
            let count = leaf_counts.get_mut(root).ok_or_else(|| {
                ParquetError::General(format!("leaf {leaf} has no column ({root})"))
            })?;
            *count += 1;
        }
        Ok(Self {
            file,
            factory,
            lanes: lanes_max.clamp(1, fields.len().max(1)),
            fields,
            row_group_rows_max,
            leaf_counts,
            costs: None,
            in_progress: None,
            helpers: Vec::new(),
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let written = self.in_progress.as_ref().map_or(0, |(rows, _)| *rows);
        let room = self.row_group_rows_max - written;
        if batch.num_rows() > room {
            self.write(&batch.slice(0, room))?;
            return self.write(&batch.slice(room, batch.num_rows() - room));
        }
        if self.in_progress.is_none() {
            self.start_row_group(batch)?;
        }
        for helper in &mut self.helpers {
            helper.send(Job::Write(batch.clone()))?;
        }
        let Some((rows, own)) = &mut self.in_progress else {
            return Err(ParquetError::General("no row group in progress".into()));
        };
        write_columns(own, batch, &self.fields)?;
        *rows += batch.num_rows();
        if *rows >= self.row_group_rows_max {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the last row group and the footer; returns the output.
    pub fn into_inner(mut self) -> Result<W> {
        self.flush()?;
        for helper in &mut self.helpers {
            helper.stop();
        }
        self.file.into_inner()
    }

    /// Deals the columns to the lanes and hands each lane its writers.
    fn start_row_group(&mut self, batch: &RecordBatch) -> Result<()> {
        while self.helpers.len() + 1 < self.lanes {
            self.helpers.push(Helper::spawn(self.fields.clone())?);
        }
        let costs = match &self.costs {
            Some(costs) => costs.clone(),
            None => batch
                .columns()
                .iter()
                .map(|c| slice_bytes(c.as_ref()))
                .collect(),
        };
        let lane_of = deal_by_cost(&costs, self.lanes);
        let index = self.file.flushed_row_groups().len();
        let mut writers = self
            .factory
            .create_column_writers(index)?
            .into_iter()
            .enumerate();
        let mut lanes: Vec<LaneWriters> = (0..self.lanes).map(|_| Vec::new()).collect();
        for (column, (&lane, &leaf_count)) in lane_of.iter().zip(&self.leaf_counts).enumerate() {
            let leaves: Vec<_> = writers.by_ref().take(leaf_count).collect();
            if leaves.len() != leaf_count {
                return Err(ParquetError::General(
                    "fewer column writers than leaves".into(),
                ));
            }
            lanes[lane].push(ColumnWriters {
                column,
                leaves,
                busy_nanos: 0,
            });
        }
        if writers.next().is_some() {
            return Err(ParquetError::General(
                "more column writers than leaves".into(),
            ));
        }
        let mut lanes = lanes.into_iter();
        let own = lanes.next().unwrap_or_default();
        for (helper, writers) in self.helpers.iter_mut().zip(lanes) {
            helper.send(Job::Start(writers))?;
        }
        self.in_progress = Some((0, own));
        Ok(())
    }

    /// Closes the row group in progress and writes its column chunks.
    fn flush(&mut self) -> Result<()> {
        let Some((_, own)) = self.in_progress.take() else {
            return Ok(());
        };
        let mut closed = close_columns(own)?;
        for helper in &mut self.helpers {
            let lane = helper.close()?;
            closed.chunks.extend(lane.chunks);
            closed.busy_nanos.extend(lane.busy_nanos);
        }
        let mut costs = vec![0; self.fields.len()];
        for (column, nanos) in closed.busy_nanos {
            if let Some(cost) = costs.get_mut(column) {
                *cost = nanos;
            }
        }
        self.costs = Some(costs);
        closed.chunks.sort_unstable_by_key(|(leaf, _)| *leaf);
        let mut row_group = self.file.next_row_group()?;
        for (_, chunk) in closed.chunks {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        Ok(())
    }
}

/// The bytes `array` holds, not counting what it shares with the rest of
/// the buffers it is a slice of.
fn slice_bytes(array: &dyn Array) -> u64 {
    let data = array.to_data();
    let bytes = data
        .get_slice_memory_size()
        .unwrap_or_else(|_| array.get_array_memory_size());
    u64::try_from(bytes).unwrap_or(u64::MAX)
}

/// Deals columns to `lanes` lanes, the costliest first, each to the lane
/// with the least so far (the fewest columns on a tie); returns each
/// column's lane. With at least as many columns as lanes, every lane gets
/// one.
fn deal_by_cost(costs: &[u64], lanes: usize) -> Vec<usize> {
    let lanes = lanes.max(1);
    let mut order: Vec<usize> = (0..costs.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(costs[i]), i));
    let mut load = vec![0u64; lanes];
    let mut count = vec![0usize; lanes];
    let mut lane_of = vec![0; costs.len()];
    for i in order {
        let lightest = (0..lanes)
            .min_by_key(|&l| (load[l], count[l], l))
            .unwrap_or(0);
        load[lightest] = load[lightest].saturating_add(costs[i]);
        count[lightest] += 1;
        lane_of[i] = lightest;
    }
    lane_of
}

fn write_columns(lane: &mut LaneWriters, batch: &RecordBatch, fields: &Fields) -> Result<()> {
    for writers in lane {
        let started = Instant::now();
        let column = writers.column;
        let arrays = compute_leaves(&fields[column], batch.column(column))?;
        if arrays.len() != writers.leaves.len() {
            return Err(ParquetError::General(format!(
                "column `{}` has {} leaves, expected {}",
                fields[column].name(),
                arrays.len(),
                writers.leaves.len()
            )));
        }
        for ((_, writer), array) in writers.leaves.iter_mut().zip(&arrays) {
            writer.write(array)?;
        }
        writers.busy_nanos += elapsed_nanos(started);
    }
    Ok(())
}

fn close_columns(lane: LaneWriters) -> Result<LaneClosed> {
    let mut closed = LaneClosed::default();
    for writers in lane {
        let started = Instant::now();
        for (leaf, writer) in writers.leaves {
            closed.chunks.push((leaf, writer.close()?));
        }
        let busy = writers.busy_nanos + elapsed_nanos(started);
        closed.busy_nanos.push((writers.column, busy));
    }
    Ok(closed)
}

fn elapsed_nanos(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

enum Job {
    /// The lane's writers for a new row group.
    Start(LaneWriters),
    Write(RecordBatch),
    /// Close the row group's writers and hand back their chunks.
    Close,
}

/// A helper lane: a thread that owns some columns' writers.
struct Helper {
    jobs: Option<SyncSender<Job>>,
    /// One message per `Close`, or the error that stopped the thread.
    chunks: Receiver<Result<LaneClosed>>,
    thread: Option<JoinHandle<()>>,
}

impl Helper {
    fn spawn(fields: Fields) -> Result<Self> {
        let (jobs, received) = sync_channel(LANE_QUEUE_LEN);
        let (done, chunks) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("sink parquet lane".into())
            .spawn(move || encode_lane(&received, &done, &fields))
            .map_err(|e| ParquetError::External(Box::new(e)))?;
        Ok(Self {
            jobs: Some(jobs),
            chunks,
            thread: Some(thread),
        })
    }

    fn send(&mut self, job: Job) -> Result<()> {
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok());
        if sent {
            return Ok(());
        }
        // The thread stopped on an error: it left it in `chunks`.
        Err(self.stopped_because())
    }

    fn close(&mut self) -> Result<LaneClosed> {
        self.send(Job::Close)?;
        self.chunks.recv().map_err(|_| self.stopped_because())?
    }

    fn stopped_because(&mut self) -> ParquetError {
        match self.chunks.try_recv() {
            Ok(Err(error)) => error,
            _ => ParquetError::General("a Parquet encoding thread stopped early".into()),
        }
    }

    fn stop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A helper's loop: encodes its columns of every batch; on `Close` hands
/// back their chunks. Stops at the first error, which it hands back.
fn encode_lane(jobs: &Receiver<Job>, done: &SyncSender<Result<LaneClosed>>, fields: &Fields) {
    let mut writers = LaneWriters::new();
    for job in jobs {
        let outcome = match job {
            Job::Start(new) => {
                writers = new;
                Ok(None)
            }
            Job::Write(batch) => write_columns(&mut writers, &batch, fields).map(|()| None),
            Job::Close => close_columns(std::mem::take(&mut writers)).map(Some),
        };
        match outcome {
            Ok(None) => {}
            Ok(Some(chunks)) => {
                if done.send(Ok(chunks)).is_err() {
                    return;
                }
            }
            Err(error) => {
                let _ = done.send(Err(error));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, Int64Array, StringArray, StructArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use std::sync::Arc;

    /// `rows` rows of four columns, one of them a struct of two leaves.
    fn batch(first: i64, rows: i64) -> RecordBatch {
        let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(first..first + rows));
        let names: ArrayRef = Arc::new(StringArray::from_iter_values(
            (first..first + rows).map(|i| format!("name-{i}-{}", "x".repeat((i % 7) as usize))),
        ));
        let point = StructArray::from(vec![
            (
                Arc::new(Field::new("x", DataType::Int64, false)),
                Arc::new(Int64Array::from_iter_values(
                    (first..first + rows).map(|i| i * 2),
                )) as ArrayRef,
            ),
            (
                Arc::new(Field::new("label", DataType::Utf8, true)),
                Arc::new(StringArray::from_iter(
                    (first..first + rows).map(|i| (i % 3 != 0).then(|| format!("p{i}"))),
                )) as ArrayRef,
            ),
        ]);
        let cents: ArrayRef = Arc::new(Int64Array::from_iter(
            (first..first + rows).map(|i| (i % 5 != 0).then_some(i * 100)),
        ));
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, false),
            Field::new("point", point.data_type().clone(), false),
            Field::new("cents", DataType::Int64, true),
        ]));
        RecordBatch::try_new(schema, vec![ids, names, Arc::new(point), cents]).unwrap()
    }

    /// Writes `batches` with `lanes` lanes and row groups of 1,000 rows;
    /// returns the rows read back and the row groups' sizes.
    fn write_and_read(batches: &[RecordBatch], lanes: usize) -> (Vec<RecordBatch>, Vec<i64>) {
        let properties = WriterProperties::builder()
            .set_max_row_group_row_count(Some(1_000))
            .build();
        let out = tempfile::tempfile().unwrap();
        let mut writer = ParquetLanesWriter::try_new(
            out.try_clone().unwrap(),
            batches[0].schema(),
            properties,
            lanes,
        )
        .unwrap();
        for batch in batches {
            writer.write(batch).unwrap();
        }
        writer.into_inner().unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(out).unwrap();
        let groups = reader
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        let read = reader.build().unwrap().map(Result::unwrap).collect();
        (read, groups)
    }

    #[test]
    fn every_lane_count_writes_the_same_rows_in_the_same_row_groups() {
        // Batches that straddle row groups, and an empty one.
        let batches = [
            batch(0, 700),
            batch(700, 0),
            batch(700, 1_900),
            batch(2_600, 5),
        ];
        let expected = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
        for lanes in [1, 2, 3, 8] {
            let (read, groups) = write_and_read(&batches, lanes);
            let read = arrow::compute::concat_batches(&expected.schema(), &read).unwrap();
            assert_eq!(read, expected, "{lanes} lanes");
            assert_eq!(groups, vec![1_000, 1_000, 605], "{lanes} lanes");
        }
    }

    #[test]
    fn the_costliest_columns_are_dealt_first_to_the_lightest_lane() {
        // 68 opens lane 0 and 34 lane 1; lane 1 takes the next until it
        // passes 68, then the two alternate.
        let costs = [16, 68, 8, 7, 6, 8, 34, 8];
        let lane_of = deal_by_cost(&costs, 2);
        let load = |lane| -> u64 {
            costs
                .iter()
                .zip(&lane_of)
                .filter(|(_, l)| **l == lane)
                .map(|(c, _)| c)
                .sum()
        };
        assert_eq!(lane_of[1], 0, "the costliest column opens lane 0");
        assert_eq!((load(0), load(1)), (75, 80));
    }

    #[test]
    fn every_lane_gets_a_column_when_there_are_enough() {
        assert_eq!(deal_by_cost(&[5, 9], 2), vec![1, 0]);
        assert_eq!(deal_by_cost(&[0, 0, 0], 3), vec![0, 1, 2]);
        assert_eq!(deal_by_cost(&[3, 3, 3], 1), vec![0, 0, 0]);
        assert!(deal_by_cost(&[], 4).is_empty());
    }
}
