//! Hands out ephemeral uids/gids from a herd's range, one per running slice,
//! so that no two live slices share a host identity.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Result, SliceError};
use crate::spec::IdRange;

/// The ids in use, per range.
#[derive(Debug, Default, Clone)]
pub(crate) struct IdAllocator {
    state: Arc<Mutex<HashMap<u32, RangeState>>>,
}

#[derive(Debug, Default)]
struct RangeState {
    next: u32,
    used: HashSet<u32>,
}

/// One allocated id; it goes back to the range when dropped.
#[derive(Debug)]
pub(crate) struct IdLease {
    allocator: IdAllocator,
    range_first: u32,
    id: u32,
}

impl IdLease {
    /// The host uid and gid (the same number).
    pub(crate) fn id(&self) -> u32 {
        self.id
    }
}

impl IdAllocator {
    /// Takes the next free id of `range`, round-robin.
    pub(crate) fn lease(&self, range: IdRange) -> Result<IdLease> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let r = state.entry(range.first()).or_default();
        for _ in 0..range.count() {
            let id = range.first() + r.next % range.count();
            r.next = (r.next + 1) % range.count();
            if r.used.insert(id) {
                return Ok(IdLease {
                    allocator: self.clone(),
                    range_first: range.first(),
                    id,
                });
            }
        }
        Err(SliceError::IdsExhausted {
            first: range.first(),
            end: range.first() + range.count(),
        })
    }
}

impl Drop for IdLease {
    fn drop(&mut self) {
        let mut state = self
            .allocator
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = state.get_mut(&self.range_first) {
            r.used.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_while_leased_and_reused_after() {
        let ids = IdAllocator::default();
        let range = IdRange::new(100_000, 2).unwrap();
        let a = ids.lease(range).unwrap();
        let b = ids.lease(range).unwrap();
        assert_ne!(a.id(), b.id());
        assert!(ids.lease(range).is_err());
        let freed = a.id();
        drop(a);
        assert_eq!(ids.lease(range).unwrap().id(), freed);
    }
}
