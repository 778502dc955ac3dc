//! A key-value store of registers: the model the Barn's fault tests check
//! against. Each key holds one value; a write replaces it, a read returns
//! it, and a compare-and-set replaces it only if it holds what was
//! expected.

use crate::history::Model;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvInput {
    Read {
        key: String,
    },
    Write {
        key: String,
        value: u64,
    },
    /// Sets `key` to `new` if it holds `expected`.
    CompareAndSet {
        key: String,
        expected: Option<u64>,
        new: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvOutput {
    /// What a read returned (`None`: the key was never written).
    Read(Option<u64>),
    Written,
    /// Whether a compare-and-set found what it expected.
    Swapped(bool),
    /// The client does not know what happened (a timeout, a dead node).
    /// For a read this says nothing; for a write, it may have happened.
    Unknown,
}

/// One register per key.
#[derive(Debug, Clone, Copy, Default)]
pub struct KvModel;

impl Model for KvModel {
    type State = Option<u64>;
    type Input = KvInput;
    type Output = KvOutput;
    type Key = String;

    fn init(&self) -> Option<u64> {
        None
    }

    fn step(&self, state: &Option<u64>, input: &KvInput, output: &KvOutput) -> Option<Option<u64>> {
        match (input, output) {
            (KvInput::Read { .. }, KvOutput::Read(seen)) => (seen == state).then_some(*state),
            (KvInput::Read { .. }, KvOutput::Unknown) => Some(*state),
            (KvInput::Write { value, .. }, KvOutput::Written | KvOutput::Unknown) => {
                Some(Some(*value))
            }
            (KvInput::CompareAndSet { expected, new, .. }, KvOutput::Swapped(swapped)) => {
                let matches = expected == state;
                if matches != *swapped {
                    return None;
                }
                Some(if matches { Some(*new) } else { *state })
            }
            (KvInput::CompareAndSet { expected, new, .. }, KvOutput::Unknown) => {
                Some(if expected == state {
                    Some(*new)
                } else {
                    *state
                })
            }
            // An answer of the wrong kind is never what a correct store says.
            _ => None,
        }
    }

    fn key(&self, input: &KvInput) -> String {
        match input {
            KvInput::Read { key }
            | KvInput::Write { key, .. }
            | KvInput::CompareAndSet { key, .. } => key.clone(),
        }
    }
}
