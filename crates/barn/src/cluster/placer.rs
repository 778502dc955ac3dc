//! The leader's placement loop: every `Placing::interval_ms`, a node that
//! leads asks `crate::placement` where the pending runs go and writes each
//! answer to the log as `PlaceRun`. A node that does not lead does
//! nothing; after an election the new leader carries on, since what is
//! placed is in the replicated state, not in this loop.
//!
//! While runs are pending, the leader asks each other member for its
//! status (`Placing::probe_timeout_ms`), at most every
//! `Placing::probe_every_ms`: a member that does not answer gets no runs,
//! and runs placed on it and not yet started are placed again elsewhere.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::ServerState;

use super::api_types::{ClusterStatus, Consistency};
use super::node::NodeInner;
use super::options::Placing;
use super::peer;
use crate::clock::unix_now_ms;
use crate::command::{Command, Request};
use crate::ids::{ClientId, NodeId, RequestId};
use crate::placement::{awaiting_agents, placements};

/// One round of status calls: when, to which members, who answered.
struct Probe {
    at: Instant,
    members: Vec<(u64, String)>,
    alive: BTreeSet<NodeId>,
}

pub(crate) async fn place_runs(inner: Arc<NodeInner>, placing: Placing) {
    let client = ClientId::fresh();
    let mut seq = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(placing.interval_ms));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let probe_every = Duration::from_millis(placing.probe_every_ms);
    let mut probed: Option<Probe> = None;
    loop {
        tick.tick().await;
        let metrics = inner.raft.metrics().borrow().clone();
        if metrics.state != ServerState::Leader {
            continue;
        }
        let pending = inner
            .read(Consistency::Stale, |state| {
                awaiting_agents(state).next().is_some()
            })
            .await
            .unwrap_or(false);
        if !pending {
            continue;
        }
        let members: Vec<(u64, String)> = metrics
            .membership_config
            .membership()
            .nodes()
            .map(|(id, node)| (*id, node.addr.clone()))
            .collect();
        let fresh = probed
            .as_ref()
            .filter(|p| p.at.elapsed() < probe_every && p.members == members);
        let alive = match fresh {
            Some(probe) => probe.alive.clone(),
            None => {
                let alive = answering(&inner, &members, placing.probe_timeout_ms).await;
                probed = Some(Probe {
                    at: Instant::now(),
                    members,
                    alive: alive.clone(),
                });
                alive
            }
        };
        let chosen = inner
            .read(Consistency::Stale, |state| {
                placements(state, &alive, placing.per_round_max)
            })
            .await
            .unwrap_or_default();
        for placement in chosen {
            seq += 1;
            let request = Request::new(
                RequestId::new(client, seq),
                Command::PlaceRun {
                    run: placement.run,
                    node: placement.node,
                    at_ms: unix_now_ms(),
                },
            );
            match inner.write(request).await {
                Ok(Ok(_)) => tracing::info!(
                    run = %placement.run,
                    node = %placement.node,
                    "placed run"
                ),
                // Refused: the run started, ended or was placed meanwhile.
                Ok(Err(refusal)) => tracing::debug!("placement refused: {refusal}"),
                Err(e) => {
                    tracing::debug!("placement not written, will retry: {e}");
                    break;
                }
            }
        }
    }
}

/// The members that answer a status call within `timeout_ms` (this node,
/// the leader, always does).
async fn answering(
    inner: &NodeInner,
    members: &[(u64, String)],
    timeout_ms: u64,
) -> BTreeSet<NodeId> {
    let timeout = Duration::from_millis(timeout_ms);
    let mut alive = BTreeSet::new();
    for (id, addr) in members {
        let answered = *id == inner.id
            || inner
                .transport
                .call::<(), ClusterStatus>(addr, peer::STATUS, (), timeout)
                .await
                .is_ok();
        if answered {
            alive.insert(NodeId(*id));
        }
    }
    alive
}
