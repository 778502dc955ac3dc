//! CSV input cut into records, each with the line it starts on as an
//! editor counts lines.
//!
//! A record that is whole in the buffer is cut by `split_record`, which
//! jumps from one delimiter, quote or line end to the next with a
//! vectorised byte search; a record with no quote is handed out where it
//! lies in the buffer, one with quotes as its fields copied unquoted. A record that is not (one longer than the
//! buffer, or cut by the end of the input), and every record when an
//! escape character is set, is read by `csv_core`'s state machine, which
//! streams. Both follow RFC 4180 as `csv_core` does: a quote opens a
//! quoted field only at the start of a field; in a quoted field, `""` is
//! a quote and delimiters and line ends are text; a quote elsewhere is
//! text.
//!
//! A line ends at `\n`, `\r\n` or a lone `\r`, as `csv_core` takes them;
//! blank lines hold no record and are skipped. The reader holds one
//! buffer of input (`BUFFER_BYTES`) and the record being read; a record
//! that runs `record_bytes_max` plus `READ_AHEAD_BYTES_MAX` bytes with no
//! end (a quote left open makes the rest of the file one record) fails
//! the read instead of growing without bound.

use std::io::{self, Read};

use csv_core::ReadRecordResult;

/// Input read at a time; a longer record is read by `csv_core`.
const BUFFER_BYTES: usize = 1 << 20;

/// How far past `record_bytes_max` a record may run before the read
/// fails: a longer record that does end is reported and skipped.
const READ_AHEAD_BYTES_MAX: u64 = 1 << 20;

/// Fields of a record at first; more as records need them.
const FIELDS_FIRST: usize = 64;

/// Bytes of a record's content at first; more as records need them.
const CONTENT_FIRST_BYTES: usize = 64 << 10;

pub struct CsvRecords {
    input: Box<dyn Read + Send>,
    buffer: Vec<u8>,
    /// `buffer[start..end]` is read and not yet consumed.
    start: usize,
    end: usize,
    at_eof: bool,
    /// Input bytes before `buffer[start]`.
    consumed: u64,
    /// The line `buffer[start]` is on (1-based).
    line: u64,
    /// The last byte consumed was `\r`: a `\n` next ends the same line.
    after_cr: bool,
    core: csv_core::Reader,
    delimiter: u8,
    quote: u8,
    escape: Option<u8>,
    record_bytes_max: u64,
    /// The last record's fields back to back, unquoted: `content` from
    /// `split_record`, `streamed` (sized for `csv_core`) from `csv_core`.
    content: Vec<u8>,
    streamed: Vec<u8>,
    /// Where each field of the last record ends in its content.
    ends: Vec<usize>,
}

/// One record: its fields' bytes and the line it starts on.
pub struct Record<'a> {
    pub line: u64,
    /// The fields' content: back to back, unquoted; or, for a record with
    /// no quote, the record as read, a delimiter between fields.
    pub bytes: &'a [u8],
    /// Where each field ends in `bytes`.
    ends: &'a [usize],
    /// Bytes from one field's end to the next one's start: 1 (the
    /// delimiter) when `bytes` is the record as read, else 0.
    gap: usize,
}

impl<'a> Record<'a> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The byte range of field `index` in `bytes`.
    pub fn range(&self, index: usize) -> std::ops::Range<usize> {
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1] + self.gap,
        };
        start..self.ends[index]
    }

    /// Bytes of the fields' content, delimiters and quotes not counted.
    pub fn content_len(&self) -> usize {
        self.bytes.len() - self.gap * self.len().saturating_sub(1)
    }

    pub fn fields(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).map(|i| &self.bytes[self.range(i)])
    }
}

impl CsvRecords {
    pub fn new(
        input: Box<dyn Read + Send>,
        delimiter: u8,
        quote: u8,
        escape: Option<u8>,
        record_bytes_max: u64,
    ) -> Self {
        Self::with_buffer(
            input,
            delimiter,
            quote,
            escape,
            record_bytes_max,
            BUFFER_BYTES,
        )
    }

    fn with_buffer(
        input: Box<dyn Read + Send>,
        delimiter: u8,
        quote: u8,
        escape: Option<u8>,
        record_bytes_max: u64,
        buffer_bytes: usize,
    ) -> Self {
        let mut core = csv_core::ReaderBuilder::new()
            .delimiter(delimiter)
            .quote(quote)
            .escape(escape)
            .double_quote(escape.is_none())
            .build();
        // `csv_core` strips a byte order mark from the first input it is
        // given. The caller has skipped the file's; a record further on
        // that starts with one holds it as text. A call with no room for
        // output reads nothing and leaves the state as it was.
        core.read_record(b",", &mut [], &mut []);
        Self {
            input,
            buffer: vec![0; buffer_bytes],
            start: 0,
            end: 0,
            at_eof: false,
            consumed: 0,
            line: 1,
            after_cr: false,
            core,
            delimiter,
            quote,
            escape,
            record_bytes_max,
            content: Vec::with_capacity(CONTENT_FIRST_BYTES),
            streamed: vec![0; CONTENT_FIRST_BYTES],
            ends: Vec::with_capacity(FIELDS_FIRST),
        }
    }

    /// Input bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.consumed
    }

    /// The next record, or `None` at the end of the input.
    pub fn next_record(&mut self) -> io::Result<Option<Record<'_>>> {
        let line = match self.skip_blank_lines()? {
            Some(line) => line,
            None => return Ok(None),
        };
        let (bytes, gap) = match self.read_in_buffer()? {
            // `read_in_buffer` consumed the record: it starts `taken` back.
            Some(split @ Split::AsRead(len)) => {
                let at = self.start - split.taken();
                (&self.buffer[at..at + len], 1)
            }
            Some(Split::Content(_)) => (&self.content[..], 0),
            None => match self.read_streamed()? {
                Some(len) => (&self.streamed[..len], 0),
                None => return Ok(None),
            },
        };
        Ok(Some(Record {
            line,
            bytes,
            ends: &self.ends,
            gap,
        }))
    }

    /// Consumes line ends up to the next record; its line, or `None` at
    /// the end of the input.
    fn skip_blank_lines(&mut self) -> io::Result<Option<u64>> {
        loop {
            if self.start == self.end && !self.fill()? {
                return Ok(None);
            }
            match self.buffer[self.start] {
                b'\n' | b'\r' => self.consume(1),
                _ => return Ok(Some(self.line)),
            }
        }
    }

    /// Cuts a record that is whole in the buffer (`split_record`) and
    /// consumes it, refilling the buffer once it has been read to its
    /// end; `None` (consuming nothing) when the record is not whole in a
    /// full buffer or at the end of the input, or an escape character is
    /// set.
    fn read_in_buffer(&mut self) -> io::Result<Option<Split>> {
        if self.escape.is_some() {
            return Ok(None);
        }
        loop {
            let rest = &self.buffer[self.start..self.end];
            let split = split_record(
                rest,
                self.delimiter,
                self.quote,
                &mut self.content,
                &mut self.ends,
            );
            match split {
                Some(split) => {
                    self.consume(split.taken());
                    return Ok(Some(split));
                }
                None if self.at_eof || (self.start == 0 && self.end == self.buffer.len()) => {
                    return Ok(None);
                }
                None => {
                    self.fill()?;
                }
            }
        }
    }

    /// Reads one record with `csv_core`, streaming through the buffer;
    /// the length of its content in `streamed`, or `None` at the end of
    /// the input.
    fn read_streamed(&mut self) -> io::Result<Option<usize>> {
        let line = self.line;
        let (mut out, mut fields, mut record_bytes) = (0, 0, 0u64);
        self.ends.resize(self.ends.capacity().max(FIELDS_FIRST), 0);
        loop {
            let (result, read, wrote, ended) = self.core.read_record(
                &self.buffer[self.start..self.end],
                &mut self.streamed[out..],
                &mut self.ends[fields..],
            );
            self.consume(read);
            record_bytes += read as u64;
            out += wrote;
            fields += ended;
            match result {
                ReadRecordResult::InputEmpty => {
                    if record_bytes > self.record_bytes_max + READ_AHEAD_BYTES_MAX {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "the record that starts on line {line} runs past {} bytes (`record_bytes_max`) with no end; a quote left open makes the rest of the file one record",
                                self.record_bytes_max
                            ),
                        ));
                    }
                    // At the end of the input, the next call's empty
                    // input tells `csv_core` so.
                    self.fill()?;
                }
                ReadRecordResult::OutputFull => {
                    let len = self.streamed.len();
                    self.streamed.resize(len * 2, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len();
                    self.ends.resize(len * 2, 0);
                }
                ReadRecordResult::Record => {
                    self.ends.truncate(fields);
                    return Ok(Some(out));
                }
                ReadRecordResult::End => return Ok(None),
            }
        }
    }

    /// Consumes `count` bytes from `start`, counting the lines they end.
    fn consume(&mut self, count: usize) {
        let bytes = &self.buffer[self.start..self.start + count];
        for at in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            let after_cr = match at {
                0 => self.after_cr,
                _ => bytes[at - 1] == b'\r',
            };
            if !(bytes[at] == b'\n' && after_cr) {
                self.line += 1;
            }
        }
        if let Some(&last) = bytes.last() {
            self.after_cr = last == b'\r';
        }
        self.start += count;
        self.consumed += count as u64;
    }

    /// Reads more input after `end`, first moving what is not consumed to
    /// the front. `false` at the end of the input or when the buffer is
    /// full of one unconsumed line.
    fn fill(&mut self) -> io::Result<bool> {
        if self.at_eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buffer.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buffer.len() {
            return Ok(false);
        }
        loop {
            match self.input.read(&mut self.buffer[self.end..]) {
                Ok(0) => {
                    self.at_eof = true;
                    return Ok(false);
                }
                Ok(read) => {
                    self.end += read;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// How `split_record` cut a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// The record had no quote: its fields are its first `len` bytes as
    /// read, a delimiter between them, and a line end follows.
    AsRead(usize),
    /// Its fields are in `content`; it took this many bytes with its line
    /// end.
    Content(usize),
}

impl Split {
    /// The bytes of input the record took, with its line end.
    fn taken(self) -> usize {
        match self {
            Self::AsRead(len) => len + 1,
            Self::Content(taken) => taken,
        }
    }
}

/// Cuts the record at the start of `rest`: where each field ends in
/// `ends`, in `rest` itself when the record has no quote, else in
/// `content`, where the fields are put back to back and unquoted. `None`
/// when `rest` ends before the record does. No escape character: in a
/// quoted field, `""` is a quote.
fn split_record(
    rest: &[u8],
    delimiter: u8,
    quote: u8,
    content: &mut Vec<u8>,
    ends: &mut Vec<usize>,
) -> Option<Split> {
    content.clear();
    ends.clear();
    let plain = memchr::memchr3(quote, b'\n', b'\r', rest)?;
    if rest[plain] != quote {
        // No quote: the fields end at each delimiter, and the record at
        // the line end. Nothing is copied.
        ends.extend(memchr::memchr_iter(delimiter, &rest[..plain]));
        ends.push(plain);
        return Some(Split::AsRead(plain));
    }
    // The fields before the first quote hold none: one pass cuts them at
    // each delimiter. The rest, field by field.
    let mut at = 0;
    for delimiter_at in memchr::memchr_iter(delimiter, &rest[..plain]) {
        content.extend_from_slice(&rest[at..delimiter_at]);
        ends.push(content.len());
        at = delimiter_at + 1;
    }
    loop {
        // At the start of a field.
        if *rest.get(at)? == quote {
            at += 1;
            // In a quoted field, until a quote that is not doubled.
            loop {
                let close = at + memchr::memchr(quote, &rest[at..])?;
                content.extend_from_slice(&rest[at..close]);
                at = close + 1;
                if *rest.get(at)? != quote {
                    break;
                }
                content.push(quote);
                at += 1;
            }
        }
        // Unquoted text (or what follows a closing quote) to the field's end.
        let end = at + memchr::memchr3(delimiter, b'\n', b'\r', &rest[at..])?;
        content.extend_from_slice(&rest[at..end]);
        ends.push(content.len());
        if rest[end] != delimiter {
            return Some(Split::Content(end + 1));
        }
        at = end + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gives `text` `chunk` bytes a read.
    struct Chunks(Vec<u8>, usize);

    impl Read for Chunks {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(n)
        }
    }

    /// Every record of `text` as (line, fields), read `chunk` bytes at a
    /// time through a buffer of `buffer` bytes.
    fn records(
        text: &[u8],
        escape: Option<u8>,
        chunk: usize,
        buffer: usize,
    ) -> Vec<(u64, Vec<Vec<u8>>)> {
        let input = Box::new(Chunks(text.to_vec(), chunk));
        let mut reader = CsvRecords::with_buffer(input, b',', b'"', escape, 1 << 20, buffer);
        let mut all = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            all.push((record.line, record.fields().map(<[u8]>::to_vec).collect()));
        }
        assert_eq!(reader.bytes_read(), text.len() as u64);
        all
    }

    fn lines(text: &str, chunk: usize, buffer: usize) -> Vec<u64> {
        records(text.as_bytes(), None, chunk, buffer)
            .into_iter()
            .map(|(line, _)| line)
            .collect()
    }

    #[test]
    fn records_get_the_line_they_start_on_whatever_the_line_ends() {
        for (chunk, buffer) in [(1, 4), (2, 5), (3, 64), (7, 8), (4096, 1 << 20)] {
            let at = format!("chunk {chunk}, buffer {buffer}");
            assert_eq!(lines("h\na\nb\n", chunk, buffer), [1, 2, 3], "LF, {at}");
            assert_eq!(
                lines("h\r\na\r\nb\r\n", chunk, buffer),
                [1, 2, 3],
                "CRLF, {at}"
            );
            assert_eq!(lines("h\ra\rb", chunk, buffer), [1, 2, 3], "CR, {at}");
            assert_eq!(
                lines("h\n\n\na\n\r\n\nb", chunk, buffer),
                [1, 4, 7],
                "blank lines, {at}"
            );
            assert_eq!(
                lines("h\n\"x\ny\"\nb\r\n\"1\r\n2\"\nc\n", chunk, buffer),
                [1, 2, 4, 5, 7],
                "line ends inside quotes, {at}"
            );
        }
    }

    /// A small generator of CSV-like bytes: quotes, delimiters, every
    /// kind of line end and escapes, in any order.
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let alphabet = b"ab,,\"\"\n\r \\x\xc3\xa9";
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                alphabet[(state % alphabet.len() as u64) as usize]
            })
            .collect()
    }

    /// The fields of every record as the `csv` crate reads them.
    fn csv_crate_fields(text: &[u8], escape: Option<u8>) -> Vec<Vec<Vec<u8>>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .escape(escape)
            .double_quote(escape.is_none())
            .from_reader(text);
        let mut all = Vec::new();
        let mut record = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record).unwrap() {
            all.push(record.iter().map(<[u8]>::to_vec).collect());
        }
        all
    }

    #[test]
    fn fields_agree_with_the_csv_crate_on_any_bytes() {
        for seed in 0..400 {
            let text = noise(seed, 10 + (seed as usize * 7) % 300);
            for escape in [None, Some(b'\\')] {
                let expected = csv_crate_fields(&text, escape);
                for (chunk, buffer) in [(1, 3), (5, 16), (64, 1 << 20)] {
                    let fields: Vec<Vec<Vec<u8>>> = records(&text, escape, chunk, buffer)
                        .into_iter()
                        .map(|(_, fields)| fields)
                        .collect();
                    assert_eq!(
                        fields,
                        expected,
                        "seed {seed}, escape {escape:?}, chunk {chunk}, buffer {buffer}: {:?}",
                        String::from_utf8_lossy(&text)
                    );
                }
            }
        }
    }

    #[test]
    fn only_the_first_byte_order_mark_is_not_text() {
        // The last record has no line end, so `csv_core` reads it.
        let read = records("a\n\u{feff}b".as_bytes(), None, 4096, 1 << 20);
        assert_eq!(read[1], (2, vec!["\u{feff}b".as_bytes().to_vec()]));
    }

    #[test]
    fn a_quote_free_line_longer_than_the_buffer_is_read_whole() {
        let long = "x".repeat(100);
        let text = format!("a,b\n{long},{long}\nc,d\n");
        let read = records(text.as_bytes(), None, 7, 16);
        assert_eq!(read.len(), 3);
        assert_eq!(
            read[1],
            (2, vec![long.clone().into_bytes(), long.into_bytes()])
        );
        assert_eq!(read[2], (3, vec![b"c".to_vec(), b"d".to_vec()]));
    }
}
