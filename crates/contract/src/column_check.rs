//! One column's row rules, compiled once from the contract and evaluated
//! over whole Arrow arrays: each rule yields a bitmap of the rows it fails.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Float64Array, Int64Array, Scalar,
    StringArray, Time64MicrosecondArray, TimestampMicrosecondArray,
};
use arrow::buffer::BooleanBuffer;
use arrow::compute::kernels::cmp;
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Float64Type};
use arrow::error::ArrowError;

use crate::ContractError;
use crate::finding::RuleKind;
use crate::jdk_format::TemporalFormat;
use crate::logical_type::LogicalType;
use crate::model::Column;
use crate::pattern::Pattern;
use crate::quality::QualityCheck;
use crate::reading::{ColumnReader, ReadColumn, as_utf8};
use crate::structured_rules::StructuredRules;
use crate::type_options::{Bound, BoundValue};

#[derive(Debug, Clone)]
pub(crate) enum CompiledBound {
    Number {
        value: f64,
        exclusive: bool,
    },
    /// Exact, in the column's own representation: days, microseconds, or
    /// a whole number for an `integer` column.
    Exact {
        value: i64,
        exclusive: bool,
    },
}

impl CompiledBound {
    /// As a minimum, whether it leaves no value at or under `maximum`.
    fn excludes_all_below(&self, maximum: &Self) -> bool {
        fn empty<T: PartialOrd>(low: T, low_ex: bool, high: T, high_ex: bool) -> bool {
            low > high || (low == high && (low_ex || high_ex))
        }
        match (self, maximum) {
            (
                Self::Number {
                    value: l,
                    exclusive: le,
                },
                Self::Number {
                    value: h,
                    exclusive: he,
                },
            ) => empty(l, *le, h, *he),
            (
                Self::Exact {
                    value: l,
                    exclusive: le,
                },
                Self::Exact {
                    value: h,
                    exclusive: he,
                },
            ) => empty(l, *le, h, *he),
            _ => false,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum ValueSet {
    Text(TextSet),
    /// Numbers compare by value, so `1` and `1.0` are the same.
    Number(Vec<f64>),
}

/// Up to this many allowed texts are compared one by one: faster than
/// hashing the value, for the short lists contracts mostly give.
const TEXT_SET_SCAN_MAX: usize = 8;

#[derive(Debug, Clone)]
pub(crate) enum TextSet {
    Few(Vec<String>),
    Many(HashSet<String>),
}

impl TextSet {
    fn new(values: &[String]) -> Self {
        match values.len() <= TEXT_SET_SCAN_MAX {
            true => Self::Few(values.to_vec()),
            false => Self::Many(values.iter().cloned().collect()),
        }
    }

    fn contains(&self, value: &str) -> bool {
        match self {
            Self::Few(texts) => texts.iter().any(|text| text == value),
            Self::Many(texts) => texts.contains(value),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ColumnCheck {
    pub name: String,
    pub reader: ColumnReader,
    pub required: bool,
    /// A row rule from a property-level `nullValues` with `mustBe: 0`.
    pub null_values: Option<HashSet<String>>,
    pub pattern: Option<Pattern>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub minimum: Option<(CompiledBound, String)>,
    pub maximum: Option<(CompiledBound, String)>,
    pub multiple_of: Option<f64>,
    pub valid_values: Option<(ValueSet, Vec<String>)>,
    pub invalid_values: Option<(ValueSet, Vec<String>)>,
    /// Of an `array` or `object` column.
    pub structured: Option<StructuredRules>,
}

/// The rows one rule fails in one batch.
#[derive(Debug)]
pub(crate) struct RuleFailures {
    pub rule: RuleKind,
    pub fails: BooleanBuffer,
}

impl ColumnCheck {
    pub fn compile(column: &Column) -> Result<Self, ContractError> {
        let rule_error = |message: String| ContractError::Rule {
            column: column.name.clone(),
            message,
        };
        let kind = LogicalType::of(column.logical_type.as_deref());
        let options = &column.options;
        let format = match (&options.format, kind.is_temporal()) {
            (Some(pattern), true) => Some(
                TemporalFormat::compile(pattern)
                    .map_err(|e| rule_error(format!("`format` `{pattern}`: {e}")))?,
            ),
            _ => None,
        };
        let default_offset_seconds = match options.default_timezone.as_deref() {
            None => 0,
            Some(zone) => fixed_offset_seconds(zone).ok_or_else(|| rule_error(format!("`defaultTimezone` `{zone}` is not supported; use `UTC` or a fixed offset such as `+02:00`")))?,
        };
        let reader = ColumnReader {
            kind,
            format,
            default_offset_seconds,
            target: kind.arrow_type(options.timezone != Some(false)),
        };
        let pattern = match &options.pattern {
            None => None,
            Some(text) => Some(Pattern::new(text).map_err(|e| {
                rule_error(format!(
                    "`pattern` `{text}` is not a regular expression Runink can run: {e}"
                ))
            })?),
        };
        let compile_bound = |bound: &Option<Bound>,
                             key: &str|
         -> Result<Option<(CompiledBound, String)>, ContractError> {
            let Some(bound) = bound else { return Ok(None) };
            let compiled = match (&bound.value, kind) {
                (BoundValue::Integer(value), LogicalType::Integer) => CompiledBound::Exact {
                    value: *value,
                    exclusive: bound.exclusive,
                },
                (value, k) if k.is_numeric() && value.as_number().is_some() => {
                    CompiledBound::Number {
                        value: value.as_number().unwrap_or(f64::NAN),
                        exclusive: bound.exclusive,
                    }
                }
                (BoundValue::Text(text), k) if k.is_temporal() => CompiledBound::Exact {
                    value: reader.read_bound_text(text).ok_or_else(|| {
                        rule_error(format!(
                            "`{key}` `{text}` is not a {} this column can read",
                            kind.name()
                        ))
                    })?,
                    exclusive: bound.exclusive,
                },
                (value, _) => {
                    return Err(rule_error(format!(
                        "`{key}` `{value}` does not apply to a `{}` column",
                        kind.name()
                    )));
                }
            };
            Ok(Some((compiled, bound.value.to_string())))
        };
        let minimum = compile_bound(&options.minimum, "minimum")?;
        let maximum = compile_bound(&options.maximum, "maximum")?;
        // Bounds no value meets would reject every row: refused as a
        // mistake in the contract, where it can be fixed.
        if let (Some((low, low_text)), Some((high, high_text))) = (&minimum, &maximum)
            && low.excludes_all_below(high)
        {
            let (low, high) = (low_text, high_text);
            return Err(rule_error(format!(
                "no value is at least `{low}` and at most `{high}`: the bounds reject every row"
            )));
        }
        if let (Some(min), Some(max)) = (options.min_length, options.max_length)
            && min > max
        {
            return Err(rule_error(format!(
                "`minLength` {min} is more than `maxLength` {max}: the bounds reject every row"
            )));
        }
        let mut check = Self {
            name: column.name.clone(),
            reader,
            required: column.required,
            null_values: None,
            pattern,
            min_length: options.min_length,
            max_length: options.max_length,
            minimum,
            maximum,
            multiple_of: options.multiple_of.filter(|_| kind.is_numeric()),
            valid_values: None,
            invalid_values: None,
            structured: StructuredRules::compile(kind, options).map_err(rule_error)?,
        };
        for rule in column
            .quality
            .iter()
            .filter(|r| r.operator.is_zero_tolerance())
        {
            match &rule.check {
                QualityCheck::NullValues { missing } => {
                    check.null_values = Some(missing.iter().cloned().collect())
                }
                QualityCheck::InvalidValues { valid, invalid } => {
                    if let Some(valid) = valid {
                        check.valid_values =
                            Some((value_set(kind, valid).map_err(rule_error)?, valid.clone()));
                    }
                    if let Some(invalid) = invalid {
                        check.invalid_values = Some((
                            value_set(kind, invalid).map_err(rule_error)?,
                            invalid.clone(),
                        ));
                    }
                }
                _ => {}
            }
        }
        Ok(check)
    }

    /// The rules this column enforces, in the order they rank (the same
    /// order as [`Self::failures`]).
    pub fn rules(&self) -> Vec<RuleKind> {
        let mut rules = Vec::new();
        if self.required {
            rules.push(RuleKind::Required);
        }
        if self.null_values.is_some() {
            rules.push(RuleKind::NullValues);
        }
        match (&self.reader.format, self.reader.kind) {
            (Some(_), _) => rules.push(RuleKind::Format),
            // Any text is a string: there is nothing to fail.
            (None, LogicalType::String) => {}
            (None, _) => rules.push(RuleKind::LogicalType),
        }
        let is_text = self.reader.target == DataType::Utf8;
        if is_text && self.pattern.is_some() {
            rules.push(RuleKind::Pattern);
        }
        if is_text && self.min_length.is_some() {
            rules.push(RuleKind::MinLength);
        }
        if is_text && self.max_length.is_some() {
            rules.push(RuleKind::MaxLength);
        }
        if let Some(structured) = &self.structured {
            rules.extend(structured.rules());
        }
        if let Some((bound, _)) = &self.minimum {
            rules.push(if bound_is_exclusive(bound) {
                RuleKind::ExclusiveMinimum
            } else {
                RuleKind::Minimum
            });
        }
        if let Some((bound, _)) = &self.maximum {
            rules.push(if bound_is_exclusive(bound) {
                RuleKind::ExclusiveMaximum
            } else {
                RuleKind::Maximum
            });
        }
        if self.multiple_of.is_some() {
            rules.push(RuleKind::MultipleOf);
        }
        if self.valid_values.is_some() {
            rules.push(RuleKind::ValidValues);
        }
        if self.invalid_values.is_some() {
            rules.push(RuleKind::InvalidValues);
        }
        rules
    }

    /// Every rule this column fails, in the order the spec gives:
    /// `required` → `logicalType` → `pattern`/lengths/`format` →
    /// `minimum`/`maximum` → `validValues`/`invalidValues`.
    pub fn failures(
        &self,
        raw: &ArrayRef,
        read: &ReadColumn,
    ) -> Result<Vec<RuleFailures>, ArrowError> {
        let n = raw.len();
        let mut out = Vec::new();
        let mut push = |rule, fails: BooleanBuffer| {
            if fails.count_set_bits() > 0 {
                out.push(RuleFailures { rule, fails });
            }
        };
        let raw_text = as_utf8(raw)?;
        if self.required {
            let empty = raw_text.as_ref().map(|t| {
                BooleanBuffer::collect_bool(n, |i| t.is_valid(i) && t.value(i).is_empty())
            });
            let nulls = null_bits(raw);
            push(
                RuleKind::Required,
                match empty {
                    Some(empty) => &nulls | &empty,
                    None => nulls,
                },
            );
        }
        if let Some(missing) = &self.null_values {
            let listed = raw_text.as_ref().map(|t| {
                BooleanBuffer::collect_bool(n, |i| t.is_valid(i) && missing.contains(t.value(i)))
            });
            let nulls = null_bits(raw);
            push(
                RuleKind::NullValues,
                match listed {
                    Some(listed) => &nulls | &listed,
                    None => nulls,
                },
            );
        }
        let unreadable_rule = if self.reader.format.is_some() {
            RuleKind::Format
        } else {
            RuleKind::LogicalType
        };
        push(unreadable_rule, read.unreadable.clone());

        let typed = &read.typed;
        if let Some(text) = typed.as_string_opt::<i32>() {
            if let Some(pattern) = &self.pattern {
                push(
                    RuleKind::Pattern,
                    BooleanBuffer::collect_bool(n, |i| {
                        text.is_valid(i) && !pattern.is_match(text.value(i))
                    }),
                );
            }
            if let Some(min) = self.min_length {
                push(
                    RuleKind::MinLength,
                    BooleanBuffer::collect_bool(n, |i| {
                        text.is_valid(i) && (char_count(text.value(i)) as u64) < min
                    }),
                );
            }
            if let Some(max) = self.max_length {
                push(
                    RuleKind::MaxLength,
                    BooleanBuffer::collect_bool(n, |i| {
                        text.is_valid(i) && (char_count(text.value(i)) as u64) > max
                    }),
                );
            }
            if let Some(structured) = &self.structured {
                for (rule, fails) in structured.failures(text) {
                    push(rule, fails);
                }
            }
        }
        // Numeric rules compare as f64: convert the column once for all.
        let has_numeric_rules = self.minimum.is_some()
            || self.maximum.is_some()
            || self.multiple_of.is_some()
            || self.valid_values.is_some()
            || self.invalid_values.is_some();
        let comparable = if self.reader.kind.is_numeric() && has_numeric_rules {
            to_f64(typed)?
        } else {
            Arc::clone(typed)
        };
        let exact = &read.typed;
        let typed = &comparable;
        // An integer column's whole-number bounds compare with its Int64
        // values, not their f64 copy.
        let against = |bound: &CompiledBound| match bound {
            CompiledBound::Exact { .. } => exact,
            CompiledBound::Number { .. } => typed,
        };
        if let Some((bound, _)) = &self.minimum {
            let exclusive = bound_is_exclusive(bound);
            let rule = if exclusive {
                RuleKind::ExclusiveMinimum
            } else {
                RuleKind::Minimum
            };
            push(
                rule,
                compare(
                    against(bound),
                    bound,
                    if exclusive { cmp::lt_eq } else { cmp::lt },
                )?,
            );
        }
        if let Some((bound, _)) = &self.maximum {
            let exclusive = bound_is_exclusive(bound);
            let rule = if exclusive {
                RuleKind::ExclusiveMaximum
            } else {
                RuleKind::Maximum
            };
            push(
                rule,
                compare(
                    against(bound),
                    bound,
                    if exclusive { cmp::gt_eq } else { cmp::gt },
                )?,
            );
        }
        if let Some(step) = self.multiple_of {
            let numbers = typed.as_primitive::<Float64Type>();
            push(
                RuleKind::MultipleOf,
                BooleanBuffer::collect_bool(n, |i| {
                    numbers.is_valid(i) && !is_multiple(numbers.value(i), step)
                }),
            );
        }
        if let Some((set, _)) = &self.valid_values {
            push(
                RuleKind::ValidValues,
                membership(set, typed, raw_text.as_ref(), false),
            );
        }
        if let Some((set, _)) = &self.invalid_values {
            push(
                RuleKind::InvalidValues,
                membership(set, typed, raw_text.as_ref(), true),
            );
        }
        Ok(out)
    }

    /// What a person reads in the DLQ for this rule and value.
    pub fn message(&self, rule: RuleKind, value: Option<&str>) -> String {
        let shown = || value.map_or_else(|| "null".to_owned(), |v| format!("`{v}`"));
        let kind = self.reader.kind.name();
        match rule {
            RuleKind::Required => "a value is required".to_owned(),
            RuleKind::NullValues => format!(
                "{} counts as a missing value, and none are allowed",
                shown()
            ),
            RuleKind::LogicalType => format!("{} is not a valid {kind}", shown()),
            RuleKind::Format => {
                let pattern = self.reader.format.as_ref().map_or("", |f| f.pattern());
                format!("{} is not a {kind} in the format `{pattern}`", shown())
            }
            RuleKind::Pattern => format!(
                "{} does not match the pattern `{}`",
                shown(),
                self.pattern.as_ref().map_or("", Pattern::as_str)
            ),
            RuleKind::MinLength => format!(
                "{} is shorter than {} characters",
                shown(),
                self.min_length.unwrap_or(0)
            ),
            RuleKind::MaxLength => format!(
                "{} is longer than {} characters",
                shown(),
                self.max_length.unwrap_or(0)
            ),
            RuleKind::Minimum => format!(
                "{} is below the minimum {}",
                shown(),
                bound_text(&self.minimum)
            ),
            RuleKind::ExclusiveMinimum => format!(
                "{} is not above the exclusive minimum {}",
                shown(),
                bound_text(&self.minimum)
            ),
            RuleKind::Maximum => format!(
                "{} is above the maximum {}",
                shown(),
                bound_text(&self.maximum)
            ),
            RuleKind::ExclusiveMaximum => format!(
                "{} is not below the exclusive maximum {}",
                shown(),
                bound_text(&self.maximum)
            ),
            RuleKind::MultipleOf => format!(
                "{} is not a multiple of {}",
                shown(),
                self.multiple_of.unwrap_or(1.0)
            ),
            RuleKind::ValidValues => format!(
                "{} is not one of {}",
                shown(),
                list_text(&self.valid_values)
            ),
            RuleKind::InvalidValues => format!(
                "{} is one of the invalid values {}",
                shown(),
                list_text(&self.invalid_values)
            ),
            RuleKind::MinItems
            | RuleKind::MaxItems
            | RuleKind::UniqueItems
            | RuleKind::MinProperties
            | RuleKind::MaxProperties
            | RuleKind::RequiredProperties => match &self.structured {
                Some(structured) => structured.message(rule, &shown()),
                None => format!("{} breaks `{rule}`", shown()),
            },
            RuleKind::Drift => "the row's columns differ from the contract".to_owned(),
            RuleKind::Duplicate => format!("{} was already seen in an earlier row", shown()),
        }
    }
}

pub(crate) fn bound_is_exclusive(bound: &CompiledBound) -> bool {
    match bound {
        CompiledBound::Number { exclusive, .. } | CompiledBound::Exact { exclusive, .. } => {
            *exclusive
        }
    }
}

fn bound_text(bound: &Option<(CompiledBound, String)>) -> &str {
    bound.as_ref().map_or("", |b| b.1.as_str())
}

fn list_text(values: &Option<(ValueSet, Vec<String>)>) -> String {
    let items: Vec<String> = values
        .iter()
        .flat_map(|v| v.1.iter())
        .map(|v| format!("`{v}`"))
        .collect();
    items.join(", ")
}

pub(crate) fn value_set(kind: LogicalType, values: &[String]) -> Result<ValueSet, String> {
    if !kind.is_numeric() {
        return Ok(ValueSet::Text(TextSet::new(values)));
    }
    values
        .iter()
        .map(|v| {
            v.parse::<f64>().map_err(|_| {
                format!(
                    "the listed value `{v}` is not a number, but the column is a `{}`",
                    kind.name()
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(ValueSet::Number)
}

/// Set where the value is present and (not) in the set.
pub(crate) fn membership(
    set: &ValueSet,
    typed: &ArrayRef,
    raw_text: Option<&StringArray>,
    fail_if_member: bool,
) -> BooleanBuffer {
    let n = typed.len();
    match set {
        // A numeric column arrives already as f64 (see `failures`).
        ValueSet::Number(numbers) => {
            let values = typed.as_primitive::<Float64Type>();
            BooleanBuffer::collect_bool(n, |i| {
                values.is_valid(i) && numbers.contains(&values.value(i)) == fail_if_member
            })
        }
        ValueSet::Text(texts) => {
            let text = typed.as_string_opt::<i32>().or(raw_text);
            match text {
                Some(text) => BooleanBuffer::collect_bool(n, |i| {
                    typed.is_valid(i)
                        && text.is_valid(i)
                        && texts.contains(text.value(i)) == fail_if_member
                }),
                None => BooleanBuffer::new_unset(n),
            }
        }
    }
}

type CmpKernel =
    fn(&dyn arrow::array::Datum, &dyn arrow::array::Datum) -> Result<BooleanArray, ArrowError>;

/// Set where the value compares with the bound as `kernel` says.
fn compare(
    typed: &ArrayRef,
    bound: &CompiledBound,
    kernel: CmpKernel,
) -> Result<BooleanBuffer, ArrowError> {
    let result = match bound {
        // A numeric column arrives already as f64 (see `failures`).
        CompiledBound::Number { value, .. } => {
            kernel(typed, &Scalar::new(Float64Array::from(vec![*value])))?
        }
        CompiledBound::Exact { value, .. } => {
            let scalar: ArrayRef = match typed.data_type() {
                DataType::Date32 => Arc::new(Date32Array::from(vec![*value as i32])),
                DataType::Int64 => Arc::new(Int64Array::from(vec![*value])),
                DataType::Time64(_) => Arc::new(Time64MicrosecondArray::from(vec![*value])),
                DataType::Timestamp(_, zone) => Arc::new(
                    TimestampMicrosecondArray::from(vec![*value]).with_timezone_opt(zone.clone()),
                ),
                other => {
                    return Err(ArrowError::InvalidArgumentError(format!(
                        "an exact bound cannot apply to `{other}`"
                    )));
                }
            };
            kernel(typed, &Scalar::new(scalar))?
        }
    };
    Ok(true_bits(&result))
}

pub(crate) fn to_f64(typed: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    cast_with_options(
        typed,
        &DataType::Float64,
        &CastOptions {
            safe: true,
            ..CastOptions::default()
        },
    )
}

fn is_multiple(value: f64, step: f64) -> bool {
    let ratio = value / step;
    (ratio - ratio.round()).abs() < 1e-9
}

fn char_count(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

/// Set where the array holds a null.
pub(crate) fn null_bits(array: &ArrayRef) -> BooleanBuffer {
    match array.logical_nulls() {
        Some(nulls) => !nulls.inner(),
        None => BooleanBuffer::new_unset(array.len()),
    }
}

/// Set where the boolean array is true (a null counts as not true).
fn true_bits(array: &BooleanArray) -> BooleanBuffer {
    match array.nulls() {
        Some(nulls) => array.values() & nulls.inner(),
        None => array.values().clone(),
    }
}

/// `UTC`, `Etc/UTC`, `Z`, or `+HH:MM` / `-HH:MM`.
fn fixed_offset_seconds(zone: &str) -> Option<i32> {
    if matches!(zone, "UTC" | "Etc/UTC" | "Z" | "GMT" | "Etc/GMT") {
        return Some(0);
    }
    let format = TemporalFormat::compile("XXX").ok()?;
    format.parse(zone)?.offset_seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_set_scanned_or_hashed_holds_exactly_its_values() {
        for count in [0, 1, 3, TEXT_SET_SCAN_MAX, TEXT_SET_SCAN_MAX + 1, 40] {
            let values: Vec<String> = (0..count).map(|i| format!("v{i}")).collect();
            let set = TextSet::new(&values);
            assert_eq!(matches!(set, TextSet::Few(_)), count <= TEXT_SET_SCAN_MAX);
            for value in &values {
                assert!(set.contains(value), "{value} of {count}");
            }
            for absent in ["", "v", &format!("v{count}"), "V0", "v0 "] {
                assert!(!set.contains(absent), "{absent} of {count}");
            }
        }
    }
}
