//! The search: Wing–Gong with Lowe's memoization, on a doubly linked list
//! of call and return events (dancing links), as porcupine does it.
//!
//! Walk the events in time order. At a call, try to linearize that
//! operation now: if the model accepts its answer from the current state,
//! take it out of the list, remember the choice, and start again from the
//! front. At a return, the operation that returns here was not linearized
//! before its return: undo the last choice and try the next call instead.
//! A (set of linearized operations, state) pair seen before leads nowhere
//! new and is skipped. The history is linearizable when the list is empty.

use std::collections::{BTreeMap, HashSet};

use crate::history::{Model, Operation};

/// How hard [`check`] may search before it gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchBudget {
    /// Steps (an operation tried, or a choice undone) per partition.
    pub steps_max: u64,
}

impl Default for SearchBudget {
    fn default() -> Self {
        Self {
            steps_max: 10_000_000,
        }
    }
}

/// What the search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Linearizable,
    /// No order explains the history. `key` names the partition (its
    /// debug form), and `operations` the indexes (into the history) of its
    /// operations.
    NotLinearizable {
        key: String,
        operations: Vec<usize>,
    },
    /// The budget ran out first in this partition: neither a pass nor a
    /// failure.
    Unknown {
        key: String,
    },
}

/// Checks a whole history as one partition.
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    budget: SearchBudget,
) -> Verdict {
    let all: Vec<usize> = (0..history.len()).collect();
    match search(model, history, &all, budget) {
        Search::Linearizable => Verdict::Linearizable,
        Search::Not => Verdict::NotLinearizable {
            key: String::new(),
            operations: all,
        },
        Search::OutOfBudget => Verdict::Unknown { key: String::new() },
    }
}

/// Checks each key's operations apart; the first partition that fails (in
/// key order) decides.
pub fn check_partitioned<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    budget: SearchBudget,
) -> Verdict
where
    M::Key: std::fmt::Debug,
{
    let mut parts: BTreeMap<M::Key, Vec<usize>> = BTreeMap::new();
    for (index, operation) in history.iter().enumerate() {
        parts
            .entry(model.key(&operation.input))
            .or_default()
            .push(index);
    }
    let mut unknown = None;
    for (key, operations) in parts {
        match search(model, history, &operations, budget) {
            Search::Linearizable => {}
            Search::Not => {
                return Verdict::NotLinearizable {
                    key: format!("{key:?}"),
                    operations,
                };
            }
            Search::OutOfBudget => {
                unknown.get_or_insert(format!("{key:?}"));
            }
        }
    }
    match unknown {
        Some(key) => Verdict::Unknown { key },
        None => Verdict::Linearizable,
    }
}

enum Search {
    Linearizable,
    Not,
    OutOfBudget,
}

const NONE: usize = usize::MAX;

/// The events of one partition as a doubly linked list; node 0 is the
/// head. Operation `k` (of the partition) has its call at node `call[k]`
/// and its return at node `ret[k]`.
struct Events {
    prev: Vec<usize>,
    next: Vec<usize>,
    /// For each node: the operation and whether it is the call.
    node_op: Vec<(usize, bool)>,
    ret: Vec<usize>,
}

impl Events {
    fn new<I, O>(history: &[Operation<I, O>], operations: &[usize]) -> Self {
        // (time, return after call at the same time, operation, is_call)
        let mut events: Vec<(u64, u8, usize, bool)> = Vec::with_capacity(operations.len() * 2);
        for (k, &index) in operations.iter().enumerate() {
            let operation = &history[index];
            events.push((operation.call, 0, k, true));
            // An answer that came back at the very moment another call went
            // out overlaps it: calls sort first, which is the lenient choice.
            events.push((operation.ret.max(operation.call), 1, k, false));
        }
        events.sort_unstable();
        let nodes = events.len() + 1;
        let mut list = Self {
            prev: (0..nodes).map(|n| n.wrapping_sub(1)).collect(),
            next: (1..=nodes)
                .map(|n| if n == nodes { NONE } else { n })
                .collect(),
            node_op: Vec::with_capacity(nodes),
            ret: vec![NONE; operations.len()],
        };
        list.prev[0] = NONE;
        list.node_op.push((NONE, false));
        for (node, &(_, _, k, is_call)) in events.iter().enumerate() {
            list.node_op.push((k, is_call));
            if !is_call {
                list.ret[k] = node + 1;
            }
        }
        list
    }

    fn unlink(&mut self, node: usize) {
        let (prev, next) = (self.prev[node], self.next[node]);
        self.next[prev] = next;
        if next != NONE {
            self.prev[next] = prev;
        }
    }

    /// Puts back a node taken out by `unlink`; nodes are put back in the
    /// reverse order they were taken out.
    fn relink(&mut self, node: usize) {
        let (prev, next) = (self.prev[node], self.next[node]);
        self.next[prev] = node;
        if next != NONE {
            self.prev[next] = node;
        }
    }
}

/// A set of operations, by index within the partition.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Linearized(Vec<u64>);

impl Linearized {
    fn new(len: usize) -> Self {
        Self(vec![0; len.div_ceil(64)])
    }

    fn set(&mut self, k: usize) {
        self.0[k / 64] |= 1 << (k % 64);
    }

    fn clear(&mut self, k: usize) {
        self.0[k / 64] &= !(1 << (k % 64));
    }
}

fn search<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    operations: &[usize],
    budget: SearchBudget,
) -> Search {
    let mut events = Events::new(history, operations);
    let mut state = model.init();
    let mut linearized = Linearized::new(operations.len());
    let mut seen: HashSet<(Linearized, M::State)> = HashSet::new();
    // The choices made: (call node, its return node, the state before).
    let mut choices: Vec<(usize, usize, M::State)> = Vec::new();
    let mut steps = 0u64;
    let mut node = events.next[0];
    while events.next[0] != NONE {
        steps += 1;
        if steps > budget.steps_max {
            return Search::OutOfBudget;
        }
        // The last event in the list is always a return (a return sorts
        // after its own call), so walking on from a call never runs off
        // the end.
        let (k, is_call) = events.node_op[node];
        if is_call {
            let operation = &history[operations[k]];
            let next_state = model.step(&state, &operation.input, &operation.output);
            if let Some(next_state) = next_state {
                let mut after = linearized.clone();
                after.set(k);
                if seen.insert((after.clone(), next_state.clone())) {
                    let ret = events.ret[k];
                    events.unlink(node);
                    events.unlink(ret);
                    choices.push((node, ret, std::mem::replace(&mut state, next_state)));
                    linearized = after;
                    node = events.next[0];
                    continue;
                }
            }
            node = events.next[node];
        } else {
            // Operation `k` returned without being linearized: undo the
            // last choice and try the call after it.
            let Some((call, ret, before)) = choices.pop() else {
                return Search::Not;
            };
            events.relink(ret);
            events.relink(call);
            linearized.clear(events.node_op[call].0);
            state = before;
            node = events.next[call];
        }
    }
    Search::Linearizable
}
