//! Prometheus metrics: what the gateway and the workers count, and the text `/metrics` serves.
//!
//! Built on `prometheus-client`, the Prometheus project's own Rust client: metrics live in an
//! explicit [`Registry`] owned by the running app (no process-global recorder to install, so a
//! reload or a second app in one test process never mixes counts), label sets are typed, and
//! its dependency tree is a handful of small crates. It writes the OpenMetrics text format,
//! which Prometheus scrapes natively.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use http::StatusCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::store::{BookingRecord, Cache, Finish, QueueStats, StoreError};
use crate::upstream::{Answer, UpstreamError};

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The route label of requests that matched no route.
pub const NO_ROUTE: &str = "-";

/// Every metric hookseal exports, registered in one registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    answer_seconds: Family<RouteLabel, Histogram, fn() -> Histogram>,
    upstream: Family<UpstreamLabels, Counter>,
    upstream_seconds: Family<RouteLabel, Histogram, fn() -> Histogram>,
    attempts: Family<AttemptLabels, Counter>,
    retries: Family<RouteLabel, Counter>,
    events: Family<StateLabel, Gauge>,
    oldest_waiting_seconds: Gauge<f64, AtomicU64>,
    paused: Family<RouteLabel, Gauge>,
    store_up: Gauge,
    cache: Family<CacheLabel, Counter>,
    reloads: Family<ReloadLabel, Counter>,
}

/// How the sender's request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Queued route: committed to the store and answered 202 (repeats included).
    Accepted,
    /// Sync route: the upstream answered and its answer was passed on.
    Delivered,
    /// Sync route: the upstream could not be reached or timed out (502/504).
    Failed,
    /// Refused before delivery: no route, bad signature, too old, too large, store full...
    Refused,
}

impl Outcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Refused => "refused",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    outcome: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    route: String,
    class: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    route: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabel {
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabel {
    result: &'static str,
}

// ---- Metrics ----

impl Metrics {
    /// Creates every metric at zero and registers it.
    pub fn new() -> Self {
        let metrics = Self {
            registry: Registry::with_prefix("hookseal"),
            requests: Family::default(),
            answer_seconds: Family::new_with_constructor(latency_histogram),
            upstream: Family::default(),
            upstream_seconds: Family::new_with_constructor(latency_histogram),
            attempts: Family::default(),
            retries: Family::default(),
            events: Family::default(),
            oldest_waiting_seconds: Gauge::default(),
            paused: Family::default(),
            store_up: Gauge::default(),
            cache: Family::default(),
            reloads: Family::default(),
        };
        metrics.register()
    }

    fn register(mut self) -> Self {
        let registry = &mut self.registry;
        registry.register(
            "requests",
            "Webhooks received, by route, outcome and the status answered",
            self.requests.clone(),
        );
        registry.register(
            "answer_duration_seconds",
            "Time from a webhook's arrival to hookseal's answer to the sender",
            self.answer_seconds.clone(),
        );
        registry.register(
            "upstream_responses",
            "Upstream attempts by status class: 2xx, 3xx, 4xx, 5xx, error or timeout",
            self.upstream.clone(),
        );
        registry.register(
            "upstream_duration_seconds",
            "Duration of one upstream attempt",
            self.upstream_seconds.clone(),
        );
        registry.register(
            "queued_attempts",
            "Queued deliveries' attempts by what followed: delivered, retry or dead",
            self.attempts.clone(),
        );
        registry.register(
            "retries",
            "Attempts of queued events that were not their first",
            self.retries.clone(),
        );
        registry.register(
            "events",
            "Stored events waiting (first attempt), in retry, or dead",
            self.events.clone(),
        );
        registry.register(
            "oldest_waiting_event_age_seconds",
            "Age of the oldest event still waiting for delivery; 0 when none waits",
            self.oldest_waiting_seconds.clone(),
        );
        registry.register(
            "route_paused",
            "1 while a route's deliveries are paused (for instance after a 410)",
            self.paused.clone(),
        );
        registry.register(
            "store_up",
            "1 when the store answered the last scrape's query",
            self.store_up.clone(),
        );
        registry.register(
            "cache_lookups",
            "Booking records looked up for enrichment, by hit or miss",
            self.cache.clone(),
        );
        registry.register(
            "config_reloads",
            "Config reloads on SIGHUP, by ok or failed",
            self.reloads.clone(),
        );
        self
    }

    /// The exposition text of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail; an encoder error would be a bug in a label.
        if let Err(err) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::warn!(error = %err, "cannot encode metrics");
        }
        text
    }

    /// Counts one webhook's outcome and the status the sender got.
    pub fn request(&self, route: &str, outcome: Outcome, status: StatusCode) {
        let labels = RequestLabels {
            route: route.to_owned(),
            outcome: outcome.as_str(),
            status: status.as_u16(),
        };
        self.requests.get_or_create(&labels).inc();
    }

    /// Records how long the sender waited for its answer.
    pub fn answered(&self, route: &str, elapsed: Duration) {
        let labels = route_label(route);
        self.answer_seconds
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Records one upstream attempt: its status class and duration.
    pub fn upstream(&self, route: &str, answer: &Result<Answer, UpstreamError>, took: Duration) {
        let labels = UpstreamLabels {
            route: route.to_owned(),
            class: status_class(answer),
        };
        self.upstream.get_or_create(&labels).inc();
        self.upstream_seconds
            .get_or_create(&route_label(route))
            .observe(took.as_secs_f64());
    }

    /// Records what followed a queued event's attempt; `attempts_before` counts the earlier ones.
    pub fn queued_attempt(&self, route: &str, finish: &Finish, attempts_before: u32) {
        let outcome = match finish {
            Finish::Delivered { .. } => "delivered",
            Finish::Retry { .. } => "retry",
            Finish::Dead { .. } => "dead",
        };
        let labels = AttemptLabels {
            route: route.to_owned(),
            outcome,
        };
        self.attempts.get_or_create(&labels).inc();
        if attempts_before > 0 {
            self.retries.get_or_create(&route_label(route)).inc();
        }
    }

    /// Counts one enrichment cache lookup.
    pub fn cache_lookup(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.cache.get_or_create(&CacheLabel { result }).inc();
    }

    /// Counts one config reload.
    pub fn reload(&self, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        self.reloads.get_or_create(&ReloadLabel { result }).inc();
    }

    /// Sets the queue gauges from the store's counts; `routes` are the configured routes, so a
    /// resumed route drops back to 0.
    pub fn queue(&self, stats: &QueueStats, routes: &[String], now_ms: i64) {
        let count = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        let gauge = |state| self.events.get_or_create(&StateLabel { state });
        gauge("waiting").set(count(stats.pending));
        gauge("retrying").set(count(stats.retrying));
        gauge("dead").set(count(stats.dead));

        let age_ms = stats.oldest_waiting_ms.map_or(0, |oldest| now_ms - oldest);
        self.oldest_waiting_seconds
            .set(age_ms.max(0) as f64 / 1000.0);

        // Routes removed by a reload and no longer paused drop out of the family.
        self.paused.clear();
        for route in routes {
            self.paused.get_or_create(&route_label(route)).set(0);
        }
        for (route, _reason) in &stats.paused {
            self.paused.get_or_create(&route_label(route)).set(1);
        }
        self.store_up.set(1);
    }

    /// Marks the store as not answering.
    pub fn store_down(&self) {
        self.store_up.set(0);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The enrichment cache, counting hits and misses on the way through.
#[derive(Debug)]
pub struct CountedCache<'a, C: ?Sized> {
    /// The cache looked up.
    pub inner: &'a C,
    /// Where hits and misses are counted.
    pub metrics: &'a Metrics,
}

#[async_trait::async_trait]
impl<C: Cache + ?Sized> Cache for CountedCache<'_, C> {
    async fn booking(&self, uid: &str) -> Result<Option<BookingRecord>, StoreError> {
        let record = self.inner.booking(uid).await?;
        self.metrics.cache_lookup(record.is_some());
        Ok(record)
    }

    async fn save_booking(&self, uid: &str, record: &BookingRecord) -> Result<(), StoreError> {
        self.inner.save_booking(uid, record).await
    }
}

fn status_class(answer: &Result<Answer, UpstreamError>) -> &'static str {
    match answer {
        Ok(answer) => match answer.status.as_u16() {
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            500..=599 => "5xx",
            _ => "1xx",
        },
        Err(UpstreamError::Timeout) => "timeout",
        Err(_) => "error",
    }
}

fn route_label(route: &str) -> RouteLabel {
    RouteLabel {
        route: route.to_owned(),
    }
}

/// Buckets from 5 ms to about 40 s, doubling: senders time out in tens of seconds.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_labels_appear_in_the_exposition() {
        let metrics = Metrics::new();
        metrics.request("crm", Outcome::Accepted, StatusCode::ACCEPTED);
        metrics.request("crm", Outcome::Accepted, StatusCode::ACCEPTED);
        metrics.reload(false);
        let text = metrics.encode();
        assert!(
            text.contains(
                "hookseal_requests_total{route=\"crm\",outcome=\"accepted\",status=\"202\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("hookseal_config_reloads_total{result=\"failed\"} 1"));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn queue_gauges_follow_the_stats() {
        let metrics = Metrics::new();
        let stats = QueueStats {
            pending: 3,
            retrying: 1,
            dead: 2,
            oldest_waiting_ms: Some(1_000),
            paused: vec![("crm".into(), "410".into())],
        };
        metrics.queue(&stats, &["crm".into(), "erp".into()], 11_000);
        let text = metrics.encode();
        assert!(
            text.contains("hookseal_events{state=\"waiting\"} 3"),
            "{text}"
        );
        assert!(text.contains("hookseal_oldest_waiting_event_age_seconds 10.0"));
        assert!(text.contains("hookseal_route_paused{route=\"crm\"} 1"));
        assert!(text.contains("hookseal_route_paused{route=\"erp\"} 0"));
    }
}
