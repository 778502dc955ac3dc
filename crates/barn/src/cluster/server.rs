//! The node's one port: HTTP/1.1 and HTTP/2 (gRPC needs 2) on the same
//! listener, behind TLS unless the node runs `--insecure`. The REST API and
//! the peer service are routes of one axum router.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::middleware::AddExtension;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tower::Layer;

use super::api;
use super::caller::Caller;
use super::node::NodeInner;
use super::options::ClusterOptions;
use super::tls::TlsMaterial;
use crate::error::BarnError;

#[derive(Debug)]
pub(crate) struct Server {
    addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl Server {
    /// Binds `listen`: done before the node opens its data folder, so
    /// that an address in use leaves no folder behind.
    pub(crate) async fn bind(listen: &str) -> Result<TcpListener, BarnError> {
        TcpListener::bind(listen)
            .await
            .map_err(|source| BarnError::Listen {
                addr: listen.to_owned(),
                source,
            })
    }

    /// Serves the node on `listener`, bound to `listen` by [`Server::bind`].
    pub(crate) async fn start(
        listener: TcpListener,
        listen: &str,
        node: Arc<NodeInner>,
        tls: Option<&TlsMaterial>,
        options: &ClusterOptions,
    ) -> Result<Self, BarnError> {
        let addr = listener.local_addr().map_err(|source| BarnError::Listen {
            addr: listen.to_owned(),
            source,
        })?;
        let acceptor = match (tls, &options.tls) {
            (Some(tls), Some(files)) => Some(TlsAcceptor::from(tls.server_config(&files.cert)?)),
            _ => None,
        };
        let router = api::router(node, options.limits.request_body_bytes_max);
        let limits = options.limits;
        let permits = Arc::new(Semaphore::new(limits.connections_max));
        let handshake = Duration::from_millis(limits.handshake_timeout_ms);
        let accept = tokio::spawn(async move {
            loop {
                let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                    return;
                };
                let (stream, _) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!("accepting a connection failed: {e}");
                        continue;
                    }
                };
                let router = router.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    serve_connection(stream, acceptor, router, handshake).await;
                    drop(permit);
                });
            }
        });
        Ok(Self { addr, accept })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn stop(&self) {
        self.accept.abort();
    }
}

/// The router, with every request of the connection marked with who calls.
fn with_caller(router: axum::Router, caller: Caller) -> AddExtension<axum::Router, Caller> {
    Extension(caller).layer(router)
}

async fn serve_connection(
    stream: TcpStream,
    acceptor: Option<TlsAcceptor>,
    router: axum::Router,
    handshake: Duration,
) {
    let _ = stream.set_nodelay(true);
    let builder = auto::Builder::new(TokioExecutor::new());
    let served = match acceptor {
        None => {
            let service = TowerToHyperService::new(with_caller(router, Caller::Node));
            builder
                .serve_connection(TokioIo::new(stream), service)
                .await
        }
        Some(acceptor) => {
            let tls = match tokio::time::timeout(handshake, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!("a TLS handshake failed: {e}");
                    return;
                }
                Err(_) => {
                    tracing::debug!("a TLS handshake timed out (`handshake_timeout_ms`)");
                    return;
                }
            };
            let cert = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .map(|cert| cert.as_ref());
            let caller = Caller::of(cert);
            let service = TowerToHyperService::new(with_caller(router, caller));
            builder.serve_connection(TokioIo::new(tls), service).await
        }
    };
    if let Err(e) = served {
        tracing::debug!("a connection ended with an error: {e}");
    }
}
