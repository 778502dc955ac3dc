//! Opens a scenario's source by its URI: the format, the file or stdin,
//! and `.gz` / `.zst` compression by file extension.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use runink_plan::{DataFormat, Location, Source};

use super::csv_reader::{CsvOptions, CsvReader};
use super::jsonl_reader::JsonlReader;
use super::typed_reader::TypedReader;
use super::whole_file::WholeFile;
use super::{ExpectedColumns, SourceBatch};
use crate::EngineError;
use crate::compression::{Compression, compression_of};
use crate::limits::Limits;
use crate::options::{flag_option, text_option};

/// The buffer in front of a CSV source: enough to look for a byte order
/// mark. The CSV reader has its own of 1 MiB (`csv_records.rs`); a read
/// that size skips a smaller buffer, where one as large copied every byte
/// once more (0.5% of W's CPU).
const CSV_PEEK_BYTES: usize = 4 << 10;

/// Any source, read batch by batch.
pub enum SourceReader {
    Csv(CsvReader),
    Jsonl(JsonlReader),
    Typed(TypedReader),
}

impl std::fmt::Debug for SourceReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Csv(_) => "SourceReader::Csv",
            Self::Jsonl(_) => "SourceReader::Jsonl",
            Self::Typed(_) => "SourceReader::Typed",
        })
    }
}

impl SourceReader {
    /// The source's columns when they are known without a row: a CSV
    /// header (or the contract), a Parquet or Arrow schema. JSON lines
    /// tell theirs only in their rows.
    pub fn schema(&self) -> Option<arrow::datatypes::SchemaRef> {
        match self {
            Self::Csv(reader) => Some(reader.schema()),
            Self::Jsonl(_) => None,
            Self::Typed(reader) => Some(reader.schema()),
        }
    }

    pub fn next_batch(&mut self) -> Result<Option<SourceBatch>, EngineError> {
        match self {
            Self::Csv(reader) => reader.next_batch(),
            Self::Jsonl(reader) => reader.next_batch(),
            Self::Typed(reader) => reader.next_batch(),
        }
    }
}

/// Opens `source`; relative paths are read from `base_dir`. `expected`
/// are the input contract's columns: what a CSV without a header of its
/// own has, and the types JSON Lines values must fit.
pub fn open_source(
    source: &Source,
    base_dir: &Path,
    expected: Option<&ExpectedColumns>,
    limits: &Limits,
) -> Result<SourceReader, EngineError> {
    let uri = &source.endpoint.uri;
    let (input, path): (Box<dyn Read + Send>, Option<String>) = match &source.endpoint.location {
        Location::File { path } => {
            let full = base_dir.join(path);
            let file = File::open(&full).and_then(WholeFile::new).map_err(|e| {
                EngineError::SourceOpen {
                    uri: uri.clone(),
                    path: full.display().to_string(),
                    error: e,
                }
            })?;
            (Box::new(file), Some(path.clone()))
        }
        Location::Stdin => (Box::new(io::stdin()), None),
        Location::Stdout => return Err(EngineError::Plan(format!("`{uri}` cannot be read from"))),
    };
    let format = source.endpoint.format;
    let decompressed = match format {
        DataFormat::Csv | DataFormat::Jsonl => {
            let compression = text_option(&source.options, "compression");
            decompress(
                input,
                compression.as_deref(),
                path.as_deref().unwrap_or_default(),
            )
            .map_err(|e| EngineError::SourceOpen {
                uri: uri.clone(),
                path: path.clone().unwrap_or_default(),
                error: e,
            })?
        }
        _ => input,
    };
    Ok(match format {
        DataFormat::Csv => {
            let options = CsvOptions {
                delimiter: byte_option(source, "delimiter", b',')?,
                quote: byte_option(source, "quote", b'"')?,
                escape: text_option(&source.options, "escape")
                    .map(|e| single_byte(&source.endpoint.uri, "escape", &e))
                    .transpose()?,
                header: flag_option(&source.options, "header").unwrap_or(true),
            };
            SourceReader::Csv(CsvReader::new(
                BufReader::with_capacity(CSV_PEEK_BYTES, decompressed),
                &options,
                expected.map(|e| e.names.as_slice()),
                uri,
                limits,
            )?)
        }
        DataFormat::Jsonl => {
            let reader = JsonlReader::new(
                BufReader::with_capacity(1 << 20, decompressed),
                None,
                uri,
                limits,
            );
            SourceReader::Jsonl(match expected {
                Some(expected) => reader.expecting(expected),
                None => reader,
            })
        }
        DataFormat::Parquet => {
            let full = base_dir.join(path.as_deref().unwrap_or_default());
            let file = File::open(&full).map_err(|e| EngineError::SourceOpen {
                uri: uri.clone(),
                path: full.display().to_string(),
                error: e,
            })?;
            SourceReader::Typed(TypedReader::parquet(file, uri, limits)?)
        }
        DataFormat::Arrow => SourceReader::Typed(TypedReader::arrow_ipc(decompressed, uri)?),
    })
}

/// Is the text source at `path` read through a decompressor?
pub fn is_compressed(source: &Source, path: &str) -> bool {
    let compression = text_option(&source.options, "compression");
    compression_of(compression.as_deref(), path) != Compression::None
}

pub(crate) fn decompress(
    input: Box<dyn Read + Send>,
    compression: Option<&str>,
    path: &str,
) -> io::Result<Box<dyn Read + Send>> {
    Ok(match compression_of(compression, path) {
        Compression::Gzip => Box::new(Explained {
            inner: flate2::read::MultiGzDecoder::new(BufReader::new(input)),
            codec: "gzip",
        }),
        Compression::Zstd => Box::new(Explained {
            inner: zstd::stream::read::Decoder::new(input)?,
            codec: "zstd",
        }),
        Compression::None => input,
    })
}

/// A decompressor whose errors say what is wrong with the compressed
/// data: the codecs' own say "unexpected end of file" for a file cut
/// short and for bytes appended after the last member alike.
struct Explained<R> {
    inner: R,
    codec: &'static str,
}

impl<R: Read> Read for Explained<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buffer).map_err(|e| {
            let codec = self.codec;
            let explained = match e.kind() {
                io::ErrorKind::UnexpectedEof => format!(
                    "the {codec} data ends early: the file is cut short, or bytes that are not {codec} follow it"
                ),
                _ => format!("the file is not valid {codec} data ({e})"),
            };
            io::Error::new(e.kind(), explained)
        })
    }
}

fn byte_option(source: &Source, key: &str, default: u8) -> Result<u8, EngineError> {
    match text_option(&source.options, key) {
        None => Ok(default),
        Some(text) => single_byte(&source.endpoint.uri, key, &text),
    }
}

fn single_byte(uri: &str, key: &str, text: &str) -> Result<u8, EngineError> {
    let text = if text == "\\t" { "\t" } else { text };
    match text.as_bytes() {
        [b] => Ok(*b),
        _ => Err(EngineError::Plan(format!(
            "`{uri}`: `{key}` must be a single ASCII character, found `{text}`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn read_all(bytes: Vec<u8>, compression: &str) -> io::Result<Vec<u8>> {
        let mut reader = decompress(Box::new(io::Cursor::new(bytes)), Some(compression), "")?;
        let mut out = Vec::new();
        reader.read_to_end(&mut out)?;
        Ok(out)
    }

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn broken_compressed_data_is_explained() {
        let whole = gzip(b"a,b\n1,2\n");
        assert_eq!(read_all(whole.clone(), "gzip").unwrap(), b"a,b\n1,2\n");
        let mut appended = whole.clone();
        appended.extend_from_slice(b"garbage\n");
        let cut = whole[..whole.len() / 2].to_vec();
        for broken in [appended, cut] {
            let error = read_all(broken, "gzip").unwrap_err().to_string();
            assert!(error.contains("the gzip data ends early"), "{error}");
        }
        let zstd = zstd::encode_all(&b"a,b\n"[..], 3).unwrap();
        let error = read_all(zstd[..zstd.len() - 2].to_vec(), "zstd")
            .unwrap_err()
            .to_string();
        assert!(error.contains("the zstd data ends early"), "{error}");
        let error = read_all(b"not zstd at all".to_vec(), "zstd")
            .unwrap_err()
            .to_string();
        assert!(error.contains("not valid zstd data"), "{error}");
    }
}
