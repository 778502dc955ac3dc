//! Synthetic data from a contract: batches of rows that pass every row
//! rule, and, when asked, rows that each break exactly one rule, listed
//! with the rule they break. The same seed gives the same rows.
//!
//! Every value is generated as text (the form of a CSV or JSON Lines
//! file), then checked with the contract's own rules; a value that does
//! not do what was intended is drawn again, up to `ATTEMPTS_MAX` times.
//! Unique keys are kept unique across the whole output with the same
//! fingerprints the checker uses; a row meant to be a `duplicate` copies
//! the key of an earlier valid row.

mod regex_gen;
mod rng;
mod values;

#[cfg(test)]
pub(crate) use regex_gen::RegexGen;

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use serde::Serialize;

pub(crate) use self::rng::Rng;
use self::values::ColumnGen;
use crate::finding::RuleKind;
use crate::model::SchemaObject;
use crate::unique::SeenValues;

/// Times a value is drawn again before synth gives up on it.
const ATTEMPTS_MAX: usize = 200;
/// Earlier keys remembered per unique key, for rows meant to be duplicates.
const RECENT_KEYS_MAX: usize = 1024;

#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub rows: u64,
    /// Share of rows that each break exactly one rule (0 to 1).
    pub invalid_ratio: f64,
    pub seed: u64,
    pub batch_rows_max: usize,
    /// Bound on the distinct keys remembered per unique key.
    pub unique_keys_max: usize,
}

/// A row synth made to break one rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrokenRow {
    /// 1-based position of the row among the data rows.
    pub row: u64,
    /// The column (for `duplicate`, the key's columns joined by `,`), as
    /// the checker names it.
    pub field: String,
    pub rule: RuleKind,
    /// The value written (for `duplicate`, the key's values joined by `, `).
    pub value: Option<String>,
}

/// One batch of synthetic rows, every column as text.
#[derive(Debug)]
pub struct SynthBatch {
    pub batch: RecordBatch,
    pub broken: Vec<BrokenRow>,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("`--invalid-ratio` must be between 0 and 1, found {0}")]
    Ratio(f64),
    #[error("column `{column}`: {message}")]
    Column { column: String, message: String },
    #[error(
        "no rule of the contract can be broken on its own (only `string` columns with no rules?); use `--invalid-ratio 0`"
    )]
    NothingToBreak,
    #[error(
        "column `{column}` has more than {keys_max} distinct values to keep unique; lower `--rows`"
    )]
    UniqueStateFull { column: String, keys_max: usize },
    #[error("internal error (this is a bug in Runink): {0}")]
    Arrow(#[from] ArrowError),
}

/// What a row is meant to be.
#[derive(Debug, Clone, Copy, PartialEq)]
enum RowPlan {
    Valid,
    Break { column: usize, rule: RuleKind },
    Duplicate { key: usize },
}

/// A rule synth can break on its own.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Breakable {
    Column { column: usize, rule: RuleKind },
    Duplicate { key: usize },
}

#[derive(Debug)]
struct KeyGen {
    columns: Vec<usize>,
    label: String,
    seen: SeenValues,
    /// Text values of earlier valid keys, to copy into duplicates.
    recent: Vec<Vec<Option<String>>>,
}

#[derive(Debug)]
pub struct Synthesizer {
    columns: Vec<ColumnGen>,
    keys: Vec<KeyGen>,
    breakable: Vec<Breakable>,
    rng: Rng,
    options: SynthOptions,
    rows_done: u64,
    invalid_left: u64,
    schema: SchemaRef,
    /// The schema of [`Self::typed`]: each column in its contract type,
    /// unless synth may write a value that type cannot hold.
    typed_schema: SchemaRef,
}

impl Synthesizer {
    pub fn new(object: &SchemaObject, options: SynthOptions) -> Result<Self, SynthError> {
        if !(0.0..=1.0).contains(&options.invalid_ratio) {
            return Err(SynthError::Ratio(options.invalid_ratio));
        }
        let columns: Vec<ColumnGen> = object
            .columns
            .iter()
            .map(|c| {
                ColumnGen::new(c).map_err(|message| SynthError::Column {
                    column: c.name.clone(),
                    message,
                })
            })
            .collect::<Result<_, _>>()?;
        let keys = unique_keys(object, options.unique_keys_max);
        let mut rng = Rng::new(options.seed);
        let breakable = breakable_rules(&columns, &keys, &mut rng)?;
        let invalid_left = (options.rows as f64 * options.invalid_ratio).round() as u64;
        if invalid_left > 0 && breakable.is_empty() {
            return Err(SynthError::NothingToBreak);
        }
        let schema = Arc::new(Schema::new(
            object
                .columns
                .iter()
                .map(|c| Field::new(&c.name, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        ));
        let typed_schema = Arc::new(Schema::new(
            columns
                .iter()
                .enumerate()
                .map(|(index, generator)| {
                    let unreadable_written = invalid_left > 0
                        && breakable.iter().any(|b| {
                            matches!(b, Breakable::Column { column, rule }
                                if *column == index
                                    && matches!(rule, RuleKind::LogicalType | RuleKind::Format | RuleKind::NullValues))
                        });
                    let data_type = if unreadable_written {
                        DataType::Utf8
                    } else {
                        generator.check.reader.target.clone()
                    };
                    Field::new(&generator.check.name, data_type, true)
                })
                .collect::<Vec<_>>(),
        ));
        Ok(Self {
            columns,
            keys,
            breakable,
            rng,
            options,
            rows_done: 0,
            invalid_left,
            schema,
            typed_schema,
        })
    }

    /// The schema of every batch: the contract's columns, as text.
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    pub fn next_batch(&mut self) -> Result<Option<SynthBatch>, SynthError> {
        let left = self.options.rows - self.rows_done;
        if left == 0 {
            return Ok(None);
        }
        let n = left.min(self.options.batch_rows_max.max(1) as u64) as usize;
        let mut plans = self.plan_rows(n, left);
        let mut values: Vec<Vec<Option<String>>> = Vec::with_capacity(self.columns.len());
        for index in 0..self.columns.len() {
            values.push(self.column_values(index, &mut plans)?);
        }
        let mut broken = Vec::new();
        for key in 0..self.keys.len() {
            self.keep_unique(key, &mut plans, &mut values, &mut broken)?;
        }
        for (row, plan) in plans.iter().enumerate() {
            if let RowPlan::Break { column, rule } = *plan {
                broken.push(BrokenRow {
                    row: self.rows_done + row as u64 + 1,
                    field: self.columns[column].check.name.clone(),
                    rule,
                    value: values[column][row].clone(),
                });
            }
        }
        broken.sort_by_key(|b| b.row);
        let arrays: Vec<ArrayRef> = values
            .iter()
            .map(|column| {
                Arc::new(StringArray::from(
                    column.iter().map(|v| v.as_deref()).collect::<Vec<_>>(),
                )) as ArrayRef
            })
            .collect();
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), arrays)?;
        self.rows_done += n as u64;
        Ok(Some(SynthBatch { batch, broken }))
    }

    /// Which rows break a rule: exactly `invalid_left` of the `left` rows
    /// still to make, spread at random (selection sampling).
    fn plan_rows(&mut self, n: usize, left: u64) -> Vec<RowPlan> {
        let mut plans = Vec::with_capacity(n);
        for row in 0..n as u64 {
            let remaining = left - row;
            let chosen = self.invalid_left > 0 && self.rng.below(remaining) < self.invalid_left;
            if !chosen {
                plans.push(RowPlan::Valid);
                continue;
            }
            self.invalid_left -= 1;
            plans.push(match *self.rng.pick(&self.breakable) {
                Breakable::Column { column, rule } => RowPlan::Break { column, rule },
                Breakable::Duplicate { key } => RowPlan::Duplicate { key },
            });
        }
        plans
    }

    /// The column's values for every row, each checked to pass (or break
    /// only its planned rule). A row whose break cannot be made becomes
    /// valid; a valid value that cannot be made is an error.
    fn column_values(
        &mut self,
        index: usize,
        plans: &mut [RowPlan],
    ) -> Result<Vec<Option<String>>, SynthError> {
        let generator = &self.columns[index];
        let mut values: Vec<Option<String>> = vec![None; plans.len()];
        let mut pending: Vec<usize> = (0..plans.len()).collect();
        for attempt in 0..ATTEMPTS_MAX {
            for &row in &pending {
                values[row] = match plans[row] {
                    RowPlan::Break { column, rule } if column == index => {
                        match generator.breaking(rule, &mut self.rng) {
                            Some(value) => value,
                            None => {
                                plans[row] = RowPlan::Valid;
                                generator.valid(&mut self.rng)
                            }
                        }
                    }
                    _ if attempt == 0 => generator.valid(&mut self.rng),
                    _ => generator.valid_present(&mut self.rng),
                };
            }
            let candidates: Vec<Option<String>> =
                pending.iter().map(|&row| values[row].clone()).collect();
            let (failures, _) = generator.failures(&candidates)?;
            let mut still = Vec::new();
            for (&row, failed) in pending.iter().zip(&failures) {
                if failed.as_slice() != expected(plans[row], index).as_slice() {
                    still.push(row);
                }
            }
            // Half the attempts for a planned break; then the row is valid.
            if attempt == ATTEMPTS_MAX / 2 {
                for &row in &still {
                    if matches!(plans[row], RowPlan::Break { column, .. } if column == index) {
                        plans[row] = RowPlan::Valid;
                    }
                }
            }
            pending = still;
            if pending.is_empty() {
                return Ok(values);
            }
        }
        let (failures, _) = generator.failures(&[values[pending[0]].clone()])?;
        Err(SynthError::Column {
            column: generator.check.name.clone(),
            message: format!(
                "cannot make a value that passes its rules (the last try, {}, failed {}); are they contradictory?",
                values[pending[0]]
                    .as_deref()
                    .map_or("null".to_owned(), |v| format!("`{v}`")),
                failures[0]
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }

    /// Makes the key's values unique over the whole output, except in the
    /// rows meant to repeat an earlier key.
    fn keep_unique(
        &mut self,
        key_index: usize,
        plans: &mut [RowPlan],
        values: &mut [Vec<Option<String>>],
        broken: &mut Vec<BrokenRow>,
    ) -> Result<(), SynthError> {
        let key_columns = self.keys[key_index].columns.clone();
        for row in 0..plans.len() {
            if plans[row] == (RowPlan::Duplicate { key: key_index }) {
                let recent = &self.keys[key_index].recent;
                if recent.is_empty() {
                    plans[row] = RowPlan::Valid; // Nothing earlier to repeat.
                } else {
                    let source = self.rng.pick(recent).clone();
                    for (column, value) in key_columns.iter().zip(&source) {
                        values[*column][row] = value.clone();
                    }
                    let shown: Vec<&str> = source.iter().flatten().map(String::as_str).collect();
                    broken.push(BrokenRow {
                        row: self.rows_done + row as u64 + 1,
                        field: self.keys[key_index].label.clone(),
                        rule: RuleKind::Duplicate,
                        value: Some(shown.join(", ")),
                    });
                    continue;
                }
            }
            let mut attempts = 0;
            loop {
                let typed = self.key_values(&key_columns, values, row)?;
                let typed: Vec<&ArrayRef> = typed.iter().collect();
                let key = &mut self.keys[key_index];
                let row_keys = key.seen.row_keys(&typed, 1)?;
                let seen = key.seen.seen_before_all(row_keys).map_err(|_| {
                    SynthError::UniqueStateFull {
                        column: key.label.clone(),
                        keys_max: self.options.unique_keys_max,
                    }
                })?;
                // A null key is never seen before.
                if seen != [true] {
                    break;
                }
                attempts += 1;
                if attempts > ATTEMPTS_MAX {
                    return Err(SynthError::Column {
                        column: key.label.clone(),
                        message: format!(
                            "cannot make {} distinct values for a unique key; its rules allow too few",
                            self.options.rows
                        ),
                    });
                }
                for &column in &key_columns {
                    let mut plan = [plans[row]];
                    values[column][row] = self.column_values(column, &mut plan)?.remove(0);
                    plans[row] = plan[0];
                }
            }
            let key_is_valid = !matches!(plans[row], RowPlan::Break { column, .. } if key_columns.contains(&column));
            let key_values: Vec<Option<String>> = key_columns
                .iter()
                .map(|c| values[*c][row].clone())
                .collect();
            if key_is_valid && key_values.iter().all(Option::is_some) {
                let recent = &mut self.keys[key_index].recent;
                if recent.len() < RECENT_KEYS_MAX {
                    recent.push(key_values);
                } else {
                    let slot = self.rng.below(RECENT_KEYS_MAX as u64) as usize;
                    recent[slot] = key_values;
                }
            }
        }
        Ok(())
    }

    /// The checker's fingerprint of one row's key, from its typed values.
    /// The key's values of `row`, each read as its contract type.
    fn key_values(
        &self,
        key_columns: &[usize],
        values: &[Vec<Option<String>>],
        row: usize,
    ) -> Result<Vec<ArrayRef>, SynthError> {
        let mut typed = Vec::with_capacity(key_columns.len());
        for &column in key_columns {
            let raw: ArrayRef = Arc::new(StringArray::from(vec![values[column][row].as_deref()]));
            typed.push(self.columns[column].check.reader.read(&raw)?.typed);
        }
        Ok(typed)
    }

    /// The schema of [`Self::typed`] batches.
    pub fn typed_schema(&self) -> SchemaRef {
        Arc::clone(&self.typed_schema)
    }

    /// The batch with each column in its contract type (for typed formats
    /// such as Parquet); a column where synth may write a value of another
    /// type (a broken `logicalType`) stays text.
    pub fn typed(&self, batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
        let mut arrays = Vec::with_capacity(batch.num_columns());
        for ((generator, raw), field) in self
            .columns
            .iter()
            .zip(batch.columns())
            .zip(self.typed_schema.fields())
        {
            if field.data_type() == &DataType::Utf8 {
                arrays.push(Arc::clone(raw));
                continue;
            }
            let read = generator.check.reader.read(raw)?;
            if read.unreadable.count_set_bits() > 0 {
                return Err(ArrowError::CastError(format!(
                    "synth wrote a value column `{}` cannot hold as `{}`",
                    field.name(),
                    field.data_type()
                )));
            }
            arrays.push(read.typed);
        }
        RecordBatch::try_new(Arc::clone(&self.typed_schema), arrays)
    }
}

/// What the checker should report for a value of `column` in this row.
fn expected(plan: RowPlan, column: usize) -> Vec<RuleKind> {
    match plan {
        RowPlan::Break {
            column: broken,
            rule,
        } if broken == column => vec![rule],
        _ => Vec::new(),
    }
}

/// The rules synth can break alone: each column rule for which a try
/// succeeds, and every unique key that shares no column with another.
fn breakable_rules(
    columns: &[ColumnGen],
    keys: &[KeyGen],
    rng: &mut Rng,
) -> Result<Vec<Breakable>, SynthError> {
    let mut breakable = Vec::new();
    for (index, generator) in columns.iter().enumerate() {
        for rule in generator.check.rules() {
            let mut candidates = Vec::new();
            for _ in 0..ATTEMPTS_MAX / 4 {
                if let Some(value) = generator.breaking(rule, rng) {
                    candidates.push(value);
                }
            }
            if candidates.is_empty() {
                continue;
            }
            let (failures, _) = generator.failures(&candidates)?;
            if failures.iter().any(|f| f.as_slice() == [rule]) {
                breakable.push(Breakable::Column {
                    column: index,
                    rule,
                });
            }
        }
    }
    for (index, key) in keys.iter().enumerate() {
        let shared = keys
            .iter()
            .enumerate()
            .any(|(other, k)| other != index && k.columns.iter().any(|c| key.columns.contains(c)));
        if !shared {
            breakable.push(Breakable::Duplicate { key: index });
        }
    }
    Ok(breakable)
}

/// The same keys as the checker: the primary key (its columns together),
/// then each other `unique` column.
fn unique_keys(object: &SchemaObject, keys_max: usize) -> Vec<KeyGen> {
    crate::row_check::key_columns(object)
        .into_iter()
        .map(|(columns, label)| KeyGen {
            columns,
            label,
            seen: SeenValues::new(keys_max),
            recent: Vec::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests;
