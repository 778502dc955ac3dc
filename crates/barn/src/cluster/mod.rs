//! Cluster mode: Barn nodes in separate processes replicating one state.
//!
//! - `peer.rs`: Raft's RPCs and the calls forwarded to the leader, as gRPC
//!   (tonic) methods whose messages are openraft's serde types in JSON
//!   (`codec.rs`); see docs/adr/007-barn-transport.md.
//! - `api.rs`: the public REST/JSON API (axum), described at
//!   `/openapi.json` (`openapi.rs`); `client.rs` calls it.
//! - `server.rs`: one port per node for both, TLS (`tls.rs`) unless
//!   `--insecure`; `caller.rs` tells a node's certificate from a client's
//!   (only nodes call the peer service); `certs.rs` makes a development CA
//!   and certificates.
//! - `node.rs`: [`ClusterNode`], starting a node, forming or joining the
//!   cluster, forwarding, read-index reads; `members.rs`: adding (learner,
//!   then voter) and removing nodes; `handle.rs`: [`NodeHandle`], the
//!   node as the agent in the same process uses it.
//! - `placer.rs`: the leader places submitted runs on nodes with agents
//!   (the choice is `crate::placement`, a pure function).
//!
//! The pure core (`state/`) and the stores (`store/`) are shared with the
//! embedded Barn unchanged.

mod api;
mod api_types;
mod batcher;
mod caller;
mod certs;
mod client;
mod codec;
mod handle;
mod members;
mod node;
mod openapi;
mod options;
mod peer;
mod placer;
mod server;
mod tls;

pub use api_types::{
    AddMember, ApiError, ApiErrorKind, ClusterStatus, Consistency, FollowerLag, Member,
    MemberChange, RunsParams,
};
pub use certs::{IssuedCert, development_certs};
pub use client::BarnClient;
pub use handle::NodeHandle;
pub use members::is_host_port;
pub use node::ClusterNode;
pub use openapi::{PATHS as OPENAPI_PATHS, document as openapi_document};
pub use options::{ClusterOptions, NetLimits, Placing, RaftTiming, TlsFiles, WriteBatching};
