//! Reading runs wherever they are: held in memory by the state, on their
//! way to the archive (a snapshot being stored), or in the archive tables.
//! What is in memory is copied under the machine's lock; the archive is read
//! after letting go of it, so a long listing never holds up `apply`.

use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::ops::ControlFlow;

use super::Store;
use super::state_machine::{Machine, SharedMachine, read};
use crate::error::BarnError;
use crate::ids::RunId;
use crate::state::{Run, RunEvent};

/// A run's record; `None` for an unknown run (or one forgotten).
pub(crate) fn run(
    machine: &SharedMachine,
    store: &Store,
    id: RunId,
) -> Result<Option<Run>, BarnError> {
    find(
        machine,
        id,
        |machine| {
            let held = machine.state.run(id);
            held.or(machine.archiving.get(&id).map(|a| &a.run)).cloned()
        },
        || store.archived_run(id),
    )
}

/// A run's kept events in arrival order; `None` for an unknown run.
pub(crate) fn run_events(
    machine: &SharedMachine,
    store: &Store,
    id: RunId,
) -> Result<Option<Vec<RunEvent>>, BarnError> {
    find(
        machine,
        id,
        |machine| match machine.state.run_events(id) {
            Some(events) => Some(events.to_vec()),
            None => machine.archiving.get(&id).map(|a| a.events.clone()),
        },
        || store.archived_events(id),
    )
}

/// What `held` finds of run `id` in memory (held by the state, or on its
/// way to the archive); failing that, if the run is archived, what
/// `archived` reads, after letting go of the lock.
fn find<T>(
    machine: &SharedMachine,
    id: RunId,
    held: impl FnOnce(&Machine) -> Option<T>,
    archived: impl FnOnce() -> Result<Option<T>, BarnError>,
) -> Result<Option<T>, BarnError> {
    let is_archived = {
        let machine = read(machine);
        if let Some(found) = held(&machine) {
            return Ok(Some(found));
        }
        machine.state.archived_mark(id).is_some()
    };
    if is_archived { archived() } else { Ok(None) }
}

/// The runs that `keep` admits, newest first, at most `limit`: those held
/// in memory merged with the archive's, read newest first until `limit`.
pub(crate) fn runs_newest_first(
    machine: &SharedMachine,
    store: &Store,
    mut keep: impl FnMut(&Run) -> bool,
    limit: usize,
) -> Result<Vec<Run>, BarnError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let (held, archived) = {
        let machine = read(machine);
        let mut held: Vec<Run> = machine
            .state
            .runs()
            .chain(machine.archiving.values().map(|a| &a.run))
            .filter(|run| keep(run))
            .cloned()
            .collect();
        held.sort_unstable_by_key(|run| Reverse(run.id));
        // Runs on their way are held; the archive may already have them.
        let archived: BTreeSet<RunId> = machine
            .state
            .archived_marks()
            .keys()
            .filter(|id| !machine.archiving.contains_key(id))
            .copied()
            .collect();
        (held, archived)
    };
    let mut found = Vec::new();
    let mut held = held.into_iter().peekable();
    store.visit_archived_runs_newest_first(|run| {
        while let Some(newer) = held.next_if(|h| h.id > run.id) {
            found.push(newer);
            if found.len() == limit {
                return ControlFlow::Break(());
            }
        }
        // A record without a mark is one forgotten, deleted with the next
        // snapshot.
        if archived.contains(&run.id) && keep(&run) {
            found.push(run);
            if found.len() == limit {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })?;
    let room = limit - found.len();
    found.extend(held.take(room));
    Ok(found)
}
