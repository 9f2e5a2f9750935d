//! One webhook's path through hookseal: route match, body limits, sender check, replay check,
//! enrichment, event id, then delivery (sync) or the queue (queued).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::config::{Config, DeliveryMode, EnrichProfile, RouteConfig};
use crate::deliver::worker::{now_ms, QueueState};
use crate::deliver::{self, Delivery, WEBHOOK_VERSION_HEADER};
use crate::enrich::calcom::{self, Enriched};
use crate::inbound::{Inbound, SIGNATURE_HEADER};
use crate::metrics::{CountedCache, Outcome, NO_ROUTE};
use crate::sign::Scheme;
use crate::store::deferred::Deferred;
use crate::store::{BookingRecord, Enqueued, NewEvent, Store};
use crate::upstream::{Upstream, UpstreamError};

/// The routes and the store: everything a request needs, fixed for the request's life.
#[derive(Debug)]
pub struct Gateway {
    routes: HashMap<String, Arc<Route>>,
    store: Arc<dyn Store>,
    queue: Arc<QueueState>,
    max_body_bytes: usize,
    body_read_timeout: Duration,
    max_pending_events: u64,
    min_free_disk_bytes: u64,
}

/// One configured route, with its keys parsed and its client built.
#[derive(Debug)]
pub struct Route {
    /// The route's name.
    pub name: String,
    /// Where events go.
    pub upstream: Uri,
    /// Sync or queued.
    pub mode: DeliveryMode,
    /// Time allowed per attempt.
    pub timeout: Duration,
    /// The pooled client for the upstream.
    pub client: Upstream,
    /// Signing schemes, applied in order to the same bytes.
    pub schemes: Vec<Scheme>,
    /// Fixed extra headers.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Delays before each attempt.
    pub retry_schedule: Vec<Duration>,
    repeat_window: Duration,
    inbound: Inbound,
    profile: EnrichProfile,
    max_event_age: Duration,
}

/// Why a request was not delivered, with the status the sender gets.
#[derive(Debug)]
struct Refused {
    status: StatusCode,
    reason: String,
}

impl Gateway {
    /// Builds the routes of `config` over `store`.
    ///
    /// # Errors
    /// A route's keys, CA file or headers cannot be used.
    pub fn new(
        config: &Config,
        store: Arc<dyn Store>,
        queue: Arc<QueueState>,
    ) -> anyhow::Result<Self> {
        let mut clients: HashMap<Option<std::path::PathBuf>, Upstream> = HashMap::new();
        let mut routes = HashMap::new();
        for route in config.routes() {
            let client = match clients.get(&route.ca_file) {
                Some(client) => client.clone(),
                None => {
                    let client = Upstream::new(route.ca_file.as_deref())?;
                    clients.insert(route.ca_file.clone(), client.clone());
                    client
                }
            };
            routes.insert(route.path.clone(), Arc::new(Route::new(route, client)?));
        }
        Ok(Self {
            routes,
            store,
            queue,
            max_body_bytes: config.server.max_body_bytes,
            body_read_timeout: config.server.body_read_timeout,
            max_pending_events: config.store.max_pending_events,
            min_free_disk_bytes: config.store.min_free_disk_bytes,
        })
    }

    /// Every route.
    pub fn routes(&self) -> impl Iterator<Item = &Arc<Route>> {
        self.routes.values()
    }

    /// The route serving `name`, if any.
    pub fn route(&self, name: &str) -> Option<&Arc<Route>> {
        self.routes.values().find(|route| route.name == name)
    }

    /// The store behind the gateway.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Handles one inbound request and produces the sender's answer. Never fails: every
    /// refusal is a status and a log line.
    pub async fn handle<B>(&self, request: Request<B>, peer: SocketAddr) -> Response<Full<Bytes>>
    where
        B: hyper::body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        let path = request.uri().path().to_owned();
        let metrics = &self.queue.metrics;
        let Some(route) = self.routes.get(&path).cloned() else {
            tracing::info!(
                %path,
                status = 404,
                reason = %"no route for path",
                latency_ms = started.elapsed().as_millis() as u64,
                "refused"
            );
            metrics.request(NO_ROUTE, Outcome::Refused, StatusCode::NOT_FOUND);
            metrics.answered(NO_ROUTE, started.elapsed());
            return plain(StatusCode::NOT_FOUND, "no route\n");
        };
        let answer = self.accept(&route, request, peer).await;
        metrics.answered(&route.name, started.elapsed());
        match answer {
            Ok(response) => response,
            Err(refused) => {
                metrics.request(&route.name, Outcome::Refused, refused.status);
                tracing::info!(
                    route = %route.name,
                    status = refused.status.as_u16(),
                    reason = %refused.reason,
                    latency_ms = started.elapsed().as_millis() as u64,
                    "refused"
                );
                let mut response = plain(refused.status, &status_text(refused.status));
                if refused.status == StatusCode::METHOD_NOT_ALLOWED {
                    response
                        .headers_mut()
                        .insert(http::header::ALLOW, HeaderValue::from_static("POST"));
                }
                response
            }
        }
    }

    async fn accept<B>(
        &self,
        route: &Route,
        request: Request<B>,
        peer: SocketAddr,
    ) -> Result<Response<Full<Bytes>>, Refused>
    where
        B: hyper::body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        if request.method() != Method::POST {
            return Err(refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                "only POST is accepted",
            ));
        }
        let (parts, body) = request.into_parts();
        // A declared length over the limit is refused before a byte of the body is read.
        if body.size_hint().lower() > self.max_body_bytes as u64 {
            return Err(refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body over max_body_bytes",
            ));
        }
        let body = self.read_body(body).await?;
        let signature = parts
            .headers
            .get(SIGNATURE_HEADER)
            .map(HeaderValue::as_bytes);
        route
            .inbound
            .authenticate(signature, peer.ip(), &body)
            .map_err(|err| refuse(StatusCode::UNAUTHORIZED, &err.to_string()))?;

        let event = calcom::inspect(&body);
        if let Some(event) = &event {
            check_age(route, event)?;
        }
        let (enriched, saves) = self.enrich(route, body, event).await;
        let event_id = crate::event_id::of(&route.name, enriched.event.as_ref());
        let delivery = Delivery {
            event_id,
            body: enriched.body.clone(),
            content_type: parts.headers.get(CONTENT_TYPE).cloned(),
            webhook_version: parts.headers.get(WEBHOOK_VERSION_HEADER).cloned(),
            accepted_at: deliver::unix_now(),
        };
        if route.mode == DeliveryMode::Queued {
            return self.enqueue(route, &enriched, saves, delivery).await;
        }
        let sent_at = Instant::now();
        let (_sent, answer) = deliver::attempt(route, &delivery).await;
        let metrics = &self.queue.metrics;
        metrics.upstream(&route.name, &answer, sent_at.elapsed());
        let response = sync_answer(&answer);
        let outcome = if answer.is_ok() {
            Outcome::Delivered
        } else {
            Outcome::Failed
        };
        metrics.request(&route.name, outcome, response.status());
        log_access(route, &enriched, &delivery, &answer, started);
        Ok(response)
    }

    /// Commits an event to the queue and answers 202 only once it is durable.
    async fn enqueue(
        &self,
        route: &Route,
        enriched: &Enriched,
        saves: Vec<(String, BookingRecord)>,
        delivery: Delivery,
    ) -> Result<Response<Full<Bytes>>, Refused> {
        self.check_capacity()?;
        let event = enriched.event.as_ref();
        let identity = event.and_then(calcom::Event::identity);
        let accepted_at_ms = now_ms();
        let first_delay = route.retry_schedule.first().copied().unwrap_or_default();
        let new = NewEvent {
            route: route.name.clone(),
            chain: enriched
                .chain
                .clone()
                .unwrap_or_else(|| delivery.event_id.clone()),
            dedupe: identity.is_some(),
            trigger: event.map(|event| event.trigger.clone()),
            booking_uid: event.and_then(|event| event.booking_uid.clone()),
            body: delivery.body.to_vec(),
            content_type: delivery
                .content_type
                .as_ref()
                .map(|value| value.as_bytes().to_vec()),
            webhook_version: delivery
                .webhook_version
                .as_ref()
                .map(|value| value.as_bytes().to_vec()),
            accepted_at_ms,
            first_attempt_at_ms: accepted_at_ms + first_delay.as_millis() as i64,
            event_id: delivery.event_id,
            saves,
        };
        let enqueued = self.store.enqueue(&new, route.repeat_window).await.map_err(|err| {
            tracing::error!(route = %route.name, error = %err, "cannot commit event to the store");
            refuse(StatusCode::SERVICE_UNAVAILABLE, "store cannot commit the event")
        })?;
        let repeat = enqueued == Enqueued::Repeat;
        let metrics = &self.queue.metrics;
        metrics.request(&route.name, Outcome::Accepted, StatusCode::ACCEPTED);
        if !repeat {
            self.queue
                .waiting
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.queue.wake.notify_one();
        }
        tracing::info!(
            route = %route.name,
            event = new.trigger.as_deref().unwrap_or("-"),
            booking = new.booking_uid.as_deref().unwrap_or("-"),
            event_id = %new.event_id,
            repeat,
            added = enriched.added.len(),
            "accepted"
        );
        let body = serde_json::json!({ "event_id": new.event_id, "repeat": repeat }).to_string();
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = StatusCode::ACCEPTED;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(response)
    }

    /// Refuses new events while too many wait or the store's disk is nearly full, so that the
    /// sender sees the failure now instead of an event being lost later.
    fn check_capacity(&self) -> Result<(), Refused> {
        use std::sync::atomic::Ordering;

        let waiting = self.queue.waiting.load(Ordering::Relaxed);
        if waiting >= self.max_pending_events {
            let reason = format!("{waiting} events waiting, at max_pending_events");
            return Err(refuse(StatusCode::SERVICE_UNAVAILABLE, &reason));
        }
        let free = self.queue.disk_free.load(Ordering::Relaxed);
        if free < self.min_free_disk_bytes {
            let reason =
                format!("{free} bytes free on the store's disk, under min_free_disk_bytes");
            return Err(refuse(StatusCode::SERVICE_UNAVAILABLE, &reason));
        }
        Ok(())
    }

    async fn read_body<B>(&self, body: B) -> Result<Bytes, Refused>
    where
        B: hyper::body::Body<Data = Bytes>,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let limited = Limited::new(body, self.max_body_bytes);
        match tokio::time::timeout(self.body_read_timeout, limited.collect()).await {
            Err(_) => Err(refuse(
                StatusCode::REQUEST_TIMEOUT,
                "body not received in time",
            )),
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
            Ok(Err(err)) if err.is::<http_body_util::LengthLimitError>() => Err(refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body over max_body_bytes",
            )),
            Ok(Err(err)) => Err(refuse(
                StatusCode::BAD_REQUEST,
                &format!("body unreadable: {err}"),
            )),
        }
    }

    /// Enriches `body`, whose facts `event` the caller has already read from it. On a queued
    /// route the cache records learned are returned rather than saved, to be committed with
    /// the event; on a sync route they are saved at once and none are returned.
    async fn enrich(
        &self,
        route: &Route,
        body: Bytes,
        event: Option<calcom::Event>,
    ) -> (Enriched, Vec<(String, BookingRecord)>) {
        if route.profile == EnrichProfile::None {
            let enriched = Enriched {
                body,
                event,
                added: Vec::new(),
                chain: None,
                degraded: None,
            };
            return (enriched, Vec::new());
        }
        let (enriched, saves) = if route.mode == DeliveryMode::Queued {
            let deferred = Deferred::new(self.store.as_ref());
            let enriched = self.enrich_with(body, event, &deferred).await;
            (enriched, deferred.take())
        } else {
            let enriched = self.enrich_with(body, event, self.store.as_ref()).await;
            (enriched, Vec::new())
        };
        if let Some(err) = &enriched.degraded {
            tracing::warn!(route = %route.name, error = %err, "store failed; forwarding unenriched");
        }
        (enriched, saves)
    }

    async fn enrich_with(
        &self,
        body: Bytes,
        event: Option<calcom::Event>,
        cache: &dyn crate::store::Cache,
    ) -> Enriched {
        let counted = CountedCache {
            inner: cache,
            metrics: &self.queue.metrics,
        };
        calcom::enrich_inspected(body, event, &counted).await
    }
}

impl Route {
    fn new(config: &RouteConfig, client: Upstream) -> anyhow::Result<Self> {
        let schemes = config
            .sign
            .iter()
            .map(Scheme::from_config)
            .collect::<Result<Vec<_>, _>>()?;
        let mut headers = Vec::new();
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.as_bytes())?;
            let mut value = HeaderValue::from_str(value.expose())
                .map_err(|_| anyhow::anyhow!("header {name} has a value that is not valid"))?;
            value.set_sensitive(true);
            headers.push((name, value));
        }
        Ok(Self {
            name: config.name.clone(),
            upstream: config.upstream.clone(),
            mode: config.delivery,
            timeout: config.timeout,
            client,
            schemes,
            headers,
            retry_schedule: config.retry_schedule(),
            repeat_window: config.repeat_window,
            inbound: Inbound::new(
                config.inbound_secrets()?,
                config.inbound.allow_unsigned_from.clone(),
            ),
            profile: config.enrich.profile,
            max_event_age: config.max_event_age,
        })
    }
}

/// Refuses a captured cal.com event replayed later than `max_event_age` after cal.com sent it,
/// or dated further ahead than clocks drift (such an event would never age). The send time of
/// the flat MEETING_* bodies is their `startTime` / `endTime`; events that carry no time at all
/// cannot be checked.
fn check_age(route: &Route, event: &calcom::Event) -> Result<(), Refused> {
    let Some(sent_at) = event.sent_at.as_deref() else {
        return Ok(());
    };
    let Ok(sent_at) = OffsetDateTime::parse(sent_at, &Rfc3339) else {
        let reason = "event send time is not an RFC 3339 timestamp";
        return Err(refuse(StatusCode::UNPROCESSABLE_ENTITY, reason));
    };
    let age = OffsetDateTime::now_utc() - sent_at;
    if age > route.max_event_age {
        let reason = format!(
            "event was sent {}s ago, over max_event_age",
            age.whole_seconds()
        );
        return Err(refuse(StatusCode::UNPROCESSABLE_ENTITY, &reason));
    }
    if -age > MAX_CLOCK_SKEW {
        let reason = format!("event is dated {}s in the future", (-age).whole_seconds());
        return Err(refuse(StatusCode::UNPROCESSABLE_ENTITY, &reason));
    }
    Ok(())
}

/// How far ahead of hookseal's clock cal.com's may run before an event counts as forged.
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// The sender's answer on a sync route: the upstream's status and body, or 502/504.
fn sync_answer(answer: &Result<crate::upstream::Answer, UpstreamError>) -> Response<Full<Bytes>> {
    match answer {
        Ok(answer) => {
            let mut response = Response::new(Full::new(answer.body.clone()));
            *response.status_mut() = answer.status;
            if let Some(content_type) = answer.headers.get(CONTENT_TYPE) {
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, content_type.clone());
            }
            response
        }
        Err(UpstreamError::Timeout) => plain(StatusCode::GATEWAY_TIMEOUT, "upstream timed out\n"),
        Err(_) => plain(StatusCode::BAD_GATEWAY, "upstream unreachable\n"),
    }
}

fn log_access(
    route: &Route,
    enriched: &Enriched,
    delivery: &Delivery,
    answer: &Result<crate::upstream::Answer, UpstreamError>,
    started: Instant,
) {
    let event = enriched.event.as_ref();
    let upstream_status = answer.as_ref().map(|answer| answer.status.as_u16()).ok();
    tracing::info!(
        route = %route.name,
        event = event.map_or("-", |event| event.trigger.as_str()),
        booking = event.and_then(|event| event.booking_uid.as_deref()).unwrap_or("-"),
        event_id = %delivery.event_id,
        upstream_status,
        error = answer.as_ref().err().map(tracing::field::display),
        attempt = 1,
        added = enriched.added.len(),
        latency_ms = started.elapsed().as_millis() as u64,
        "webhook"
    );
}

fn refuse(status: StatusCode, reason: &str) -> Refused {
    Refused {
        status,
        reason: reason.to_owned(),
    }
}

fn status_text(status: StatusCode) -> String {
    format!(
        "{}\n",
        status
            .canonical_reason()
            .unwrap_or("refused")
            .to_lowercase()
    )
}

/// A short plain-text response.
pub fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::copy_from_slice(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests;
