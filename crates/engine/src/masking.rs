//! Masking whole columns of a batch, shared by the `mask` step and
//! role-scoped sinks.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use runink_contract::{DIGEST_BYTES, MaskError, MaskRule, Masker};

/// Columns to mask, by position, with their rule.
pub type ColumnMasks = [(usize, MaskRule)];

/// The schema after masking: masked columns become text, or, those listed
/// in `digests` (hashed ones), their raw digests ([`Masker::digests`]).
pub fn masked_schema(schema: &SchemaRef, masks: &ColumnMasks, digests: &[usize]) -> SchemaRef {
    if masks.is_empty() {
        return Arc::clone(schema);
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| match masks.iter().find(|(c, _)| *c == i) {
            Some((_, MaskRule::Hash)) if digests.contains(&i) => Field::new(
                f.name(),
                DataType::FixedSizeBinary(DIGEST_BYTES as i32),
                true,
            ),
            Some((_, rule)) if *rule != MaskRule::None => {
                Field::new(f.name(), DataType::Utf8, true)
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Masks the listed columns of `batch`; `schema` is its [`masked_schema`]
/// with the same `digests`.
pub fn apply_masks(
    batch: RecordBatch,
    masks: &ColumnMasks,
    digests: &[usize],
    schema: &SchemaRef,
    masker: &Masker,
) -> Result<RecordBatch, MaskError> {
    if masks.is_empty() {
        return Ok(batch);
    }
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    for (column, rule) in masks {
        columns[*column] = if *rule == MaskRule::Hash && digests.contains(column) {
            Arc::new(masker.digests(&columns[*column])?)
        } else {
            masker.mask(*rule, &columns[*column])?
        };
    }
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}
