//! Operations and the sequential model they are checked against.

use std::hash::Hash;

/// One operation as a client saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation<I, O> {
    /// Who issued it (for reports only; the check does not need it).
    pub client: u64,
    pub input: I,
    pub output: O,
    /// When the client called, on one clock shared by every client.
    pub call: u64,
    /// When the client got the answer; [`Self::NEVER_RETURNED`] if it never
    /// did (the operation may or may not have taken effect).
    pub ret: u64,
}

impl<I, O> Operation<I, O> {
    /// The return time of an operation whose outcome is unknown: it may
    /// take effect at any point after its call.
    pub const NEVER_RETURNED: u64 = u64::MAX;
}

/// What a correct sequential service does.
pub trait Model {
    type State: Clone + Eq + Hash;
    type Input;
    type Output;
    /// A key for partitioning: operations with different keys are checked
    /// apart.
    type Key: Ord + Clone;

    fn init(&self) -> Self::State;

    /// The state after `input`, if a correct service in `state` could
    /// have answered `output`; `None` if it could not.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Option<Self::State>;

    fn key(&self, input: &Self::Input) -> Self::Key;
}
