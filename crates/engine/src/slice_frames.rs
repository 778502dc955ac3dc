//! The frames that cross a built-in slice's pipes. A frame is a JSON
//! header and an optional record batch, encoded as a self-contained Arrow
//! IPC stream (schema, batch, end):
//!
//! ```text
//! u32 LE header length | header (JSON) | u64 LE body length | body (Arrow IPC stream, or nothing)
//! ```
//!
//! Both directions use it: the parent sends a job, then batches, then the
//! end; the slice answers each batch, then sends what its steps emit at the
//! end, then says it is done. Lengths are bounded so that a damaged stream
//! is refused instead of allocating without bound.

use std::io::{self, Read};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::buffer::Buffer;
use arrow::ipc::reader::StreamDecoder;
use arrow::ipc::writer::StreamWriter;
use serde::Serialize;
use serde::de::DeserializeOwned;

use runink_slice::LendingPipeWriter;

use crate::body_pool::BodyPool;

/// What the reading side buffers of a slice's pipe: headers and lengths
/// are small and many, so they are buffered; a body longer than this (a
/// batch of a few thousand rows) skips the buffer and goes straight from
/// the pipe into its own memory.
pub const FRAME_IO_BUFFER_BYTES: usize = 64 << 10;
/// Longest header accepted: headers carry counts and rejects, never rows.
pub const HEADER_BYTES_MAX: u32 = 64 << 20;
/// Longest body accepted: one batch of `batch_rows_max` rows.
pub const BODY_BYTES_MAX: u64 = 8 << 30;

/// Where a side writes its frames. A whole frame is made in one buffer
/// the output hands out, and handed back to be sent: a slice's pipe lends
/// it to the kernel ([`LendingPipeWriter`]) and takes it back once read.
pub trait FrameOut {
    /// An empty buffer to make a frame in.
    fn frame_buffer(&mut self) -> Vec<u8>;
    /// Sends a frame made in a buffer from [`FrameOut::frame_buffer`].
    fn send_frame(&mut self, frame: Vec<u8>) -> io::Result<()>;
}

impl<T: FrameOut + ?Sized> FrameOut for &mut T {
    fn frame_buffer(&mut self) -> Vec<u8> {
        (**self).frame_buffer()
    }

    fn send_frame(&mut self, frame: Vec<u8>) -> io::Result<()> {
        (**self).send_frame(frame)
    }
}

impl FrameOut for LendingPipeWriter {
    fn frame_buffer(&mut self) -> Vec<u8> {
        self.buffer()
    }

    fn send_frame(&mut self, frame: Vec<u8>) -> io::Result<()> {
        self.lend(frame)
    }
}

/// Frames written, copied, into any writer: tests' memory. (A run's
/// pipes take [`LendingPipeWriter`], which copies by itself where it
/// cannot lend.)
#[cfg(test)]
pub(crate) mod copied {
    use std::io::{self, Write};

    use super::FrameOut;

    #[derive(Debug)]
    pub(crate) struct CopiedFrames<W: Write> {
        out: W,
        /// The last frame's buffer, for the next.
        spare: Vec<u8>,
    }

    impl<W: Write> CopiedFrames<W> {
        pub fn new(out: W) -> Self {
            Self {
                out,
                spare: Vec::new(),
            }
        }

        pub fn into_inner(self) -> W {
            self.out
        }
    }

    impl<W: Write> FrameOut for CopiedFrames<W> {
        fn frame_buffer(&mut self) -> Vec<u8> {
            let mut frame = std::mem::take(&mut self.spare);
            frame.clear();
            frame
        }

        fn send_frame(&mut self, frame: Vec<u8>) -> io::Result<()> {
            let sent = self.out.write_all(&frame).and_then(|()| self.out.flush());
            self.spare = frame;
            sent
        }
    }
}

/// Writes one frame.
pub fn write_frame<H: Serialize>(
    out: &mut impl FrameOut,
    header: &H,
    body: Option<&RecordBatch>,
) -> io::Result<()> {
    let mut frame = out.frame_buffer();
    frame.extend_from_slice(&[0; 4]);
    serde_json::to_writer(&mut frame, header).map_err(io::Error::other)?;
    let header_len = u32::try_from(frame.len() - 4)
        .ok()
        .filter(|len| *len <= HEADER_BYTES_MAX)
        .ok_or_else(|| io::Error::other(format!("a frame header of {} bytes", frame.len() - 4)))?;
    frame[..4].copy_from_slice(&header_len.to_le_bytes());
    let body_at = frame.len() + 8;
    frame.extend_from_slice(&[0; 8]);
    if let Some(batch) = body {
        encode_batch(batch, &mut frame)?;
    }
    let body_len = (frame.len() - body_at) as u64;
    frame[body_at - 8..body_at].copy_from_slice(&body_len.to_le_bytes());
    out.send_frame(frame)
}

/// Reads one frame; `None` at the end of the stream (before a frame). The
/// body is read into memory from `bodies`, and goes back there when the
/// batch decoded from it is dropped.
pub fn read_frame<R: Read, H: DeserializeOwned>(
    input: &mut R,
    bodies: &Arc<BodyPool>,
) -> io::Result<Option<(H, Option<RecordBatch>)>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let header_len = u32::from_le_bytes(len);
    if header_len > HEADER_BYTES_MAX {
        return Err(damaged(format!(
            "a header of {header_len} bytes (at most {HEADER_BYTES_MAX})"
        )));
    }
    let mut header = vec![0u8; header_len as usize];
    input.read_exact(&mut header)?;
    let header: H = serde_json::from_slice(&header)
        .map_err(|e| damaged(format!("a header that does not read: {e}")))?;
    let mut len = [0u8; 8];
    input.read_exact(&mut len)?;
    let body_len = u64::from_le_bytes(len);
    if body_len > BODY_BYTES_MAX {
        return Err(damaged(format!(
            "a body of {body_len} bytes (at most {BODY_BYTES_MAX})"
        )));
    }
    if body_len == 0 {
        return Ok(Some((header, None)));
    }
    // Read into uninitialised capacity: zeroing megabytes first would
    // only be overwritten.
    let mut body = bodies.take(body_len as usize);
    input.take(body_len).read_to_end(&mut body)?;
    if body.len() as u64 != body_len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "slice frame: a body of {body_len} bytes ends after {}",
                body.len()
            ),
        ));
    }
    Ok(Some((header, Some(decode_batch(bodies.lend(body))?))))
}

fn encode_batch(batch: &RecordBatch, bytes: &mut Vec<u8>) -> io::Result<()> {
    let mut writer = StreamWriter::try_new(bytes, &batch.schema()).map_err(io::Error::other)?;
    writer.write(batch).map_err(io::Error::other)?;
    writer.finish().map_err(io::Error::other)
}

/// Decodes without copying: the batch's buffers point into `body`.
fn decode_batch(mut buffer: Buffer) -> io::Result<RecordBatch> {
    let mut decoder = StreamDecoder::new();
    let mut batch = None;
    while !buffer.is_empty() {
        if let Some(decoded) = decoder
            .decode(&mut buffer)
            .map_err(|e| damaged(e.to_string()))?
        {
            if batch.is_some() {
                return Err(damaged("a body with more than one batch".to_owned()));
            }
            batch = Some(decoded);
        }
    }
    decoder.finish().map_err(|e| damaged(e.to_string()))?;
    batch.ok_or_else(|| damaged("a body with no batch".to_owned()))
}

fn damaged(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("slice frame: {what}"))
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use serde::Deserialize;

    use super::copied::CopiedFrames;
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Header {
        n: u32,
    }

    fn batch(rows: usize) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(0..rows as i64)),
                Arc::new(StringArray::from_iter(
                    (0..rows).map(|i| (i % 3 != 0).then(|| format!("n{i}"))),
                )),
            ],
        )
        .unwrap()
    }

    #[test]
    fn frames_round_trip_with_and_without_a_batch() {
        let mut out = CopiedFrames::new(Vec::new());
        write_frame(&mut out, &Header { n: 1 }, Some(&batch(5))).unwrap();
        write_frame(&mut out, &Header { n: 2 }, None).unwrap();
        write_frame(&mut out, &Header { n: 3 }, Some(&batch(0))).unwrap();
        let bytes = out.into_inner();
        let pool = BodyPool::new();
        let mut input = bytes.as_slice();
        let (h, b) = read_frame::<_, Header>(&mut input, &pool).unwrap().unwrap();
        assert_eq!((h.n, b.unwrap()), (1, batch(5)));
        let (h, b) = read_frame::<_, Header>(&mut input, &pool).unwrap().unwrap();
        assert_eq!((h.n, b), (2, None));
        let (h, b) = read_frame::<_, Header>(&mut input, &pool).unwrap().unwrap();
        assert_eq!((h.n, b.unwrap().schema()), (3, batch(1).schema()));
        assert!(
            read_frame::<_, Header>(&mut input, &pool)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_cut_or_oversized_frame_is_an_error_not_the_end() {
        let mut out = CopiedFrames::new(Vec::new());
        write_frame(&mut out, &Header { n: 1 }, Some(&batch(5))).unwrap();
        let bytes = out.into_inner();
        let pool = BodyPool::new();
        let cut = &bytes[..bytes.len() - 3];
        assert!(read_frame::<_, Header>(&mut &cut[..], &pool).is_err());
        let mut huge = (HEADER_BYTES_MAX + 1).to_le_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        let error = read_frame::<_, Header>(&mut huge.as_slice(), &pool).unwrap_err();
        assert!(error.to_string().contains("at most"), "{error}");
    }

    #[test]
    fn frames_lent_to_a_pipe_arrive_whole_and_in_order() {
        let (reader, writer) = io::pipe().unwrap();
        let reading = std::thread::spawn(move || {
            let pool = BodyPool::new();
            let mut input = io::BufReader::new(reader);
            let mut frames = Vec::new();
            while let Some(frame) = read_frame::<_, Header>(&mut input, &pool).unwrap() {
                frames.push(frame);
            }
            frames
        });
        let mut out = LendingPipeWriter::new(writer);
        for n in 0..50 {
            let body = (n % 3 != 0).then(|| batch(n as usize * 1000));
            write_frame(&mut out, &Header { n }, body.as_ref()).unwrap();
        }
        drop(out);
        let frames = reading.join().unwrap();
        assert_eq!(frames.len(), 50);
        for (n, (header, body)) in frames.into_iter().enumerate() {
            assert_eq!(header.n as usize, n);
            assert_eq!(body, (n % 3 != 0).then(|| batch(n * 1000)));
        }
    }
}
