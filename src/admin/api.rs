//! The delivery API: list, show, retry and purge stored events; list and resume routes.
//!
//! Requests reach this module only once their bearer token has been checked.

use base64::Engine as _;
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;

use super::query::{BadQuery, Query};
use super::{Admin, Reply};
use crate::config::DeliveryMode;
use crate::deliver::worker::now_ms;
use crate::gateway::plain;
use crate::store::{Filter, StoreError, StoredEvent};

/// Why an API request failed; the response carries only a short message.
#[derive(Debug, thiserror::Error)]
enum ApiError {
    #[error("{0}")]
    Query(#[from] BadQuery),
    #[error("{0}")]
    Refused(&'static str),
    #[error("not found")]
    NotFound,
    #[error("store failed: {0}")]
    Store(#[from] StoreError),
}

/// Dispatches an authorized request by method and path.
pub(super) async fn handle(
    admin: &Admin,
    method: &Method,
    path: &str,
    query: Option<&str>,
) -> Reply {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let result = match (method, segments.as_slice()) {
        (&Method::GET, ["deliveries"]) => list(admin, query).await,
        (&Method::DELETE, ["deliveries"]) => purge(admin, query).await,
        (&Method::POST, ["deliveries", "retry"]) => retry(admin, query).await,
        (&Method::GET, ["deliveries", seq]) => show(admin, seq).await,
        (&Method::POST, ["deliveries", seq, "retry"]) => retry_one(admin, seq).await,
        (&Method::GET, ["routes"]) => routes(admin).await,
        (&Method::POST, ["routes", name, "resume"]) => resume(admin, name).await,
        _ => Err(ApiError::NotFound),
    };
    result.unwrap_or_else(error_response)
}

async fn list(admin: &Admin, query: Option<&str>) -> Result<Reply, ApiError> {
    let query = Query::parse(query, now_ms())?;
    let events = admin.store.list(&query.filter, query.limit).await?;
    Ok(json(StatusCode::OK, &events))
}

async fn show(admin: &Admin, seq: &str) -> Result<Reply, ApiError> {
    let filter = seq_filter(seq)?;
    let events = admin.store.list(&filter, 1).await?;
    let event = events.first().ok_or(ApiError::NotFound)?;
    Ok(json(StatusCode::OK, &Shown::new(event)))
}

async fn retry(admin: &Admin, query: Option<&str>) -> Result<Reply, ApiError> {
    let query = Query::parse(query, now_ms())?;
    if !query.narrows() && !query.all {
        return Err(ApiError::Refused(
            "refusing to retry every event: add a filter, or all=true",
        ));
    }
    let retried = admin.store.retry(&query.filter, now_ms()).await?;
    tracing::info!(
        retried,
        route = query.filter.route.as_deref(),
        "deliveries retried"
    );
    admin.queue.wake.notify_one();
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "retried": retried }),
    ))
}

async fn retry_one(admin: &Admin, seq: &str) -> Result<Reply, ApiError> {
    let filter = seq_filter(seq)?;
    let retried = admin.store.retry(&filter, now_ms()).await?;
    if retried == 0 {
        return Err(ApiError::NotFound);
    }
    tracing::info!(seq = filter.seq, "delivery retried");
    admin.queue.wake.notify_one();
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "retried": retried }),
    ))
}

async fn purge(admin: &Admin, query: Option<&str>) -> Result<Reply, ApiError> {
    let query = Query::parse(query, now_ms())?;
    if !query.narrows() && !query.all {
        return Err(ApiError::Refused(
            "refusing to purge every event: add a filter, or all=true",
        ));
    }
    let purged = admin.store.purge(&query.filter).await?;
    tracing::info!(
        purged,
        route = query.filter.route.as_deref(),
        "deliveries purged"
    );
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "purged": purged }),
    ))
}

async fn routes(admin: &Admin) -> Result<Reply, ApiError> {
    let stats = admin.store.stats().await?;
    let gateway = admin.gateway.load_full();
    let mut views: Vec<RouteView> = gateway
        .routes()
        .map(|route| RouteView::configured(&route.name, route.mode, &stats.paused))
        .collect();
    // A route a reload removed may still be paused, with its events kept.
    for (name, reason) in &stats.paused {
        if gateway.route(name).is_none() {
            views.push(RouteView::removed(name, reason));
        }
    }
    views.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(json(StatusCode::OK, &views))
}

async fn resume(admin: &Admin, name: &str) -> Result<Reply, ApiError> {
    let resumed = admin.store.resume_route(name).await?;
    // A route is known if it is configured, or if a reload removed it while it was paused.
    if !resumed && admin.gateway.load().route(name).is_none() {
        return Err(ApiError::NotFound);
    }
    tracing::info!(route = name, resumed, "route resume requested");
    admin.queue.wake.notify_one();
    let body = serde_json::json!({ "route": name, "resumed": resumed });
    Ok(json(StatusCode::OK, &body))
}

fn seq_filter(seq: &str) -> Result<Filter, ApiError> {
    let seq = seq.parse().map_err(|_| ApiError::NotFound)?;
    Ok(Filter {
        seq: Some(seq),
        ..Filter::default()
    })
}

fn error_response(err: ApiError) -> Reply {
    match err {
        ApiError::Query(_) | ApiError::Refused(_) => {
            plain(StatusCode::BAD_REQUEST, &format!("{err}\n"))
        }
        ApiError::NotFound => plain(StatusCode::NOT_FOUND, "not found\n"),
        ApiError::Store(err) => {
            tracing::warn!(error = %err, "delivery API: store failed");
            plain(StatusCode::SERVICE_UNAVAILABLE, "store not answering\n")
        }
    }
}

fn json(status: StatusCode, value: &impl Serialize) -> Reply {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// One stored event with its body: as text when it is UTF-8, else as base64.
#[derive(Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    event: &'a StoredEvent,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body_base64: Option<String>,
}

impl<'a> Shown<'a> {
    fn new(event: &'a StoredEvent) -> Self {
        let text = std::str::from_utf8(&event.body).ok();
        let encoded = text
            .is_none()
            .then(|| base64::engine::general_purpose::STANDARD.encode(&event.body));
        Self {
            event,
            body: text,
            body_base64: encoded,
        }
    }
}

/// A route as `GET /routes` shows it.
#[derive(Serialize)]
struct RouteView {
    name: String,
    /// `queued` or `sync`; absent for a route no longer configured.
    delivery: Option<&'static str>,
    configured: bool,
    paused: bool,
    paused_reason: Option<String>,
}

impl RouteView {
    fn configured(name: &str, mode: DeliveryMode, paused: &[(String, String)]) -> Self {
        let reason = paused
            .iter()
            .find(|(route, _)| route == name)
            .map(|(_, reason)| reason.clone());
        Self {
            name: name.to_owned(),
            delivery: Some(match mode {
                DeliveryMode::Queued => "queued",
                DeliveryMode::Sync => "sync",
            }),
            configured: true,
            paused: reason.is_some(),
            paused_reason: reason,
        }
    }

    fn removed(name: &str, reason: &str) -> Self {
        Self {
            name: name.to_owned(),
            delivery: None,
            configured: false,
            paused: true,
            paused_reason: Some(reason.to_owned()),
        }
    }
}
