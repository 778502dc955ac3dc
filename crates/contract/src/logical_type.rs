//! ODCS logical types and the Arrow type each one is read into.

use arrow::datatypes::{DataType, TimeUnit};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogicalType {
    String,
    Integer,
    Number,
    Boolean,
    Date,
    Timestamp,
    Time,
    /// A JSON object, kept as its text.
    Object,
    /// A JSON array, kept as its text.
    Array,
}

impl LogicalType {
    /// A column with no `logicalType` is read as a string: nothing to check.
    pub fn of(declared: Option<&str>) -> Self {
        match declared {
            Some("integer") => Self::Integer,
            Some("number") => Self::Number,
            Some("boolean") => Self::Boolean,
            Some("date") => Self::Date,
            Some("timestamp") => Self::Timestamp,
            Some("time") => Self::Time,
            Some("object") => Self::Object,
            Some("array") => Self::Array,
            _ => Self::String,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Timestamp => "timestamp",
            Self::Time => "time",
            Self::Object => "object",
            Self::Array => "array",
        }
    }

    /// The Arrow type a checked value has. Timestamps are microseconds:
    /// in UTC (`+00:00`) when values may carry a zone, without one when the contract
    /// says `timezone: false`.
    pub fn arrow_type(self, zoned: bool) -> DataType {
        match self {
            Self::String | Self::Object | Self::Array => DataType::Utf8,
            Self::Integer => DataType::Int64,
            Self::Number => DataType::Float64,
            Self::Boolean => DataType::Boolean,
            Self::Date => DataType::Date32,
            Self::Timestamp => {
                DataType::Timestamp(TimeUnit::Microsecond, zoned.then(|| "+00:00".into()))
            }
            Self::Time => DataType::Time64(TimeUnit::Microsecond),
        }
    }

    pub fn is_temporal(self) -> bool {
        matches!(self, Self::Date | Self::Timestamp | Self::Time)
    }

    /// `object` and `array`: values that are JSON text of that shape.
    pub fn is_structured(self) -> bool {
        matches!(self, Self::Object | Self::Array)
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Integer | Self::Number)
    }
}
