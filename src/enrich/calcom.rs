//! The `calcom` enrichment profile: cached metadata and reschedule lineage for cal.com events.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::store::{Store, StoreError};

/// Where an event keeps its booking fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"triggerEvent", "createdAt", "payload": {...}}`.
    Envelope,
    /// MEETING_STARTED / MEETING_ENDED: `triggerEvent` beside the booking row's fields.
    Flat,
}

/// A booking an event says it was rescheduled from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reschedule {
    /// `rescheduleUid`.
    pub uid: String,
    /// `rescheduleId`, when sent.
    pub id: Option<i64>,
}

/// The facts of one cal.com event, read from its body.
#[derive(Debug, Clone)]
pub struct Event {
    /// `triggerEvent`.
    pub trigger: String,
    /// `createdAt` as sent.
    pub created_at: Option<String>,
    /// The uid of the booking the event is about.
    pub booking_uid: Option<String>,
    /// The numeric id of that booking.
    pub booking_id: Option<i64>,
    /// The event's `metadata` object: `None` when absent or not an object.
    pub metadata: Option<Map<String, Value>>,
    /// The booking this event's booking was rescheduled from.
    pub reschedule_of: Option<Reschedule>,
    /// Where the booking fields sit.
    pub shape: Shape,
}

impl Event {
    /// The sender's identity of this event (trigger, booking, `createdAt`), when it has all
    /// three; the event id is derived from it.
    pub fn identity(&self) -> Option<String> {
        let uid = self.booking_uid.as_deref()?;
        let created_at = self.created_at.as_deref()?;
        Some(format!("{}\u{0}{uid}\u{0}{created_at}", self.trigger))
    }

    /// MEETING_STARTED and MEETING_ENDED, whose `createdAt` is the booking's, not the send time.
    pub fn is_meeting(&self) -> bool {
        self.shape == Shape::Flat
    }
}

/// The outcome of enriching one body.
#[derive(Debug)]
pub struct Enriched {
    /// The bytes to deliver: the original ones when nothing was added.
    pub body: Bytes,
    /// The event's facts, when the body is cal.com JSON.
    pub event: Option<Event>,
    /// Names of the fields hookseal added, for logs and the demo.
    pub added: Vec<String>,
    /// The uid of the first booking of the event's chain: the ordering key.
    pub chain: Option<String>,
    /// Set when the store failed and the body went out unenriched.
    pub degraded: Option<StoreError>,
}

/// Reads the facts of a cal.com event; `None` for anything else (templates, PING without a
/// booking is still an event, `false`, invalid JSON).
pub fn inspect(_body: &[u8]) -> Option<Event> {
    None
}

/// Enriches `body` from, and records its facts into, `store`.
pub async fn enrich(body: Bytes, _store: &dyn Store) -> Enriched {
    Enriched {
        body,
        event: None,
        added: Vec::new(),
        chain: None,
        degraded: None,
    }
}
