//! The values of the Barn's public REST API, shared by the server
//! (`api.rs`), the client (`client.rs`) and the peers' forwarding calls.

use runink_model::HerdName;
use serde::{Deserialize, Serialize};

use crate::run_query::RunQuery;
use crate::state::RunStatus;

/// Where one node's Raft log and state stand, and the cluster as it sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// The node that answered.
    pub id: u64,
    /// `leader`, `follower`, `candidate`, `learner` or `shutdown`.
    pub state: String,
    pub leader: Option<u64>,
    pub term: u64,
    pub last_log_index: Option<u64>,
    /// The last entry this node knows to be committed (as last stored).
    pub committed_index: Option<u64>,
    pub applied_index: Option<u64>,
    pub snapshot_index: Option<u64>,
    /// The last entry removed from the log (it is in the snapshot).
    pub purged_index: Option<u64>,
    pub members: Vec<Member>,
    /// Replication per follower, as the leader sees it; empty when no
    /// leader could be asked.
    pub followers: Vec<FollowerLag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: u64,
    pub addr: String,
    /// A voter, or a learner that only copies the log.
    pub voter: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowerLag {
    pub id: u64,
    /// The last entry the leader knows this follower has.
    pub matched_index: Option<u64>,
    /// Entries the follower is behind the leader's last entry.
    pub lag: u64,
}

/// `POST /v1/members`: add a node (as a learner that catches up, then a
/// voter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddMember {
    pub id: u64,
    /// Where the node listens (`HOST:PORT`).
    pub addr: String,
}

/// A membership change as forwarded to the leader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemberChange {
    Add(AddMember),
    Remove { id: u64 },
}

/// How a read is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consistency {
    /// Confirmed by the leader with a quorum (read-index) before reading:
    /// sees every write acknowledged before the read began.
    #[default]
    Linearizable,
    /// This node's state as applied, without asking anyone: may miss recent
    /// writes, and is served even by a node cut off from the others.
    Stale,
}

/// An error of the API as JSON: what kind (for programs) and why (for
/// people).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub kind: ApiErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorKind {
    /// The request is malformed; the caller must change it.
    BadRequest,
    NotFound,
    /// No leader could serve it now (election, partition, node down), and
    /// a write was not applied; retrying later may succeed.
    Unavailable,
    /// No answer in time, or the connection was lost after the request
    /// went out: a write may or may not have applied. Retry it with the
    /// same request id, which applies it at most once.
    Indeterminate,
    /// The caller's certificate does not allow it (a client's certificate
    /// on a route for nodes).
    Forbidden,
    /// A bug in the Barn.
    Internal,
}

impl ApiError {
    pub fn new(kind: ApiErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::Unavailable, message)
    }

    pub fn indeterminate(message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::Indeterminate, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::BadRequest, message)
    }
}

/// The query of `GET /v1/runs`: which runs, as a [`RunQuery`], and how to
/// read them. `status` is a comma-separated list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunsParams {
    #[serde(default)]
    pub consistency: Consistency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub herd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dag_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

impl RunsParams {
    pub fn new(query: &RunQuery, consistency: Consistency) -> Self {
        let statuses: Vec<&str> = query.statuses.iter().map(|s| s.as_str()).collect();
        Self {
            consistency,
            status: (!statuses.is_empty()).then(|| statuses.join(",")),
            scenario: query.scenario.clone(),
            herd: query.herd.as_ref().map(|h| h.as_str().to_owned()),
            dag_hash: query.dag_hash_prefix.clone(),
            limit: (query.limit != usize::MAX).then_some(query.limit),
        }
    }

    /// The query these parameters ask for; a malformed one is a bad request
    /// that says which parameter and what it takes.
    pub fn query(&self) -> Result<RunQuery, ApiError> {
        let statuses = match &self.status {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|name| {
                    RunStatus::from_name(name.trim()).ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "`status={name}` is not a run status: expected pending, running, succeeded, failed or cancelled"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let herd = self
            .herd
            .as_deref()
            .map(|h| {
                HerdName::new(h).map_err(|e| {
                    ApiError::bad_request(format!("`herd={h}` is not a herd name: {e}"))
                })
            })
            .transpose()?;
        let dag_hash_prefix = self
            .dag_hash
            .as_deref()
            .map(|prefix| {
                RunQuery::dag_hash_prefix(prefix).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "`dag_hash={prefix}` is not a dag_hash: expected up to 64 hex digits"
                    ))
                })
            })
            .transpose()?;
        Ok(RunQuery {
            statuses,
            scenario: self.scenario.clone(),
            herd,
            dag_hash_prefix,
            limit: self.limit.unwrap_or(usize::MAX),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_params_carry_a_query_there_and_back() {
        let query = RunQuery {
            statuses: vec![RunStatus::Failed, RunStatus::Cancelled],
            scenario: Some("orders & co".into()),
            herd: Some(HerdName::new("finance").unwrap()),
            dag_hash_prefix: Some("ab12".into()),
            limit: 5,
        };
        let params = RunsParams::new(&query, Consistency::Stale);
        let encoded = serde_urlencoded::to_string(&params).unwrap();
        assert!(encoded.contains("status=failed%2Ccancelled"), "{encoded}");
        assert!(encoded.contains("scenario=orders+%26+co"), "{encoded}");
        let decoded: RunsParams = serde_urlencoded::from_str(&encoded).unwrap();
        assert_eq!(decoded, params);
        assert_eq!(decoded.query().unwrap(), query);

        let every = RunsParams::new(&RunQuery::default(), Consistency::Linearizable);
        assert_eq!(
            serde_urlencoded::to_string(&every).unwrap(),
            "consistency=linearizable"
        );
        assert_eq!(every.query().unwrap(), RunQuery::default());
    }

    #[test]
    fn malformed_runs_params_are_bad_requests_naming_the_parameter() {
        for (params, names) in [
            (
                RunsParams {
                    status: Some("failed,done".into()),
                    ..RunsParams::default()
                },
                "`status=done`",
            ),
            (
                RunsParams {
                    herd: Some("no spaces allowed".into()),
                    ..RunsParams::default()
                },
                "`herd=no spaces allowed`",
            ),
            (
                RunsParams {
                    dag_hash: Some("xyz".into()),
                    ..RunsParams::default()
                },
                "`dag_hash=xyz`",
            ),
        ] {
            let error = params.query().unwrap_err();
            assert_eq!(error.kind, ApiErrorKind::BadRequest);
            assert!(error.message.contains(names), "{error}");
        }
    }
}
