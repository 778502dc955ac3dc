//! What a column's data looks like, gathered batch by batch for `infer`:
//! nulls, which logical types every value reads as (with the contract's
//! own readers, so that an inferred contract accepts the data it came
//! from), a few distinct values, and the shapes that make a pattern or
//! suggest personal data. Memory is bounded by `ENUM_VALUES_TRACKED_MAX`
//! and `distinct_keys_max`, never by the data's size.

use std::collections::BTreeSet;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Schema};
use arrow::error::ArrowError;
use regex::Regex;

use crate::jdk_format::TemporalFormat;
use crate::logical_type::LogicalType;
use crate::reading::{ColumnReader, as_utf8};
use crate::unique::SeenValues;

/// Distinct values kept per column to decide on an enum.
const ENUM_VALUES_TRACKED_MAX: usize = 64;
/// Digits after a literal prefix, at most, for a `PREFIX[0-9]{n}` pattern.
const ID_DIGITS_MAX: usize = 20;

/// A way to read a column's text that `infer` may propose.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeCandidate {
    pub kind: LogicalType,
    /// A JDK pattern, for dates and times written in one.
    pub format: Option<&'static str>,
    /// `false`: timestamps carry no zone (`timezone: false`).
    pub zoned: bool,
}

/// The ways `infer` tries, most specific first.
fn candidates() -> Vec<TypeCandidate> {
    let plain = |kind| TypeCandidate {
        kind,
        format: None,
        zoned: true,
    };
    let formatted = |kind, format, zoned| TypeCandidate {
        kind,
        format: Some(format),
        zoned,
    };
    vec![
        plain(LogicalType::Boolean),
        plain(LogicalType::Integer),
        plain(LogicalType::Number),
        formatted(LogicalType::Date, "yyyy-MM-dd", true),
        formatted(LogicalType::Timestamp, "yyyy-MM-dd'T'HH:mm:ss", false),
        formatted(LogicalType::Timestamp, "yyyy-MM-dd HH:mm:ss", false),
        plain(LogicalType::Timestamp),
        // JSON arrays and objects (JSON lines' nested values, or such text
        // in CSV): a `string` column would refuse them.
        plain(LogicalType::Array),
        plain(LogicalType::Object),
    ]
}

/// Observations of one column.
#[derive(Debug)]
pub struct ColumnStats {
    pub name: String,
    /// A typed input column's Arrow type (Parquet, Arrow); `None` for text.
    pub arrow_type: Option<DataType>,
    pub rows: u64,
    /// Nulls and empty texts.
    pub missing: u64,
    /// Text values present (not missing) seen so far.
    pub values: u64,
    /// The candidates that read every value seen so far.
    pub types: Vec<TypeCandidate>,
    /// Distinct values, until there are more than `ENUM_VALUES_TRACKED_MAX`.
    pub distinct: Option<BTreeSet<String>>,
    /// No value repeated (checked with fingerprints, up to their bound).
    pub all_distinct: bool,
    pub all_emails: bool,
    pub all_phones: bool,
    pub all_uuids: bool,
    /// Every value is this literal prefix followed by digits, with the
    /// fewest and most digits seen.
    pub prefixed_digits: Option<(String, usize, usize)>,
    /// Some value is a number written with a leading zero (`007`): an identifier.
    pub leading_zero: bool,
    seen: SeenValues,
}

/// Gathers [`ColumnStats`] for every column of a file.
#[derive(Debug)]
pub struct Profiler {
    columns: Vec<ColumnStats>,
    readers: Vec<Vec<(TypeCandidate, ColumnReader)>>,
    shapes: Shapes,
}

#[derive(Debug)]
struct Shapes {
    email: Regex,
    phone: Regex,
    uuid: Regex,
}

impl Profiler {
    /// `distinct_keys_max` bounds the fingerprints kept per column to tell
    /// whether its values are unique.
    pub fn new(schema: &Schema, distinct_keys_max: usize) -> Self {
        let columns = schema
            .fields()
            .iter()
            .map(|field| {
                let text = matches!(
                    field.data_type(),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                );
                ColumnStats {
                    name: field.name().clone(),
                    arrow_type: (!text).then(|| field.data_type().clone()),
                    rows: 0,
                    missing: 0,
                    values: 0,
                    types: if text { candidates() } else { Vec::new() },
                    distinct: Some(BTreeSet::new()),
                    all_distinct: true,
                    all_emails: text,
                    all_phones: text,
                    all_uuids: text,
                    prefixed_digits: None,
                    leading_zero: false,
                    seen: SeenValues::new(distinct_keys_max),
                }
            })
            .collect::<Vec<_>>();
        let readers = columns
            .iter()
            .map(|c| {
                c.types
                    .iter()
                    .map(|candidate| (candidate.clone(), reader_for(candidate)))
                    .collect()
            })
            .collect();
        Self {
            columns,
            readers,
            shapes: Shapes {
                email: Regex::new(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$").expect("a valid regex"),
                phone: Regex::new(r"^\+?[0-9][0-9 ().-]{5,18}[0-9]$").expect("a valid regex"),
                uuid: Regex::new(
                    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
                )
                .expect("a valid regex"),
            },
        }
    }

    pub fn add(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        for (index, array) in batch.columns().iter().enumerate() {
            let Some(stats) = self.columns.get_mut(index) else {
                break;
            };
            stats.rows += array.len() as u64;
            match as_utf8(array)? {
                Some(text) => {
                    let readers = &mut self.readers[index];
                    observe_text(stats, readers, &self.shapes, &text)?;
                }
                None => observe_typed(stats, array)?,
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Vec<ColumnStats> {
        self.columns
    }
}

fn reader_for(candidate: &TypeCandidate) -> ColumnReader {
    ColumnReader {
        kind: candidate.kind,
        format: candidate
            .format
            .map(|f| TemporalFormat::compile(f).expect("the built-in formats compile")),
        default_offset_seconds: 0,
        target: candidate.kind.arrow_type(candidate.zoned),
    }
}

fn observe_text(
    stats: &mut ColumnStats,
    readers: &mut Vec<(TypeCandidate, ColumnReader)>,
    shapes: &Shapes,
    text: &arrow::array::StringArray,
) -> Result<(), ArrowError> {
    // Empty texts count as missing, as `required` sees them: read as null.
    let present: arrow::array::StringArray =
        text.iter().map(|v| v.filter(|v| !v.is_empty())).collect();
    stats.missing += present.null_count() as u64;
    let raw: ArrayRef = std::sync::Arc::new(present.clone());
    let mut kept = Vec::with_capacity(readers.len());
    for (candidate, reader) in readers.drain(..) {
        if reader.read(&raw)?.unreadable.count_set_bits() == 0 {
            kept.push((candidate, reader));
        }
    }
    *readers = kept;
    stats.types = readers.iter().map(|(c, _)| c.clone()).collect();
    for value in present.iter().flatten() {
        observe_value(stats, shapes, value);
    }
    Ok(())
}

fn observe_value(stats: &mut ColumnStats, shapes: &Shapes, value: &str) {
    if let Some(distinct) = &mut stats.distinct {
        distinct.insert(value.to_owned());
        if distinct.len() > ENUM_VALUES_TRACKED_MAX {
            stats.distinct = None;
        }
    }
    if stats.all_distinct {
        stats.all_distinct = matches!(stats.seen.seen_before_text(value.as_bytes()), Ok(false));
    }
    stats.all_emails &= shapes.email.is_match(value);
    stats.all_uuids &= shapes.uuid.is_match(value);
    stats.all_phones &= shapes.phone.is_match(value) && looks_like_phone(value);
    let digits = value.len() - value.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    stats.leading_zero |= digits > 1 && value.starts_with('0');
    let prefix = value.trim_end_matches(|c: char| c.is_ascii_digit());
    let tail = value.len() - prefix.len();
    let fits = tail > 0 && tail <= ID_DIGITS_MAX && !prefix.chars().any(|c| c.is_ascii_digit());
    stats.prefixed_digits = match (stats.values > 0, stats.prefixed_digits.take()) {
        (true, None) => None,
        (_, Some((p, low, high))) if fits && p == prefix => {
            Some((p, low.min(tail), high.max(tail)))
        }
        (false, None) if fits => Some((prefix.to_owned(), tail, tail)),
        _ => None,
    };
    stats.values += 1;
}

/// Phone numbers have at least 7 digits and a `+` or a separator, which
/// keeps plain numeric identifiers out.
fn looks_like_phone(value: &str) -> bool {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    (7..=15).contains(&digits)
        && value
            .chars()
            .any(|c| matches!(c, '+' | ' ' | '-' | '(' | '.'))
}

fn observe_typed(stats: &mut ColumnStats, array: &ArrayRef) -> Result<(), ArrowError> {
    stats.missing += array.null_count() as u64;
    if let Some(text) = array.as_string_opt::<i32>() {
        for value in text.iter().flatten() {
            stats.all_distinct &=
                matches!(stats.seen.seen_before_text(value.as_bytes()), Ok(false));
        }
    } else {
        stats.all_distinct = false;
    }
    Ok(())
}
