//! Sinks: where rows are written. Files are staged beside their target
//! and committed only when the whole run succeeds (see `staging`).

use std::io::{self, BufWriter, Stdout, Write};
use std::path::Path;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::ipc::writer::FileWriter;
use parquet::basic::{Compression, Encoding, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use runink_plan::{DataFormat, Endpoint, Location, OptionValue};
use std::collections::BTreeMap;

use crate::EngineError;
use crate::limits::Limits;
use crate::options::{flag_option, integer_option, text_option};
use crate::output_file::{Compressed, finish_buffered};
use crate::parquet_lanes::ParquetLanesWriter;
use crate::source::CsvOptions;
use crate::staging::StagedFile;
use crate::write_behind::WriteBehindFile;

enum Writer {
    /// `--dry-run`: rows are counted, nothing is written.
    Discard,
    Csv(arrow::csv::Writer<Compressed>),
    Jsonl(arrow::json::LineDelimitedWriter<Compressed>),
    /// No buffer of ours: the Parquet writer buffers its small writes
    /// itself, and a buffer here only copied every page once more (1.6%
    /// of W's CPU).
    Parquet(ParquetLanesWriter<WriteBehindFile>),
    Arrow(FileWriter<BufWriter<WriteBehindFile>>),
    StdoutJsonl(arrow::json::LineDelimitedWriter<Stdout>),
    StdoutCsv(arrow::csv::Writer<Stdout>),
    StdoutArrow(arrow::ipc::writer::StreamWriter<Stdout>),
}

pub struct SinkWriter {
    uri: String,
    writer: Writer,
    staged: Option<StagedFile>,
}

impl std::fmt::Debug for SinkWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SinkWriter")
            .field("uri", &self.uri)
            .finish_non_exhaustive()
    }
}

/// Refuses columns a sink's format cannot hold, before any row: CSV has
/// no lists, structs or maps (arrow's writer failed on the first batch,
/// an "internal error").
pub fn check_schema(endpoint: &Endpoint, schema: &SchemaRef) -> Result<(), EngineError> {
    if endpoint.format != DataFormat::Csv {
        return Ok(());
    }
    let nested = schema.fields().iter().find(|field| {
        matches!(
            field.data_type(),
            DataType::List(_)
                | DataType::LargeList(_)
                | DataType::FixedSizeList(..)
                | DataType::ListView(_)
                | DataType::LargeListView(_)
                | DataType::Struct(_)
                | DataType::Map(..)
                | DataType::Union(..)
        )
    });
    match nested {
        None => Ok(()),
        Some(field) => Err(EngineError::Plan(format!(
            "`{}`: CSV cannot hold the column `{}` ({}); write this sink as jsonl, parquet or arrow, or leave the column out with `select`",
            endpoint.uri,
            field.name(),
            field.data_type()
        ))),
    }
}

impl SinkWriter {
    pub fn open(
        endpoint: &Endpoint,
        options: &BTreeMap<String, OptionValue>,
        schema: &SchemaRef,
        base_dir: &Path,
        run_id: &str,
        limits: &Limits,
    ) -> Result<Self, EngineError> {
        let uri = endpoint.uri.clone();
        let write_error = |e: io::Error| EngineError::write(&uri, e);
        let (writer, staged) = match &endpoint.location {
            Location::File { path } => {
                let target = base_dir.join(path);
                match endpoint.format {
                    DataFormat::Csv | DataFormat::Jsonl => {
                        let (staged, file) = Compressed::open(
                            &target,
                            run_id,
                            text_option(options, "compression").as_deref(),
                        )
                        .map_err(write_error)?;
                        let writer = if endpoint.format == DataFormat::Csv {
                            Writer::Csv(csv_writer(options, file)?)
                        } else {
                            Writer::Jsonl(jsonl_writer(file))
                        };
                        (writer, Some(staged))
                    }
                    DataFormat::Parquet => {
                        let (staged, file) =
                            StagedFile::create(&target, run_id).map_err(write_error)?;
                        let properties = parquet_properties(options, schema, limits)
                            .map_err(|m| EngineError::Plan(format!("`{uri}`: {m}")))?;
                        let writer = ParquetLanesWriter::try_new(
                            file,
                            schema.clone(),
                            properties,
                            limits.parquet_encode_lanes_max,
                        )
                        .map_err(|e| EngineError::write(&uri, e))?;
                        (Writer::Parquet(writer), Some(staged))
                    }
                    DataFormat::Arrow => {
                        let (staged, file) =
                            StagedFile::create(&target, run_id).map_err(write_error)?;
                        (
                            Writer::Arrow(FileWriter::try_new(BufWriter::new(file), schema)?),
                            Some(staged),
                        )
                    }
                }
            }
            Location::Stdout => {
                let writer = match endpoint.format {
                    DataFormat::Csv => Writer::StdoutCsv(
                        arrow::csv::WriterBuilder::new()
                            .with_header(flag_option(options, "header").unwrap_or(true))
                            .build(io::stdout()),
                    ),
                    DataFormat::Arrow => Writer::StdoutArrow(
                        arrow::ipc::writer::StreamWriter::try_new(io::stdout(), schema)?,
                    ),
                    _ => Writer::StdoutJsonl(jsonl_writer(io::stdout())),
                };
                (writer, None)
            }
            Location::Stdin => {
                return Err(EngineError::Plan(format!("`{uri}` cannot be written to")));
            }
        };
        // arrow's CSV writer writes the header with its first batch: an
        // empty one now, so that a sink that gets no row has its header.
        let empty = RecordBatch::new_empty(SchemaRef::clone(schema));
        let mut writer = writer;
        match &mut writer {
            Writer::Csv(w) => w.write(&empty)?,
            Writer::StdoutCsv(w) => w.write(&empty)?,
            _ => {}
        }
        Ok(Self {
            uri,
            writer,
            staged,
        })
    }

    /// The sink's URI, as errors name it.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    pub fn discard(uri: &str) -> Self {
        Self {
            uri: uri.to_owned(),
            writer: Writer::Discard,
            staged: None,
        }
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), EngineError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let uri = &self.uri;
        let arrow = |result| output_result(uri, result);
        match &mut self.writer {
            Writer::Discard => {}
            Writer::Csv(w) => arrow(w.write(batch))?,
            Writer::Jsonl(w) => arrow(w.write(batch))?,
            Writer::Parquet(w) => w.write(batch).map_err(|e| EngineError::write(uri, e))?,
            Writer::Arrow(w) => arrow(w.write(batch))?,
            Writer::StdoutJsonl(w) => arrow(w.write(batch))?,
            Writer::StdoutCsv(w) => arrow(w.write(batch))?,
            Writer::StdoutArrow(w) => arrow(w.write(batch))?,
        }
        Ok(())
    }

    /// Finishes the file's content (footer, compressor) without making it
    /// visible; returns the staged file to commit with the others.
    pub fn finish(self) -> Result<Option<StagedFile>, EngineError> {
        let uri = self.uri;
        let io_error = |e: io::Error| EngineError::write(&uri, e);
        let arrow = |result| output_result(&uri, result);
        match self.writer {
            Writer::Discard => {}
            Writer::Csv(w) => w.into_inner().finish().map_err(io_error)?,
            Writer::Jsonl(mut w) => {
                arrow(w.finish())?;
                w.into_inner().finish().map_err(io_error)?;
            }
            Writer::Parquet(w) => {
                let file = w.into_inner().map_err(|e| EngineError::write(&uri, e))?;
                file.finish().map_err(io_error)?;
            }
            Writer::Arrow(mut w) => {
                arrow(w.finish())?;
                let file = w.into_inner().map_err(|e| EngineError::write(&uri, e))?;
                finish_buffered(file).map_err(io_error)?;
            }
            Writer::StdoutJsonl(mut w) => arrow(w.finish())?,
            Writer::StdoutCsv(w) => w.into_inner().flush().map_err(io_error)?,
            Writer::StdoutArrow(mut w) => arrow(w.finish())?,
        }
        Ok(self.staged)
    }

    pub fn abort(self) {
        if let Some(staged) = self.staged {
            staged.abort();
        }
    }
}

/// An Arrow writer's result: a failed write to the file or stdout (a full
/// disk, a closed pipe) is the output's, named; anything else is a bug.
fn output_result(uri: &str, result: Result<(), ArrowError>) -> Result<(), EngineError> {
    match result {
        Ok(()) => Ok(()),
        Err(ArrowError::IoError(_, io)) => Err(EngineError::write(uri, io)),
        Err(other) => Err(EngineError::Arrow(other)),
    }
}

/// A CSV sink's dialect, from its options: what its writer writes, and
/// what `runi test` reads back.
pub(crate) fn csv_sink_options(options: &BTreeMap<String, OptionValue>) -> CsvOptions {
    let byte = |key: &str| text_option(options, key).and_then(|t| t.bytes().next());
    CsvOptions {
        delimiter: byte("delimiter").unwrap_or(b','),
        quote: byte("quote").unwrap_or(b'"'),
        escape: byte("escape"),
        header: flag_option(options, "header").unwrap_or(true),
    }
}

fn csv_writer(
    options: &BTreeMap<String, OptionValue>,
    file: Compressed,
) -> Result<arrow::csv::Writer<Compressed>, EngineError> {
    let dialect = csv_sink_options(options);
    let mut builder = arrow::csv::WriterBuilder::new()
        .with_header(dialect.header)
        .with_delimiter(dialect.delimiter)
        .with_quote(dialect.quote);
    if let Some(escape) = dialect.escape {
        builder = builder.with_escape(escape).with_double_quote(false);
    }
    Ok(builder.build(file))
}

/// `compression` = `snappy` (default) | `zstd` | `zstd(LEVEL)` | `gzip` |
/// `gzip(LEVEL)` | `lz4` | `none`; `row_group_size` in rows.
///
/// A text or binary column with more distinct values than its dictionary
/// holds is written `DELTA_LENGTH_BYTE_ARRAY` rather than plain: the
/// values' lengths together, then their bytes with nothing between them.
/// Plain puts a 4-byte length before each value, which gives zstd a short
/// false match at every value: on W's hashed emails zstd(3) took 2.5 times
/// as long over plain pages as over the same values back to back, for a
/// result 7% larger.
fn parquet_properties(
    options: &BTreeMap<String, OptionValue>,
    schema: &Schema,
    limits: &Limits,
) -> Result<WriterProperties, String> {
    let compression = match text_option(options, "compression")
        .as_deref()
        .unwrap_or("snappy")
    {
        "snappy" => Compression::SNAPPY,
        "zstd" => Compression::ZSTD(ZstdLevel::default()),
        "gzip" => Compression::GZIP(GzipLevel::default()),
        "lz4" => Compression::LZ4_RAW,
        "none" => Compression::UNCOMPRESSED,
        other => match level(other, "zstd") {
            Some(n) => Compression::ZSTD(ZstdLevel::try_new(n).map_err(|e| e.to_string())?),
            None => match level(other, "gzip") {
                Some(n) => {
                    Compression::GZIP(GzipLevel::try_new(n as u32).map_err(|e| e.to_string())?)
                }
                None => {
                    return Err(format!(
                        "unknown compression `{other}`; expected snappy, zstd, zstd(LEVEL), gzip, gzip(LEVEL), lz4 or none"
                    ));
                }
            },
        },
    };
    let row_group = integer_option(options, "row_group_size")
        .map_or(limits.parquet_row_group_rows_max, |n| n.max(1) as usize);
    let mut builder = WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_row_count(Some(row_group))
        .set_dictionary_page_size_limit(limits.parquet_dictionary_bytes_max)
        .set_data_page_size_limit(limits.parquet_data_page_bytes_max);
    for field in schema.fields() {
        if is_byte_array(field.data_type()) {
            builder = builder.set_column_encoding(
                ColumnPath::from(field.name().as_str()),
                Encoding::DELTA_LENGTH_BYTE_ARRAY,
            );
        }
    }
    Ok(builder.build())
}

/// A JSON lines writer that writes a null as `null` rather than leaving
/// its key out, as the DLQ and `exec` steps' rows do: every line names
/// every column, so a reader that infers the columns from the lines finds
/// one that is null throughout.
fn jsonl_writer<W: Write>(out: W) -> arrow::json::LineDelimitedWriter<W> {
    arrow::json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .build(out)
}

/// Types Parquet stores as `BYTE_ARRAY`, when they are a top-level column.
fn is_byte_array(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
    )
}

fn level(text: &str, name: &str) -> Option<i32> {
    text.strip_prefix(name)?
        .strip_prefix('(')?
        .strip_suffix(')')?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_names_the_output_and_a_bug_says_so() {
        // ENOSPC: no space left on the device.
        let full = io::Error::from_raw_os_error(28);
        let error = output_result(
            "csv://out/x.csv",
            Err(ArrowError::IoError("write".into(), full)),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("cannot write `csv://out/x.csv`"),
            "{error}"
        );
        let bug = output_result("csv://out/x.csv", Err(ArrowError::ComputeError("x".into())))
            .unwrap_err()
            .to_string();
        assert!(bug.contains("this is a bug"), "{bug}");
    }
    use arrow::array::StringArray;
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use std::fs::File;
    use std::sync::Arc;

    /// A file of `columns` (strings) written with the sink's properties
    /// under `limits`, read back.
    fn written(limits: &Limits, columns: Vec<(&str, Vec<String>)>) -> SerializedFileReader<File> {
        written_with_file(limits, columns).0
    }

    /// [`written`], and the file itself to read again.
    fn written_with_file(
        limits: &Limits,
        columns: Vec<(&str, Vec<String>)>,
    ) -> (SerializedFileReader<File>, File) {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, _)| Field::new(*name, DataType::Utf8, false))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let arrays = columns
            .into_iter()
            .map(|(_, values)| Arc::new(StringArray::from(values)) as _)
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
        let properties = parquet_properties(&BTreeMap::new(), &schema, limits).unwrap();
        let out = tempfile::tempfile().unwrap();
        let mut writer =
            ParquetLanesWriter::try_new(out.try_clone().unwrap(), schema, properties, 2).unwrap();
        writer.write(&batch).unwrap();
        writer.into_inner().unwrap();
        (
            SerializedFileReader::new(out.try_clone().unwrap()).unwrap(),
            out,
        )
    }

    /// For each column of the first row group of a file written with the
    /// sink's properties under `limits`: the bytes of its dictionary page.
    fn dictionary_bytes(limits: &Limits, columns: Vec<(&str, Vec<String>)>) -> Vec<Option<i64>> {
        let reader = written(limits, columns);
        let group = reader.metadata().row_group(0);
        group
            .columns()
            .iter()
            .map(|c| {
                c.dictionary_page_offset()
                    .map(|start| c.data_page_offset() - start)
            })
            .collect()
    }

    /// `count` distinct strings of 32 hex digits that do not compress.
    fn hex_ids(count: u64) -> Vec<String> {
        (0..count)
            .map(|i| {
                format!(
                    "{:032x}",
                    u128::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)
                )
            })
            .collect()
    }

    #[test]
    fn few_distinct_values_keep_a_dictionary_and_many_stop_at_its_bound() {
        assert_eq!(Limits::default().parquet_dictionary_bytes_max, 64 * 1024);
        let rows = 20_000u64;
        let currencies = (0..rows).map(|i| ["EUR", "USD", "GBP"][(i % 3) as usize].to_owned());
        // 20,000 distinct values: about 700 KB of dictionary without a bound.
        let ids = hex_ids(rows);
        let limits = Limits {
            parquet_dictionary_bytes_max: 16 * 1024,
            ..Limits::default()
        };
        let bound = limits.parquet_dictionary_bytes_max as i64;
        let sizes = dictionary_bytes(
            &limits,
            vec![("currency", currencies.collect()), ("id", ids)],
        );
        let currency = sizes[0].expect("a dictionary for three values");
        assert!(currency < 1024, "currency dictionary of {currency} bytes");
        let id = sizes[1].expect("a dictionary until the bound");
        // A page header and snappy's framing on top of the bound.
        assert!(
            id <= bound + 1024,
            "id dictionary of {id} bytes past {bound}"
        );
    }

    #[test]
    fn data_pages_end_near_their_bound() {
        use parquet::column::page::Page;

        let limits = Limits::default();
        assert_eq!(limits.parquet_data_page_bytes_max, 64 * 1024);
        // 100,000 values of 32 bytes (DELTA_LENGTH_BYTE_ARRAY: the text, and
        // lengths packed to almost nothing), past the dictionary's bound:
        // about 3.2 MB of pages.
        let reader = written(&limits, vec![("id", hex_ids(100_000))]);
        let pages: Vec<usize> = reader
            .get_row_group(0)
            .unwrap()
            .get_column_page_reader(0)
            .unwrap()
            .map(Result::unwrap)
            .filter_map(|page| match page {
                Page::DataPage { num_values, .. } | Page::DataPageV2 { num_values, .. } => {
                    Some(num_values as usize)
                }
                Page::DictionaryPage { .. } => None,
            })
            .collect();
        // The bound, then at most one batch of 1,024 values more.
        let values_max = (limits.parquet_data_page_bytes_max + 1024 * 32) / 32;
        assert!(pages.len() > 40, "{} pages", pages.len());
        assert!(
            pages.iter().all(|values| *values <= values_max),
            "pages of {pages:?} values, at most {values_max} expected"
        );
    }

    /// The encodings of the data pages of each column of the first row
    /// group of `reader`.
    fn data_page_encodings(reader: &SerializedFileReader<File>) -> Vec<Vec<Encoding>> {
        use parquet::column::page::Page;

        let group = reader.get_row_group(0).unwrap();
        (0..group.num_columns())
            .map(|column| {
                group
                    .get_column_page_reader(column)
                    .unwrap()
                    .map(Result::unwrap)
                    .filter_map(|page| match page {
                        Page::DataPage { encoding, .. } | Page::DataPageV2 { encoding, .. } => {
                            Some(encoding)
                        }
                        Page::DictionaryPage { .. } => None,
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn text_past_its_dictionary_is_written_delta_length_and_reads_back_whole() {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

        let rows = 20_000u64;
        let ids = hex_ids(rows);
        let currencies: Vec<String> = (0..rows)
            .map(|i| ["EUR", "USD", "GBP"][(i % 3) as usize].to_owned())
            .collect();
        let limits = Limits::default();
        let (reader, mut file) = written_with_file(
            &limits,
            vec![("id", ids.clone()), ("currency", currencies.clone())],
        );
        let encodings = data_page_encodings(&reader);
        // The ids fill the dictionary's 64 KiB, then go on delta-length.
        assert!(
            encodings[0].contains(&Encoding::DELTA_LENGTH_BYTE_ARRAY),
            "{:?}",
            encodings[0]
        );
        assert!(
            !encodings[0].contains(&Encoding::PLAIN),
            "{:?}",
            encodings[0]
        );
        // Three currencies stay in their dictionary.
        assert!(
            encodings[1]
                .iter()
                .all(|e| matches!(e, Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY)),
            "{:?}",
            encodings[1]
        );

        use std::io::Seek;
        file.rewind().unwrap();
        let read: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let read = arrow::compute::concat_batches(&read[0].schema(), &read).unwrap();
        assert_eq!(read.column(0).as_ref(), &StringArray::from(ids));
        assert_eq!(read.column(1).as_ref(), &StringArray::from(currencies));
    }
}
