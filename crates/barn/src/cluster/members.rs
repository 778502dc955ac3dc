//! Membership changes of a running cluster: a node is added as a learner,
//! promoted to voter once it has caught up, or removed; openraft moves
//! through a joint configuration for each change of voters. A node that
//! does not lead forwards the change to the leader.

use std::collections::BTreeSet;
use std::time::Duration;

use openraft::error::{ClientWriteError, RaftError};
use openraft::{BasicNode, ChangeMembers};

use super::api_types::{AddMember, ApiError, ApiErrorKind, MemberChange};
use super::node::NodeInner;
use super::peer;

impl NodeInner {
    /// A membership change: here if this node leads, else at the leader.
    pub(crate) async fn change_members(&self, change: MemberChange) -> Result<(), ApiError> {
        let m = self.raft.metrics().borrow().clone();
        if m.current_leader == Some(self.id) {
            return self.change_members_here(change).await;
        }
        let leader_addr = m.current_leader.and_then(|leader| {
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
                    if membership.voter_ids().any(|v| v == id) {
                        return Ok(());
                    }
                    self.raft
                        .add_learner(id, BasicNode::new(addr), true)
                        .await
                        .map_err(membership_error)?;
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

fn membership_error(e: RaftError<u64, ClientWriteError<u64, BasicNode>>) -> ApiError {
    match e {
        RaftError::APIError(ClientWriteError::ChangeMembershipError(e)) => {
            ApiError::bad_request(format!("membership change refused: {e}"))
        }
        other => ApiError::unavailable(format!("cannot change membership: {other}")),
    }
}
