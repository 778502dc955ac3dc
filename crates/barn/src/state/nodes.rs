//! The machines the Barn knows, where runs are placed.

use serde::{Deserialize, Serialize};

use super::BarnState;
use crate::ids::NodeId;
use crate::outcome::{Applied, Outcome};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub id: NodeId,
    /// Where the node's agent listens (`HOST:PORT`, or `embedded`).
    pub addr: String,
    /// The node runs an agent, so runs may be placed on it.
    #[serde(default)]
    pub agent: bool,
    pub registered_at_ms: u64,
}

impl BarnState {
    pub(super) fn register_node(
        &mut self,
        id: NodeId,
        addr: String,
        agent: bool,
        at_ms: u64,
    ) -> Outcome {
        self.check_name("node address", &addr)?;
        let created = !self.nodes.contains_key(&id);
        let registered_at_ms = self.nodes.get(&id).map_or(at_ms, |n| n.registered_at_ms);
        self.nodes.insert(
            id,
            Node {
                id,
                addr,
                agent,
                registered_at_ms,
            },
        );
        Ok(Applied::NodeRegistered { created })
    }

    /// Runs placed on a removed node keep its id: it is history.
    pub(super) fn remove_node(&mut self, id: NodeId) -> Applied {
        Applied::NodeRemoved {
            existed: self.nodes.remove(&id).is_some(),
        }
    }
}
