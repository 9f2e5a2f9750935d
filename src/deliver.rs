//! Delivery: one attempt of an event to its route's upstream, signed afresh.
//!
//! Every attempt gets a new timestamp and attempt id; the event id stays the same, so a
//! receiver can tell a retry from a new event.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, USER_AGENT};
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::Full;

use crate::gateway::Route;
use crate::sign::{self, Attempt};
use crate::upstream::{Answer, UpstreamError};

pub mod retry;
pub mod worker;

/// cal.com's payload version header, passed on to upstreams unchanged.
pub const WEBHOOK_VERSION_HEADER: &str = "x-cal-webhook-version";

/// The `User-Agent` of every delivery.
pub const USER_AGENT_VALUE: &str = concat!("hookseal/", env!("CARGO_PKG_VERSION"));

/// An accepted event, ready to be attempted (again).
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The event id.
    pub event_id: String,
    /// The bytes to deliver (after enrichment).
    pub body: Bytes,
    /// The sender's `Content-Type`.
    pub content_type: Option<HeaderValue>,
    /// The sender's `X-Cal-Webhook-Version`.
    pub webhook_version: Option<HeaderValue>,
    /// Unix seconds when hookseal accepted the event.
    pub accepted_at: i64,
}

/// What an attempt sent, for logs and the demo: the signature headers (names and values).
#[derive(Debug, Clone)]
pub struct Sent {
    /// The upstream URL used (Twilio's scheme may add a query parameter).
    pub upstream: Uri,
    /// Headers hookseal set, in order, signature headers included.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// Signs `delivery` for this moment and sends it to the route's upstream.
///
/// # Errors
/// The upstream could not be reached, broke the connection, or did not answer in time.
pub async fn attempt(route: &Route, delivery: &Delivery) -> (Sent, Result<Answer, UpstreamError>) {
    let sent = sign_attempt(route, delivery, unix_now());
    let request = build_request(delivery, &sent);
    let answer = route.client.send(request, route.timeout).await;
    (sent, answer)
}

/// The headers and URL of one attempt made at `now` (unix seconds).
pub fn sign_attempt(route: &Route, delivery: &Delivery, now: i64) -> Sent {
    let attempt_id = crate::event_id::fresh();
    let attempt = Attempt {
        event_id: &delivery.event_id,
        attempt_id: &attempt_id,
        timestamp: now,
        accepted_at: delivery.accepted_at,
        upstream: &route.upstream,
        content_type: delivery
            .content_type
            .as_ref()
            .and_then(|value| value.to_str().ok()),
        body: &delivery.body,
    };
    let signature = sign::sign_all(&route.schemes, &attempt);
    let mut headers = route.headers.clone();
    headers.extend(signature.headers);
    Sent {
        upstream: signature.upstream.unwrap_or_else(|| route.upstream.clone()),
        headers,
    }
}

fn build_request(delivery: &Delivery, sent: &Sent) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(delivery.body.clone()));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = sent.upstream.clone();
    let headers = request.headers_mut();
    if let Some(authority) = sent.upstream.authority() {
        if let Ok(host) = HeaderValue::from_str(authority.as_str()) {
            headers.insert(HOST, host);
        }
    }
    headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(delivery.body.len()));
    if let Some(content_type) = &delivery.content_type {
        headers.insert(CONTENT_TYPE, content_type.clone());
    }
    if let Some(version) = &delivery.webhook_version {
        headers.insert(
            HeaderName::from_static(WEBHOOK_VERSION_HEADER),
            version.clone(),
        );
    }
    for (name, value) in &sent.headers {
        headers.append(name.clone(), value.clone());
    }
    request
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
}
