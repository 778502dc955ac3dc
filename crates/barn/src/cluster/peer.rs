//! Raft's RPCs between Barn nodes, and the calls a node forwards to the
//! leader, as unary gRPC methods of the service `runink.barn.v1.Peer`. The
//! messages are openraft's own serde types in JSON (`codec.rs`).
//!
//! The client side ([`PeerTransport`]) keeps one lazily connected tonic
//! channel per peer address and is openraft's `RaftNetworkFactory`; the
//! server side ([`serve`]) is an axum handler on the node's one port.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use openraft::BasicNode;
use openraft::error::{
    InstallSnapshotError, NetworkError, PayloadTooLarge, RPCError, RaftError, RemoteError,
    Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::Status;
use tonic::codec::Codec;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

use super::api_types::{ApiError, ApiErrorKind, MemberChange};
use super::caller::Caller;
use super::codec::{EncodedJsonCodec, JsonCodec};
use super::node::NodeInner;
use crate::command::Request as BarnRequest;
use crate::outcome::Outcome;
use crate::raft_types::TypeConfig;

const APPEND_ENTRIES: &str = "/runink.barn.v1.Peer/AppendEntries";
const VOTE: &str = "/runink.barn.v1.Peer/Vote";
const INSTALL_SNAPSHOT: &str = "/runink.barn.v1.Peer/InstallSnapshot";
pub(crate) const WRITE: &str = "/runink.barn.v1.Peer/Write";
pub(crate) const READ_INDEX: &str = "/runink.barn.v1.Peer/ReadIndex";
pub(crate) const STATUS: &str = "/runink.barn.v1.Peer/Status";
pub(crate) const CHANGE_MEMBERS: &str = "/runink.barn.v1.Peer/ChangeMembers";

/// The route of every peer method on a node's port.
pub(crate) const ROUTE: &str = "/runink.barn.v1.Peer/{method}";

/// Channels kept at once; a cluster has a handful of peers, so going past
/// this means addresses churned, and the cache starts over.
const PEER_CHANNELS_MAX: usize = 64;

/// How a call to a peer failed.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The request never left: no connection, or a bad address.
    NotSent(String),
    /// It left, and no good answer came back in time: the peer may or may
    /// not have acted on it.
    Lost(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotSent(why) | Self::Lost(why) => f.write_str(why),
        }
    }
}

impl From<CallError> for ApiError {
    fn from(error: CallError) -> Self {
        match error {
            CallError::NotSent(why) => {
                ApiError::unavailable(format!("cannot reach the leader: {why}"))
            }
            CallError::Lost(why) => {
                ApiError::indeterminate(format!("no answer from the leader: {why}"))
            }
        }
    }
}

/// How this node reaches its peers: TLS (or not), bounds, and a channel per
/// address.
#[derive(Debug, Clone)]
pub(crate) struct PeerTransport {
    tls: Option<ClientTlsConfig>,
    connect_timeout: Duration,
    message_bytes_max: usize,
    channels: Arc<Mutex<BTreeMap<String, Channel>>>,
}

impl PeerTransport {
    pub(crate) fn new(
        tls: Option<ClientTlsConfig>,
        connect_timeout: Duration,
        message_bytes_max: usize,
    ) -> Self {
        Self {
            tls,
            connect_timeout,
            message_bytes_max,
            channels: Arc::default(),
        }
    }

    fn channel(&self, addr: &str) -> Result<Channel, CallError> {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(channel) = channels.get(addr) {
            return Ok(channel.clone());
        }
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let bad = |e: tonic::transport::Error| {
            CallError::NotSent(format!("bad peer address `{addr}`: {e}"))
        };
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{addr}"))
            .map_err(bad)?
            .connect_timeout(self.connect_timeout);
        if let Some(tls) = &self.tls {
            endpoint = endpoint.tls_config(tls.clone()).map_err(bad)?;
        }
        let channel = endpoint.connect_lazy();
        if channels.len() >= PEER_CHANNELS_MAX {
            channels.clear();
        }
        channels.insert(addr.to_owned(), channel.clone());
        Ok(channel)
    }

    /// Calls `method` on the node at `addr`, waiting at most `timeout`.
    pub(crate) async fn call<Req, Resp>(
        &self,
        addr: &str,
        method: &'static str,
        request: Req,
        timeout: Duration,
    ) -> Result<Resp, CallError>
    where
        Req: Serialize + Send + Sync + 'static,
        Resp: DeserializeOwned + Send + Sync + 'static,
    {
        let codec = JsonCodec::<Req, Resp>::default();
        self.call_with(addr, method, request, codec, timeout).await
    }

    /// Calls `method` with a request encoded by `codec`.
    async fn call_with<C>(
        &self,
        addr: &str,
        method: &'static str,
        request: C::Encode,
        codec: C,
        timeout: Duration,
    ) -> Result<C::Decode, CallError>
    where
        C: Codec + Send + 'static,
        C::Encode: Send + Sync + 'static,
        C::Decode: Send + Sync + 'static,
    {
        let channel = self.channel(addr)?;
        let mut grpc = tonic::client::Grpc::new(channel)
            .max_decoding_message_size(self.message_bytes_max)
            .max_encoding_message_size(self.message_bytes_max);
        let exchange = async {
            grpc.ready()
                .await
                .map_err(|e| CallError::NotSent(format!("`{addr}`: {e}")))?;
            let path = http::uri::PathAndQuery::from_static(method);
            grpc.unary(tonic::Request::new(request), path, codec)
                .await
                .map(tonic::Response::into_inner)
                .map_err(|status| {
                    CallError::Lost(format!("`{addr}` answered: {}", status_text(&status)))
                })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| CallError::Lost(format!("`{addr}` did not answer within {timeout:?}")))?
    }
}

/// A gRPC status for a message: what its code means, its message and the
/// errors under it, each once, without Rust's debug text (tonic's own
/// `Display` prints its source with `{:?}`).
fn status_text(status: &Status) -> String {
    let mut parts = vec![status.code().description().to_owned()];
    if !status.message().is_empty() {
        parts.push(status.message().to_owned());
    }
    let mut cause = std::error::Error::source(status);
    while let Some(error) = cause {
        let text = error.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        cause = error.source();
    }
    parts.join(": ")
}

impl RaftNetworkFactory<TypeConfig> for PeerTransport {
    type Network = PeerLink;

    async fn new_client(&mut self, target: u64, node: &BasicNode) -> PeerLink {
        PeerLink {
            target,
            addr: node.addr.clone(),
            transport: self.clone(),
        }
    }
}

/// openraft's connection to one peer.
#[derive(Debug)]
pub(crate) struct PeerLink {
    target: u64,
    addr: String,
    transport: PeerTransport,
}

type RpcError<E = openraft::error::Infallible> = RPCError<u64, BasicNode, RaftError<u64, E>>;

impl PeerLink {
    async fn rpc<Req, Resp, E>(
        &self,
        method: &'static str,
        request: Req,
        option: &RPCOption,
    ) -> Result<Resp, RpcError<E>>
    where
        Req: Serialize + Send + Sync + 'static,
        Resp: DeserializeOwned + Send + Sync + 'static,
        E: std::error::Error + DeserializeOwned + Send + Sync + 'static,
    {
        let codec = JsonCodec::<Req, Result<Resp, RaftError<u64, E>>>::default();
        self.rpc_with(method, request, codec, option).await
    }

    async fn rpc_with<C, Resp, E>(
        &self,
        method: &'static str,
        request: C::Encode,
        codec: C,
        option: &RPCOption,
    ) -> Result<Resp, RpcError<E>>
    where
        C: Codec<Decode = Result<Resp, RaftError<u64, E>>> + Send + 'static,
        C::Encode: Send + Sync + 'static,
        Resp: Send + Sync + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        let reply: Result<Resp, RaftError<u64, E>> = self
            .transport
            .call_with(&self.addr, method, request, codec, option.hard_ttl())
            .await
            .map_err(|error| {
                let why = std::io::Error::other(error.to_string());
                match error {
                    CallError::NotSent(_) => RPCError::Unreachable(Unreachable::new(&why)),
                    CallError::Lost(_) => RPCError::Network(NetworkError::new(&why)),
                }
            })?;
        reply.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetwork<TypeConfig> for PeerLink {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<u64>, RpcError> {
        let entries = rpc.entries.len();
        let encoded = serde_json::to_vec(&rpc).map_err(|e| {
            RPCError::Network(NetworkError::new(&std::io::Error::other(format!(
                "cannot encode entries for node {}: {e}",
                self.target
            ))))
        })?;
        if let Some(hint) =
            entries_that_fit(entries, encoded.len(), self.transport.message_bytes_max)
        {
            // openraft sends again at once with at most `hint` entries.
            return Err(RPCError::PayloadTooLarge(
                PayloadTooLarge::new_entries_hint(hint),
            ));
        }
        let codec =
            EncodedJsonCodec::<Result<AppendEntriesResponse<u64>, RaftError<u64>>>::default();
        self.rpc_with(APPEND_ENTRIES, encoded, codec, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<u64>, RpcError<InstallSnapshotError>> {
        self.rpc(INSTALL_SNAPSHOT, rpc, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<u64>,
        option: RPCOption,
    ) -> Result<VoteResponse<u64>, RpcError> {
        self.rpc(VOTE, rpc, &option).await
    }
}

/// When `entries` entries encode to more than `bytes_max` bytes, how many
/// to send instead: a share in proportion, at least one (a single entry too
/// large for a message fails at the transport, and is retried as any
/// failed call).
fn entries_that_fit(entries: usize, bytes: usize, bytes_max: usize) -> Option<u64> {
    if bytes <= bytes_max || entries <= 1 {
        return None;
    }
    let share = entries.saturating_mul(bytes_max) / bytes;
    let fit = share.clamp(1, entries - 1);
    Some(u64::try_from(fit).unwrap_or(1))
}

/// The server side: one handler for every method of the service.
pub(crate) async fn serve(
    State(node): State<Arc<NodeInner>>,
    Path(method): Path<String>,
    request: Request,
) -> Response {
    if request.extensions().get::<Caller>() != Some(&Caller::Node) {
        return ApiError::new(
            ApiErrorKind::Forbidden,
            "the peer service is for nodes: this certificate may not serve (no TLS server usage), so it is a client's",
        )
        .into_response();
    }
    let limit = node.options.rpc_message_bytes_max;
    let n = Arc::clone(&node);
    match method.as_str() {
        "AppendEntries" => {
            unary(
                request,
                limit,
                move |rpc: AppendEntriesRequest<TypeConfig>| {
                    let node = Arc::clone(&n);
                    async move { node.raft.append_entries(rpc).await }
                },
            )
            .await
        }
        "Vote" => {
            unary(request, limit, move |rpc: VoteRequest<u64>| {
                let node = Arc::clone(&n);
                async move { node.raft.vote(rpc).await }
            })
            .await
        }
        "InstallSnapshot" => {
            unary(
                request,
                limit,
                move |rpc: InstallSnapshotRequest<TypeConfig>| {
                    let node = Arc::clone(&n);
                    async move { node.raft.install_snapshot(rpc).await }
                },
            )
            .await
        }
        "Write" => {
            unary(request, limit, move |request: BarnRequest| {
                let node = Arc::clone(&n);
                async move { node.write_here(request).await }
            })
            .await
        }
        "ReadIndex" => {
            unary(request, limit, move |(): ()| {
                let node = Arc::clone(&n);
                async move { node.read_index_here().await }
            })
            .await
        }
        "Status" => {
            unary(request, limit, move |(): ()| {
                let node = Arc::clone(&n);
                async move { node.local_status().await }
            })
            .await
        }
        "ChangeMembers" => {
            unary(request, limit, move |change: MemberChange| {
                let node = Arc::clone(&n);
                async move { node.change_members_here(change).await }
            })
            .await
        }
        other => Status::unimplemented(format!("no peer method `{other}`"))
            .into_http::<tonic::body::Body>()
            .map(axum::body::Body::new),
    }
}

/// Decodes one request, runs `handle` on it, and encodes its reply.
async fn unary<Req, Resp, F, Fut>(request: Request, limit: usize, mut handle: F) -> Response
where
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize + Send + 'static,
    F: FnMut(Req) -> Fut + Send + 'static,
    Fut: Future<Output = Resp> + Send + 'static,
{
    let mut grpc = tonic::server::Grpc::new(JsonCodec::<Resp, Req>::default())
        .max_decoding_message_size(limit)
        .max_encoding_message_size(limit);
    let service = tower::service_fn(move |request: tonic::Request<Req>| {
        let reply = handle(request.into_inner());
        async move { Ok::<_, Status>(tonic::Response::new(reply.await)) }
    });
    grpc.unary(service, request)
        .await
        .map(axum::body::Body::new)
}

/// The reply type of a forwarded write.
pub(crate) type WriteReply = Result<Outcome, ApiError>;

#[cfg(test)]
mod tests {
    #[test]
    fn a_peer_status_reads_as_words_not_debug_text() {
        let mut status = super::Status::unavailable("tcp connect error");
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        status.set_source(std::sync::Arc::new(refused));
        assert_eq!(
            super::status_text(&status),
            "The service is currently unavailable: tcp connect error: refused"
        );
        let bare = super::Status::unavailable("");
        assert_eq!(
            super::status_text(&bare),
            "The service is currently unavailable"
        );
    }

    use super::entries_that_fit;

    #[test]
    fn too_many_entries_for_a_message_are_cut_in_proportion() {
        assert_eq!(entries_that_fit(300, 1_000, 1_000), None, "at the bound");
        assert_eq!(entries_that_fit(300, 3_000, 1_000), Some(100));
        assert_eq!(
            entries_that_fit(2, 10_000, 1_000),
            Some(1),
            "at least one entry"
        );
        assert_eq!(
            entries_that_fit(1, 10_000, 1_000),
            None,
            "one entry cannot be cut"
        );
        assert_eq!(
            entries_that_fit(10, 1_001, 1_000),
            Some(9),
            "always fewer than before"
        );
    }
}
