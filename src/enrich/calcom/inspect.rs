//! Reading the facts of a cal.com event from its body.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{trigger, Event, Reschedule, Shape};
use crate::enrich::splice::Object;

/// Reads the facts of a cal.com event; `None` for anything else (templates, `false`, invalid
/// or too deeply nested JSON, JSON without `triggerEvent`). PING is an event without a booking.
pub fn inspect(body: &[u8]) -> Option<Event> {
    let text = std::str::from_utf8(body).ok()?;
    let root = Object::parse(text).ok()?;
    let trigger = string(root.get("triggerEvent")?)?;
    let created_at = root.get("createdAt").and_then(string);

    let payload = root.object("payload");
    let shape = match payload {
        None if trigger::is_meeting(&trigger) => Shape::Flat,
        _ => Shape::Envelope,
    };
    let record = match shape {
        Shape::Flat => Some(&root),
        Shape::Envelope => payload.as_ref(),
    };

    let sent_at = match (shape, trigger.as_str()) {
        (Shape::Flat, "MEETING_STARTED") => root.get("startTime"),
        (Shape::Flat, _) => root.get("endTime"),
        (Shape::Envelope, _) => root.get("createdAt"),
    };
    // A time that is present but not a string is kept as written, so that the age check
    // refuses it instead of skipping it.
    let sent_at = sent_at.map(|raw| string(raw).unwrap_or_else(|| raw.get().to_owned()));
    let mut event = Event {
        trigger,
        created_at,
        sent_at,
        booking_uid: None,
        booking_id: None,
        metadata: None,
        reschedule_of: None,
        shape,
    };
    if let Some(record) = record {
        read_booking(&mut event, record);
    }
    Some(event)
}

/// Fills in the booking facts from the object that holds the booking fields.
fn read_booking(event: &mut Event, record: &Object<'_>) {
    let trigger = event.trigger.as_str();
    let (uid, id) = match (trigger, event.shape) {
        (_, Shape::Flat) => (record.get("uid"), record.get("id")),
        (trigger::WRONG_ASSIGNMENT_REPORT, _) => {
            let booking = record.object("booking");
            let field = |key| booking.as_ref().and_then(|booking| booking.get(key));
            (field("uid"), field("id"))
        }
        _ if trigger::is_no_show(trigger) => (record.get("bookingUid"), record.get("bookingId")),
        _ => (record.get("uid"), record.get("bookingId")),
    };

    event.booking_uid = uid.and_then(string);
    event.booking_id = id.and_then(integer);
    event.metadata = record.get("metadata").and_then(object);
    event.reschedule_of = reschedule_of(trigger, record);
}

/// The booking this event's booking was rescheduled from, when the event says so.
fn reschedule_of(trigger: &str, record: &Object<'_>) -> Option<Reschedule> {
    if trigger::is_meeting(trigger) {
        let uid = string(record.get("fromReschedule")?)?;
        return Some(Reschedule { uid, id: None });
    }
    if !trigger::may_reschedule(trigger) {
        return None;
    }
    let uid = string(record.get("rescheduleUid")?)?;
    let id = record.get("rescheduleId").and_then(integer);
    Some(Reschedule { uid, id })
}

/// A non-empty JSON string.
fn string(raw: &RawValue) -> Option<String> {
    let value: String = serde_json::from_str(raw.get()).ok()?;
    (!value.is_empty()).then_some(value)
}

/// A JSON integer that fits an `i64`.
fn integer(raw: &RawValue) -> Option<i64> {
    serde_json::from_str(raw.get()).ok()
}

/// A JSON object, decoded.
fn object(raw: &RawValue) -> Option<Map<String, Value>> {
    serde_json::from_str(raw.get()).ok()
}
