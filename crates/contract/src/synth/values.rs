//! Values for one column: ones that pass every rule of the column, and
//! ones meant to break exactly one. Every value is written as text, the
//! way a CSV or JSON Lines file carries it; [`ColumnGen::failures`] runs
//! the column's real rules over them so that the caller can keep only the
//! values that do what was intended.

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::error::ArrowError;
use chrono::{Duration, NaiveDate};

use super::regex_gen::RegexGen;
use super::rng::Rng;
use crate::column_check::{ColumnCheck, CompiledBound, bound_is_exclusive};
use crate::finding::RuleKind;
use crate::jdk_format::TemporalParts;
use crate::logical_type::LogicalType;
use crate::model::Column;

/// How many of a column's steps past a bound a breaking value may lie.
const BEYOND_STEPS_MAX: i64 = 1_000_000_000;
/// Share of null values in a column that allows them.
const NULL_SHARE: f64 = 0.1;
const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;
/// 2020-01-01 and 2026-12-31 as days since 1970-01-01: the default span of dates.
const DEFAULT_FIRST_DAY: i64 = 18_262;
const DEFAULT_LAST_DAY: i64 = 20_818;
/// The default span of numbers when the contract bounds neither side.
const DEFAULT_NUMBER_SPAN: i64 = 1_000_000;
/// Texts no logical type but `string` reads, one set per type.
const UNREADABLE_NUMBERS: [&str; 4] = ["abc", "12.3.4", "1,234.50", "$15"];
const UNREADABLE_INTEGERS: [&str; 4] = ["abc", "4.5", "12x", "1e"];
const UNREADABLE_BOOLEANS: [&str; 3] = ["maybe", "yes", "2"];
const UNREADABLE_TEMPORALS: [&str; 3] = ["not a date", "2024-13-45", "99:99:99"];
const UNREADABLE_OBJECTS: [&str; 2] = ["{broken", "[1]"];
const UNREADABLE_ARRAYS: [&str; 2] = ["[broken", "{}"];

/// The span of valid values, in the column's own representation: whole
/// numbers, hundredths, days, or microseconds.
#[derive(Debug, Clone, Copy)]
struct Span {
    low: i64,
    high: i64,
    /// The representation's unit for one step (1, 1 day, 1 second, ...).
    step: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct ColumnGen {
    pub check: ColumnCheck,
    pattern: Option<RegexGen>,
    span: Option<Span>,
    /// Valid rows may hold a null here.
    nullable: bool,
}

impl ColumnGen {
    pub fn new(column: &Column) -> Result<Self, String> {
        let check = ColumnCheck::compile(column).map_err(|e| e.to_string())?;
        let pattern = check
            .pattern
            .as_ref()
            .map(|pattern| RegexGen::new(pattern.as_str()))
            .transpose()?;
        let span = span(&check);
        let nullable = !check.required && check.null_values.is_none();
        Ok(Self {
            check,
            pattern,
            span,
            nullable,
        })
    }

    pub fn kind(&self) -> LogicalType {
        self.check.reader.kind
    }

    /// A value that passes every rule of the column (or a null where allowed).
    pub fn valid(&self, rng: &mut Rng) -> Option<String> {
        if self.nullable && rng.chance(NULL_SHARE) {
            return None;
        }
        Some(self.valid_text(rng))
    }

    /// A value that passes every rule, never null: a retry must not turn
    /// a value the rules cannot allow into a null that hides it.
    pub fn valid_present(&self, rng: &mut Rng) -> Option<String> {
        Some(self.valid_text(rng))
    }

    fn valid_text(&self, rng: &mut Rng) -> String {
        match &self.check.valid_values {
            Some((_, listed)) => rng.pick(listed).clone(),
            None => self.unlisted_text(rng),
        }
    }

    /// A value drawn from the column's type and limits, ignoring `validValues`.
    fn unlisted_text(&self, rng: &mut Rng) -> String {
        match self.kind() {
            LogicalType::String => match &self.pattern {
                Some(pattern) => pattern.generate(rng),
                None => {
                    let low = self.check.min_length.unwrap_or(1).max(1);
                    let high = self.check.max_length.unwrap_or(low + 11).max(low);
                    let length = rng.between(low as i64, high as i64) as usize;
                    random_word(rng, length)
                }
            },
            LogicalType::Boolean => if rng.chance(0.5) { "true" } else { "false" }.to_owned(),
            LogicalType::Object => self.valid_object(rng),
            LogicalType::Array => self.valid_array(rng),
            _ => {
                let span = self.span.expect("numeric and temporal columns have a span");
                self.write(self.draw(span, rng))
            }
        }
    }

    /// A JSON array within the column's item counts, its items distinct.
    fn valid_array(&self, rng: &mut Rng) -> String {
        let rules = self.check.structured.clone().unwrap_or_default();
        let low = rules.min_items.unwrap_or(2);
        let high = rules.max_items.unwrap_or(low.max(2)).max(low);
        let count = rng.between(low as i64, high as i64);
        let first = rng.between(0, 99);
        let items: Vec<String> = (0..count).map(|i| (first + i).to_string()).collect();
        format!("[{}]", items.join(","))
    }

    /// A JSON object with the column's required keys, within its counts.
    fn valid_object(&self, rng: &mut Rng) -> String {
        let rules = self.check.structured.clone().unwrap_or_default();
        let required = rules.required.len() as u64;
        let low = rules.min_properties.unwrap_or(1).max(required);
        let high = rules.max_properties.unwrap_or(low).max(low);
        let count = rng.between(low as i64, high as i64) as u64;
        let mut keys: Vec<String> = rules.required.clone();
        let mut extra = 0;
        while (keys.len() as u64) < count {
            let key = format!("n{extra}");
            extra += 1;
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        let fields: Vec<String> = keys
            .iter()
            .map(|key| {
                let key = serde_json::to_string(key).unwrap_or_default();
                format!("{key}:{}", rng.between(0, 999))
            })
            .collect();
        format!("{{{}}}", fields.join(","))
    }

    /// One whole number of steps inside the span, a multiple of
    /// `multipleOf` when the contract asks for one.
    fn draw(&self, span: Span, rng: &mut Rng) -> i64 {
        match self.multiple_step() {
            Some(step) if step > 0 => {
                let first = div_ceil(span.low, step);
                let last = span.high.div_euclid(step);
                if first <= last {
                    rng.between(first, last) * step
                } else {
                    span.low
                }
            }
            _ => {
                let first = div_ceil(span.low, span.step);
                let last = span.high.div_euclid(span.step);
                rng.between(first, last.max(first)) * span.step
            }
        }
    }

    /// `multipleOf` in the representation's units, when it is whole there.
    fn multiple_step(&self) -> Option<i64> {
        let step = self.check.multiple_of?;
        let scaled = match self.kind() {
            LogicalType::Number => step * 100.0,
            _ => step,
        };
        (scaled.fract() == 0.0 && scaled >= 1.0).then_some(scaled as i64)
    }

    /// The text of a value in the column's representation.
    fn write(&self, value: i64) -> String {
        let reader = &self.check.reader;
        match self.kind() {
            LogicalType::Integer => value.to_string(),
            LogicalType::Number => hundredths_text(value),
            LogicalType::Date => {
                let date = day_date(value);
                match &reader.format {
                    Some(format) => format.format(&TemporalParts {
                        date: Some(date),
                        time: None,
                        offset_seconds: None,
                    }),
                    None => format!("{:04}-{:02}-{:02}", date.0, date.1, date.2),
                }
            }
            LogicalType::Time => {
                let seconds = value.div_euclid(MICROS_PER_SECOND) as u32;
                match &reader.format {
                    Some(format) => format.format(&TemporalParts {
                        date: None,
                        time: Some((seconds, 0)),
                        offset_seconds: None,
                    }),
                    None => clock_text(seconds),
                }
            }
            _ => self.write_timestamp(value),
        }
    }

    fn write_timestamp(&self, micros: i64) -> String {
        let reader = &self.check.reader;
        let offset = i64::from(reader.default_offset_seconds);
        let local_seconds = micros.div_euclid(MICROS_PER_SECOND) + offset;
        let day = local_seconds.div_euclid(SECONDS_PER_DAY);
        let seconds = local_seconds.rem_euclid(SECONDS_PER_DAY) as u32;
        let date = day_date(day);
        match &reader.format {
            Some(format) => format.format(&TemporalParts {
                date: Some(date),
                time: Some((seconds, 0)),
                offset_seconds: Some(reader.default_offset_seconds),
            }),
            None => {
                let zone = if matches!(
                    reader.target,
                    arrow::datatypes::DataType::Timestamp(_, Some(_))
                ) {
                    "Z"
                } else {
                    ""
                };
                // Without a format the text is read as UTC (or as no zone).
                let utc_seconds = micros.div_euclid(MICROS_PER_SECOND);
                let date = day_date(utc_seconds.div_euclid(SECONDS_PER_DAY));
                let clock = clock_text(utc_seconds.rem_euclid(SECONDS_PER_DAY) as u32);
                format!("{:04}-{:02}-{:02}T{clock}{zone}", date.0, date.1, date.2)
            }
        }
    }

    /// A value meant to break `rule` and nothing else; `None` when this
    /// generator has no way to try. The caller checks the value.
    pub fn breaking(&self, rule: RuleKind, rng: &mut Rng) -> Option<Option<String>> {
        let check = &self.check;
        match rule {
            RuleKind::Required => Some(None),
            RuleKind::NullValues => Some(check.null_values.as_ref().and_then(|listed| {
                let listed: Vec<&String> = listed.iter().filter(|v| !v.is_empty()).collect();
                (!listed.is_empty()).then(|| (*rng.pick(&listed)).clone())
            })),
            RuleKind::LogicalType | RuleKind::Format => {
                let texts: &[&str] = match self.kind() {
                    LogicalType::String => return None,
                    LogicalType::Integer => &UNREADABLE_INTEGERS,
                    LogicalType::Number => &UNREADABLE_NUMBERS,
                    LogicalType::Boolean => &UNREADABLE_BOOLEANS,
                    LogicalType::Object => &UNREADABLE_OBJECTS,
                    LogicalType::Array => &UNREADABLE_ARRAYS,
                    LogicalType::Date | LogicalType::Timestamp | LogicalType::Time => {
                        &UNREADABLE_TEMPORALS
                    }
                };
                Some(Some((*rng.pick(texts)).to_owned()))
            }
            RuleKind::Pattern => {
                let valid = self.valid_text(rng);
                let mut chars: Vec<char> = valid.chars().collect();
                match rng.below(3) {
                    0 if !chars.is_empty() => {
                        let at = rng.below(chars.len() as u64) as usize;
                        chars[at] = '~';
                    }
                    1 => chars.insert(0, '~'),
                    _ => chars.push('~'),
                }
                Some(Some(chars.into_iter().collect()))
            }
            RuleKind::MinLength => {
                let target = check.min_length?.checked_sub(1).filter(|l| *l > 0)? as usize;
                let valid = self.valid_text(rng);
                let shorter: String = valid.chars().take(target).collect();
                let shorter = if shorter.chars().count() < target {
                    random_word(rng, target)
                } else {
                    shorter
                };
                Some(Some(shorter))
            }
            RuleKind::MaxLength => {
                let target = check.max_length? as usize + 1;
                let mut longer = self.valid_text(rng);
                let last = longer.chars().last().unwrap_or('a');
                while longer.chars().count() < target {
                    longer.push(last);
                }
                Some(Some(longer))
            }
            RuleKind::Minimum | RuleKind::ExclusiveMinimum => {
                let (bound, _) = check.minimum.as_ref()?;
                self.beyond(bound, -1, rng)
            }
            RuleKind::Maximum | RuleKind::ExclusiveMaximum => {
                let (bound, _) = check.maximum.as_ref()?;
                self.beyond(bound, 1, rng)
            }
            RuleKind::MultipleOf => {
                let span = self.span?;
                let step = self.multiple_step()?;
                if step < 2 {
                    return None;
                }
                let value = self.draw(span, rng) + rng.between(1, step - 1);
                Some(Some(self.write(value)))
            }
            RuleKind::ValidValues => Some(Some(self.unlisted_text(rng))),
            RuleKind::InvalidValues => {
                let (_, listed) = check.invalid_values.as_ref()?;
                Some(Some(rng.pick(listed).clone()))
            }
            RuleKind::MinItems
            | RuleKind::MaxItems
            | RuleKind::UniqueItems
            | RuleKind::MinProperties
            | RuleKind::MaxProperties
            | RuleKind::RequiredProperties
            | RuleKind::Duplicate
            | RuleKind::Drift => None,
        }
    }

    /// A value just past a bound: `direction` -1 below a minimum, +1 above
    /// a maximum. An exclusive bound's own value is already past it.
    fn beyond(
        &self,
        bound: &CompiledBound,
        direction: i64,
        rng: &mut Rng,
    ) -> Option<Option<String>> {
        let span = self.span?;
        let unit = self.multiple_step().unwrap_or(span.step);
        let edge = match *bound {
            CompiledBound::Number { value, .. } => {
                let scaled = match self.kind() {
                    LogicalType::Number => value * 100.0,
                    LogicalType::Integer => value,
                    _ => return None,
                };
                if direction < 0 {
                    scaled.floor() as i64
                } else {
                    scaled.ceil() as i64
                }
            }
            CompiledBound::Exact { value, .. } => value,
        };
        let edge = match self.multiple_step() {
            Some(step) if direction < 0 => edge.div_euclid(step) * step,
            Some(step) => div_ceil(edge, step) * step,
            None => edge,
        };
        let first = if bound_is_exclusive(bound) { 0 } else { 1 };
        // Half the time just past the bound, where mistakes are; else
        // anywhere up to `BEYOND_STEPS_MAX` past it, so that the broken
        // values of a unique key need not repeat (a repeat would break
        // `unique` too).
        let steps = if rng.chance(0.5) {
            rng.between(first, first + 2)
        } else {
            rng.between(first, first + BEYOND_STEPS_MAX)
        };
        let value = steps
            .checked_mul(unit)
            .and_then(|distance| distance.checked_mul(direction))
            .and_then(|distance| edge.checked_add(distance))?;
        Some(Some(self.write(value)))
    }

    /// For each value, the rules of this column it fails, in rank order.
    /// An empty text counts as failing (`Required`): synthetic files never
    /// hold one, since CSV cannot tell it from a null.
    pub fn failures(
        &self,
        values: &[Option<String>],
    ) -> Result<(Vec<Vec<RuleKind>>, ArrayRef), ArrowError> {
        let raw: ArrayRef = Arc::new(StringArray::from(
            values.iter().map(|v| v.as_deref()).collect::<Vec<_>>(),
        ));
        let read = self.check.reader.read(&raw)?;
        let mut rules = vec![Vec::new(); values.len()];
        for failure in self.check.failures(&raw, &read)? {
            for row in failure.fails.set_indices() {
                rules[row].push(failure.rule);
            }
        }
        for (row, value) in values.iter().enumerate() {
            if value.as_deref() == Some("") && !rules[row].contains(&RuleKind::Required) {
                rules[row].insert(0, RuleKind::Required);
            }
        }
        Ok((rules, read.typed))
    }
}

/// The span of valid values of a numeric or temporal column.
fn span(check: &ColumnCheck) -> Option<Span> {
    let kind = check.reader.kind;
    let (step, default_low, default_high) = match kind {
        LogicalType::Integer => (1, 0, DEFAULT_NUMBER_SPAN),
        LogicalType::Number => (1, 0, DEFAULT_NUMBER_SPAN * 100),
        LogicalType::Date => (1, DEFAULT_FIRST_DAY, DEFAULT_LAST_DAY),
        LogicalType::Timestamp => (
            MICROS_PER_SECOND,
            DEFAULT_FIRST_DAY * SECONDS_PER_DAY * MICROS_PER_SECOND,
            (DEFAULT_LAST_DAY + 1) * SECONDS_PER_DAY * MICROS_PER_SECOND - MICROS_PER_SECOND,
        ),
        LogicalType::Time => (
            MICROS_PER_SECOND,
            0,
            (SECONDS_PER_DAY - 1) * MICROS_PER_SECOND,
        ),
        _ => return None,
    };
    let scale = |value: f64| match kind {
        LogicalType::Number => value * 100.0,
        _ => value,
    };
    let low = check.minimum.as_ref().map(|(bound, _)| match *bound {
        CompiledBound::Number { value, exclusive } => {
            let scaled = scale(value);
            let ceiling = scaled.ceil() as i64;
            if exclusive && scaled.fract() == 0.0 {
                ceiling + step
            } else {
                ceiling
            }
        }
        CompiledBound::Exact { value, exclusive } => {
            let first = div_ceil(value, step) * step;
            if exclusive && first == value {
                first + step
            } else {
                first
            }
        }
    });
    let high = check.maximum.as_ref().map(|(bound, _)| match *bound {
        CompiledBound::Number { value, exclusive } => {
            let scaled = scale(value);
            let floor = scaled.floor() as i64;
            if exclusive && scaled.fract() == 0.0 {
                floor - step
            } else {
                floor
            }
        }
        CompiledBound::Exact { value, exclusive } => {
            let last = value.div_euclid(step) * step;
            if exclusive && last == value {
                last - step
            } else {
                last
            }
        }
    });
    let width = default_high - default_low;
    let (low, high) = match (low, high) {
        (Some(low), Some(high)) => (low, high),
        (Some(low), None) => (low, low.saturating_add(width)),
        (None, Some(high)) => (high.saturating_sub(width), high),
        (None, None) => (default_low, default_high),
    };
    Some(Span { low, high, step })
}

fn div_ceil(value: i64, step: i64) -> i64 {
    -((-value).div_euclid(step))
}

fn hundredths_text(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs();
    format!("{sign}{}.{:02}", magnitude / 100, magnitude % 100)
}

fn day_date(days: i64) -> (i32, u32, u32) {
    use chrono::Datelike;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 exists");
    let date = epoch
        .checked_add_signed(Duration::days(days))
        .unwrap_or(epoch);
    (date.year(), date.month(), date.day())
}

fn clock_text(seconds: u32) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

fn random_word(rng: &mut Rng, length: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..length)
        .map(|_| char::from(*rng.pick(LETTERS)))
        .collect()
}
