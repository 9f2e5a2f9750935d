//! Deciding, without a store, what an event changes in the cache and what its body gains.

use serde_json::{Map, Value};

use super::{trigger, Event, Reschedule};
use crate::store::BookingRecord;

/// What hookseal does with one event: the records to save and what the body gains.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Records to write, by booking uid, the event's own booking first; empty when the cache
    /// already knows everything the event says.
    pub saves: Vec<(String, BookingRecord)>,
    /// What the body gains.
    pub addition: Addition,
    /// The uid of the first booking of the event's chain.
    pub chain: String,
}

/// What an event's body gains.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Addition {
    /// Cached metadata the event lacks; for BOOKING_PAID, all of the booking's metadata.
    pub metadata: Map<String, Value>,
    /// Where that metadata goes.
    pub slot: MetadataSlot,
    /// The booking's lineage, when it has a predecessor.
    pub lineage: Option<Lineage>,
}

/// Where the cached metadata goes in the body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MetadataSlot {
    /// Merged into the event's `metadata`, whose own keys win.
    #[default]
    Merge,
    /// Under a new `bookingMetadata` member, `metadata` left as sent (BOOKING_PAID).
    Beside,
}

/// A booking's predecessor and the first booking of its chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lineage {
    /// `previousBookingUid`.
    pub previous_uid: String,
    /// `previousBookingId`, when hookseal learned it.
    pub previous_id: Option<i64>,
    /// `originalBookingUid`.
    pub original_uid: String,
    /// `originalBookingId`, when hookseal learned it.
    pub original_id: Option<i64>,
}

/// The predecessor whose record the plan needs: the one the event links to, unless `current`
/// already records that link in full. A booking is never its own predecessor.
pub fn predecessor<'e>(
    event: &'e Event,
    current: Option<&BookingRecord>,
) -> Option<&'e Reschedule> {
    let link = event.reschedule_of.as_ref()?;
    if event.booking_uid.as_deref() == Some(link.uid.as_str()) {
        return None;
    }
    let Some(current) = current else {
        return Some(link);
    };

    let known = current.previous_uid.as_deref() == Some(link.uid.as_str())
        && current.original_uid.is_some()
        && (link.id.is_none() || current.previous_id == link.id);
    (!known).then_some(link)
}

/// Plans an event given its booking's cached record (`current`) and, when [`predecessor`] names
/// one, the predecessor's record. `None` when the event is about no booking.
pub fn plan(
    event: &Event,
    current: Option<&BookingRecord>,
    predecessor_record: Option<&BookingRecord>,
) -> Option<Plan> {
    let uid = event.booking_uid.as_deref()?;
    let before = current.cloned().unwrap_or_default();
    let mut record = before.clone();
    if event.booking_id.is_some() {
        record.booking_id = event.booking_id;
    }

    let mut saves = Vec::new();
    if let Some(link) = predecessor(event, current) {
        let previous = predecessor_record.cloned().unwrap_or_default();
        link_to(&mut record, link, &previous);
        if let Some(learned) = learn_id(previous, link) {
            saves.push((link.uid.clone(), learned));
        }
    }
    if let Some(metadata) = cacheable(event) {
        record.metadata.extend(metadata.clone());
    }

    let addition = addition(event, &record);
    let chain = record
        .original_uid
        .clone()
        .unwrap_or_else(|| uid.to_owned());
    if record != before {
        saves.insert(0, (uid.to_owned(), record));
    }
    Some(Plan {
        saves,
        addition,
        chain,
    })
}

/// Links `record` to its predecessor: lineage, and the predecessor's metadata under the
/// booking's own, except `videoCallUrl`, which belongs to the old meeting.
fn link_to(record: &mut BookingRecord, link: &Reschedule, previous: &BookingRecord) {
    let relink = record.previous_uid.as_deref() == Some(link.uid.as_str());
    let known_id = record.previous_id.filter(|_| relink);
    record.previous_id = link.id.or(previous.booking_id).or(known_id);
    record.previous_uid = Some(link.uid.clone());

    match &previous.original_uid {
        Some(original) => {
            let same = record.original_uid.as_ref() == Some(original);
            let known_id = record.original_id.filter(|_| same);
            record.original_uid = Some(original.clone());
            record.original_id = previous.original_id.or(known_id);
        }
        None => {
            record.original_uid = Some(link.uid.clone());
            record.original_id = record.previous_id;
        }
    }

    let mut metadata = previous.metadata.clone();
    metadata.remove(VIDEO_CALL_URL);
    metadata.extend(std::mem::take(&mut record.metadata));
    record.metadata = metadata;
}

/// The predecessor's record with its id learned from `rescheduleId`, when it lacked one.
fn learn_id(mut previous: BookingRecord, link: &Reschedule) -> Option<BookingRecord> {
    if previous.booking_id.is_some() || link.id.is_none() {
        return None;
    }
    previous.booking_id = link.id;
    Some(previous)
}

/// The event's metadata, when it is the booking's (not BOOKING_PAID's payment data).
fn cacheable(event: &Event) -> Option<&Map<String, Value>> {
    if event.trigger == trigger::BOOKING_PAID {
        return None;
    }
    event.metadata.as_ref()
}

/// What the body gains from the booking's `record`, once the event is merged into it.
fn addition(event: &Event, record: &BookingRecord) -> Addition {
    let lineage = lineage(record);
    if event.trigger == trigger::BOOKING_PAID {
        let metadata = record.metadata.clone();
        return Addition {
            metadata,
            slot: MetadataSlot::Beside,
            lineage,
        };
    }

    let carried = |key: &String| {
        event
            .metadata
            .as_ref()
            .is_some_and(|own| own.contains_key(key))
    };
    let metadata = record.metadata.iter().filter(|(key, _)| !carried(key));
    let metadata = metadata
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Addition {
        metadata,
        slot: MetadataSlot::Merge,
        lineage,
    }
}

/// The lineage a record carries, when it has a predecessor.
fn lineage(record: &BookingRecord) -> Option<Lineage> {
    let previous_uid = record.previous_uid.clone()?;
    let (original_uid, original_id) = match &record.original_uid {
        Some(original) => (original.clone(), record.original_id),
        None => (previous_uid.clone(), record.previous_id),
    };
    Some(Lineage {
        previous_uid,
        previous_id: record.previous_id,
        original_uid,
        original_id,
    })
}

/// The metadata key cal.com fills with the booking's own meeting link.
const VIDEO_CALL_URL: &str = "videoCallUrl";
