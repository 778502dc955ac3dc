//! [`NodeHandle`]: what a program running beside a cluster node in the
//! same process (the agent of `runi barn start`) may do with it: write
//! requests through it and read its state.

use std::sync::Arc;

use super::api_types::{ApiError, Consistency};
use super::node::NodeInner;
use crate::command::Request;
use crate::ids::NodeId;
use crate::outcome::Outcome;
use crate::state::BarnState;

/// A cheap, cloneable handle on a running node.
#[derive(Debug, Clone)]
pub struct NodeHandle {
    pub(super) inner: Arc<NodeInner>,
}

impl NodeHandle {
    pub fn id(&self) -> NodeId {
        NodeId(self.inner.id)
    }

    /// Applies `request` at the leader, as `POST /v1/requests` does.
    pub async fn write(&self, request: Request) -> Result<Outcome, ApiError> {
        self.inner.write(request).await
    }

    /// Reads the state with `consistency`, as the REST reads do.
    pub async fn read<T>(
        &self,
        consistency: Consistency,
        read: impl FnOnce(&BarnState) -> T,
    ) -> Result<T, ApiError> {
        self.inner.read(consistency, read).await
    }
}
