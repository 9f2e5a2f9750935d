//! The admin listener: probes and metrics for the platform, and the token-protected delivery
//! API for operators.
//!
//! `/healthz`, `/readyz` and `/metrics` answer anyone who can reach the listener (it binds to
//! loopback unless configured otherwise); everything else needs `Authorization: Bearer
//! <token>`, and is disabled while no token is configured.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::deliver::worker::{now_ms, QueueState};
use crate::gateway::plain;
use crate::secret::Secret;
use crate::server::SharedGateway;
use crate::store::{Store, StoreError};

mod api;
mod query;

/// Time the store gets to answer a probe or a scrape before it counts as down.
const STORE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Time a client has to send an admin request's head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest admin request body read; the API takes its arguments in the query.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// What the admin handlers see: the gateway in force, the store, and the API token.
#[derive(Debug)]
pub struct Admin {
    gateway: SharedGateway,
    store: Arc<dyn Store>,
    queue: Arc<QueueState>,
    token: ArcSwapOption<Secret>,
    stopping: AtomicBool,
}

impl Admin {
    /// The admin state over the running gateway; `token` enables the delivery API.
    pub fn new(
        gateway: SharedGateway,
        store: Arc<dyn Store>,
        queue: Arc<QueueState>,
        token: Option<Secret>,
    ) -> Self {
        Self {
            gateway,
            store,
            queue,
            token: ArcSwapOption::from_pointee(token),
            stopping: AtomicBool::new(false),
        }
    }

    /// Replaces the API token (after a reload).
    pub fn set_token(&self, token: Option<Secret>) {
        self.token.store(token.map(Arc::new));
    }

    /// Makes `/readyz` fail from now on: the process is shutting down.
    pub fn stopping(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    async fn respond(self: Arc<Self>, request: Request<Incoming>, peer: SocketAddr) -> Reply {
        let path = request.uri().path().to_owned();
        let get = request.method() == Method::GET;
        match path.as_str() {
            "/healthz" if get => plain(StatusCode::OK, "ok\n"),
            "/readyz" if get => self.readiness().await,
            "/metrics" if get => self.metrics().await,
            _ => self.authorized(request, &path, peer).await,
        }
    }

    /// Ready while the store answers and the process is not stopping; a config is always
    /// loaded once the listener is up, since a broken one never replaces a working one.
    async fn readiness(&self) -> Reply {
        if self.stopping.load(Ordering::Relaxed) {
            return plain(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n");
        }
        match self.ping().await {
            Ok(()) => plain(StatusCode::OK, "ready\n"),
            Err(reason) => {
                tracing::info!(%reason, "not ready");
                plain(StatusCode::SERVICE_UNAVAILABLE, "store not answering\n")
            }
        }
    }

    async fn ping(&self) -> Result<(), String> {
        match tokio::time::timeout(STORE_CHECK_TIMEOUT, self.store.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err("store ping timed out".to_owned()),
        }
    }

    /// Refreshes the queue gauges from the store, then writes every metric. `store_up`
    /// follows the same check as `/readyz`.
    async fn metrics(&self) -> Reply {
        let metrics = &self.queue.metrics;
        let stats = match self.ping().await {
            Ok(()) => tokio::time::timeout(STORE_CHECK_TIMEOUT, self.store.stats()).await,
            Err(_) => Ok(Err(StoreError::Backend("store not answering".to_owned()))),
        };
        match stats {
            Ok(Ok(stats)) => metrics.queue(&stats, &self.route_names(), now_ms()),
            Ok(Err(err)) => {
                tracing::debug!(error = %err, "cannot read queue counts for metrics");
                metrics.store_down();
            }
            Err(_) => metrics.store_down(),
        }
        let mut response = Response::new(Full::new(Bytes::from(metrics.encode())));
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
        );
        response
    }

    fn route_names(&self) -> Vec<String> {
        let gateway = self.gateway.load();
        gateway.routes().map(|route| route.name.clone()).collect()
    }

    /// Checks the bearer token, then hands the request to the delivery API.
    async fn authorized(&self, request: Request<Incoming>, path: &str, peer: SocketAddr) -> Reply {
        let Some(token) = self.token.load_full() else {
            tracing::info!(
                %peer,
                %path,
                "delivery API refused: it is disabled while [admin] has no token or token_file"
            );
            return plain(StatusCode::FORBIDDEN, "delivery API disabled\n");
        };
        if let Err(reason) = check_bearer(&token, request.headers().get(AUTHORIZATION)) {
            tracing::info!(%peer, %path, reason, "admin request refused");
            let mut response = plain(StatusCode::UNAUTHORIZED, "unauthorized\n");
            let challenge = HeaderValue::from_static("Bearer realm=\"hookseal\"");
            response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
            return response;
        }
        let (parts, body) = request.into_parts();
        // Arguments travel in the query; a body is drained (bounded) so the connection stays
        // usable, and otherwise ignored.
        let _ = http_body_util::Limited::new(body, MAX_BODY_BYTES)
            .collect()
            .await;
        api::handle(self, &parts.method, path, parts.uri.query()).await
    }
}

type Reply = Response<Full<Bytes>>;

/// Serves the admin listener until the task is dropped.
pub async fn serve(listener: TcpListener, admin: Arc<Admin>) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(error = %err, "admin accept failed");
                continue;
            }
        };
        let admin = Arc::clone(&admin);
        let service = hyper::service::service_fn(move |request| {
            let admin = Arc::clone(&admin);
            async move { Ok::<_, Infallible>(admin.respond(request, peer).await) }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, error = %err, "admin connection ended with an error");
            }
        });
    }
}

/// Checks `Authorization: Bearer <token>` in constant time; the reason names what was wrong,
/// never the value sent.
fn check_bearer(token: &Secret, header: Option<&HeaderValue>) -> Result<(), &'static str> {
    let Some(header) = header else {
        return Err("no Authorization header");
    };
    // The scheme name is case-insensitive (RFC 9110); the token is not.
    let Some(sent) = header
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token)
    else {
        return Err("Authorization is not a Bearer token");
    };
    if !token.matches(sent.trim()) {
        return Err("wrong token");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_needs_the_exact_token() {
        let token = Secret::new("s3cret-token");
        let header = |value: &str| HeaderValue::from_str(value).unwrap();
        assert!(check_bearer(&token, Some(&header("Bearer s3cret-token"))).is_ok());
        assert!(check_bearer(&token, Some(&header("bearer s3cret-token"))).is_ok());
        assert_eq!(check_bearer(&token, None), Err("no Authorization header"));
        assert_eq!(
            check_bearer(&token, Some(&header("Bearer s3cret-tokeN"))),
            Err("wrong token")
        );
        assert!(check_bearer(&token, Some(&header("Basic s3cret-token"))).is_err());
    }
}
