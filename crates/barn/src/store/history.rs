//! Reading runs wherever they are: held in memory by the state, on their
//! way to the archive (a snapshot being stored), or in the archive tables.
//! What is in memory is copied under the machine's lock; the archive is read
//! after letting go of it, so a long listing never holds up `apply`.

use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::ops::ControlFlow;

use super::Store;
use super::state_machine::{SharedMachine, read};
use crate::error::BarnError;
use crate::ids::RunId;
use crate::state::{Run, RunEvent};

/// A run's record; `None` for an unknown run (or one forgotten).
pub(crate) fn run(
    machine: &SharedMachine,
    store: &Store,
    id: RunId,
) -> Result<Option<Run>, BarnError> {
    let archived = {
        let machine = read(machine);
        let held = machine
            .state
            .run(id)
            .or(machine.archiving.get(&id).map(|a| &a.run));
        if let Some(run) = held {
            return Ok(Some(run.clone()));
        }
        machine.state.archived_mark(id).is_some()
    };
    if archived {
        store.archived_run(id)
    } else {
        Ok(None)
    }
}

/// A run's kept events in arrival order; `None` for an unknown run.
pub(crate) fn run_events(
    machine: &SharedMachine,
    store: &Store,
    id: RunId,
) -> Result<Option<Vec<RunEvent>>, BarnError> {
    let archived = {
        let machine = read(machine);
        if let Some(events) = machine.state.run_events(id) {
            return Ok(Some(events.to_vec()));
        }
        if let Some(archiving) = machine.archiving.get(&id) {
            return Ok(Some(archiving.events.clone()));
        }
        machine.state.archived_mark(id).is_some()
    };
    if archived {
        store.archived_events(id)
    } else {
        Ok(None)
    }
}

/// The runs that `keep` admits, newest first, at most `limit`: those held
/// in memory merged with the archive's, read newest first until `limit`.
pub(crate) fn runs_newest_first(
    machine: &SharedMachine,
    store: &Store,
    mut keep: impl FnMut(&Run) -> bool,
    limit: usize,
) -> Result<Vec<Run>, BarnError> {
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
    if limit == 0 {
        return Ok(found);
    }
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
