//! The `calcom` enrichment profile: cached metadata and reschedule lineage for cal.com events.
//!
//! Three pure steps and their glue: [`inspect`] reads an event's facts, [`plan`] decides what
//! to remember and what to add, [`apply`] splices the additions into the body; [`enrich`] runs
//! them against a [`Store`].

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::store::{BookingRecord, Cache, StoreError};

mod apply;
mod inspect;
mod plan;
mod trigger;

pub use apply::{apply, Applied};
pub use inspect::inspect;
pub use plan::{plan, predecessor, Addition, Lineage, MetadataSlot, Plan};

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
    /// When cal.com sent the event, as written in the body: `createdAt` of an envelope, and for
    /// the flat MEETING_STARTED / MEETING_ENDED bodies (whose `createdAt` is the booking's) the
    /// `startTime` / `endTime` at which cal.com's scheduler sends them. A value that is not a
    /// string stands here as its JSON text, which is no timestamp.
    pub sent_at: Option<String>,
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

impl Enriched {
    /// The body as it came, with what is known of it.
    fn unchanged(body: Bytes, event: Option<Event>, chain: Option<String>) -> Self {
        Self {
            body,
            event,
            added: Vec::new(),
            chain,
            degraded: None,
        }
    }
}

/// Enriches `body` from, and records its facts into, `store`.
///
/// Anything that is not a cal.com event about a booking, and any body with nothing to add,
/// goes out as the same `Bytes`. A store failure also leaves the body as it came, with
/// [`Enriched::degraded`] set.
pub async fn enrich(body: Bytes, store: &dyn Cache) -> Enriched {
    let event = inspect(&body);
    enrich_inspected(body, event, store).await
}

/// As [`enrich`], for a body whose [`inspect`] the caller already has: the body is not read
/// twice.
#[tracing::instrument(skip_all)]
pub async fn enrich_inspected(body: Bytes, event: Option<Event>, store: &dyn Cache) -> Enriched {
    let Some(event) = event else {
        return Enriched::unchanged(body, None, None);
    };
    let Some(uid) = event.booking_uid.clone() else {
        return Enriched::unchanged(body, Some(event), None);
    };

    // Without the cache the best ordering key known is the booking itself.
    let plan = match remember(&event, store).await {
        Ok(Some(plan)) => plan,
        Ok(None) => return Enriched::unchanged(body, Some(event), Some(uid)),
        Err((err, chain)) => {
            let mut enriched = Enriched::unchanged(body, Some(event), chain.or(Some(uid)));
            enriched.degraded = Some(err);
            return enriched;
        }
    };

    let Some(applied) = apply(&body, event.shape, &plan.addition) else {
        return Enriched::unchanged(body, Some(event), Some(plan.chain));
    };
    Enriched {
        body: Bytes::from(applied.body),
        event: Some(event),
        added: applied.added,
        chain: Some(plan.chain),
        degraded: None,
    }
}

/// Reads what the plan needs, plans, and saves what changed. On failure, returns the chain when
/// it was already known.
async fn remember(
    event: &Event,
    store: &dyn Cache,
) -> Result<Option<Plan>, (StoreError, Option<String>)> {
    let (current, previous) = records(event, store).await.map_err(|err| (err, None))?;
    let Some(plan) = plan(event, current.as_ref(), previous.as_ref()) else {
        return Ok(None);
    };

    for (uid, record) in &plan.saves {
        if let Err(err) = store.save_booking(uid, record).await {
            return Err((err, Some(plan.chain)));
        }
    }
    Ok(Some(plan))
}

/// The booking's cached record and, when the event links a new predecessor, that one's.
async fn records(
    event: &Event,
    store: &dyn Cache,
) -> Result<(Option<BookingRecord>, Option<BookingRecord>), StoreError> {
    let Some(uid) = event.booking_uid.as_deref() else {
        return Ok((None, None));
    };
    let current = store.booking(uid).await?;
    let previous = match predecessor(event, current.as_ref()) {
        Some(link) => store.booking(&link.uid).await?,
        None => None,
    };
    Ok((current, previous))
}

#[cfg(test)]
mod tests;
