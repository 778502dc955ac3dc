//! The runs of a Barn cluster, read through a node's REST API
//! (`runi runs|status|logs --server URL`). Reads are linearizable: any
//! node answers with everything acknowledged before the read began; with
//! `--stale`, the node answers alone with what it holds.

use anyhow::Context;
use runink_barn::cluster::{ApiError, BarnClient, Consistency};
use runink_barn::{Run, RunEvent, RunId, RunQuery};

use super::RunHistory;

#[derive(Debug)]
pub struct RemoteHistory {
    client: BarnClient,
    runtime: tokio::runtime::Runtime,
    consistency: Consistency,
}

impl RemoteHistory {
    pub fn new(
        client: BarnClient,
        runtime: tokio::runtime::Runtime,
        consistency: Consistency,
    ) -> Self {
        Self {
            client,
            runtime,
            consistency,
        }
    }

    fn ask<T>(&self, read: impl Future<Output = Result<T, ApiError>>) -> anyhow::Result<T> {
        self.runtime
            .block_on(read)
            .with_context(|| format!("cannot read runs from `{}`", self.client.url()))
    }
}

impl RunHistory for RemoteHistory {
    fn location(&self) -> String {
        format!("the barn at `{}`", self.client.url())
    }

    fn runs(&self, filter: &RunQuery) -> anyhow::Result<Vec<Run>> {
        self.ask(self.client.runs_where(filter, self.consistency))
    }

    fn run(&self, id: RunId) -> anyhow::Result<Option<Run>> {
        self.ask(self.client.run(id, self.consistency))
    }

    fn events(&self, id: RunId) -> anyhow::Result<Option<Vec<RunEvent>>> {
        self.ask(self.client.run_events(id, self.consistency))
    }
}
