//! [`BarnClient`]: the REST API from a program (`runi barn …`, a node's
//! `--join`, the fault tests). One HTTP/1.1 connection per call, over
//! mTLS when the URL is `https://`, every call bounded by a timeout.

use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{Method, StatusCode};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::api_types::{AddMember, ApiError, ApiErrorKind, ClusterStatus, Consistency, RunsParams};
use super::options::TlsFiles;
use super::tls::TlsMaterial;
use crate::command::Request;
use crate::error::BarnError;
use crate::ids::{NodeId, RunId};
use crate::outcome::Outcome;
use crate::run_query::RunQuery;
use crate::state::{Node, Run, RunEvent};

/// The largest response body a client reads.
const RESPONSE_BYTES_MAX: usize = 64 << 20;

/// A client of one node's REST API.
#[derive(Clone)]
pub struct BarnClient {
    url: String,
    host: String,
    port: u16,
    tls: Option<TlsConnector>,
    timeout: Duration,
}

impl std::fmt::Debug for BarnClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BarnClient")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl BarnClient {
    /// A client of the node at `url` (`http://HOST:PORT` or
    /// `https://HOST:PORT`; `https` needs `tls`). Each call waits at most
    /// `timeout_ms`.
    pub fn new(url: &str, tls: Option<&TlsFiles>, timeout_ms: u64) -> Result<Self, BarnError> {
        let bad = |why: &str| BarnError::Config(format!("bad server URL `{url}`: {why}"));
        let uri: http::Uri = url.parse().map_err(|_| bad("not a URL"))?;
        let host = uri.host().ok_or_else(|| bad("no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let secure = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad("use http:// or https://")),
        };
        if uri
            .path_and_query()
            .is_some_and(|p| !matches!(p.as_str(), "" | "/"))
            || uri.authority().is_some_and(|a| a.as_str().contains('@'))
        {
            return Err(bad(
                "a server is `http://HOST:PORT` or `https://HOST:PORT`, with no path or user",
            ));
        }
        // `Uri::port` is `None` for a port that does not fit (`:99999`) as
        // for no port at all: the authority's text tells them apart.
        let port_text = uri.authority().and_then(|authority| {
            let (_, after) = authority.as_str().rsplit_once(':')?;
            (!after.contains(']')).then_some(after)
        });
        let port = match port_text {
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|port| *port > 0)
                .ok_or_else(|| bad("the port is not between 1 and 65535"))?,
            None => {
                if secure {
                    443
                } else {
                    80
                }
            }
        };
        let tls = match (secure, tls) {
            (false, _) => None,
            (true, None) => {
                return Err(BarnError::Config(format!(
                    "`{url}` is https: give the CA, the certificate and the key (`--ca`, `--cert`, `--key`)"
                )));
            }
            (true, Some(files)) => {
                let material = TlsMaterial::load(files)?;
                Some(TlsConnector::from(material.client_config(&files.cert)?))
            }
        };
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            host,
            port,
            tls,
            timeout: Duration::from_millis(timeout_ms),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn status(&self) -> Result<ClusterStatus, ApiError> {
        self.call(Method::GET, "/v1/status", None::<&()>).await
    }

    /// Applies `request`. A retry with the same request id applies once.
    pub async fn write(&self, request: &Request) -> Result<Outcome, ApiError> {
        self.call(Method::POST, "/v1/requests", Some(request)).await
    }

    /// A registered node, read with `consistency`; `None` if there is none.
    pub async fn node(
        &self,
        id: NodeId,
        consistency: Consistency,
    ) -> Result<Option<Node>, ApiError> {
        self.find(&format!("/v1/nodes/{id}"), consistency).await
    }

    /// Every kept run, in submission order.
    pub async fn runs(&self, consistency: Consistency) -> Result<Vec<Run>, ApiError> {
        let path = format!("/v1/runs?consistency={}", consistency_name(consistency));
        self.call(Method::GET, &path, None::<&()>).await
    }

    /// The runs `query` admits, newest first, at most its limit: the node
    /// filters and reads no more than it needs. (A node that ignores the
    /// query, sending every run, gets the same answer.)
    pub async fn runs_where(
        &self,
        query: &RunQuery,
        consistency: Consistency,
    ) -> Result<Vec<Run>, ApiError> {
        let runs = self.runs_with(&RunsParams::new(query, consistency)).await?;
        Ok(query.newest_first(runs.iter()))
    }

    /// `GET /v1/runs` with `params`, as the node answers it: in submission
    /// order.
    pub async fn runs_with(&self, params: &RunsParams) -> Result<Vec<Run>, ApiError> {
        let params = serde_urlencoded::to_string(params)
            .map_err(|e| ApiError::bad_request(format!("cannot encode the query: {e}")))?;
        self.call(Method::GET, &format!("/v1/runs?{params}"), None::<&()>)
            .await
    }

    /// One run; `None` if the Barn has no such run.
    pub async fn run(&self, id: RunId, consistency: Consistency) -> Result<Option<Run>, ApiError> {
        self.find(&format!("/v1/runs/{id}"), consistency).await
    }

    /// One run's kept events; `None` if the Barn has no such run.
    pub async fn run_events(
        &self,
        id: RunId,
        consistency: Consistency,
    ) -> Result<Option<Vec<RunEvent>>, ApiError> {
        self.find(&format!("/v1/runs/{id}/events"), consistency)
            .await
    }

    /// A GET of one record, `None` for 404.
    async fn find<T: DeserializeOwned>(
        &self,
        path: &str,
        consistency: Consistency,
    ) -> Result<Option<T>, ApiError> {
        let path = format!("{path}?consistency={}", consistency_name(consistency));
        match self.call(Method::GET, &path, None::<&()>).await {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.kind == ApiErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn add_member(&self, add: &AddMember) -> Result<(), ApiError> {
        self.call(Method::POST, "/v1/members", Some(add)).await
    }

    pub async fn remove_member(&self, id: u64) -> Result<(), ApiError> {
        self.call(Method::DELETE, &format!("/v1/members/{id}"), None::<&()>)
            .await
    }

    /// Any POST of a JSON body, answered in JSON.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ApiError> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Any GET, as JSON.
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, ApiError> {
        self.call(Method::GET, path, None::<&()>).await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        let body = match body {
            Some(body) => serde_json::to_vec(body)
                .map_err(|e| ApiError::bad_request(format!("cannot encode the request: {e}")))?,
            None => Vec::new(),
        };
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, format!("{}:{}", self.host, self.port))
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| ApiError::bad_request(format!("bad request path `{path}`: {e}")))?;
        let exchange = self.exchange(request);
        let (status, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
                ApiError::indeterminate(format!(
                    "`{}` did not answer within {} ms",
                    self.url,
                    self.timeout.as_millis()
                ))
            })??;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| {
                ApiError::new(
                    ApiErrorKind::Internal,
                    format!("`{}` sent a bad answer: {e}", self.url),
                )
            });
        }
        Err(
            serde_json::from_slice::<ApiError>(&bytes).unwrap_or_else(|_| {
                // Not a Barn's answer: a proxy, or another server at the URL.
                let kind = if status.is_client_error() {
                    ApiErrorKind::BadRequest
                } else {
                    ApiErrorKind::Indeterminate
                };
                ApiError::new(
                    kind,
                    format!(
                        "`{}` answered {status}, not as a Barn node answers{}; is it a Barn node's address?",
                        self.url,
                        answer_excerpt(&bytes)
                    ),
                )
            }),
        )
    }

    async fn exchange(
        &self,
        request: hyper::Request<Full<Bytes>>,
    ) -> Result<(StatusCode, Bytes), ApiError> {
        // Until the request is sent, a failure means it was not applied.
        let unreachable = |e: &dyn std::fmt::Display| {
            ApiError::unavailable(format!("cannot reach `{}`: {e}", self.url))
        };
        let lost = |e: &dyn std::fmt::Display| {
            ApiError::indeterminate(format!("no answer from `{}`: {e}", self.url))
        };
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| unreachable(&e))?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => send(tcp, request).await.map_err(|e| {
                let mut error = lost(&e);
                if e.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_parse) {
                    error.message.push_str(
                        " (the answer was not HTTP: if the node serves TLS, use an `https://` URL with `--ca`)",
                    );
                }
                error
            }),
            Some(connector) => {
                let name = ServerName::try_from(self.host.clone())
                    .map_err(|e| ApiError::bad_request(format!("bad host `{}`: {e}", self.host)))?;
                let tls = connector.connect(name, tcp).await.map_err(|e| {
                    let mut error = unreachable(&e);
                    if is_not_tls(&e) {
                        error.message.push_str(
                            " (the answer was not TLS: if the node serves plain HTTP, use an `http://` URL)",
                        );
                    }
                    error
                })?;
                send(tls, request).await.map_err(|e| lost(&e))
            }
        }
    }
}

/// Whether a TLS handshake failed because the peer did not speak TLS.
fn is_not_tls(error: &std::io::Error) -> bool {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<tokio_rustls::rustls::Error>())
        .is_some_and(|e| matches!(e, tokio_rustls::rustls::Error::InvalidMessage(_)))
}

/// The start of an answer that is not a Barn's, for a message: its first
/// line, at most `ANSWER_EXCERPT_CHARS_MAX` characters, anything but
/// printable ASCII shown as `?`; nothing when it is empty.
fn answer_excerpt(bytes: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or_default()
        .chars()
        .take(ANSWER_EXCERPT_CHARS_MAX)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if text.is_empty() {
        String::new()
    } else {
        format!(" (it begins `{text}`)")
    }
}

/// Characters of a foreign answer quoted in a message.
const ANSWER_EXCERPT_CHARS_MAX: usize = 60;

async fn send<IO>(
    io: IO,
    request: hyper::Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes), Box<dyn std::error::Error + Send + Sync>>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    let driver = tokio::spawn(connection);
    let response = sender.send_request(request).await?;
    let status = response.status();
    let bytes = Limited::new(response.into_body(), RESPONSE_BYTES_MAX)
        .collect()
        .await?
        .to_bytes();
    driver.abort();
    Ok((status, bytes))
}

fn consistency_name(consistency: Consistency) -> &'static str {
    match consistency {
        Consistency::Linearizable => "linearizable",
        Consistency::Stale => "stale",
    }
}
