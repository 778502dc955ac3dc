//! Type readability: turning a column of text (or of another Arrow type)
//! into the column's contract type, and finding the values that cannot be
//! read. Casts use Arrow's kernels; dates and times with a `format` use the
//! strict JDK-pattern reader.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Float64Array, StringArray,
    Time64MicrosecondArray, TimestampMicrosecondArray,
};
use arrow::buffer::BooleanBuffer;
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Float64Type};
use arrow::error::ArrowError;

use crate::calendar;
use crate::jdk_format::{TemporalFormat, TemporalParts};
use crate::logical_type::LogicalType;

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// How one column's values are read.
#[derive(Debug, Clone)]
pub(crate) struct ColumnReader {
    pub kind: LogicalType,
    pub format: Option<TemporalFormat>,
    /// Applied to timestamps whose text carries no zone.
    pub default_offset_seconds: i32,
    pub target: DataType,
}

/// A column read into its contract type.
#[derive(Debug)]
pub(crate) struct ReadColumn {
    pub typed: ArrayRef,
    /// Set where the input held a value that could not be read.
    pub unreadable: BooleanBuffer,
}

impl ColumnReader {
    pub fn read(&self, raw: &ArrayRef) -> Result<ReadColumn, ArrowError> {
        if raw.data_type() == &self.target && self.kind == LogicalType::Number {
            // Already floats (Parquet, an `exec` step's cast output): NaN and
            // the infinities are no number a contract can mean, as in text.
            let typed: ArrayRef = Arc::new(finite_only(raw));
            let unreadable = unreadable(raw, &typed);
            return Ok(ReadColumn { typed, unreadable });
        }
        if raw.data_type() == &self.target
            && !matches!(self.kind, LogicalType::Object | LogicalType::Array)
        {
            return Ok(ReadColumn {
                typed: Arc::clone(raw),
                unreadable: BooleanBuffer::new_unset(raw.len()),
            });
        }
        let text = match (as_utf8(raw)?, self.kind) {
            (None, LogicalType::Object | LogicalType::Array) if raw.data_type().is_nested() => {
                Some(nested_as_json_text(raw)?)
            }
            (text, _) => text,
        };
        let typed: ArrayRef = match (&text, self.kind) {
            (Some(text), LogicalType::Boolean) => Arc::new(read_booleans(text)),
            (Some(text), LogicalType::Object | LogicalType::Array) => {
                Arc::new(read_json(text, self.kind))
            }
            (Some(text), kind) if kind.is_temporal() && self.format.is_some() => {
                self.read_formatted(text)
            }
            (Some(text), LogicalType::Timestamp) if self.default_offset_seconds != 0 => {
                self.read_iso_in_default_zone(text)?
            }
            (Some(text), LogicalType::Number) => Arc::new(finite_only(&cast_safe(
                &(Arc::new(text.clone()) as ArrayRef),
                &self.target,
            )?)),
            (Some(text), _) => cast_safe(&(Arc::new(text.clone()) as ArrayRef), &self.target)?,
            (None, _) => cast_safe(raw, &self.target)?,
        };
        let unreadable = unreadable(raw, &typed);
        Ok(ReadColumn { typed, unreadable })
    }

    fn read_formatted(&self, text: &StringArray) -> ArrayRef {
        let format = self
            .format
            .as_ref()
            .expect("read_formatted is called only with a format");
        let parts = text.iter().map(|value| value.and_then(|v| format.parse(v)));
        match self.kind {
            LogicalType::Date => Arc::new(parts.map(|p| p.and_then(days)).collect::<Date32Array>()),
            LogicalType::Time => Arc::new(
                parts
                    .map(|p| p.and_then(time_micros))
                    .collect::<Time64MicrosecondArray>(),
            ),
            _ => {
                let micros: TimestampMicrosecondArray = parts
                    .map(|p| p.and_then(|p| self.timestamp_micros(p)))
                    .collect();
                match &self.target {
                    DataType::Timestamp(_, zone) => {
                        Arc::new(micros.with_timezone_opt(zone.clone()))
                    }
                    _ => Arc::new(micros),
                }
            }
        }
    }

    /// ISO 8601 timestamps, those without a zone read in `defaultTimezone`
    /// (as formatted ones are); Arrow's cast alone would read them as UTC.
    fn read_iso_in_default_zone(&self, text: &StringArray) -> Result<ArrayRef, ArrowError> {
        let cast = cast_safe(&(Arc::new(text.clone()) as ArrayRef), &self.target)?;
        let offset_micros = i64::from(self.default_offset_seconds) * MICROS_PER_SECOND;
        let micros: TimestampMicrosecondArray = cast
            .as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
            .iter()
            .zip(text.iter())
            .map(|(value, text)| match (value, text) {
                (Some(value), Some(text)) if !carries_zone(text) => Some(value - offset_micros),
                (value, _) => value,
            })
            .collect();
        Ok(match &self.target {
            DataType::Timestamp(_, zone) => Arc::new(micros.with_timezone_opt(zone.clone())),
            _ => Arc::new(micros),
        })
    }

    /// Reads a bound written in the contract (`minimum: "2024-01-01"`)
    /// into the column's representation, so that values compare with it.
    pub fn read_bound_text(&self, text: &str) -> Option<i64> {
        let array: ArrayRef = Arc::new(StringArray::from(vec![text]));
        let read = self.read(&array).ok()?;
        if read.typed.is_null(0) {
            return None;
        }
        let typed = &read.typed;
        match typed.data_type() {
            DataType::Date32 => Some(i64::from(
                typed
                    .as_primitive::<arrow::datatypes::Date32Type>()
                    .value(0),
            )),
            DataType::Time64(_) => Some(
                typed
                    .as_primitive::<arrow::datatypes::Time64MicrosecondType>()
                    .value(0),
            ),
            DataType::Timestamp(_, _) => Some(
                typed
                    .as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
                    .value(0),
            ),
            _ => None,
        }
    }

    fn timestamp_micros(&self, parts: TemporalParts) -> Option<i64> {
        let day = days(parts)?;
        let (seconds, micros) = parts.time.unwrap_or((0, 0));
        let offset = parts.offset_seconds.unwrap_or(self.default_offset_seconds);
        let local = i64::from(day) * SECONDS_PER_DAY + i64::from(seconds) - i64::from(offset);
        Some(local * MICROS_PER_SECOND + i64::from(micros))
    }
}

/// Does an ISO 8601 timestamp name its zone (`Z`, `+01:00`, `-0500`)?
/// Only the part after the date can: the date's own dashes come first.
fn carries_zone(text: &str) -> bool {
    text.trim()
        .get(10..)
        .is_some_and(|time| time.contains(['Z', 'z', '+', '-']))
}

fn days(parts: TemporalParts) -> Option<i32> {
    let (y, m, d) = parts.date?;
    calendar::days_from_epoch(y, m, d)
}

fn time_micros(parts: TemporalParts) -> Option<i64> {
    let (seconds, micros) = parts.time?;
    Some(i64::from(seconds) * MICROS_PER_SECOND + i64::from(micros))
}

/// The column as UTF-8 text, when it is text of any Arrow flavour.
pub(crate) fn as_utf8(raw: &ArrayRef) -> Result<Option<StringArray>, ArrowError> {
    match raw.data_type() {
        DataType::Utf8 => Ok(Some(raw.as_string::<i32>().clone())),
        DataType::LargeUtf8 | DataType::Utf8View => Ok(Some(
            cast_safe(raw, &DataType::Utf8)?.as_string::<i32>().clone(),
        )),
        _ => Ok(None),
    }
}

/// A nested column (a Parquet list, struct or map) as the JSON text of
/// each value, which `object` and `array` columns hold: Arrow's own cast
/// to text writes lists as `[a, b]`, which is not JSON, and refuses
/// structs.
pub(crate) fn nested_as_json_text(raw: &ArrayRef) -> Result<StringArray, ArrowError> {
    let field = arrow::datatypes::Field::new("v", raw.data_type().clone(), true);
    let batch = arrow::array::RecordBatch::try_new(
        Arc::new(arrow::datatypes::Schema::new(vec![field])),
        vec![Arc::clone(raw)],
    )?;
    let mut lines = Vec::new();
    let mut writer = arrow::json::LineDelimitedWriter::new(&mut lines);
    writer.write(&batch)?;
    writer.finish()?;
    let text = String::from_utf8(lines).map_err(|e| ArrowError::JsonError(e.to_string()))?;
    text.lines()
        .map(|line| {
            let row: serde_json::Value =
                serde_json::from_str(line).map_err(|e| ArrowError::JsonError(e.to_string()))?;
            Ok(row.get("v").filter(|v| !v.is_null()).map(|v| v.to_string()))
        })
        .collect()
}

fn cast_safe(array: &ArrayRef, to: &DataType) -> Result<ArrayRef, ArrowError> {
    let options = CastOptions {
        safe: true,
        ..CastOptions::default()
    };
    cast_with_options(array, to, &options)
}

/// NaN and the infinities are not numbers a contract can mean.
fn finite_only(array: &ArrayRef) -> Float64Array {
    array
        .as_primitive::<Float64Type>()
        .iter()
        .map(|v| v.filter(|x| x.is_finite()))
        .collect()
}

/// Strict booleans: `true` or `false`, in any letter case.
fn read_booleans(text: &StringArray) -> BooleanArray {
    text.iter()
        .map(|value| {
            value.and_then(|v| {
                if v.eq_ignore_ascii_case("true") {
                    Some(true)
                } else if v.eq_ignore_ascii_case("false") {
                    Some(false)
                } else {
                    None
                }
            })
        })
        .collect()
}

/// Keeps the text of values that parse as a JSON object (or array).
fn read_json(text: &StringArray, kind: LogicalType) -> StringArray {
    text.iter()
        .map(|value| {
            // Strict: a key given twice at any depth is no readable value.
            value.filter(|v| match crate::strict_json::parse_strict(v) {
                Ok(serde_json::Value::Object(_)) => kind == LogicalType::Object,
                Ok(serde_json::Value::Array(_)) => kind == LogicalType::Array,
                _ => false,
            })
        })
        .collect()
}

/// Set where `raw` holds a value and `typed` does not.
fn unreadable(raw: &ArrayRef, typed: &ArrayRef) -> BooleanBuffer {
    let present = match raw.logical_nulls() {
        Some(nulls) => nulls.inner().clone(),
        None => BooleanBuffer::new_set(raw.len()),
    };
    match typed.logical_nulls() {
        Some(nulls) => &present & &!nulls.inner(),
        None => BooleanBuffer::new_unset(raw.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(kind: LogicalType, format: Option<&str>, zoned: bool) -> ColumnReader {
        ColumnReader {
            kind,
            format: format.map(|f| TemporalFormat::compile(f).unwrap()),
            default_offset_seconds: 0,
            target: kind.arrow_type(zoned),
        }
    }

    fn read(reader: &ColumnReader, values: Vec<Option<&str>>) -> (ArrayRef, Vec<bool>) {
        let raw: ArrayRef = Arc::new(StringArray::from(values));
        let read = reader.read(&raw).unwrap();
        (read.typed, read.unreadable.iter().collect())
    }

    #[test]
    fn numbers_reject_garbage_and_non_finite() {
        let (typed, bad) = read(
            &reader(LogicalType::Number, None, false),
            vec![
                Some("12.50"),
                Some("abc"),
                Some("1,234.50"),
                Some("$15.00"),
                Some("12.3.4"),
                Some("NaN"),
                None,
                Some("-3"),
            ],
        );
        assert_eq!(bad, [false, true, true, true, true, true, false, false]);
        assert_eq!(typed.as_primitive::<Float64Type>().value(7), -3.0);
    }

    #[test]
    fn nested_columns_are_read_as_their_json_text() {
        use arrow::array::{Int64Array, ListArray, StructArray};
        use arrow::datatypes::{Field, Int64Type};
        let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(1), Some(2)]),
            None,
            Some(vec![]),
        ]));
        let read = reader(LogicalType::Array, None, false).read(&list).unwrap();
        let text = read.typed.as_string::<i32>();
        assert_eq!(text.value(0), "[1,2]");
        assert!(text.is_null(1));
        assert_eq!(text.value(2), "[]");
        assert_eq!(read.unreadable.count_set_bits(), 0);

        let names: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), None]));
        let numbers: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
        let record: ArrayRef = Arc::new(StructArray::from(vec![
            (Arc::new(Field::new("a", DataType::Int64, false)), numbers),
            (Arc::new(Field::new("b", DataType::Utf8, true)), names),
        ]));
        let read = reader(LogicalType::Object, None, false)
            .read(&record)
            .unwrap();
        let text = read.typed.as_string::<i32>();
        assert_eq!(text.value(0), r#"{"a":1,"b":"x"}"#);
        assert_eq!(text.value(1), r#"{"a":2}"#);
        // A list is no object.
        let read = reader(LogicalType::Object, None, false)
            .read(&list)
            .unwrap();
        assert_eq!(
            read.unreadable.iter().collect::<Vec<_>>(),
            [true, false, true]
        );
    }

    #[test]
    fn floats_that_are_no_number_are_unreadable_as_text_is() {
        let raw: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(1.5),
            Some(f64::NAN),
            Some(f64::INFINITY),
            None,
        ]));
        let read = reader(LogicalType::Number, None, false).read(&raw).unwrap();
        assert_eq!(
            read.unreadable.iter().collect::<Vec<_>>(),
            [false, true, true, false]
        );
        assert!(read.typed.is_null(1) && read.typed.is_valid(0));
    }

    #[test]
    fn integers_booleans_and_json() {
        let (_, bad) = read(
            &reader(LogicalType::Integer, None, false),
            vec![Some("42"), Some("4.2"), Some("-7")],
        );
        assert_eq!(bad, [false, true, false]);
        let (_, bad) = read(
            &reader(LogicalType::Boolean, None, false),
            vec![Some("TRUE"), Some("false"), Some("yes"), Some("1")],
        );
        assert_eq!(bad, [false, false, true, true]);
        let (_, bad) = read(
            &reader(LogicalType::Object, None, false),
            vec![Some(r#"{"a":1}"#), Some("[1]"), Some("{bad")],
        );
        assert_eq!(bad, [false, true, true]);
    }

    #[test]
    fn formatted_timestamps_are_strict_and_zoned_by_default_offset() {
        let mut r = reader(LogicalType::Timestamp, Some("yyyy-MM-dd'T'HH:mm:ss"), false);
        let (typed, bad) = read(
            &r,
            vec![
                Some("1970-01-02T00:00:01"),
                Some("2024-13-01T00:00:00"),
                Some("2024-02-10 10:00:00"),
            ],
        );
        assert_eq!(bad, [false, true, true]);
        let micros = typed.as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
        assert_eq!(micros.value(0), (86_400 + 1) * 1_000_000);
        r.default_offset_seconds = 3600;
        assert_eq!(r.read_bound_text("1970-01-01T01:00:00"), Some(0));
    }

    #[test]
    fn iso_timestamps_without_a_zone_are_read_in_the_default_zone() {
        let mut r = reader(LogicalType::Timestamp, None, false);
        r.default_offset_seconds = 3600;
        let (typed, bad) = read(
            &r,
            vec![
                Some("1970-01-01T01:00:00"),
                Some("1970-01-01T01:00:00Z"),
                Some("1970-01-01T01:00:00-01:00"),
                Some("1970-01-01"),
            ],
        );
        assert_eq!(bad, [false, false, false, false]);
        let micros = typed.as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
        let hour = 3_600_000_000;
        assert_eq!(
            (0..4).map(|i| micros.value(i)).collect::<Vec<_>>(),
            [0, hour, 2 * hour, -hour]
        );
        // The same text with a format is the same instant.
        let mut formatted = reader(LogicalType::Timestamp, Some("yyyy-MM-dd'T'HH:mm:ss"), false);
        formatted.default_offset_seconds = 3600;
        let (typed, _) = read(&formatted, vec![Some("1970-01-01T01:00:00")]);
        let micros = typed.as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
        assert_eq!(micros.value(0), 0);
    }

    #[test]
    fn iso_timestamps_without_format() {
        let (typed, bad) = read(
            &reader(LogicalType::Timestamp, None, true),
            vec![
                Some("2026-03-01T10:15:00Z"),
                Some("2026-03-01T10:15:00+01:00"),
                Some("yesterday"),
            ],
        );
        assert_eq!(bad, [false, false, true]);
        let micros = typed.as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
        assert_eq!(micros.value(0) - micros.value(1), 3600 * 1_000_000);
        let (_, bad) = read(
            &reader(LogicalType::Date, None, false),
            vec![Some("2024-02-29"), Some("2023-02-29")],
        );
        assert_eq!(bad, [false, true]);
    }
}
