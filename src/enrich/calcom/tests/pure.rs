//! The pure steps: `inspect`, `plan` and `apply`, without a store.

use serde_json::{json, Map};

use super::*;

fn event(body: &[u8]) -> Event {
    inspect(body).expect("fixture is a cal.com event")
}

fn map(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

#[test]
fn inspects_the_envelope() {
    let created = event(CREATED);
    assert_eq!(created.trigger, "BOOKING_CREATED");
    assert_eq!(created.shape, Shape::Envelope);
    assert_eq!(created.booking_uid.as_deref(), Some(UID_A));
    assert_eq!(created.booking_id, Some(1042));
    assert_eq!(
        created.metadata,
        Some(map(json!({"customer_id": "cus_123", "utm_source": "crm"})))
    );
    assert_eq!(created.reschedule_of, None);
    let identity = format!("BOOKING_CREATED\u{0}{UID_A}\u{0}2026-03-02T09:14:07.512Z");
    assert_eq!(created.identity(), Some(identity));
    assert!(!created.is_meeting());

    let moved = event(RESCHEDULED);
    let link = Reschedule {
        uid: UID_A.into(),
        id: Some(1042),
    };
    assert_eq!(moved.reschedule_of, Some(link));
    assert_eq!(moved.metadata, Some(Map::new()));
}

#[test]
fn inspects_the_other_shapes() {
    let ended = event(MEETING_ENDED);
    assert_eq!(ended.shape, Shape::Flat);
    assert!(ended.is_meeting());
    assert_eq!(ended.booking_uid.as_deref(), Some("Vq5nHt8RcX2wLm9KpZ3aJd"));
    assert_eq!(ended.booking_id, Some(1060));
    assert_eq!(
        ended.created_at.as_deref(),
        Some("2026-03-04T12:20:41.118Z")
    );
    assert_eq!(ended.reschedule_of, None, "fromReschedule is null");

    let no_show = event(NO_SHOW);
    assert_eq!(
        no_show.booking_uid.as_deref(),
        Some("Vq5nHt8RcX2wLm9KpZ3aJd")
    );
    assert_eq!(no_show.booking_id, Some(1060));

    let ping = event(PING);
    assert_eq!(ping.trigger, "PING");
    assert_eq!(
        (ping.identity(), ping.booking_uid, ping.booking_id),
        (None, None, None)
    );
    assert!(inspect(TEMPLATE_FORM).is_none());
    assert!(inspect(TEMPLATE_BROKEN).is_none());
}

#[test]
fn inspects_wrong_assignment_and_video_no_show() {
    let report = br#"{"triggerEvent":"WRONG_ASSIGNMENT_REPORT","payload":{"booking":{"uid":"u1","id":7},"uid":"no"}}"#;
    let report = event(report);
    assert_eq!(
        (report.booking_uid.as_deref(), report.booking_id),
        (Some("u1"), Some(7))
    );

    let no_show = br#"{"triggerEvent":"AFTER_HOSTS_CAL_VIDEO_NO_SHOW","payload":{"bookingUid":"u2","bookingId":8}}"#;
    let no_show = event(no_show);
    assert_eq!(
        (no_show.booking_uid.as_deref(), no_show.booking_id),
        (Some("u2"), Some(8))
    );

    let created =
        br#"{"triggerEvent":"BOOKING_CREATED","payload":{"uid":"u3","rescheduleUid":"u0"}}"#;
    assert_eq!(event(created).reschedule_of, None, "only reschedules link");
}

#[test]
fn plans_nothing_for_an_event_without_a_booking() {
    assert_eq!(plan(&event(PING), None, None), None);
}

#[test]
fn plan_inherits_without_the_meeting_link_and_keeps_the_chain_original() {
    let previous = BookingRecord {
        booking_id: None,
        metadata: map(json!({"customer_id": "c", "videoCallUrl": "old", "plan": "p"})),
        previous_uid: Some("Z".into()),
        previous_id: Some(1),
        original_uid: Some("Y".into()),
        original_id: None,
    };
    let mut moved = event(RESCHEDULED);
    moved.metadata = Some(map(json!({"plan": "q", "videoCallUrl": "new"})));
    let plan = plan(&moved, None, Some(&previous)).expect("a booking event");

    let (uid, record) = &plan.saves[0];
    assert_eq!(uid, UID_B);
    let expected = json!({"customer_id": "c", "plan": "q", "videoCallUrl": "new"});
    assert_eq!(record.metadata, map(expected));
    assert_eq!(
        (record.previous_id, record.original_uid.as_deref()),
        (Some(1042), Some("Y"))
    );
    assert_eq!(record.original_id, None, "never learned, never guessed");
    assert_eq!(plan.chain, "Y");
    assert_eq!(plan.addition.metadata, map(json!({"customer_id": "c"})));

    // The predecessor learns its id from rescheduleId.
    let (uid, learned) = &plan.saves[1];
    assert_eq!((uid.as_str(), learned.booking_id), (UID_A, Some(1042)));
}

#[test]
fn a_booking_is_not_its_own_predecessor() {
    let mut moved = event(RESCHEDULED);
    moved.reschedule_of = Some(Reschedule {
        uid: UID_B.into(),
        id: Some(1051),
    });
    assert_eq!(predecessor(&moved, None), None);
    let plan = plan(&moved, None, None).expect("a booking event");
    assert_eq!(plan.addition.lineage, None);
    assert_eq!(plan.chain, UID_B);
}

#[test]
fn paid_metadata_is_never_cached() {
    let cached = BookingRecord {
        metadata: map(json!({"k": "v"})),
        ..BookingRecord::default()
    };
    let plan = plan(&event(PAID), Some(&cached), None).expect("a booking event");
    assert_eq!(plan.saves[0].1.metadata, cached.metadata);
    assert_eq!(plan.addition.slot, MetadataSlot::Beside);
    assert_eq!(plan.addition.metadata, cached.metadata);
}

#[test]
fn apply_replaces_a_null_metadata() {
    let body = br#"{"triggerEvent":"X","payload":{"metadata":null,"uid":"u"}}"#;
    let addition = Addition {
        metadata: map(json!({"a": "1"})),
        ..Addition::default()
    };
    let applied = apply(body, Shape::Envelope, &addition).expect("something added");
    let expected = br#"{"triggerEvent":"X","payload":{"metadata":{"a":"1"},"uid":"u"}}"#;
    assert_eq!(applied.body, expected);
    assert_eq!(applied.added, ["metadata.a"]);
}

#[test]
fn apply_keeps_what_the_body_already_has() {
    let body = br#"{"payload":{"metadata":"text","previousBookingUid":"mine"}}"#;
    let lineage = Lineage {
        previous_uid: "p".into(),
        previous_id: None,
        original_uid: "o".into(),
        original_id: Some(3),
    };
    let addition = Addition {
        metadata: map(json!({"a": "1"})),
        slot: MetadataSlot::Merge,
        lineage: Some(lineage),
    };
    let applied = apply(body, Shape::Envelope, &addition).expect("something added");
    let expected = br#"{"payload":{"metadata":"text","previousBookingUid":"mine","originalBookingUid":"o","originalBookingId":3}}"#;
    assert_eq!(applied.body, expected);
    assert_eq!(applied.added, ["originalBookingUid", "originalBookingId"]);
}

#[test]
fn apply_into_empty_objects() {
    let body = br#"{"payload":{}}"#;
    let addition = Addition {
        metadata: map(json!({"a": "1"})),
        ..Addition::default()
    };
    let applied = apply(body, Shape::Envelope, &addition).expect("something added");
    assert_eq!(applied.body, br#"{"payload":{"metadata":{"a":"1"}}}"#);

    let body = br#"{"payload":{"metadata":{}}}"#;
    let applied = apply(body, Shape::Envelope, &addition).expect("something added");
    assert_eq!(applied.body, br#"{"payload":{"metadata":{"a":"1"}}}"#);

    assert_eq!(apply(body, Shape::Envelope, &Addition::default()), None);
}
