//! Arrow IPC throughput between two slices over a pipe, beside a raw pipe
//! between two slices and between two plain processes (the limit), measured
//! in the same run. Run through `bench/ipc/run.sh`.
//!
//! The same binary plays every part: `produce-ipc`/`produce-raw` write to
//! stdout (`produce-ipc-lent` lends the stream to the pipe a buffer at a
//! time with `vmsplice`, as built-in slices send their frames), `consume-ipc`/`consume-raw` read stdin to its end and print
//! `bytes rows seconds`, timed from the first byte read to the end.
//!
//! Every contender's producer runs on CPU 0 and its consumer on CPU 1 (the
//! affinity is set on the spawning thread and inherited), so that whether
//! the two ends share a core is the same for all; runs are interleaved
//! rounds, so drift in the machine's load hits each contender alike.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]
#![allow(unsafe_code)]

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use runink_slice::{LendingPipeWriter, Slice, SliceSpec, Stdio};

/// Rows per batch, as the engine's default `batch_rows_max`.
const BATCH_ROWS: usize = 65_536;
/// Buffer of each end's reader and writer.
const IO_BUFFER_BYTES: usize = 1 << 20;
/// The pipe's kernel buffer (`F_SETPIPE_SZ`).
const PIPE_BUFFER_BYTES: usize = 1 << 20;
/// Repetitions of each contender; the median is reported.
const REPEATS: usize = 7;
/// Where each end runs.
const PRODUCER_CPU: usize = 0;
const CONSUMER_CPU: usize = 1;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("produce-ipc") => produce_ipc(args[2].parse().unwrap()),
        Some("produce-ipc-lent") => produce_ipc_lent(args[2].parse().unwrap()),
        Some("produce-raw") => produce_raw(args[2].parse().unwrap()),
        Some("consume-ipc") => consume(true),
        Some("consume-raw") => consume(false),
        _ => compare(
            std::env::var("BYTES")
                .ok()
                .and_then(|b| b.parse().ok())
                .unwrap_or(2u64 << 30),
        ),
    }
}

fn orders_batch() -> RecordBatch {
    let ids: Vec<i64> = (0..BATCH_ROWS as i64).collect();
    let amounts: Vec<f64> = ids.iter().map(|i| (*i % 10_000) as f64 / 7.0).collect();
    let customers: Vec<String> = ids
        .iter()
        .map(|i| format!("CUST-{:06}", i % 50_000))
        .collect();
    let schema = Schema::new(vec![
        Field::new("order_id", DataType::Int64, false),
        Field::new("amount", DataType::Float64, false),
        Field::new("customer_id", DataType::Utf8, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(Float64Array::from(amounts)),
        Arc::new(StringArray::from(customers)),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).unwrap()
}

fn produce_ipc(batches: usize) {
    let batch = orders_batch();
    let out = BufWriter::with_capacity(IO_BUFFER_BYTES, std::io::stdout().lock());
    let mut writer = StreamWriter::try_new(out, &batch.schema()).unwrap();
    for _ in 0..batches {
        writer.write(&batch).unwrap();
    }
    writer.finish().unwrap();
}

/// As `produce_ipc`, but the stream is encoded into buffers of
/// `IO_BUFFER_BYTES` that are lent to the pipe (`LendingPipeWriter`).
fn produce_ipc_lent(batches: usize) {
    let batch = orders_batch();
    let stdout = std::io::stdout().as_fd().try_clone_to_owned().unwrap();
    let out = LentWriter {
        pipe: LendingPipeWriter::new(stdout),
        buffer: Vec::new(),
    };
    let mut writer = StreamWriter::try_new(out, &batch.schema()).unwrap();
    for _ in 0..batches {
        writer.write(&batch).unwrap();
    }
    writer.finish().unwrap();
    writer.into_inner().unwrap().flush().unwrap();
}

/// Collects what is written and lends it to the pipe a buffer at a time.
struct LentWriter {
    pipe: LendingPipeWriter,
    buffer: Vec<u8>,
}

impl Write for LentWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= IO_BUFFER_BYTES {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let next = self.pipe.buffer();
        let full = std::mem::replace(&mut self.buffer, next);
        self.pipe.lend(full)
    }
}

/// What a contender's producer writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Producer {
    Raw,
    Ipc,
    IpcLent,
}

fn produce_raw(bytes: u64) {
    let chunk = vec![7u8; IO_BUFFER_BYTES];
    let mut out = std::io::stdout().lock();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        out.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
}

/// Counts the bytes the consumer reads, under the decoder.
struct Counting<R> {
    inner: R,
    bytes: u64,
    started: Option<Instant>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.started.get_or_insert_with(Instant::now);
        self.bytes += n as u64;
        Ok(n)
    }
}

fn consume(ipc: bool) {
    let mut input = Counting {
        inner: std::io::stdin().lock(),
        bytes: 0,
        started: None,
    };
    let mut rows = 0u64;
    if ipc {
        let reader =
            StreamReader::try_new(BufReader::with_capacity(IO_BUFFER_BYTES, &mut input), None)
                .unwrap();
        for batch in reader {
            rows += batch.unwrap().num_rows() as u64;
        }
    } else {
        let mut reader = BufReader::with_capacity(IO_BUFFER_BYTES, &mut input);
        loop {
            let n = reader.fill_buf().unwrap().len();
            if n == 0 {
                break;
            }
            reader.consume(n);
        }
    }
    let seconds = input.started.map_or(0.0, |s| s.elapsed().as_secs_f64());
    println!("{} {rows} {seconds}", input.bytes);
}

/// One transfer: a producer and a consumer joined by a pipe.
fn transfer(confined: bool, kind: Producer, batches: usize, bytes: u64) -> (u64, u64, f64) {
    let ipc = kind != Producer::Raw;
    let program = std::env::current_exe().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    let set = runink_slice::set_pipe_buffer_bytes(writer.as_fd(), PIPE_BUFFER_BYTES).unwrap();
    assert!(set >= PIPE_BUFFER_BYTES, "cannot set the pipe buffer");
    let spawn = |spec: &SliceSpec| {
        if confined {
            Slice::spawn(spec)
        } else {
            Slice::spawn_unconfined(spec)
        }
        .unwrap()
    };
    let mut consumer = SliceSpec::new(&program);
    consumer.args = vec![if ipc { "consume-ipc" } else { "consume-raw" }.into()];
    consumer.stdin = Stdio::Fd(OwnedFd::from(reader));
    consumer.stdout = Stdio::Piped;
    let mut producer = SliceSpec::new(&program);
    producer.args = match kind {
        Producer::Ipc => vec!["produce-ipc".into(), batches.to_string().into()],
        Producer::IpcLent => vec!["produce-ipc-lent".into(), batches.to_string().into()],
        Producer::Raw => vec!["produce-raw".into(), bytes.to_string().into()],
    };
    producer.stdout = Stdio::Fd(OwnedFd::from(writer));
    for spec in [&mut consumer, &mut producer] {
        spec.limits.memory_bytes = 1 << 30;
    }
    let all_cpus = affinity();
    pin(&[CONSUMER_CPU]);
    let mut consuming = spawn(&consumer);
    drop(consumer);
    pin(&[PRODUCER_CPU]);
    let mut producing = spawn(&producer);
    drop(producer);
    pin(&all_cpus);
    let mut report = String::new();
    consuming
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut report)
        .unwrap();
    assert!(producing.wait().unwrap().success(), "the producer failed");
    assert!(consuming.wait().unwrap().success(), "the consumer failed");
    let mut parts = report.split_whitespace();
    let bytes = parts.next().unwrap().parse().unwrap();
    let rows = parts.next().unwrap().parse().unwrap();
    let seconds = parts.next().unwrap().parse().unwrap();
    (bytes, rows, seconds)
}

/// The CPUs the calling thread may run on.
fn affinity() -> Vec<usize> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set; the call fills it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is live and its size is passed.
    let r = unsafe { libc::sched_getaffinity(0, size_of_val(&set), &mut set) };
    assert_eq!(r, 0, "sched_getaffinity");
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

/// Restricts the calling thread (and the processes it starts) to `cpus`.
fn pin(cpus: &[usize]) {
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &cpu in cpus {
        // SAFETY: `cpu` is a CPU number below CPU_SETSIZE.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: `set` is live and its size is passed.
    let r = unsafe { libc::sched_setaffinity(0, size_of_val(&set), &set) };
    assert_eq!(r, 0, "sched_setaffinity {cpus:?}");
}

fn compare(bytes: u64) {
    let batch = orders_batch();
    let mut encoded = Vec::new();
    let mut writer = StreamWriter::try_new(&mut encoded, &batch.schema()).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    let batches = (bytes / encoded.len() as u64).max(1) as usize;
    println!(
        "== {batches} batches of {BATCH_ROWS} rows (int64, float64, utf8), {:.2} GiB of IPC; \
         pipe buffer {} KiB; median of {REPEATS}",
        (batches * encoded.len()) as f64 / f64::from(1u32 << 30),
        PIPE_BUFFER_BYTES >> 10
    );
    let contenders: [(&str, bool, Producer); 4] = [
        (
            "raw pipe, two plain processes (the limit)",
            false,
            Producer::Raw,
        ),
        ("raw pipe, two slices", true, Producer::Raw),
        ("Arrow IPC stream, two slices", true, Producer::Ipc),
        (
            "Arrow IPC stream, two slices, lent",
            true,
            Producer::IpcLent,
        ),
    ];
    let cpus = affinity();
    assert!(
        cpus.contains(&PRODUCER_CPU) && cpus.contains(&CONSUMER_CPU),
        "the benchmark needs CPUs {PRODUCER_CPU} and {CONSUMER_CPU}, it may use {cpus:?}"
    );
    let mut rates = vec![Vec::new(); contenders.len()];
    for _ in 0..REPEATS {
        for (i, &(_, confined, producer)) in contenders.iter().enumerate() {
            let (read, rows, seconds) = transfer(confined, producer, batches, bytes);
            if producer != Producer::Raw {
                assert_eq!(rows, (batches * BATCH_ROWS) as u64, "rows lost");
            }
            rates[i].push(read as f64 / seconds / 1e9);
        }
    }
    let mut results = Vec::new();
    for ((name, _, _), mut rates) in contenders.into_iter().zip(rates) {
        rates.sort_by(f64::total_cmp);
        let median = rates[REPEATS / 2];
        println!("{name:<45} {median:>6.2} GB/s  (runs: {rates:.2?})");
        results.push(median);
    }
    println!(
        "Arrow IPC between slices / raw pipe between processes: {:.0}%",
        results[2] / results[0] * 100.0
    );
    println!(
        "Arrow IPC between slices / raw pipe between slices:    {:.0}%",
        results[2] / results[1] * 100.0
    );
    println!(
        "Arrow IPC lent between slices / raw pipe between processes: {:.0}%",
        results[3] / results[0] * 100.0
    );
}
