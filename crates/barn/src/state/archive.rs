//! Finished runs leave the state held in memory for the archive: tables in
//! the Barn's file, written with each snapshot (`docs/adr/004-barn-storage.md`).
//! A process that opens the Barn then reads only what is live, not every
//! run it keeps (up to `runs_kept_max`, 10,000, with their events).
//!
//! Archiving is not a change of state: the state keeps, for each archived
//! run, what its commands need to be refused exactly as before (its status
//! and its node), so every replica answers alike, whenever each archives.
//! Runs that retention forgets once archived are listed until the next
//! snapshot deletes their records.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::BarnState;
use super::run::{Run, RunEvent, RunStatus};
use crate::ids::{NodeId, RunId};

/// What the state keeps of an archived run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedRunMark {
    pub status: RunStatus,
    pub node: Option<NodeId>,
}

/// A finished run as the archive keeps it: its record and its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedRun {
    pub run: Run,
    pub events: Vec<RunEvent>,
}

/// What one snapshot writes to the archive: runs to add, and the records of
/// forgotten runs to delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveBatch {
    pub runs: Vec<ArchivedRun>,
    pub deletes: Vec<RunId>,
}

impl BarnState {
    /// Moves every finished run (with its events) out of the state, marking
    /// it archived, and takes the list of archived runs forgotten since the
    /// last call. The caller must write the batch with the snapshot of the
    /// state this leaves.
    pub(crate) fn archive_finished(&mut self) -> ArchiveBatch {
        let finished: Vec<RunId> = self
            .runs
            .values()
            .filter(|run| run.status.is_terminal())
            .map(|run| run.id)
            .collect();
        let mut batch = ArchiveBatch {
            runs: Vec::with_capacity(finished.len()),
            deletes: std::mem::take(&mut self.archive_deletes)
                .into_iter()
                .collect(),
        };
        for id in finished {
            let Some(run) = self.runs.remove(&id) else {
                continue;
            };
            let events = self.run_events.remove(&id).unwrap_or_default();
            self.archived.insert(
                id,
                ArchivedRunMark {
                    status: run.status,
                    node: run.node,
                },
            );
            batch.runs.push(ArchivedRun { run, events });
        }
        batch
    }

    /// Puts archived runs back into the state, which then holds everything
    /// (as a state sent whole to another node does). Marks without a run
    /// among `runs` stay marks.
    pub(crate) fn restore_archived(&mut self, runs: impl IntoIterator<Item = ArchivedRun>) {
        for ArchivedRun { run, events } in runs {
            if self.archived.remove(&run.id).is_none() {
                continue;
            }
            if !events.is_empty() {
                self.run_events.insert(run.id, events);
            }
            self.runs.insert(run.id, run);
        }
        self.archive_deletes.clear();
    }

    /// The mark of an archived run, `None` for a run in memory or unknown.
    pub(crate) fn archived_mark(&self, id: RunId) -> Option<ArchivedRunMark> {
        self.archived.get(&id).copied()
    }

    /// The archived runs' marks, oldest first.
    pub(crate) fn archived_marks(&self) -> &BTreeMap<RunId, ArchivedRunMark> {
        &self.archived
    }
}
