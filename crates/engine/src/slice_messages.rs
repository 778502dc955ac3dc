//! What the parent and a built-in slice say to each other, as frame
//! headers (`slice_frames.rs`). The parent sends a [`ToSlice::Job`], then
//! one [`ToSlice::Rows`] per batch, then [`ToSlice::End`]. The slice answers
//! every `Rows` with one [`FromSlice::Answer`], in order; after `End` it
//! sends what its steps emit at the end ([`FromSlice::Emitted`]), then
//! [`FromSlice::Done`]. A failing step sends [`FromSlice::Failed`] instead.

use runink_contract::MaskRule;
use runink_plan::Step;
use serde::{Deserialize, Serialize};

/// The column a slice appends to an answer's rows: for each row, its
/// position in the batch the answer is for (so the parent keeps each
/// row's source line).
pub const INPUT_ROW_COLUMN: &str = "_runink_input_row";

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToSlice {
    /// What to run. Body: an empty batch of the first step's input schema.
    Job(Box<SliceJob>),
    /// Rows for the first step. Body: the batch.
    Rows,
    /// No more rows.
    End,
}

/// The steps of one slice and what planning them needs.
#[derive(Debug, Serialize, Deserialize)]
pub struct SliceJob {
    /// The slice's number in the plan.
    pub slice: usize,
    /// Built-in steps only, in order.
    pub steps: Vec<Step>,
    /// The masking rule of each sensitive column of the contracts.
    pub sensitive: Vec<(String, MaskRule)>,
    pub default_mask: MaskRule,
    pub unique_keys_max: usize,
    pub sql_rows_max: usize,
    /// The herd's masking secrets, hex: a `mask` step needs them.
    pub mask_salt_hex: String,
    pub token_key_hex: String,
    /// The columns each answer carries, in order (the parent carries the
    /// others itself, `slice_columns.rs`); `None`: every column.
    #[serde(default)]
    pub answer_columns: Option<Vec<String>>,
    /// (step, column): the hashed columns a step writes as raw 32-byte
    /// digests, which answers carry so and the parent writes as hex
    /// (`slice_columns.rs`).
    #[serde(default)]
    pub digests: Vec<(usize, String)>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FromSlice {
    /// What the steps did with one `Rows` batch. Body: the rows that left
    /// the last step with [`INPUT_ROW_COLUMN`] last, or none when no row
    /// left it.
    Answer {
        counts: Vec<StepTally>,
        rejects: Vec<SliceReject>,
        /// Every row of the batch left, in order: the body has no
        /// [`INPUT_ROW_COLUMN`], whose positions would be 0, 1, 2, ...
        #[serde(default)]
        every_row: bool,
    },
    /// Rows a step emitted at the end (a `sql` step) that left the last
    /// step. Body: the rows, or none.
    Emitted {
        counts: Vec<StepTally>,
        rejects: Vec<SliceReject>,
    },
    /// Every step has finished; nothing follows.
    Done {
        counts: Vec<StepTally>,
        confinement: Confinement,
    },
    /// A step failed: the run must fail with this message.
    Failed {
        step: usize,
        label: String,
        message: String,
        /// On rows (`StepFailed`), not while being planned (`Step`).
        on_rows: bool,
    },
}

/// Rows counted at one step of the slice since the last frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepTally {
    pub rows_in: u64,
    pub rows_out: u64,
    pub rows_rejected: u64,
    /// Rows a `filter` or `dedupe` dropped.
    pub rows_dropped: u64,
}

/// A row a step could not process (a failed `cast`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceReject {
    /// The step's position in the slice (0-based).
    pub step_index: usize,
    /// The row's position in the `Rows` batch it came from; none for rows
    /// a step emitted at the end.
    pub input_row: Option<u32>,
    /// The row as it entered the step: the columns the slice has, as text.
    /// The parent adds the columns it carried and keeps only names its
    /// schemas know.
    pub fields: Vec<(String, Option<String>)>,
    pub field: String,
    pub value: Option<String>,
    pub message: String,
}

/// What the slice's process saw of its own confinement
/// (`/proc/self/status`), reported so that a run's record shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confinement {
    /// `NoNewPrivs`: 1 when the process can never gain privileges.
    pub no_new_privs: Option<u8>,
    /// `Seccomp`: 2 when a seccomp filter is installed.
    pub seccomp: Option<u8>,
    /// `CapEff`: the effective capabilities, hex (all zero when none).
    pub cap_eff: Option<String>,
}

impl Confinement {
    /// Reads the fields from the text of `/proc/self/status`.
    pub fn from_status(status: &str) -> Self {
        let field = |name: &str| {
            status.lines().find_map(|line| {
                line.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .map(|value| value.trim().to_owned())
            })
        };
        Self {
            no_new_privs: field("NoNewPrivs").and_then(|v| v.parse().ok()),
            seccomp: field("Seccomp").and_then(|v| v.parse().ok()),
            cap_eff: field("CapEff"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confinement_reads_the_status_fields() {
        let status = "Name:\trunink\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n";
        assert_eq!(
            Confinement::from_status(status),
            Confinement {
                no_new_privs: Some(1),
                seccomp: Some(2),
                cap_eff: Some("0000000000000000".to_owned()),
            }
        );
        assert_eq!(Confinement::from_status(""), Confinement::default());
    }
}
