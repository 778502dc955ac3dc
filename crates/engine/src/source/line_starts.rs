//! The line each CSV record starts on, as an editor counts lines.
//!
//! The `csv` crate reports a record's position as where the record before
//! it ended, counting only `\n`: a record after a `\r\n` line end was one
//! line short, after blank lines several, and every record of a file with
//! `\r` line ends was on line 1. [`LineStarts`] sits between the input and
//! the CSV parser, notes where each line that is not blank starts, and
//! gives a record's line from its position: the first such line at or
//! after it (blank lines and the rest of a line end come before a record,
//! never inside one).

use std::collections::VecDeque;
use std::io::{self, Read};

/// Reads through to `inner`, noting where lines that are not blank start.
pub struct LineStarts<R> {
    inner: R,
    /// Bytes read so far.
    offset: u64,
    /// The line the next byte is on (1-based).
    line: u64,
    /// The last byte read was a line end (or nothing was read yet).
    after_line_end: bool,
    /// The last byte read was `\r`: a `\n` next ends the same line.
    after_cr: bool,
    /// (byte offset, line) of each line start not yet asked about. Holds
    /// the lines of what the parser has read ahead and of the record being
    /// read: bounded by the parser's buffer and `record_bytes_max`.
    starts: VecDeque<(u64, u64)>,
    /// Where the record being read starts, and how far past it the input
    /// may be read: the parser holds a record whole, so a record with no
    /// end (an unclosed quote makes the rest of the file one) would
    /// otherwise grow without bound.
    record_start: u64,
    record_bytes_max: Option<u64>,
}

impl<R> LineStarts<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            offset: 0,
            line: 1,
            after_line_end: true,
            after_cr: false,
            starts: VecDeque::new(),
            record_start: 0,
            record_bytes_max: None,
        }
    }

    /// Fails a read that goes `bytes_max` (plus the parser's read-ahead)
    /// past the start of the record being read.
    pub fn bounding_records(mut self, bytes_max: u64) -> Self {
        self.record_bytes_max = Some(bytes_max);
        self
    }

    /// The parser has read a whole record; the next starts at `offset`.
    pub fn record_ended(&mut self, offset: u64) {
        self.record_start = offset;
    }

    /// The line of the record that the parser placed at byte `offset`: the
    /// first line with content that starts there or after. Offsets asked
    /// about must not decrease.
    pub fn line_at(&mut self, offset: u64) -> u64 {
        while self
            .starts
            .front()
            .is_some_and(|(start, _)| *start < offset)
        {
            self.starts.pop_front();
        }
        self.starts.front().map_or(self.line, |(_, line)| *line)
    }

    fn note(&mut self, chunk: &[u8]) {
        let mut content_from = 0;
        for end in memchr::memchr2_iter(b'\r', b'\n', chunk) {
            self.content(content_from, end);
            if chunk[end] == b'\r' || !self.after_cr {
                self.line += 1;
            }
            self.after_cr = chunk[end] == b'\r';
            self.after_line_end = true;
            content_from = end + 1;
        }
        self.content(content_from, chunk.len());
        self.offset += chunk.len() as u64;
    }

    /// Bytes `from..to` of the chunk being read hold no line end.
    fn content(&mut self, from: usize, to: usize) {
        if from == to {
            return;
        }
        if self.after_line_end {
            self.starts
                .push_back((self.offset + from as u64, self.line));
        }
        self.after_line_end = false;
        self.after_cr = false;
    }
}

/// How far the parser may read past a record's bound before the read
/// fails: it reads ahead in chunks of its buffer.
const READ_AHEAD_BYTES_MAX: u64 = 1 << 20;

impl<R: Read> Read for LineStarts<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(bytes_max) = self.record_bytes_max
            && self.offset - self.record_start > bytes_max + READ_AHEAD_BYTES_MAX
        {
            let line = self.line_at(self.record_start);
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the record that starts on line {line} runs past {bytes_max} bytes (`record_bytes_max`) with no end; a quote left open makes the rest of the file one record"
                ),
            ));
        }
        let read = self.inner.read(buf)?;
        self.note(&buf[..read]);
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines `csv` gives each record of `text`, read in chunks of
    /// `chunk` bytes, through `LineStarts`.
    fn record_lines(text: &str, chunk: usize) -> Vec<u64> {
        struct Chunks<'a>(&'a [u8], usize);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(LineStarts::new(Chunks(text.as_bytes(), chunk)));
        let mut record = csv::ByteRecord::new();
        let mut lines = Vec::new();
        while reader.read_byte_record(&mut record).unwrap() {
            let offset = record.position().unwrap().byte();
            lines.push(reader.get_mut().line_at(offset));
        }
        lines
    }

    #[test]
    fn records_get_the_line_they_start_on_whatever_the_line_ends() {
        for chunk in [1, 2, 3, 7, 4096] {
            assert_eq!(record_lines("h\na\nb\n", chunk), [2, 3], "LF, {chunk}");
            assert_eq!(
                record_lines("h\r\na\r\nb\r\n", chunk),
                [2, 3],
                "CRLF, {chunk}"
            );
            assert_eq!(record_lines("h\ra\rb", chunk), [2, 3], "CR, {chunk}");
            assert_eq!(
                record_lines("h\n\n\na\n\r\n\nb", chunk),
                [4, 7],
                "blank lines, {chunk}"
            );
            assert_eq!(
                record_lines("h\n\"x\ny\"\nb\r\n\"1\r\n2\"\nc\n", chunk),
                [2, 4, 5, 7],
                "line ends inside quotes, {chunk}"
            );
        }
    }
}
