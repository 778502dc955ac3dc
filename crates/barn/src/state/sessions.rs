//! The deduplication table: for each client, its last request and the
//! outcome it got, so that a retry gets the same answer and applies once.
//!
//! Bounded by [`StateLimits::clients_tracked_max`](super::StateLimits). When
//! a new client arrives at the bound, the least recently active client is
//! forgotten. Recency is counted in requests applied (not in time), so every
//! replica forgets the same client.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::command::Command;
use crate::ids::{ClientId, RequestId};
use crate::outcome::Outcome;

/// What the table says about an incoming request.
#[derive(Debug, PartialEq)]
pub(crate) enum Seen<'a> {
    /// Never seen: apply it.
    New,
    /// The client's last request again: answer what it got.
    Retry(&'a Outcome),
    /// The client's last request id on another command: a client bug.
    Reused,
    /// Older than the client's last request: the client has moved on.
    Stale { last_seq: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Session {
    last_seq: u64,
    outcome: Outcome,
    /// What the last request said ([`CommandDigest`]), so that the same id
    /// on another command is not answered as if it were a retry. Absent in
    /// states written before it was kept: then any command is a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    command: Option<CommandDigest>,
    /// The value of `Sessions::applied` when this client last wrote.
    active_at: u64,
}

/// The SHA-256 of a command's JSON, in hex: the same on every replica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CommandDigest(String);

impl CommandDigest {
    pub(crate) fn of(command: &Command) -> Self {
        use sha2::Digest;
        // A command always serialises; an empty text would only make every
        // retry of it look alike, which is what a retry is.
        let json = serde_json::to_vec(command).unwrap_or_default();
        Self(hex::encode(sha2::Sha256::digest(&json)))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sessions {
    clients: BTreeMap<ClientId, Session>,
    /// Requests applied so far; the table's notion of recency.
    applied: u64,
}

impl Sessions {
    pub(crate) fn check(&self, id: RequestId, command: &CommandDigest) -> Seen<'_> {
        match self.clients.get(&id.client) {
            None => Seen::New,
            Some(session) if id.seq > session.last_seq => Seen::New,
            Some(session) if id.seq == session.last_seq => match &session.command {
                Some(last) if last != command => Seen::Reused,
                _ => Seen::Retry(&session.outcome),
            },
            Some(session) => Seen::Stale {
                last_seq: session.last_seq,
            },
        }
    }

    /// Remembers that `id` was applied with `outcome`, forgetting the least
    /// recently active client if a new client would pass `clients_max`.
    pub(crate) fn record(
        &mut self,
        id: RequestId,
        command: CommandDigest,
        outcome: Outcome,
        clients_max: usize,
    ) {
        self.applied += 1;
        if !self.clients.contains_key(&id.client) && self.clients.len() >= clients_max {
            self.forget_least_recent();
        }
        self.clients.insert(
            id.client,
            Session {
                last_seq: id.seq,
                outcome,
                command: Some(command),
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

    fn put(herd: &str) -> CommandDigest {
        CommandDigest::of(&Command::PutHerd {
            herd: runink_model::HerdName::new(herd).unwrap(),
            at_ms: 0,
        })
    }

    fn ok(run: u64) -> Outcome {
        Ok(Applied::RunSubmitted { run: RunId(run) })
    }

    #[test]
    fn a_retry_gets_the_first_answer() {
        let mut sessions = Sessions::default();
        assert_eq!(sessions.check(id(1, 1), &put("a")), Seen::New);
        sessions.record(id(1, 1), put("a"), ok(7), 10);
        assert_eq!(sessions.check(id(1, 1), &put("a")), Seen::Retry(&ok(7)));
        assert_eq!(sessions.check(id(1, 2), &put("a")), Seen::New);
        assert_eq!(
            sessions.check(id(1, 0), &put("a")),
            Seen::Stale { last_seq: 1 }
        );
    }

    #[test]
    fn the_last_request_id_on_another_command_is_no_retry() {
        let mut sessions = Sessions::default();
        sessions.record(id(1, 1), put("a"), ok(7), 10);
        assert_eq!(sessions.check(id(1, 1), &put("b")), Seen::Reused);
        assert_eq!(sessions.check(id(1, 1), &put("a")), Seen::Retry(&ok(7)));
    }

    #[test]
    fn a_session_kept_before_digests_takes_any_command_as_its_retry() {
        let mut sessions = Sessions::default();
        sessions.record(id(1, 1), put("a"), ok(7), 10);
        let json = serde_json::to_string(&sessions).unwrap();
        let without: String = json.replace(&format!(",\"command\":\"{}\"", put("a").0), "");
        assert_ne!(json, without);
        let older: Sessions = serde_json::from_str(&without).unwrap();
        assert_eq!(older.check(id(1, 1), &put("b")), Seen::Retry(&ok(7)));
    }

    #[test]
    fn refusals_are_remembered_too() {
        let mut sessions = Sessions::default();
        let refused: Outcome = Err(Refusal::UnknownNode { node: NodeId(3) });
        sessions.record(id(1, 5), put("a"), refused.clone(), 10);
        assert_eq!(sessions.check(id(1, 5), &put("a")), Seen::Retry(&refused));
    }

    #[test]
    fn the_least_recently_active_client_is_forgotten_at_the_bound() {
        let mut sessions = Sessions::default();
        sessions.record(id(1, 1), put("a"), ok(1), 2);
        sessions.record(id(2, 1), put("a"), ok(2), 2);
        // Client 1 writes again, so client 2 is now the least recent.
        sessions.record(id(1, 2), put("a"), ok(3), 2);
        sessions.record(id(3, 1), put("a"), ok(4), 2);
        assert_eq!(sessions.len(), 2);
        assert_eq!(
            sessions.check(id(2, 1), &put("a")),
            Seen::New,
            "client 2 forgotten"
        );
        assert_eq!(sessions.check(id(1, 2), &put("a")), Seen::Retry(&ok(3)));
        assert_eq!(sessions.check(id(3, 1), &put("a")), Seen::Retry(&ok(4)));
    }
}
