//! The public REST/JSON API of a cluster node (axum), described by
//! `openapi.json` (`openapi.rs`). Every node serves every route: writes
//! and membership changes are forwarded to the leader, reads are
//! linearizable unless `?consistency=stale`.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::api_types::{AddMember, ApiError, ApiErrorKind, Consistency, MemberChange, RunsParams};
use super::node::NodeInner;
use super::{openapi, peer};
use crate::command::Request;
use crate::ids::{NodeId, RunId};
use crate::store::history;

pub(crate) fn router(node: Arc<NodeInner>, body_bytes_max: usize) -> Router {
    Router::new()
        .route("/openapi.json", get(|| async { Json(openapi::document()) }))
        .route("/v1/status", get(status))
        .route("/v1/requests", post(write))
        .route("/v1/nodes", get(nodes))
        .route("/v1/nodes/{id}", get(node_record))
        .route("/v1/runs", get(runs))
        .route("/v1/runs/{id}", get(run))
        .route("/v1/runs/{id}/events", get(run_events))
        .route("/v1/members", post(add_member))
        .route("/v1/members/{id}", delete(remove_member))
        .route(peer::ROUTE, post(peer::serve))
        .fallback(|| async {
            ApiError::new(
                ApiErrorKind::NotFound,
                "no such route; the routes are listed in /openapi.json",
            )
            .into_response()
        })
        .method_not_allowed_fallback(|| async {
            refused(
                StatusCode::METHOD_NOT_ALLOWED,
                "this route takes another method; see /openapi.json".to_owned(),
            )
        })
        .layer(DefaultBodyLimit::max(body_bytes_max))
        .with_state(node)
}

/// A request the API cannot take as sent (a body that is no JSON of the
/// right shape, a wrong content type, a body too large, a bad path or
/// query): the API's JSON error, with the HTTP status that says which.
fn refused(status: StatusCode, message: String) -> Response {
    (status, Json(ApiError::bad_request(message))).into_response()
}

/// axum's `Json`, refused as [`refused`] says.
struct ApiJson<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Response> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(refused(rejection.status(), rejection.body_text())),
        }
    }
}

/// axum's `Path`, refused as [`refused`] says.
struct ApiPath<T>(T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(refused(rejection.status(), rejection.body_text())),
        }
    }
}

/// axum's `Query`, refused as [`refused`] says.
struct ApiQuery<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(refused(rejection.status(), rejection.body_text())),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = match self.kind {
            ApiErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ApiErrorKind::NotFound => StatusCode::NOT_FOUND,
            ApiErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiErrorKind::Indeterminate => StatusCode::GATEWAY_TIMEOUT,
            ApiErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ApiErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (code, Json(self)).into_response()
    }
}

#[derive(Debug, Deserialize)]
struct ReadQuery {
    #[serde(default)]
    consistency: Consistency,
}

type Node = State<Arc<NodeInner>>;

async fn status(State(node): Node) -> Response {
    Json(node.status().await).into_response()
}

async fn write(State(node): Node, ApiJson(request): ApiJson<Request>) -> Response {
    match node.write(request).await {
        Ok(outcome) => Json(outcome).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn nodes(State(node): Node, ApiQuery(q): ApiQuery<ReadQuery>) -> Response {
    let read = node
        .read(q.consistency, |s| s.nodes().cloned().collect::<Vec<_>>())
        .await;
    respond(read.map(Some))
}

async fn node_record(
    State(node): Node,
    ApiPath(id): ApiPath<u64>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> Response {
    let read = node
        .read(q.consistency, |s| {
            s.nodes().find(|n| n.id == NodeId(id)).cloned()
        })
        .await;
    respond(read)
}

/// The runs the query admits (every run without one), the newest `limit`
/// of them, in submission order.
async fn runs(State(node): Node, ApiQuery(params): ApiQuery<RunsParams>) -> Response {
    let query = match params.query() {
        Ok(query) => query,
        Err(error) => return respond::<()>(Err(error)),
    };
    let limit = query.limit;
    let read = node
        .read_history(params.consistency, move |machine, store| {
            let mut runs =
                history::runs_newest_first(machine, store, |run| query.admits(run), limit)?;
            runs.reverse();
            Ok(runs)
        })
        .await;
    respond(read.map(Some))
}

async fn run(
    State(node): Node,
    ApiPath(id): ApiPath<u64>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> Response {
    let read = node
        .read_history(q.consistency, move |machine, store| {
            history::run(machine, store, RunId(id))
        })
        .await;
    respond(read)
}

async fn run_events(
    State(node): Node,
    ApiPath(id): ApiPath<u64>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> Response {
    let read = node
        .read_history(q.consistency, move |machine, store| {
            history::run_events(machine, store, RunId(id))
        })
        .await;
    respond(read)
}

async fn add_member(State(node): Node, ApiJson(add): ApiJson<AddMember>) -> Response {
    respond(node.change_members(MemberChange::Add(add)).await.map(Some))
}

async fn remove_member(State(node): Node, ApiPath(id): ApiPath<u64>) -> Response {
    let removed = node.change_members(MemberChange::Remove { id }).await;
    respond(removed.map(Some))
}

/// A value as JSON, `None` as 404, an error as its kind's status.
fn respond<T: serde::Serialize>(result: Result<Option<T>, ApiError>) -> Response {
    match result {
        Ok(Some(value)) => Json(value).into_response(),
        Ok(None) => ApiError::new(ApiErrorKind::NotFound, "not found").into_response(),
        Err(e) => e.into_response(),
    }
}
