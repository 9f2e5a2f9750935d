//! `enrich` against an in-memory store: each rule driven by the fixture bodies.

use bytes::Bytes;
use serde_json::json;

use super::*;

async fn run(store: &Memory, body: &[u8]) -> Enriched {
    enrich(Bytes::copy_from_slice(body), store).await
}

/// Asserts `enriched` went out as the very `Bytes` it came in.
fn assert_same_bytes(body: &Bytes, enriched: &Enriched) {
    assert_eq!(
        enriched.body.as_ptr(),
        body.as_ptr(),
        "the same Bytes goes out"
    );
    assert_eq!(enriched.body, *body);
    assert!(enriched.added.is_empty());
}

const LINEAGE: [&str; 4] = [
    "previousBookingUid",
    "previousBookingId",
    "originalBookingUid",
    "originalBookingId",
];

/// Booking A created with a meeting link, so its reschedule shows the link is not inherited.
fn created_with_link() -> Vec<u8> {
    edit(
        CREATED,
        &[(
            r#""utm_source":"crm"}"#,
            r#""utm_source":"crm","videoCallUrl":"https://v.example.com/a"}"#,
        )],
    )
}

/// One scenario rather than several tests: each step reads the cache the previous one left.
#[tokio::test]
async fn a_chain_carries_metadata_and_lineage() {
    let store = Memory::default();

    // Created: nothing cached yet, so nothing to add; its metadata is remembered.
    let body = Bytes::from(created_with_link());
    let created = enrich(body.clone(), &store).await;
    assert_same_bytes(&body, &created);
    assert_eq!(created.chain.as_deref(), Some(UID_A));
    assert_eq!(store.record(UID_A).and_then(|r| r.booking_id), Some(1042));
    assert_eq!(store.trips(), (1, 1));

    // Rescheduled A -> B: inherited metadata without the old meeting link, and lineage.
    let moved = run(&store, RESCHEDULED).await;
    let metadata = ["metadata.customer_id", "metadata.utm_source"];
    assert_eq!(moved.added, [&metadata[..], &LINEAGE[..]].concat());
    assert_only_added(
        RESCHEDULED,
        &moved.body,
        Shape::Envelope,
        &LINEAGE,
        &["customer_id", "utm_source"],
    );
    let tail = format!(
        concat!(
            r#""metadata":{{"customer_id":"cus_123","utm_source":"crm"}},"status":"ACCEPTED","#,
            r#""rescheduledBy":"ada@example.com","previousBookingUid":"{a}","#,
            r#""previousBookingId":1042,"originalBookingUid":"{a}","originalBookingId":1042}}}}"#,
        ),
        a = UID_A
    );
    assert!(String::from_utf8_lossy(&moved.body).ends_with(&tail));
    assert_eq!(moved.chain.as_deref(), Some(UID_A));
    // A's id was already known: B is the only write.
    assert_eq!(store.trips(), (3, 2));

    // Cancelled B: no metadata key, so the member is added, with the lineage.
    let cancelled = run(&store, CANCELLED).await;
    let members = ["metadata", LINEAGE[0], LINEAGE[1], LINEAGE[2], LINEAGE[3]];
    assert_only_added(CANCELLED, &cancelled.body, Shape::Envelope, &members, &[]);
    let payload = &json(&cancelled.body)["payload"];
    assert_eq!(
        payload["metadata"],
        json!({"customer_id": "cus_123", "utm_source": "crm"})
    );
    assert_eq!(payload["previousBookingUid"], UID_A);
    assert_eq!(cancelled.chain.as_deref(), Some(UID_A));

    // The cancellation kept the cache: B rescheduled again into C keeps A as the original.
    let again_body = rescheduled_again();
    let again = run(&store, &again_body).await;
    assert_only_added(
        &again_body,
        &again.body,
        Shape::Envelope,
        &LINEAGE,
        &["customer_id", "utm_source"],
    );
    let payload = &json(&again.body)["payload"];
    assert_eq!(payload["previousBookingUid"], UID_B);
    assert_eq!(payload["previousBookingId"], 1051);
    assert_eq!(payload["originalBookingUid"], UID_A);
    assert_eq!(payload["originalBookingId"], 1042);
    assert_eq!(again.chain.as_deref(), Some(UID_A));

    // C's meeting ends: flat body, lineage at the top level, the event's customer_id wins.
    let ended_body = edit(
        MEETING_ENDED,
        &[
            (
                r#""id":1060,"uid":"Vq5nHt8RcX2wLm9KpZ3aJd""#,
                &format!(r#""id":1090,"uid":"{UID_C}""#),
            ),
            (
                r#""fromReschedule":null"#,
                &format!(r#""fromReschedule":"{UID_B}""#),
            ),
        ],
    );
    let trips = store.trips();
    let ended = run(&store, &ended_body).await;
    assert_only_added(
        &ended_body,
        &ended.body,
        Shape::Flat,
        &LINEAGE,
        &["utm_source"],
    );
    let top = json(&ended.body);
    assert_eq!(
        top["metadata"],
        json!({"customer_id": "cus_456", "utm_source": "crm"})
    );
    assert_eq!(top["originalBookingUid"], UID_A);
    assert!(top.get("payload").is_none());
    // The link was known: one read, and a write for the changed customer_id.
    assert_eq!(store.trips(), (trips.0 + 1, trips.1 + 1));
    assert_eq!(
        store
            .record(UID_C)
            .map(|r| r.metadata["customer_id"].clone()),
        Some(json!("cus_456"))
    );
}

#[tokio::test]
async fn an_event_with_nothing_new_writes_nothing() {
    let store = Memory::default();
    run(&store, CREATED).await;
    run(&store, RESCHEDULED).await;
    let trips = store.trips();

    // Replays: the booking is read, the link is known, nothing is written.
    let replay = run(&store, RESCHEDULED).await;
    assert_eq!(replay.added.len(), 6);
    let again = run(&store, CREATED).await;
    assert!(again.added.is_empty());
    assert_eq!(store.trips(), (trips.0 + 2, trips.1));
}

#[tokio::test]
async fn paid_gets_booking_metadata_beside_its_payment_metadata() {
    let store = Memory::default();
    let uid = "Zt3vB8nLq5XwR1cMk7PdGs";
    let metadata = json!({"customer_id": "cus_999"});
    let cached = BookingRecord {
        metadata: metadata.as_object().cloned().unwrap_or_default(),
        ..BookingRecord::default()
    };
    store.insert(uid, cached);

    let paid = run(&store, PAID).await;
    assert_eq!(paid.added, ["bookingMetadata"]);
    assert_only_added(PAID, &paid.body, Shape::Envelope, &["bookingMetadata"], &[]);
    assert_eq!(json(&paid.body)["payload"]["bookingMetadata"], metadata);

    // The payment data is not cached; the booking's id is learned.
    let record = store.record(uid).expect("record kept");
    assert_eq!(serde_json::Value::Object(record.metadata), metadata);
    assert_eq!(record.booking_id, Some(1080));
}

#[tokio::test]
async fn paid_with_nothing_cached_is_unchanged_and_caches_no_payment_data() {
    let store = Memory::default();
    let body = Bytes::from_static(PAID);
    let paid = enrich(body.clone(), &store).await;
    assert_same_bytes(&body, &paid);
    let record = store
        .record("Zt3vB8nLq5XwR1cMk7PdGs")
        .expect("the id is recorded");
    assert!(record.metadata.is_empty());
}

#[tokio::test]
async fn no_show_is_keyed_by_booking_uid() {
    let store = Memory::default();
    run(&store, MEETING_ENDED).await;

    let no_show = run(&store, NO_SHOW).await;
    assert_eq!(no_show.added, ["metadata.customer_id"]);
    assert_only_added(NO_SHOW, &no_show.body, Shape::Envelope, &["metadata"], &[]);
    assert_eq!(
        json(&no_show.body)["payload"]["metadata"],
        json!({"customer_id": "cus_456"})
    );
    assert_eq!(no_show.chain.as_deref(), Some("Vq5nHt8RcX2wLm9KpZ3aJd"));
}

#[tokio::test]
async fn a_requested_reschedule_links_and_learns_the_id_from_the_cache() {
    let store = Memory::default();
    run(&store, REQUESTED).await;

    let body = edit(
        REQUESTED,
        &[
            (
                r#""uid":"Lp4sW9dQx7ZrT2bNm6KcHv""#,
                r#""uid":"Ee2fG4hJ6kL8mN0pQ2rS4t""#,
            ),
            (
                r#""bookingId":1070,"#,
                r#""bookingId":1071,"rescheduleUid":"Lp4sW9dQx7ZrT2bNm6KcHv","#,
            ),
            (
                r#""metadata":{"customer_id":"cus_789","utm_source":"newsletter"}"#,
                r#""metadata":{"utm_source":"email"}"#,
            ),
        ],
    );
    let requested = run(&store, &body).await;
    assert_only_added(
        &body,
        &requested.body,
        Shape::Envelope,
        &LINEAGE,
        &["customer_id"],
    );
    let payload = &json(&requested.body)["payload"];
    assert_eq!(
        payload["metadata"],
        json!({"utm_source": "email", "customer_id": "cus_789"})
    );
    assert_eq!(payload["previousBookingId"], 1070);
    assert_eq!(payload["originalBookingUid"], "Lp4sW9dQx7ZrT2bNm6KcHv");
}

#[tokio::test]
async fn an_id_never_learned_is_left_out() {
    let store = Memory::default();
    let body = edit(
        MEETING_ENDED,
        &[(
            r#""fromReschedule":null"#,
            r#""fromReschedule":"Unseen0000000000000000""#,
        )],
    );
    let ended = run(&store, &body).await;

    let members = ["previousBookingUid", "originalBookingUid"];
    assert_eq!(ended.added, members);
    assert_only_added(&body, &ended.body, Shape::Flat, &members, &[]);
    assert_eq!(ended.chain.as_deref(), Some("Unseen0000000000000000"));
}

#[tokio::test]
async fn what_is_not_a_booking_event_goes_out_byte_for_byte() {
    let deep = "[".repeat(100_000);
    let deep_inside = format!(
        r#"{{"triggerEvent":"BOOKING_CREATED","payload":{{"uid":"x","a":{}{}}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let bodies: [&[u8]; 9] = [
        PING,
        TEMPLATE_FORM,
        TEMPLATE_BROKEN,
        br#"{"triggerEvent":"BOOKING_CREATED","payload":{"uid":"x""#,
        deep.as_bytes(),
        deep_inside.as_bytes(),
        b"{\"triggerEvent\":\"BOOKING_CREATED\",\"payload\":{\"uid\":\"\xff\"}}",
        br#"{"payload":{"uid":"3rTqW8mZkP1vYx6NcB2dLs","metadata":{}}}"#,
        br#"[{"triggerEvent":"BOOKING_CREATED"}]"#,
    ];

    let store = Memory::default();
    store.insert(
        UID_A,
        BookingRecord {
            booking_id: Some(1),
            ..BookingRecord::default()
        },
    );
    for body in bodies {
        let body = Bytes::copy_from_slice(body);
        let enriched = enrich(body.clone(), &store).await;
        assert_same_bytes(&body, &enriched);
        assert!(enriched.degraded.is_none());
    }
    assert_eq!(store.trips(), (0, 0), "nothing here is about a booking");
}

#[tokio::test]
async fn a_failing_store_degrades_to_the_body_as_sent() {
    for store in [Memory::failing_reads(), Memory::failing_writes()] {
        let body = Bytes::from_static(RESCHEDULED);
        let enriched = enrich(body.clone(), &store).await;
        assert_same_bytes(&body, &enriched);
        assert!(enriched.degraded.is_some());
        assert!(enriched.event.is_some());
        assert!(enriched.chain.is_some());
    }
}

#[tokio::test]
async fn every_fixture_comes_out_as_json_or_unchanged() {
    let store = Memory::default();
    let cached = json!({"customer_id": "cus_000", "note": "é \"quoted\" \u{1}"});
    let metadata = cached.as_object().cloned().unwrap_or_default();
    for uid in [
        UID_A,
        UID_B,
        "Vq5nHt8RcX2wLm9KpZ3aJd",
        "Lp4sW9dQx7ZrT2bNm6KcHv",
        "Zt3vB8nLq5XwR1cMk7PdGs",
    ] {
        store.insert(
            uid,
            BookingRecord {
                metadata: metadata.clone(),
                ..BookingRecord::default()
            },
        );
    }

    let mut enriched_count = 0;
    for body in FIXTURES {
        let enriched = run(&store, body).await;
        if enriched.added.is_empty() {
            assert_eq!(&enriched.body[..], body);
            continue;
        }
        enriched_count += 1;
        json(&enriched.body);
    }
    // All but PING and the two templates are about a cached booking.
    assert_eq!(enriched_count, 7);
}
