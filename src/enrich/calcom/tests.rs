//! Tests of the calcom profile, driven by the byte-exact fixture bodies, and their helpers: an
//! in-memory store and a check that enrichment only appended members.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::Value;

use super::*;
use crate::enrich::splice::Object;

mod glue;
mod pure;

const CREATED: &[u8] =
    include_bytes!("../../../tests/fixtures/calcom/wire/01-booking-created.body");
const RESCHEDULED: &[u8] =
    include_bytes!("../../../tests/fixtures/calcom/wire/02-booking-rescheduled.body");
const CANCELLED: &[u8] =
    include_bytes!("../../../tests/fixtures/calcom/wire/03-booking-cancelled.body");
const MEETING_ENDED: &[u8] =
    include_bytes!("../../../tests/fixtures/calcom/wire/04-meeting-ended.body");
const REQUESTED: &[u8] =
    include_bytes!("../../../tests/fixtures/calcom/wire/05-booking-requested.body");
const PAID: &[u8] = include_bytes!("../../../tests/fixtures/calcom/wire/06-booking-paid.body");
const PING: &[u8] = include_bytes!("../../../tests/fixtures/calcom/wire/07-ping.body");
const NO_SHOW: &[u8] =
    include_bytes!("../../../tests/fixtures/calcom/wire/08-booking-no-show-updated.body");
const TEMPLATE_FORM: &[u8] =
    include_bytes!("../../../tests/fixtures/calcom/wire/09-custom-template-form.body");
const TEMPLATE_BROKEN: &[u8] =
    include_bytes!("../../../tests/fixtures/calcom/wire/10-custom-template-broken.body");

/// Every wire fixture.
const FIXTURES: [&[u8]; 10] = [
    CREATED,
    RESCHEDULED,
    CANCELLED,
    MEETING_ENDED,
    REQUESTED,
    PAID,
    PING,
    NO_SHOW,
    TEMPLATE_FORM,
    TEMPLATE_BROKEN,
];

/// Booking A of the fixtures, then B (A rescheduled), then C (B rescheduled, made up here).
const UID_A: &str = "3rTqW8mZkP1vYx6NcB2dLs";
const UID_B: &str = "9hGf2KsLw4QzXc7VbN1mPr";
const UID_C: &str = "Cc7rE9sT2uV4wX6yZ8aB1d";

/// `body` with each `(from, to)` replaced once; panics when `from` is missing.
fn edit(body: &[u8], replacements: &[(&str, &str)]) -> Vec<u8> {
    let mut text = String::from_utf8(body.to_vec()).expect("fixtures are utf-8");
    for (from, to) in replacements {
        assert!(text.contains(from), "fixture lacks {from}");
        text = text.replacen(from, to, 1);
    }
    text.into_bytes()
}

/// The fixture that reschedules B into C.
fn rescheduled_again() -> Vec<u8> {
    edit(
        RESCHEDULED,
        &[
            (
                &format!(r#""uid":"{UID_B}""#),
                &format!(r#""uid":"{UID_C}""#),
            ),
            (
                r#""bookingId":1051,"rescheduleId":1042,"rescheduleUid":"3rTqW8mZkP1vYx6NcB2dLs""#,
                &format!(r#""bookingId":1090,"rescheduleId":1051,"rescheduleUid":"{UID_B}""#),
            ),
        ],
    )
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("enriched body is json")
}

/// Asserts that `enriched` is `original` plus `members` appended to the booking object and
/// `keys` appended to its `metadata` object, each written compactly: cutting them out gives
/// back the original bytes.
fn assert_only_added(
    original: &[u8],
    enriched: &[u8],
    shape: Shape,
    members: &[&str],
    keys: &[&str],
) {
    let text = String::from_utf8(enriched.to_vec()).expect("enriched body is utf-8");
    let text = cut_suffix(&text, shape, None, members);
    let text = cut_suffix(&text, shape, Some("metadata"), keys);
    assert_eq!(text, String::from_utf8_lossy(original));
}

/// `text` without the members `keys`, which must end the booking object (or its member
/// `inner`), each written as `,"key":value`.
fn cut_suffix(text: &str, shape: Shape, inner: Option<&str>, keys: &[&str]) -> String {
    let Some(first) = keys.first() else {
        return text.to_owned();
    };
    let root = Object::parse(text).expect("enriched body is an object");
    let target = match shape {
        Shape::Flat => root,
        Shape::Envelope => root.object("payload").expect("payload is an object"),
    };
    let object = match inner {
        Some(key) => target.object(key).expect("inner member is an object"),
        None => target,
    };

    let all: Vec<&str> = object.keys().collect();
    assert!(all.ends_with(keys), "{all:?} should end with {keys:?}");
    let comma = if all.len() > keys.len() { "," } else { "" };
    let prefix = format!("{comma}{}:", Value::from(*first));
    let value_start = object.value_span(first).expect("added member").start;
    let start = value_start - prefix.len();
    assert_eq!(
        &text[start..value_start],
        prefix,
        "added members are compact"
    );

    let end = object.span().end - 1;
    format!("{}{}", &text[..start], &text[end..])
}

// --- Memory ---

/// A store in a `HashMap`, counting its round trips; it can be told to fail.
#[derive(Debug, Default)]
struct Memory {
    records: Mutex<HashMap<String, BookingRecord>>,
    reads: AtomicUsize,
    writes: AtomicUsize,
    fail_reads: bool,
    fail_writes: bool,
}

impl Memory {
    fn failing_reads() -> Self {
        Self {
            fail_reads: true,
            ..Self::default()
        }
    }

    fn failing_writes() -> Self {
        Self {
            fail_writes: true,
            ..Self::default()
        }
    }

    fn record(&self, uid: &str) -> Option<BookingRecord> {
        self.records.lock().expect("test lock").get(uid).cloned()
    }

    fn insert(&self, uid: &str, record: BookingRecord) {
        self.records
            .lock()
            .expect("test lock")
            .insert(uid.to_owned(), record);
    }

    /// Round trips so far: (reads, writes).
    fn trips(&self) -> (usize, usize) {
        (
            self.reads.load(Ordering::SeqCst),
            self.writes.load(Ordering::SeqCst),
        )
    }
}

#[async_trait::async_trait]
impl Cache for Memory {
    async fn booking(&self, uid: &str) -> Result<Option<BookingRecord>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if self.fail_reads {
            return Err(StoreError::Backend("reads refused".into()));
        }
        Ok(self.record(uid))
    }

    async fn save_booking(&self, uid: &str, record: &BookingRecord) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        if self.fail_writes {
            return Err(StoreError::Backend("writes refused".into()));
        }
        self.insert(uid, record.clone());
        Ok(())
    }
}
