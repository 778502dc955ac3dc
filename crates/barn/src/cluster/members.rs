//! Membership changes of a running cluster: a node is added as a learner,
//! promoted to voter once it has caught up, or removed; openraft moves
//! through a joint configuration for each change of voters. A node that
//! does not lead forwards the change to the leader.

use std::collections::BTreeSet;
use std::time::Duration;

use openraft::error::{ClientWriteError, RaftError};
use openraft::{BasicNode, ChangeMembers};

use super::api_types::{AddMember, ApiError, ApiErrorKind, ClusterStatus, MemberChange};
use super::node::NodeInner;
use super::peer;

/// Longest wait for a joining node to say who it is.
pub(crate) const MEMBER_PROBE_MS_MAX: u64 = 5_000;
/// The pause between two questions to a node that does not answer yet.
const MEMBER_PROBE_PAUSE: Duration = Duration::from_millis(100);

impl NodeInner {
    /// A membership change: here if this node leads, else at the leader.
    pub(crate) async fn change_members(&self, change: MemberChange) -> Result<(), ApiError> {
        let m = self.raft.metrics().borrow().clone();
        let leader = super::node::known_leader(&m);
        if leader == Some(self.id) {
            return self.change_members_here(change).await;
        }
        let leader_addr = leader.and_then(|leader| {
            m.membership_config
                .membership()
                .get_node(&leader)
                .map(|n| n.addr.clone())
        });
        let Some(addr) = leader_addr else {
            return Err(ApiError::unavailable(
                "no leader is known (an election is under way)",
            ));
        };
        let timeout = Duration::from_millis(self.options.member_change_wait_ms_max);
        let reply: Result<(), ApiError> = self
            .transport
            .call(&addr, peer::CHANGE_MEMBERS, change, timeout)
            .await?;
        reply
    }

    /// Adds a learner and promotes it once it has caught up, or removes a
    /// node; openraft moves through a joint configuration for each voter
    /// change. Bounded by `member_change_wait_ms_max`.
    pub(crate) async fn change_members_here(&self, change: MemberChange) -> Result<(), ApiError> {
        let timeout = Duration::from_millis(self.options.member_change_wait_ms_max);
        let work = async {
            let membership = self.raft.metrics().borrow().membership_config.clone();
            let membership = membership.membership();
            match change {
                MemberChange::Add(AddMember { id, addr }) => {
                    if id == 0 {
                        return Err(ApiError::bad_request("a node id is at least 1"));
                    }
                    if !is_host_port(&addr) {
                        return Err(ApiError::bad_request(format!(
                            "`{addr}` is no address: a node's address is HOST:PORT, like `10.0.0.4:7004`"
                        )));
                    }
                    if let Some(member) = membership.get_node(&id)
                        && membership.voter_ids().any(|v| v == id)
                    {
                        // Adding a voter again is done already; at another
                        // address it is a mistake.
                        return match member.addr == addr {
                            true => Ok(()),
                            false => Err(ApiError::bad_request(format!(
                                "node {id} is a voter already, at `{}`; remove it first to move it",
                                member.addr
                            ))),
                        };
                    }
                    self.refuse_another_node_at(id, &addr, membership).await?;
                    let added = self
                        .raft
                        .add_learner(id, BasicNode::new(addr.clone()), false)
                        .await
                        .map_err(membership_error)?;
                    if let Err(message) = self.wait_caught_up(id, added.log_id.index).await {
                        // A voter that cannot be reached would count
                        // against every quorum: it leaves instead.
                        let _ = self
                            .raft
                            .change_membership(
                                ChangeMembers::RemoveNodes(BTreeSet::from([id])),
                                false,
                            )
                            .await;
                        return Err(ApiError::unavailable(format!(
                            "node {id} at `{addr}` {message}; it was not added (is it started, with `--join`, at that address?)"
                        )));
                    }
                    self.raft
                        .change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false)
                        .await
                        .map_err(membership_error)?;
                    Ok(())
                }
                MemberChange::Remove { id } => {
                    let change = if membership.voter_ids().any(|v| v == id) {
                        ChangeMembers::RemoveVoters(BTreeSet::from([id]))
                    } else if membership.get_node(&id).is_some() {
                        ChangeMembers::RemoveNodes(BTreeSet::from([id]))
                    } else {
                        return Err(ApiError::new(
                            ApiErrorKind::NotFound,
                            format!("no member `{id}`"),
                        ));
                    };
                    self.raft
                        .change_membership(change, false)
                        .await
                        .map_err(membership_error)?;
                    Ok(())
                }
            }
        };
        tokio::time::timeout(timeout, work).await.map_err(|_| {
            ApiError::unavailable(format!(
                "the membership change did not finish within {} ms (`member_change_wait_ms_max`)",
                self.options.member_change_wait_ms_max
            ))
        })?
    }
}

/// `HOST:PORT`, the port between 1 and 65535 and the host not empty
/// (an IPv6 address in brackets).
pub fn is_host_port(addr: &str) -> bool {
    port_of(addr).is_some_and(|port| port > 0)
}

/// An address to listen on: [`is_host_port`], or port 0 for any free one.
pub(crate) fn is_listen_addr(addr: &str) -> bool {
    port_of(addr).is_some()
}

/// The port of `HOST:PORT` when the host is not empty (an IPv6 address in
/// brackets) and the port is a number.
fn port_of(addr: &str) -> Option<u16> {
    let (host, port) = addr.rsplit_once(':')?;
    let host_ok = !host.is_empty()
        && !host.contains(char::is_whitespace)
        && (host.starts_with('[') == host.ends_with(']'))
        && (host.starts_with('[') || !host.contains(':'));
    host_ok.then(|| port.parse::<u16>().ok()).flatten()
}

impl NodeInner {
    /// Asks the node at `addr` who it is before it joins as node `id`: a
    /// member's address under a new id would make one machine two voters
    /// (one fsync would then count twice toward a quorum), and a node of
    /// another cluster would have its log replaced by ours. Bounded by
    /// [`MEMBER_PROBE_MS_MAX`].
    async fn refuse_another_node_at(
        &self,
        id: u64,
        addr: &str,
        membership: &openraft::Membership<u64, BasicNode>,
    ) -> Result<(), ApiError> {
        if let Some((other, _)) = membership
            .nodes()
            .find(|(other, node)| **other != id && node.addr == addr)
        {
            return Err(ApiError::bad_request(format!(
                "`{addr}` is node {other}'s address; a node joins at an address of its own"
            )));
        }
        // A node started a moment ago may not listen yet: asked again
        // until the bound.
        let deadline = tokio::time::Instant::now() + Duration::from_millis(MEMBER_PROBE_MS_MAX);
        let status: ClusterStatus = loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.transport.call(addr, peer::STATUS, (), left).await {
                Ok(status) => break status,
                Err(_) if left > MEMBER_PROBE_PAUSE => {
                    tokio::time::sleep(MEMBER_PROBE_PAUSE).await;
                }
                Err(e) => {
                    return Err(ApiError::unavailable(format!(
                        "no Barn node answers at `{addr}` ({e}); start node {id} there with `--join` first"
                    )));
                }
            }
        };
        if status.id != id {
            return Err(ApiError::bad_request(format!(
                "the node at `{addr}` is node {}, not node {id}",
                status.id
            )));
        }
        let ours: BTreeSet<&str> = membership.nodes().map(|(_, n)| n.addr.as_str()).collect();
        if !status.members.is_empty()
            && !status
                .members
                .iter()
                .any(|member| ours.contains(member.addr.as_str()))
        {
            return Err(ApiError::bad_request(format!(
                "the node at `{addr}` belongs to another cluster (members {}); a joining node is started with `--join` and a folder of its own",
                status
                    .members
                    .iter()
                    .map(|m| format!("{} at {}", m.id, m.addr))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(())
    }

    /// Waits until the leader has copied its log to `id` up to `index` (the
    /// entry that made it a learner): a node only becomes a voter once it
    /// answers. Bounded by `member_change_catch_up_ms_max`.
    async fn wait_caught_up(&self, id: u64, index: u64) -> Result<(), String> {
        let wait_ms = self.options.member_change_catch_up_ms_max;
        let caught_up = |m: &openraft::RaftMetrics<u64, BasicNode>| {
            m.replication
                .as_ref()
                .and_then(|r| r.get(&id))
                .and_then(|matched| matched.as_ref())
                .is_some_and(|log_id| log_id.index >= index)
        };
        self.raft
            .wait(Some(Duration::from_millis(wait_ms)))
            .metrics(caught_up, "the new learner catches up")
            .await
            .map(|_| ())
            .map_err(|_| format!("did not catch up with the log within {wait_ms} ms"))
    }
}

fn membership_error(e: RaftError<u64, ClientWriteError<u64, BasicNode>>) -> ApiError {
    match e {
        RaftError::APIError(ClientWriteError::ChangeMembershipError(e)) => {
            ApiError::bad_request(format!("membership change refused: {e}"))
        }
        other => ApiError::unavailable(format!("cannot change membership: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::is_host_port;

    #[test]
    fn a_members_address_is_host_and_port() {
        for good in ["10.0.0.4:7004", "barn-1.internal:7001", "[::1]:7001"] {
            assert!(is_host_port(good), "{good}");
        }
        for bad in [
            "not an addr",
            "",
            "host",
            "host:0",
            "host:99999",
            ":7001",
            "::1:7001",
            "a b:1",
        ] {
            assert!(!is_host_port(bad), "{bad}");
        }
    }
}
