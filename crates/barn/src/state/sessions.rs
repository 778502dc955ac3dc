//! The deduplication table: for each client, its last request and the
//! outcome it got, so that a retry gets the same answer and applies once.
//!
//! Bounded by [`StateLimits::clients_tracked_max`](super::StateLimits). When
//! a new client arrives at the bound, the least recently active client is
//! forgotten. Recency is counted in requests applied (not in time), so every
//! replica forgets the same client.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{ClientId, RequestId};
use crate::outcome::Outcome;

/// What the table says about an incoming request.
#[derive(Debug, PartialEq)]
pub(crate) enum Seen<'a> {
    /// Never seen: apply it.
    New,
    /// The client's last request again: answer what it got.
    Retry(&'a Outcome),
    /// Older than the client's last request: the client has moved on.
    Stale { last_seq: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Session {
    last_seq: u64,
    outcome: Outcome,
    /// The value of `Sessions::applied` when this client last wrote.
    active_at: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sessions {
    clients: BTreeMap<ClientId, Session>,
    /// Requests applied so far; the table's notion of recency.
    applied: u64,
}

impl Sessions {
    pub(crate) fn check(&self, id: RequestId) -> Seen<'_> {
        match self.clients.get(&id.client) {
            None => Seen::New,
            Some(session) if id.seq > session.last_seq => Seen::New,
            Some(session) if id.seq == session.last_seq => Seen::Retry(&session.outcome),
            Some(session) => Seen::Stale {
                last_seq: session.last_seq,
            },
        }
    }

    /// Remembers that `id` was applied with `outcome`, forgetting the least
    /// recently active client if a new client would pass `clients_max`.
    pub(crate) fn record(&mut self, id: RequestId, outcome: Outcome, clients_max: usize) {
        self.applied += 1;
        if !self.clients.contains_key(&id.client) && self.clients.len() >= clients_max {
            self.forget_least_recent();
        }
        self.clients.insert(
            id.client,
            Session {
                last_seq: id.seq,
                outcome,
                active_at: self.applied,
            },
        );
    }

    fn forget_least_recent(&mut self) {
        let oldest = self
            .clients
            .iter()
            .min_by_key(|(_, session)| session.active_at)
            .map(|(client, _)| *client);
        if let Some(client) = oldest {
            self.clients.remove(&client);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.clients.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Applied, Refusal};
    use crate::{NodeId, RunId};

    fn id(client: u64, seq: u64) -> RequestId {
        RequestId::new(ClientId(client), seq)
    }

    fn ok(run: u64) -> Outcome {
        Ok(Applied::RunSubmitted { run: RunId(run) })
    }

    #[test]
    fn a_retry_gets_the_first_answer() {
        let mut sessions = Sessions::default();
        assert_eq!(sessions.check(id(1, 1)), Seen::New);
        sessions.record(id(1, 1), ok(7), 10);
        assert_eq!(sessions.check(id(1, 1)), Seen::Retry(&ok(7)));
        assert_eq!(sessions.check(id(1, 2)), Seen::New);
        assert_eq!(sessions.check(id(1, 0)), Seen::Stale { last_seq: 1 });
    }

    #[test]
    fn refusals_are_remembered_too() {
        let mut sessions = Sessions::default();
        let refused: Outcome = Err(Refusal::UnknownNode { node: NodeId(3) });
        sessions.record(id(1, 5), refused.clone(), 10);
        assert_eq!(sessions.check(id(1, 5)), Seen::Retry(&refused));
    }

    #[test]
    fn the_least_recently_active_client_is_forgotten_at_the_bound() {
        let mut sessions = Sessions::default();
        sessions.record(id(1, 1), ok(1), 2);
        sessions.record(id(2, 1), ok(2), 2);
        // Client 1 writes again, so client 2 is now the least recent.
        sessions.record(id(1, 2), ok(3), 2);
        sessions.record(id(3, 1), ok(4), 2);
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions.check(id(2, 1)), Seen::New, "client 2 forgotten");
        assert_eq!(sessions.check(id(1, 2)), Seen::Retry(&ok(3)));
        assert_eq!(sessions.check(id(3, 1)), Seen::Retry(&ok(4)));
    }
}
