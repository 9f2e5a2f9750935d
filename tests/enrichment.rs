//! End to end: cal.com's booking lifecycle through a real hookseal process, checking what the
//! upstream receives: cached metadata, reschedule lineage, and every other byte as sent.

mod support;

use serde_json::{json, Value};
use support::{fixture, fresh, post_signed, Hookseal, TestUpstream, CALCOM_SECRET};

const BOOKING_A: &str = "3rTqW8mZkP1vYx6NcB2dLs";
const BOOKING_B: &str = "9hGf2KsLw4QzXc7VbN1mPr";

fn config(upstream: &str) -> String {
    format!(
        r#"
[[routes]]
name = "crm"
path = "/hooks/crm"
upstream = "{upstream}"
delivery = "sync"

[routes.inbound]
calcom_secret = "{CALCOM_SECRET}"

[[routes.sign]]
scheme = "calcom"
secrets = ["receiver-secret"]
"#
    )
}

/// Sends `body` (with a fresh `createdAt`) and returns the JSON the upstream received.
async fn relay(
    hookseal: &Hookseal,
    upstream: &mut TestUpstream,
    body: Vec<u8>,
) -> (Vec<u8>, Value) {
    let answer = post_signed(&hookseal.url("/hooks/crm"), body).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let received = upstream.next().await;
    let value = serde_json::from_slice(&received.body).expect("upstream received JSON");
    (received.body.to_vec(), value)
}

fn replace(body: &[u8], from: &str, to: &str) -> Vec<u8> {
    String::from_utf8(body.to_vec())
        .unwrap()
        .replace(from, to)
        .into_bytes()
}

#[tokio::test]
async fn metadata_and_lineage_follow_a_booking_through_reschedules_and_cancel() {
    let mut upstream = TestUpstream::start().await;
    let hookseal = Hookseal::start(&config(&upstream.url("/")));

    let created = fresh(&fixture("01-booking-created"));
    let (bytes, _) = relay(&hookseal, &mut upstream, created.clone()).await;
    assert_eq!(bytes, created, "nothing to add: forwarded byte for byte");

    let rescheduled = fresh(&fixture("02-booking-rescheduled"));
    let (_, event) = relay(&hookseal, &mut upstream, rescheduled).await;
    let payload = &event["payload"];
    assert_eq!(
        payload["metadata"],
        json!({"customer_id": "cus_123", "utm_source": "crm"})
    );
    assert_eq!(payload["previousBookingUid"], BOOKING_A);
    assert_eq!(payload["previousBookingId"], 1042);
    assert_eq!(payload["originalBookingUid"], BOOKING_A);
    assert_eq!(payload["originalBookingId"], 1042);
    assert_eq!(
        payload["rescheduleUid"], BOOKING_A,
        "cal.com's own fields stay"
    );

    // Rescheduled again: booking C from B. The original stays A.
    let again = replace(
        &fresh(&fixture("02-booking-rescheduled")),
        BOOKING_A,
        BOOKING_B,
    )
    .replace_uid_field(BOOKING_B, "Cc3AgainRescheduled0001")
    .replace_id(1051, 1099);
    let (_, event) = relay(&hookseal, &mut upstream, again).await;
    let payload = &event["payload"];
    assert_eq!(payload["uid"], "Cc3AgainRescheduled0001");
    assert_eq!(payload["previousBookingUid"], BOOKING_B);
    assert_eq!(payload["previousBookingId"], 1051);
    assert_eq!(payload["originalBookingUid"], BOOKING_A);
    assert_eq!(payload["metadata"]["customer_id"], "cus_123");

    let cancelled = fresh(&fixture("03-booking-cancelled"));
    let (bytes, event) = relay(&hookseal, &mut upstream, cancelled.clone()).await;
    let payload = &event["payload"];
    assert_eq!(
        payload["metadata"],
        json!({"customer_id": "cus_123", "utm_source": "crm"})
    );
    assert_eq!(payload["previousBookingUid"], BOOKING_A);
    assert_eq!(payload["cancellationReason"], json!("Project postponed."));
    assert_unchanged_but_added(&cancelled, &bytes);
}

#[tokio::test]
async fn metadata_survives_a_restart_between_created_and_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let mut upstream = TestUpstream::start().await;
    let mut first = Hookseal::start_in(dir.path(), &config(&upstream.url("/")), &[]);
    let created = replace(&fresh(&fixture("01-booking-created")), BOOKING_A, BOOKING_B);
    relay(&first, &mut upstream, created).await;
    first.kill();

    let second = Hookseal::start_in(dir.path(), &config(&upstream.url("/")), &[]);
    let (_, event) = relay(
        &second,
        &mut upstream,
        fresh(&fixture("03-booking-cancelled")),
    )
    .await;
    assert_eq!(event["payload"]["metadata"]["customer_id"], "cus_123");
    assert!(
        event["payload"].get("previousBookingUid").is_none(),
        "no reschedule happened"
    );
}

#[tokio::test]
async fn meeting_no_show_and_paid_events_get_the_cached_metadata() {
    let mut upstream = TestUpstream::start().await;
    let hookseal = Hookseal::start(&config(&upstream.url("/")));

    // MEETING_ENDED is flat and carries its own metadata: cached, forwarded unchanged.
    let meeting = support::fresh_meeting(&fixture("04-meeting-ended"));
    let (bytes, _) = relay(&hookseal, &mut upstream, meeting.clone()).await;
    assert_eq!(bytes, meeting);
    let no_show = fresh(&fixture("08-booking-no-show-updated"));
    let (bytes, event) = relay(&hookseal, &mut upstream, no_show.clone()).await;
    assert_eq!(
        event["payload"]["metadata"],
        json!({"customer_id": "cus_456"})
    );
    assert_unchanged_but_added(&no_show, &bytes);

    // A paid booking first seen with URL metadata, then paid: payment metadata stays as sent.
    let paid_uid = "Zt3vB8nLq5XwR1cMk7PdGs";
    let created = replace(&fresh(&fixture("01-booking-created")), BOOKING_A, paid_uid);
    relay(&hookseal, &mut upstream, created).await;
    let paid = fresh(&fixture("06-booking-paid"));
    let (_, event) = relay(&hookseal, &mut upstream, paid).await;
    let payload = &event["payload"];
    assert_eq!(
        payload["metadata"]["identifier"], "cal.com",
        "payment metadata untouched"
    );
    assert_eq!(
        payload["bookingMetadata"],
        json!({"customer_id": "cus_123", "utm_source": "crm"})
    );
    assert!(payload["metadata"].get("customer_id").is_none());
}

#[tokio::test]
async fn requested_reschedule_links_like_a_reschedule() {
    let mut upstream = TestUpstream::start().await;
    let hookseal = Hookseal::start(&config(&upstream.url("/")));
    relay(
        &hookseal,
        &mut upstream,
        fresh(&fixture("01-booking-created")),
    )
    .await;
    // A reschedule of a confirmation-required event arrives as BOOKING_REQUESTED.
    let requested = fresh(&fixture("02-booking-rescheduled")).replace_text(
        "\"triggerEvent\":\"BOOKING_RESCHEDULED\"",
        "\"triggerEvent\":\"BOOKING_REQUESTED\"",
    );
    let (_, event) = relay(&hookseal, &mut upstream, requested).await;
    assert_eq!(event["triggerEvent"], "BOOKING_REQUESTED");
    assert_eq!(event["payload"]["previousBookingUid"], BOOKING_A);
    assert_eq!(event["payload"]["metadata"]["utm_source"], "crm");
}

#[tokio::test]
async fn ping_and_templates_pass_byte_for_byte() {
    let mut upstream = TestUpstream::start().await;
    let hookseal = Hookseal::start(&config(&upstream.url("/")));
    let ping = fresh(&fixture("07-ping"));
    let (bytes, _) = relay(&hookseal, &mut upstream, ping.clone()).await;
    assert_eq!(bytes, ping);
    let deep = format!(
        "{{\"triggerEvent\":\"BOOKING_CREATED\",\"payload\":{}{}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let answer = post_signed(&hookseal.url("/hooks/crm"), deep.clone().into_bytes()).await;
    assert_eq!(answer.status, 200);
    assert_eq!(upstream.next().await.body, deep.as_bytes());
}

/// Checks that `after` is `before` with one run of bytes inserted and nothing else changed:
/// every byte of `before` stands in `after`, in one prefix and one suffix.
fn assert_unchanged_but_added(before: &[u8], after: &[u8]) {
    let prefix = before.iter().zip(after).take_while(|(a, b)| a == b).count();
    let suffix = before
        .iter()
        .rev()
        .zip(after.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    assert!(after.len() > before.len(), "nothing was added");
    assert!(
        prefix + suffix >= before.len(),
        "bytes changed beyond one insertion: kept {prefix} leading and {suffix} trailing of {}",
        before.len()
    );
    let inserted = &after[prefix..after.len() - (before.len() - prefix)];
    assert!(
        inserted.starts_with(b","),
        "inserted members follow a comma: {:?}",
        String::from_utf8_lossy(inserted)
    );
}

trait BodyEdit {
    fn replace_text(self, from: &str, to: &str) -> Vec<u8>;
    fn replace_uid_field(self, from: &str, to: &str) -> Vec<u8>;
    fn replace_id(self, from: u32, to: u32) -> Vec<u8>;
}

impl BodyEdit for Vec<u8> {
    fn replace_text(self, from: &str, to: &str) -> Vec<u8> {
        replace(&self, from, to)
    }

    /// Replaces the `"uid":"<from>"` member only, not other mentions of the uid.
    fn replace_uid_field(self, from: &str, to: &str) -> Vec<u8> {
        replace(
            &self,
            &format!("\"uid\":\"{from}\""),
            &format!("\"uid\":\"{to}\""),
        )
    }

    /// Moves `bookingId` to `to` and `rescheduleId` from its value to `from`.
    fn replace_id(self, from: u32, to: u32) -> Vec<u8> {
        let text = replace(
            &self,
            &format!("\"bookingId\":{from}"),
            &format!("\"bookingId\":{to}"),
        );
        replace(
            &text,
            "\"rescheduleId\":1042",
            &format!("\"rescheduleId\":{from}"),
        )
    }
}
