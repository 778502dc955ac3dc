//! Which columns a slice of built-in steps is sent, and which the parent
//! keeps and puts back itself.
//!
//! Sending every column to a slice and back costs an Arrow IPC encode, two
//! pipe copies and a decode of each, both ways; in workload W that was
//! most of what isolation added (the slice reads two of seven columns). A
//! built-in step other than `sql` touches only the columns it names (reads
//! or writes), and passes every other one through unchanged and in its
//! place, only keeping or dropping rows. So a column that no step of the
//! slice writes and that leaves the slice is *carried*: the parent keeps
//! it, and puts back, for each row the slice answers with, that row's
//! value (by the row's position in its batch). The slice is sent the
//! columns its steps read or write, and answers with the written ones.
//!
//! A written column that a `mask` step hashes, and that no later step of
//! the slice reads, is answered with as its raw 32-byte digests, half the
//! bytes of their hex text; the parent writes the hex
//! (`runink_contract::hex_digests`), which any 32 bytes make.

use std::collections::BTreeSet;

use arrow::datatypes::{Schema, SchemaRef};

use crate::steps::ColumnUse;

/// How a slice's columns are split between the slice and the parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceColumns {
    /// Positions in the slice's input of the columns sent to it.
    pub sent: Vec<usize>,
    /// Columns the parent carries: (position in the slice's output,
    /// position in its input).
    pub carried: Vec<(usize, usize)>,
    /// The schema the slice is sent.
    pub sent_schema: SchemaRef,
    /// The schema the slice answers with: its output without the carried
    /// columns, in the same order.
    pub answered_schema: SchemaRef,
    /// The answered columns that come as digests.
    pub digests: Vec<DigestColumn>,
}

/// A hashed column a slice answers with as raw digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestColumn {
    /// The step that hashes it, by its position in the slice.
    pub step: usize,
    /// Its position in the answered schema.
    pub answered: usize,
}

impl SliceColumns {
    /// The split for steps that use `touched` (each step's columns; `None`
    /// when a step may touch any) between `input` and `output`.
    /// `None` when every column must go to the slice: a step may touch
    /// any, no column could be carried, or none would be left to send (or
    /// an untouched column is not the input's, which built-in steps never
    /// do).
    pub fn plan(touched: &[Option<ColumnUse>], input: &Schema, output: &Schema) -> Option<Self> {
        let mut all_touched = BTreeSet::new();
        let mut written = BTreeSet::new();
        for step in touched {
            let step = step.as_ref()?;
            all_touched.extend(step.read.iter().cloned());
            all_touched.extend(step.written.iter().cloned());
            written.extend(step.written.iter().cloned());
        }
        // An output column no step writes is the input's, unchanged; if it
        // is not, the steps do something this split does not know of.
        let mut carried = Vec::new();
        for (out, field) in output.fields().iter().enumerate() {
            if written.contains(field.name()) {
                continue;
            }
            let (at, found) = input.column_with_name(field.name())?;
            if found != field.as_ref() {
                return None;
            }
            carried.push((out, at));
        }
        let sent: Vec<usize> = (0..input.fields().len())
            .filter(|i| all_touched.contains(input.field(*i).name()))
            .collect();
        if carried.is_empty() || sent.is_empty() {
            return None;
        }
        let answered: Vec<usize> = (0..output.fields().len())
            .filter(|out| !carried.iter().any(|(c, _)| c == out))
            .collect();
        let answered_schema = SchemaRef::new(output.project(&answered).ok()?);
        let digests = answered_schema
            .fields()
            .iter()
            .enumerate()
            .filter_map(|(at, field)| {
                let step = hashed_last(touched, field.name())?;
                Some(DigestColumn { step, answered: at })
            })
            .collect();
        Some(Self {
            sent_schema: SchemaRef::new(input.project(&sent).ok()?),
            answered_schema,
            sent,
            carried,
            digests,
        })
    }

    /// The digests a job asks each step for: (step, column).
    pub fn digest_steps(&self) -> Vec<(usize, String)> {
        self.digests
            .iter()
            .map(|d| {
                (
                    d.step,
                    self.answered_schema.field(d.answered).name().clone(),
                )
            })
            .collect()
    }

    /// The names of the columns the slice answers with, for its job.
    pub fn answered_names(&self) -> Vec<String> {
        self.answered_schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }
}

/// The step that last writes `name`, when it writes it as a `hash` mask
/// and no later step reads it.
fn hashed_last(touched: &[Option<ColumnUse>], name: &str) -> Option<usize> {
    let uses: Vec<&ColumnUse> = touched.iter().map(Option::as_ref).collect::<Option<_>>()?;
    let last = uses.iter().rposition(|u| u.written.contains(name))?;
    let read_later = uses[last + 1..].iter().any(|u| u.read.contains(name));
    (uses[last].hashed.contains(name) && !read_later).then_some(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{DataType, Field};

    fn schema(fields: &[(&str, DataType)]) -> Schema {
        Schema::new(
            fields
                .iter()
                .map(|(name, t)| Field::new(*name, t.clone(), true))
                .collect::<Vec<_>>(),
        )
    }

    fn set(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|n| (*n).to_owned()).collect()
    }

    fn uses(read: &[&str], written: &[&str]) -> Option<ColumnUse> {
        Some(ColumnUse {
            read: set(read),
            written: set(written),
            hashed: BTreeSet::new(),
        })
    }

    /// A `mask` step that hashes `columns`.
    fn hashing(columns: &[&str]) -> Option<ColumnUse> {
        Some(ColumnUse {
            read: set(columns),
            written: set(columns),
            hashed: set(columns),
        })
    }

    #[test]
    fn workload_w_sends_the_email_and_the_amount_and_gets_back_what_it_wrote() {
        use DataType::{Float64, Int64, Utf8};
        let input = schema(&[
            ("order_id", Utf8),
            ("customer_email", Utf8),
            ("amount", Float64),
            ("currency", Utf8),
        ]);
        let output = schema(&[
            ("order_id", Utf8),
            ("customer_email", Utf8),
            ("amount", Float64),
            ("currency", Utf8),
            ("total_cents", Int64),
        ]);
        let touched = [
            hashing(&["customer_email"]),
            uses(&["amount"], &[]),
            uses(&["amount"], &["total_cents"]),
        ];
        let split = SliceColumns::plan(&touched, &input, &output).unwrap();
        assert_eq!(split.sent, vec![1, 2]);
        assert_eq!(split.carried, vec![(0, 0), (2, 2), (3, 3)]);
        assert_eq!(split.answered_names(), ["customer_email", "total_cents"]);
        assert_eq!(split.answered_schema.field(1).data_type(), &Int64);
        assert_eq!(split.digest_steps(), [(0, "customer_email".to_owned())]);
        assert_eq!(split.digests[0].answered, 0);
    }

    #[test]
    fn a_hash_read_or_rewritten_later_in_the_slice_comes_back_as_text() {
        use DataType::Utf8;
        let input = schema(&[("id", Utf8), ("email", Utf8), ("phone", Utf8)]);
        let output = input.clone();
        // `email` is read by the filter after the mask; `phone` is hashed
        // and then redacted by a second mask.
        let touched = [
            hashing(&["email", "phone"]),
            uses(&["email"], &[]),
            uses(&["phone"], &["phone"]),
        ];
        let split = SliceColumns::plan(&touched, &input, &output).unwrap();
        assert_eq!(split.answered_names(), ["email", "phone"]);
        assert!(split.digests.is_empty(), "{:?}", split.digests);
        // Read before the mask, not after: a digest.
        let touched = [uses(&["email"], &[]), hashing(&["email"])];
        let split = SliceColumns::plan(&touched, &input, &output).unwrap();
        assert_eq!(split.digest_steps(), [(1, "email".to_owned())]);
    }

    #[test]
    fn a_step_that_may_touch_anything_gets_every_column() {
        let input = schema(&[("a", DataType::Utf8), ("b", DataType::Utf8)]);
        assert_eq!(
            SliceColumns::plan(&[uses(&["a"], &[]), None], &input, &input),
            None
        );
    }

    #[test]
    fn a_column_whose_type_changed_is_not_carried() {
        // A step that does not write `b` cannot change it; if the output's
        // `b` differs all the same, every column goes to the slice.
        let input = schema(&[("a", DataType::Utf8), ("b", DataType::Utf8)]);
        let output = schema(&[("a", DataType::Utf8), ("b", DataType::Int64)]);
        let touched = [uses(&["a", "b"], &["a"])];
        assert_eq!(SliceColumns::plan(&touched, &input, &output), None);
    }

    #[test]
    fn nothing_is_split_when_no_column_is_touched_or_every_one_is_written() {
        let input = schema(&[("a", DataType::Utf8), ("b", DataType::Utf8)]);
        assert_eq!(SliceColumns::plan(&[uses(&[], &[])], &input, &input), None);
        assert_eq!(
            SliceColumns::plan(&[uses(&["a", "b"], &["a", "b"])], &input, &input),
            None
        );
    }
}
