//! The inbound listener: accept loop, read timeouts, a concurrency limit, and a graceful stop.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;

use crate::config::ServerConfig;
use crate::gateway::Gateway;

/// Requests handled at once; further ones wait for a slot, their connections open. Bounds
/// memory under a flood: each request in hand holds its body, its signed copy and an upstream
/// connection of its own. At 1,024, a thousand busy client connections took the process to
/// 76 MiB; at 256 to 59 MiB, with more requests per second, not fewer.
const MAX_CONCURRENT_REQUESTS: usize = 256;

/// The gateway in force; a reload swaps it, and each request keeps the one it started with.
pub type SharedGateway = Arc<ArcSwap<Gateway>>;

/// Serves `listener` until `shutdown` completes, then lets requests in flight finish within
/// the grace period.
pub async fn serve(
    listener: TcpListener,
    gateway: SharedGateway,
    settings: ServerConfig,
    shutdown: impl Future<Output = ()>,
) {
    let limit = GlobalConcurrencyLimitLayer::new(MAX_CONCURRENT_REQUESTS);
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of descriptors and the like: the next accept may succeed.
                    tracing::warn!(error = %err, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = ServiceBuilder::new()
            .layer(limit.clone())
            .service_fn(handler(Arc::clone(&gateway), peer));
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("stopped accepting; waiting for requests in flight");
    if tokio::time::timeout(settings.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace period ended with requests still in flight");
    }
}

/// The future answering one request.
type Answering = Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

fn handler(
    gateway: SharedGateway,
    peer: SocketAddr,
) -> impl Fn(Request<Incoming>) -> Answering + Clone {
    move |request| {
        // Each request keeps the gateway it started with, even if a reload swaps it meanwhile.
        let current = gateway.load_full();
        Box::pin(async move { Ok(current.handle(request, peer).await) })
    }
}
