//! The delivery queue's records: what is stored per event and what the workers claim.

use serde::Serialize;

use super::BookingRecord;

/// An accepted event to commit.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The route's name.
    pub route: String,
    /// The event id.
    pub event_id: String,
    /// The ordering key: events of one chain are delivered one at a time, in order.
    pub chain: String,
    /// Whether the id comes from the sender's identity, so that a repeat can be recognised.
    pub dedupe: bool,
    /// `triggerEvent`, when known.
    pub trigger: Option<String>,
    /// The booking uid, when known.
    pub booking_uid: Option<String>,
    /// The bytes to deliver.
    pub body: Vec<u8>,
    /// The sender's `Content-Type`.
    pub content_type: Option<Vec<u8>>,
    /// The sender's `X-Cal-Webhook-Version`.
    pub webhook_version: Option<Vec<u8>>,
    /// Unix ms when hookseal accepted the event.
    pub accepted_at_ms: i64,
    /// Unix ms of the first attempt.
    pub first_attempt_at_ms: i64,
    /// Cache records learned from the event, saved in the same commit as the event (and not
    /// at all for a repeat).
    pub saves: Vec<(String, BookingRecord)>,
}

/// Whether [`NewEvent`] was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// Stored, to be delivered; the queue sequence number.
    Accepted(i64),
    /// A repeat of an event accepted within the window; not stored again.
    Repeat,
}

/// A leased event, ready for an attempt.
#[derive(Debug, Clone)]
pub struct QueuedEvent {
    /// Queue sequence number.
    pub seq: i64,
    /// The route's name.
    pub route: String,
    /// The event id.
    pub event_id: String,
    /// The ordering key.
    pub chain: String,
    /// `triggerEvent`, when known.
    pub trigger: Option<String>,
    /// The booking uid, when known.
    pub booking_uid: Option<String>,
    /// The bytes to deliver.
    pub body: Vec<u8>,
    /// The sender's `Content-Type`.
    pub content_type: Option<Vec<u8>>,
    /// The sender's `X-Cal-Webhook-Version`.
    pub webhook_version: Option<Vec<u8>>,
    /// Unix ms when hookseal accepted the event.
    pub accepted_at_ms: i64,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// The outcome of an attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// A 2xx answer.
    Delivered {
        /// The status.
        status: u16,
    },
    /// Try again at `at_ms`.
    Retry {
        /// Unix ms of the next attempt.
        at_ms: i64,
        /// What went wrong.
        error: String,
        /// The status, if the upstream answered.
        status: Option<u16>,
    },
    /// Out of attempts (or 410): kept for replay.
    Dead {
        /// What went wrong last.
        error: String,
        /// The status, if the upstream answered.
        status: Option<u16>,
    },
}

impl Finish {
    /// The row an outcome leaves: state, next attempt (unix ms), last status and last error.
    pub(crate) fn columns(&self) -> (&'static str, Option<i64>, Option<u16>, Option<&str>) {
        match self {
            Self::Delivered { status } => ("delivered", None, Some(*status), None),
            Self::Retry {
                at_ms,
                error,
                status,
            } => ("pending", Some(*at_ms), *status, Some(error.as_str())),
            Self::Dead { error, status } => ("dead", None, *status, Some(error.as_str())),
        }
    }
}

/// An event's state in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum EventState {
    /// Waiting for its first attempt.
    Pending,
    /// Waiting for another attempt after a failure.
    Retrying,
    /// Delivered with a 2xx.
    Delivered,
    /// Out of attempts, kept for replay.
    Dead,
}

/// Which stored events an operation applies to; unset fields match everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Queue sequence number.
    pub seq: Option<i64>,
    /// Route name.
    pub route: Option<String>,
    /// State.
    pub state: Option<EventState>,
    /// Booking uid.
    pub booking_uid: Option<String>,
    /// Event id.
    pub event_id: Option<String>,
    /// Only events accepted before this unix ms.
    pub accepted_before_ms: Option<i64>,
}

/// A stored event as the delivery API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEvent {
    /// Queue sequence number.
    pub seq: i64,
    /// The route's name.
    pub route: String,
    /// The event id.
    pub event_id: String,
    /// The ordering key.
    pub chain: String,
    /// `triggerEvent`, when known.
    pub trigger: Option<String>,
    /// The booking uid, when known.
    pub booking_uid: Option<String>,
    /// Current state.
    pub state: EventState,
    /// Attempts made.
    pub attempts: u32,
    /// Unix ms when accepted.
    pub accepted_at_ms: i64,
    /// Unix ms of the next attempt, while waiting.
    pub next_attempt_at_ms: Option<i64>,
    /// Last upstream status.
    pub last_status: Option<u16>,
    /// Last failure.
    pub last_error: Option<String>,
    /// The stored body (skipped in listings).
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// Queue counts for probes and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    /// Waiting for a first attempt.
    pub pending: u64,
    /// Waiting after a failure.
    pub retrying: u64,
    /// Out of attempts.
    pub dead: u64,
    /// Unix ms of the oldest waiting event's acceptance.
    pub oldest_waiting_ms: Option<i64>,
    /// Paused routes with the reason.
    pub paused: Vec<(String, String)>,
}
