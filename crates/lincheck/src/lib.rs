//! A linearizability checker for histories of operations recorded against
//! a replicated service, such as the Barn under a nemesis.
//!
//! A history is a list of [`Operation`]s: what a client asked, what it was
//! told, when it called and when it returned (an operation whose outcome
//! is unknown, because the client timed out or the node died, returns at
//! [`Operation::NEVER_RETURNED`]). A [`Model`] says what a correct
//! sequential service does. [`check`] searches for an order of the
//! operations that respects real time (an operation that returned before
//! another was called comes first) and that the model accepts: the
//! Wing–Gong algorithm with Lowe's memoization of (linearized set, state),
//! as porcupine does. [`check_partitioned`] first splits the history by
//! key, since operations on different keys never constrain each other, and
//! checks each part alone.
//!
//! The search is exponential in the worst case, so it has a named bound
//! ([`SearchBudget::steps_max`]); a history it cannot decide within the
//! bound is [`Verdict::Unknown`], never a pass.

mod check;
mod history;
mod register;

pub use check::{SearchBudget, Verdict, check, check_partitioned};
pub use history::{Model, Operation};
pub use register::{KvInput, KvModel, KvOutput};
