//! Checks record batches against one schema object of a contract: every
//! row rule over whole columns, uniqueness across the run, and schema
//! drift. Each batch splits into the rows that pass, typed as the contract
//! says, and the rows that fail, each with what it broke.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, RecordBatch, StringArray, new_null_array,
};
use arrow::buffer::BooleanBuffer;
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::ContractError;
use crate::column_check::ColumnCheck;
use crate::finding::{Finding, RuleKind};
use crate::model::SchemaObject;
use crate::nested_check::{NestedCheck, nested_checks, parsed_parents, part_values};
use crate::unique::SeenValues;

/// The default bound on distinct keys remembered for `unique` and
/// `primaryKey` columns, per key: about 0.8 GB of fingerprints.
pub const UNIQUE_KEYS_MAX_DEFAULT: usize = 100_000_000;

#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Report every rule a rejected row breaks, not only the first.
    pub all_violations: bool,
    /// Bound on the distinct values remembered per unique key.
    pub unique_keys_max: usize,
    /// Reject rows whose columns differ from the contract (extra or
    /// missing columns) rather than report the drift and go on.
    pub block_on_drift: bool,
    /// Columns whose values must not appear in findings (sensitive ones):
    /// their value is left out and messages show `***`.
    pub withheld: Vec<String>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            all_violations: false,
            unique_keys_max: UNIQUE_KEYS_MAX_DEFAULT,
            block_on_drift: false,
            withheld: Vec::new(),
        }
    }
}

/// How the input's columns differ from the contract's.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Drift {
    /// Input columns the contract does not name (kept, after the
    /// contract's columns, unless drift blocks).
    pub extra: Vec<String>,
    /// Contract columns the input lacks (read as all nulls).
    pub missing: Vec<String>,
    /// Typed input columns (Parquet, Arrow) of another type than the
    /// contract's: `(column, found, expected)`.
    pub retyped: Vec<(String, String, String)>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.extra.is_empty() && self.missing.is_empty() && self.retyped.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(
        "column `{column}` has more than {keys_max} distinct values to keep unique; raise `unique_keys_max` or drop `unique` from the contract"
    )]
    UniqueStateFull { column: String, keys_max: usize },
    #[error("the batch does not have the columns the checker was built for: {0}")]
    Schema(String),
    #[error(transparent)]
    Arrow(#[from] ArrowError),
}

/// One batch after checking. The check marks the rows that pass and
/// copies nothing: [`CheckedBatch::valid`] picks them, and a caller that
/// only counts (validate), or that picks a few columns first (a slice is
/// sent two of W's seven), copies only what it needs.
#[derive(Debug)]
pub struct CheckedBatch {
    /// Every row of the input, with the contract's types.
    pub typed: RecordBatch,
    /// Which rows of `typed` pass.
    pub passing: BooleanArray,
    /// How many rows pass.
    pub rows_valid: usize,
    /// Positions (in the input batch) of the rows that fail, ascending.
    pub rejected_rows: Vec<u32>,
    /// For each rejected row, what it broke: one finding, or all of them
    /// with `all_violations`.
    pub findings: Vec<Vec<Finding>>,
}

impl CheckedBatch {
    /// The rows that pass, in input order, with the contract's types.
    pub fn valid(&self) -> Result<RecordBatch, ArrowError> {
        if self.all_pass() {
            return Ok(self.typed.clone());
        }
        filter_record_batch(&self.typed, &self.passing)
    }

    /// Every typed row, and which of them pass: `None` when all do.
    pub fn into_marked(self) -> (RecordBatch, Option<BooleanArray>) {
        let passing = (!self.all_pass()).then_some(self.passing);
        (self.typed, passing)
    }

    fn all_pass(&self) -> bool {
        self.rows_valid == self.typed.num_rows()
    }
}

/// A set of columns whose values, together, must not repeat.
#[derive(Debug)]
struct UniqueKey {
    columns: Vec<usize>,
    label: String,
    seen: SeenValues,
}

#[derive(Debug)]
pub struct RowChecker {
    columns: Vec<ColumnCheck>,
    /// The properties of `object` columns, owners `columns.len()` on.
    nested: Vec<NestedCheck>,
    /// For each contract column, its position in the input batch.
    input_positions: Vec<Option<usize>>,
    extra_positions: Vec<usize>,
    keys: Vec<UniqueKey>,
    options: CheckOptions,
    input_width: usize,
    output_schema: SchemaRef,
    drift: Drift,
}

impl RowChecker {
    /// Compiles the rules of `object` for batches shaped like `input`.
    pub fn new(
        object: &SchemaObject,
        input: &Schema,
        options: CheckOptions,
    ) -> Result<Self, ContractError> {
        let columns: Vec<ColumnCheck> = object
            .columns
            .iter()
            .map(ColumnCheck::compile)
            .collect::<Result<_, _>>()?;
        let input_positions: Vec<Option<usize>> = columns
            .iter()
            .map(|c| input.index_of(&c.name).ok())
            .collect();
        let mut drift = Drift::default();
        for (check, position) in columns.iter().zip(&input_positions) {
            match position {
                None => drift.missing.push(check.name.clone()),
                Some(p) => {
                    let found = input.field(*p).data_type();
                    if !is_text(found) && found != &check.reader.target {
                        drift.retyped.push((
                            check.name.clone(),
                            found.to_string(),
                            check.reader.target.to_string(),
                        ));
                    }
                }
            }
        }
        let extra_positions: Vec<usize> = (0..input.fields().len())
            .filter(|p| !input_positions.contains(&Some(*p)))
            .collect();
        drift.extra = extra_positions
            .iter()
            .map(|p| input.field(*p).name().clone())
            .collect();

        let mut fields: Vec<Field> = columns
            .iter()
            .map(|c| Field::new(&c.name, c.reader.target.clone(), true))
            .collect();
        fields.extend(
            extra_positions
                .iter()
                .map(|p| input.field(*p).clone().with_nullable(true)),
        );
        let keys = unique_keys(object, options.unique_keys_max);
        Ok(Self {
            nested: nested_checks(&object.columns)?,
            columns,
            input_positions,
            extra_positions,
            keys,
            input_width: input.fields().len(),
            output_schema: Arc::new(Schema::new(fields)),
            drift,
            options,
        })
    }

    /// The schema of [`CheckedBatch::valid`].
    pub fn output_schema(&self) -> SchemaRef {
        Arc::clone(&self.output_schema)
    }

    pub fn drift(&self) -> &Drift {
        &self.drift
    }

    /// Distinct keys remembered so far, over all unique keys.
    pub fn unique_keys_seen(&self) -> usize {
        self.keys.iter().map(|k| k.seen.len()).sum()
    }

    /// Every row rule this checker enforces, as (field, rule), in the
    /// order they rank: columns in contract order, then drift (when it
    /// blocks), then each unique key (`duplicate`, named by its columns).
    pub fn rules(&self) -> Vec<(String, RuleKind)> {
        let mut rules: Vec<(String, RuleKind)> = self
            .columns
            .iter()
            .chain(self.nested.iter().map(|n| &n.check))
            .flat_map(|c| c.rules().into_iter().map(|r| (c.name.clone(), r)))
            .collect();
        if self.options.block_on_drift {
            rules.push((String::new(), RuleKind::Drift));
        }
        rules.extend(
            self.keys
                .iter()
                .map(|k| (k.label.clone(), RuleKind::Duplicate)),
        );
        rules
    }

    pub fn check(&mut self, batch: &RecordBatch) -> Result<CheckedBatch, CheckError> {
        if batch.num_columns() != self.input_width {
            return Err(CheckError::Schema(format!(
                "expected {} columns, found {}",
                self.input_width,
                batch.num_columns()
            )));
        }
        let n = batch.num_rows();
        let mut marks = Marks::new(n, self.options.all_violations);
        let mut typed_columns: Vec<ArrayRef> =
            Vec::with_capacity(self.output_schema.fields().len());
        let mut raw_columns: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for (index, (check, position)) in self.columns.iter().zip(&self.input_positions).enumerate()
        {
            let raw = match position {
                Some(p) => Arc::clone(batch.column(*p)),
                None => new_null_array(&DataType::Utf8, n),
            };
            let read = check.reader.read(&raw)?;
            for failure in check.failures(&raw, &read)? {
                marks.record(failure.rule, index, failure.fails);
            }
            typed_columns.push(read.typed);
            raw_columns.push(raw);
        }
        // Each nested check's values, typed, with the row each came from.
        let mut nested_values: Vec<(ArrayRef, Vec<u32>)> = Vec::with_capacity(self.nested.len());
        // Each parent's values read as JSON once, for all its keys.
        let mut parsed: Vec<Option<Vec<Option<serde_json::Value>>>> =
            vec![None; self.columns.len() + self.nested.len()];
        for (index, nested) in self.nested.iter().enumerate() {
            let (parents, parent_rows) = match nested.parent.checked_sub(self.columns.len()) {
                None => (&typed_columns[nested.parent], None),
                Some(n) => (&nested_values[n].0, Some(&nested_values[n].1)),
            };
            let parents = parsed[nested.parent].get_or_insert_with(|| parsed_parents(parents));
            let (raw, origins, applicable, structured) = part_values(parents, &nested.part);
            let rows: Vec<u32> = match parent_rows {
                None => origins.clone(),
                Some(parent_rows) => origins.iter().map(|o| parent_rows[*o as usize]).collect(),
            };
            let read = nested.check.reader.read(&raw)?;
            let mut shown: Vec<Option<usize>> = vec![None; n];
            let mut failures = nested.check.failures(&raw, &read)?;
            if !nested.check.reader.kind.is_structured() && structured.contains(&true) {
                // An array or object where a scalar belongs: not its type.
                failures.insert(
                    0,
                    crate::column_check::RuleFailures {
                        rule: RuleKind::LogicalType,
                        fails: BooleanBuffer::from(structured),
                    },
                );
            }
            for failure in failures {
                let mut failed_rows = vec![false; n];
                for value in failure.fails.set_indices() {
                    if applicable.value(origins[value] as usize) {
                        let row = rows[value] as usize;
                        failed_rows[row] = true;
                        shown[row].get_or_insert(value);
                    }
                }
                let owner = self.columns.len() + index;
                marks.record(failure.rule, owner, BooleanBuffer::from(failed_rows));
            }
            // What a finding shows for a row: the value of it that failed.
            let texts = raw.as_string::<i32>();
            let per_row: StringArray = shown
                .iter()
                .map(|value| value.filter(|v| texts.is_valid(*v)).map(|v| texts.value(v)))
                .collect();
            raw_columns.push(Arc::new(per_row));
            nested_values.push((read.typed, rows));
        }
        if self.options.block_on_drift
            && (!self.drift.extra.is_empty() || !self.drift.missing.is_empty())
        {
            marks.record(RuleKind::Drift, usize::MAX, BooleanBuffer::new_set(n));
        }
        for key_index in 0..self.keys.len() {
            let duplicates = self.duplicates(key_index, &typed_columns, n)?;
            marks.record(RuleKind::Duplicate, key_index, duplicates);
        }
        typed_columns.extend(
            self.extra_positions
                .iter()
                .map(|p| Arc::clone(batch.column(*p))),
        );

        let rows_valid = marks.alive.count_set_bits();
        let typed = RecordBatch::try_new(Arc::clone(&self.output_schema), typed_columns)?;
        let passing = BooleanArray::new(marks.alive.clone(), None);
        let (rejected_rows, findings) = self.findings(&marks, &raw_columns)?;
        Ok(CheckedBatch {
            typed,
            passing,
            rows_valid,
            rejected_rows,
            findings,
        })
    }

    /// Rows whose key was seen before, in this batch or an earlier one.
    /// Every row counts, rejected or not: the first occurrence wins.
    fn duplicates(
        &mut self,
        key_index: usize,
        typed: &[ArrayRef],
        n: usize,
    ) -> Result<BooleanBuffer, CheckError> {
        let key = &mut self.keys[key_index];
        let columns: Vec<&ArrayRef> = key.columns.iter().map(|c| &typed[*c]).collect();
        let keys = key.seen.row_keys(&columns, n)?;
        let duplicate =
            key.seen
                .seen_before_all(keys)
                .map_err(|_| CheckError::UniqueStateFull {
                    column: key.label.clone(),
                    keys_max: self.options.unique_keys_max,
                })?;
        Ok(BooleanBuffer::from(duplicate))
    }

    fn findings(
        &self,
        marks: &Marks,
        raw: &[ArrayRef],
    ) -> Result<(Vec<u32>, Vec<Vec<Finding>>), ArrowError> {
        let mut by_row: BTreeMap<u32, Vec<Finding>> = BTreeMap::new();
        for (rule, owner, fails) in &marks.recorded {
            for row in fails.set_indices() {
                let (field, value, message) = self.describe(*rule, *owner, raw, row)?;
                by_row.entry(row as u32).or_default().push(Finding {
                    rule: *rule,
                    field,
                    value,
                    message,
                });
            }
        }
        Ok(by_row.into_iter().unzip())
    }

    fn describe(
        &self,
        rule: RuleKind,
        owner: usize,
        raw: &[ArrayRef],
        row: usize,
    ) -> Result<(String, Option<String>, String), ArrowError> {
        match rule {
            RuleKind::Drift => {
                let mut parts = Vec::new();
                if !self.drift.extra.is_empty() {
                    parts.push(format!(
                        "columns not in the contract: {}",
                        quoted(&self.drift.extra)
                    ));
                }
                if !self.drift.missing.is_empty() {
                    parts.push(format!(
                        "contract columns missing: {}",
                        quoted(&self.drift.missing)
                    ));
                }
                let field = self
                    .drift
                    .extra
                    .first()
                    .or(self.drift.missing.first())
                    .cloned()
                    .unwrap_or_default();
                Ok((
                    field,
                    None,
                    format!(
                        "schema drift and `block_on_drift` is on: {}",
                        parts.join("; ")
                    ),
                ))
            }
            RuleKind::Duplicate => {
                let key = &self.keys[owner];
                let values: Vec<String> = key
                    .columns
                    .iter()
                    .filter_map(|c| value_text(&raw[*c], row).ok().flatten())
                    .collect();
                let value = Some(values.join(", "));
                let withheld = key.columns.iter().any(|c| self.is_withheld(*c));
                Ok(self.shown(key.columns[0], rule, key.label.clone(), value, withheld))
            }
            _ => {
                let value = value_text(&raw[owner], row)?;
                let withheld = self.is_withheld(owner);
                Ok(self.shown(
                    owner,
                    rule,
                    self.check_of(owner).name.clone(),
                    value,
                    withheld,
                ))
            }
        }
    }
}

impl RowChecker {
    /// The check of a contract column, or of a nested property past them.
    fn check_of(&self, owner: usize) -> &ColumnCheck {
        match owner.checked_sub(self.columns.len()) {
            None => &self.columns[owner],
            Some(n) => &self.nested[n].check,
        }
    }

    /// A nested property is withheld when the column it is in is.
    fn is_withheld(&self, owner: usize) -> bool {
        let column = match owner.checked_sub(self.columns.len()) {
            None => owner,
            Some(n) => self.nested[n].root,
        };
        self.options.withheld.contains(&self.columns[column].name)
    }

    /// A finding's field, value and message; a withheld value shows as `***`.
    fn shown(
        &self,
        column: usize,
        rule: RuleKind,
        field: String,
        value: Option<String>,
        withheld: bool,
    ) -> (String, Option<String>, String) {
        let check = self.check_of(column);
        if withheld && value.is_some() {
            (field, None, check.message(rule, Some("***")))
        } else {
            let message = check.message(rule, value.as_deref());
            (field, value, message)
        }
    }
}

/// Rules recorded over one batch, in the order they rank.
#[derive(Debug)]
struct Marks {
    alive: BooleanBuffer,
    all_violations: bool,
    /// (rule, owning column or key, rows it marks as failing).
    recorded: Vec<(RuleKind, usize, BooleanBuffer)>,
}

impl Marks {
    fn new(rows: usize, all_violations: bool) -> Self {
        Self {
            alive: BooleanBuffer::new_set(rows),
            all_violations,
            recorded: Vec::new(),
        }
    }

    /// Without `all_violations` a row keeps only the first rule it fails.
    fn record(&mut self, rule: RuleKind, owner: usize, fails: BooleanBuffer) {
        let marked = if self.all_violations {
            fails
        } else {
            &fails & &self.alive
        };
        if marked.count_set_bits() == 0 {
            return;
        }
        self.alive = &self.alive & &!&marked;
        self.recorded.push((rule, owner, marked));
    }
}

/// The primary key (all `primaryKey` columns together) and each `unique`
/// column on its own, as (column positions, label such as `a,b`). The
/// checker and `synth` agree on keys through this one function.
pub(crate) fn key_columns(object: &SchemaObject) -> Vec<(Vec<usize>, String)> {
    let mut keys = Vec::new();
    let primary: Vec<usize> = object
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.primary_key)
        .map(|(i, _)| i)
        .collect();
    if !primary.is_empty() {
        let label = primary
            .iter()
            .map(|i| object.columns[*i].name.as_str())
            .collect::<Vec<_>>()
            .join(",");
        keys.push((primary.clone(), label));
    }
    for (i, column) in object.columns.iter().enumerate() {
        if column.unique && primary != [i] {
            keys.push((vec![i], column.name.clone()));
        }
    }
    keys
}

fn unique_keys(object: &SchemaObject, keys_max: usize) -> Vec<UniqueKey> {
    key_columns(object)
        .into_iter()
        .map(|(columns, label)| UniqueKey {
            columns,
            label,
            seen: SeenValues::new(keys_max),
        })
        .collect()
}

/// A value as text, as the DLQ and messages show it; `None` for null.
pub fn value_text(column: &ArrayRef, row: usize) -> Result<Option<String>, ArrowError> {
    if column.is_null(row) {
        return Ok(None);
    }
    if let Some(text) = column.as_string_opt::<i32>() {
        return Ok(Some(text.value(row).to_owned()));
    }
    if column.data_type().is_nested() {
        // A list, struct or map as JSON, as `object` and `array` columns
        // hold it, rather than Arrow's display (`{a: 1}`).
        let json = crate::reading::nested_as_json_text(&column.slice(row, 1))?;
        return Ok(json.is_valid(0).then(|| json.value(0).to_owned()));
    }
    let formatter = ArrayFormatter::try_new(column.as_ref(), &FormatOptions::default())?;
    Ok(Some(formatter.value(row).to_string()))
}

fn is_text(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
