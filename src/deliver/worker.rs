//! The delivery workers: claim due events from the store, attempt them, record the outcome.
//!
//! The store hands out only the oldest waiting event of each chain, leased to this process,
//! so events of one booking chain reach their upstream one at a time and in order, while
//! different chains proceed side by side up to the worker limit.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::HeaderValue;
use tokio::sync::{watch, Notify, Semaphore};

use super::retry::{self, Outcome};
use super::{Delivery, Sent};
use crate::gateway::Route;
use crate::server::SharedGateway;
use crate::store::{QueuedEvent, Store};
use crate::upstream::{Answer, UpstreamError};

/// How often workers look for due events without being woken: retries falling due, and
/// events that other replicas accepted.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// How often the queue gauges and free disk space are refreshed.
const GAUGE_INTERVAL: Duration = Duration::from_secs(1);

/// A lease outlives the attempt's timeout by this much before another worker may take over.
const LEASE_MARGIN: Duration = Duration::from_secs(10);

/// How often delivered events past their retention and expired cache entries are deleted.
const EXPIRE_INTERVAL: Duration = Duration::from_secs(600);

/// What the inbound side and the workers share: a wake-up call, the queue's gauges and the
/// metrics they both count into.
#[derive(Debug)]
pub struct QueueState {
    /// Wakes the workers when an event is accepted or an attempt ends.
    pub wake: Notify,
    /// Events waiting (first attempt or retry), as last counted plus those accepted since.
    pub waiting: AtomicU64,
    /// Free bytes on the store's disk, as last measured (`u64::MAX` when not measured).
    pub disk_free: AtomicU64,
    /// What the gateway and the workers count.
    pub metrics: crate::metrics::Metrics,
    /// The folder whose file system holds the embedded store; `None` for a remote store.
    disk: Option<std::path::PathBuf>,
}

impl QueueState {
    /// Gauges for a store on `disk` (a folder), measured once now.
    pub fn new(disk: Option<std::path::PathBuf>) -> Self {
        let state = Self {
            wake: Notify::new(),
            waiting: AtomicU64::new(0),
            disk_free: AtomicU64::new(u64::MAX),
            metrics: crate::metrics::Metrics::new(),
            disk,
        };
        state.measure_disk();
        state
    }

    /// Measures the free space of the store's disk.
    pub fn measure_disk(&self) {
        if let Some(free) = self.disk.as_deref().and_then(free_bytes) {
            self.disk_free.store(free, Ordering::Relaxed);
        }
    }
}

/// Runs the workers until `stop` turns true, then waits for attempts in flight.
pub async fn run(
    gateway: SharedGateway,
    store: Arc<dyn Store>,
    state: Arc<QueueState>,
    workers: usize,
    mut stop: watch::Receiver<bool>,
) {
    let owner = crate::event_id::fresh();
    let slots = Arc::new(Semaphore::new(workers.max(1)));
    while !*stop.borrow() {
        let free = slots.available_permits();
        if free > 0 {
            claim_and_start(&gateway, &store, &state, &slots, &owner, free).await;
        }
        tokio::select! {
            () = state.wake.notified() => {}
            () = tokio::time::sleep(POLL_INTERVAL) => {}
            _ = stop.changed() => {}
        }
    }
    // Attempts in flight finish (each within its route's timeout); nothing new starts.
    let _ = slots.acquire_many(workers.max(1) as u32).await;
}

async fn claim_and_start(
    gateway: &SharedGateway,
    store: &Arc<dyn Store>,
    state: &Arc<QueueState>,
    slots: &Arc<Semaphore>,
    owner: &str,
    free: usize,
) {
    let current = gateway.load_full();
    let routes: Vec<String> = current.routes().map(|route| route.name.clone()).collect();
    let lease = current
        .routes()
        .map(|route| route.timeout)
        .max()
        .unwrap_or_default()
        + LEASE_MARGIN;
    let claimed = match store.claim(&routes, owner, now_ms(), lease, free).await {
        Ok(claimed) => claimed,
        Err(err) => {
            tracing::warn!(error = %err, "cannot claim events from the store");
            return;
        }
    };
    for event in claimed {
        let Some(route) = current.route(&event.route).cloned() else {
            continue;
        };
        let Ok(permit) = Arc::clone(slots).acquire_owned().await else {
            return;
        };
        let store = Arc::clone(store);
        let state = Arc::clone(state);
        let owner = owner.to_owned();
        tokio::spawn(async move {
            attempt(&route, &event, store.as_ref(), &owner, &state.metrics).await;
            drop(permit);
            // The chain's next event, if any, is now at its head.
            state.wake.notify_one();
        });
    }
}

async fn attempt(
    route: &Route,
    event: &QueuedEvent,
    store: &dyn Store,
    owner: &str,
    metrics: &crate::metrics::Metrics,
) {
    let started = std::time::Instant::now();
    let delivery = delivery(event);
    let (_sent, answer): (Sent, Result<Answer, UpstreamError>) =
        super::attempt(route, &delivery).await;
    let outcome = match &answer {
        Ok(answer) => Outcome::Answered {
            status: answer.status,
            retry_after: retry::retry_after(answer.status, &answer.headers, SystemTime::now()),
        },
        Err(err) => Outcome::Failed(err.to_string()),
    };
    let verdict = retry::judge(
        &outcome,
        event.attempts,
        &route.retry_schedule,
        now_ms(),
        jitter(),
    );
    metrics.upstream(&route.name, &answer, started.elapsed());
    metrics.queued_attempt(&route.name, &verdict.finish, event.attempts);
    tracing::info!(
        route = %route.name,
        event = event.trigger.as_deref().unwrap_or("-"),
        booking = event.booking_uid.as_deref().unwrap_or("-"),
        event_id = %event.event_id,
        upstream_status = answer.as_ref().ok().map(|answer| answer.status.as_u16()),
        error = answer.as_ref().err().map(tracing::field::display),
        attempt = event.attempts + 1,
        outcome = outcome_name(&verdict.finish),
        latency_ms = started.elapsed().as_millis() as u64,
        "webhook"
    );
    if verdict.pause_route {
        tracing::warn!(route = %route.name, "upstream answered 410 Gone; pausing the route");
        if let Err(err) = store
            .pause_route(&route.name, "upstream answered 410 Gone")
            .await
        {
            tracing::error!(route = %route.name, error = %err, "cannot pause route");
        }
    }
    if let Err(err) = store.finish(event.seq, owner, &verdict.finish).await {
        // The lease runs out and the attempt is repeated, with the same event id.
        tracing::error!(event_id = %event.event_id, error = %err, "cannot record attempt");
    }
}

fn delivery(event: &QueuedEvent) -> Delivery {
    let header = |bytes: &Option<Vec<u8>>| {
        bytes
            .as_deref()
            .and_then(|bytes| HeaderValue::from_bytes(bytes).ok())
    };
    Delivery {
        event_id: event.event_id.clone(),
        body: bytes::Bytes::from(event.body.clone()),
        content_type: header(&event.content_type),
        webhook_version: header(&event.webhook_version),
        accepted_at: event.accepted_at_ms / 1000,
    }
}

fn outcome_name(finish: &crate::store::Finish) -> &'static str {
    match finish {
        crate::store::Finish::Delivered { .. } => "delivered",
        crate::store::Finish::Retry { .. } => "retry",
        crate::store::Finish::Dead { .. } => "dead",
    }
}

/// Keeps the queue gauges and the disk measurement fresh, and deletes expired rows.
pub async fn maintain(
    store: Arc<dyn Store>,
    state: Arc<QueueState>,
    retention: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut last_expire = tokio::time::Instant::now();
    while !*stop.borrow() {
        if let Ok(stats) = store.stats().await {
            state
                .waiting
                .store(stats.pending + stats.retrying, Ordering::Relaxed);
        }
        state.measure_disk();
        if last_expire.elapsed() >= EXPIRE_INTERVAL {
            last_expire = tokio::time::Instant::now();
            let before = now_ms() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
            match store.expire(before).await {
                Ok(removed) => tracing::debug!(removed, "expired old events and cache entries"),
                Err(err) => tracing::warn!(error = %err, "cannot expire old rows"),
            }
        }
        tokio::select! {
            () = tokio::time::sleep(GAUGE_INTERVAL) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Free bytes for unprivileged writers on the file system holding `path`.
fn free_bytes(path: &std::path::Path) -> Option<u64> {
    let stats = nix::sys::statvfs::statvfs(path).ok()?;
    Some(
        stats
            .blocks_available()
            .saturating_mul(stats.fragment_size()),
    )
}

/// A number in `[0, 1)` for retry jitter.
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    if getrandom::getrandom(&mut bytes).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}

/// Unix ms now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}
