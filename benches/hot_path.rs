//! Criterion micro-benchmarks of the request's hot path: the inbound signature check, the
//! enrichment of each event kind (pure steps, and the glue over a real SQLite store), and each
//! signature scheme, for 1 KiB and 16 KiB cal.com bodies.
//!
//! `cargo bench --bench hot_path`; `cargo bench --bench hot_path -- sign/` runs a subset.

// criterion's macros define undocumented public items.
#![allow(missing_docs)]

use std::hint::black_box;
use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use http::Uri;
use serde_json::{Map, Value};

use hookseal::config::SignConfig;
use hookseal::enrich::calcom::{self, apply, inspect, plan, predecessor};
use hookseal::inbound::{calcom_signature, Inbound};
use hookseal::secret::Secret;
use hookseal::sign::{sign_all, Attempt, Scheme};
use hookseal::store::sqlite::SqliteStore;
use hookseal::store::BookingRecord;

/// The body sizes the issue asks for.
const SIZES: [(&str, usize); 2] = [("1KiB", 1024), ("16KiB", 16 * 1024)];

/// The event kinds of the enrichment mix, as the wire fixtures carry them.
const KINDS: [(&str, &str); 3] = [
    ("created", "01-booking-created"),
    ("rescheduled", "02-booking-rescheduled"),
    ("cancelled", "03-booking-cancelled"),
];

const CALCOM_SECRET: &str = "bench-secret-not-real";

fn inbound(c: &mut Criterion) {
    let mut group = c.benchmark_group("inbound/authenticate");
    let check = Inbound::new(vec![Secret::new(CALCOM_SECRET)], Vec::new());
    let peer = IpAddr::from([127, 0, 0, 1]);
    for (label, size) in SIZES {
        let body = sized("01-booking-created", size);
        let signature = calcom_signature(&Secret::new(CALCOM_SECRET), &body);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(label, |b| {
            b.iter(|| {
                check
                    .authenticate(Some(signature.as_bytes()), peer, black_box(&body))
                    .expect("the signature matches")
            })
        });
    }
    group.finish();
}

/// `inspect` alone: reading an event's facts, which every route does once per request.
fn enrich_inspect(c: &mut Criterion) {
    let mut group = c.benchmark_group("enrich/inspect");
    for (label, size) in SIZES {
        for (kind, fixture) in KINDS {
            let body = sized(fixture, size);
            group.throughput(Throughput::Bytes(body.len() as u64));
            group.bench_function(BenchmarkId::new(kind, label), |b| {
                b.iter(|| inspect(black_box(&body)).expect("a cal.com event"))
            });
        }
    }
    group.finish();
}

/// `inspect`, `plan` and `apply` for each kind, with the cache holding what the earlier
/// events of the booking left there (the cache lookups themselves are not in it).
fn enrich_pure(c: &mut Criterion) {
    let mut group = c.benchmark_group("enrich/pure");
    for (label, size) in SIZES {
        for (kind, fixture) in KINDS {
            let body = sized(fixture, size);
            let (current, previous) = cached_before(kind);
            group.throughput(Throughput::Bytes(body.len() as u64));
            group.bench_function(BenchmarkId::new(kind, label), |b| {
                b.iter(|| {
                    let event = inspect(black_box(&body)).expect("a cal.com event");
                    let previous = predecessor(&event, current.as_ref()).and(previous.as_ref());
                    let plan = plan(&event, current.as_ref(), previous).expect("a booking");
                    apply(&body, event.shape, &plan.addition)
                })
            });
        }
    }
    group.finish();
}

/// [`calcom::enrich`] over the embedded store in a temporary folder: the cache reads, and the
/// writes of the first pass (later passes change nothing, so they write nothing).
fn enrich_sqlite(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = SqliteStore::open(&dir.path().join("bench.db"), Duration::from_secs(86_400))
        .expect("the store opens");
    let mut group = c.benchmark_group("enrich/sqlite");
    for (label, size) in SIZES {
        for (kind, fixture) in KINDS {
            let body = Bytes::from(sized(fixture, size));
            runtime.block_on(calcom::enrich(body.clone(), &store));
            group.throughput(Throughput::Bytes(body.len() as u64));
            group.bench_function(BenchmarkId::new(kind, label), |b| {
                b.iter(|| runtime.block_on(calcom::enrich(black_box(body.clone()), &store)))
            });
        }
    }
    group.finish();
}

/// Each scheme signing one attempt (Standard Webhooks also with an Ed25519 key).
fn sign(c: &mut Criterion) {
    let mut group = c.benchmark_group("sign");
    let upstream: Uri = "https://receiver.example.com/hooks/calcom?team=7"
        .parse()
        .expect("a URL");
    for (label, size) in SIZES {
        let body = sized("01-booking-created", size);
        group.throughput(Throughput::Bytes(body.len() as u64));
        for (name, entry) in schemes() {
            let scheme = Scheme::from_config(&entry).expect("a valid sign entry");
            let schemes = std::slice::from_ref(&scheme);
            group.bench_function(BenchmarkId::new(name, label), |b| {
                b.iter(|| {
                    let attempt = Attempt {
                        event_id: "9e7b180c-4d1f-88f1-9301-029f91e62af4",
                        attempt_id: "2b0f7a52-8f4e-4c43-9d6e-3f1f6b0c9a11",
                        timestamp: 1_772_442_847,
                        accepted_at: 1_772_442_847,
                        upstream: &upstream,
                        content_type: Some("application/json"),
                        body: black_box(&body),
                    };
                    sign_all(schemes, &attempt)
                })
            });
        }
    }
    group.finish();
}

/// One `[[routes.sign]]` entry per scheme, as a config would write it.
fn schemes() -> Vec<(&'static str, SignConfig)> {
    let entries = [
        (
            "standard-webhooks",
            r#"secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]"#,
        ),
        (
            "standard-webhooks-ed25519",
            r#"secrets = ["whsk_nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg=="]"#,
        ),
        (
            "svix",
            r#"secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]"#,
        ),
        ("stripe", r#"secrets = ["whsec_bench"]"#),
        ("github", r#"secrets = ["bench"]"#),
        ("slack", r#"secrets = ["bench"]"#),
        ("shopify", r#"secrets = ["bench"]"#),
        ("twilio", r#"secrets = ["bench"]"#),
        ("calcom", r#"secrets = ["bench"]"#),
        ("hmac", "secrets = [\"bench\"]\nheader = \"x-signature\""),
    ];
    entries
        .into_iter()
        .map(|(name, keys)| {
            let scheme = name.trim_end_matches("-ed25519");
            let text = format!("scheme = \"{scheme}\"\n{keys}\n");
            (name, toml::from_str(&text).expect("a sign entry"))
        })
        .collect()
}

/// What the cache holds when each kind arrives in a booking's life: nothing before it is
/// created; the old booking before a reschedule; the new, linked booking before it is cancelled.
fn cached_before(kind: &str) -> (Option<BookingRecord>, Option<BookingRecord>) {
    let mut metadata = Map::new();
    metadata.insert("customer_id".into(), "cus_123".into());
    metadata.insert("utm_source".into(), "crm".into());
    let old = BookingRecord {
        booking_id: Some(1042),
        metadata,
        ..BookingRecord::default()
    };
    match kind {
        "rescheduled" => (None, Some(old)),
        "cancelled" => {
            let linked = BookingRecord {
                booking_id: Some(1051),
                previous_uid: Some("3rTqW8mZkP1vYx6NcB2dLs".into()),
                previous_id: Some(1042),
                original_uid: Some("3rTqW8mZkP1vYx6NcB2dLs".into()),
                original_id: Some(1042),
                ..old
            };
            (Some(linked), None)
        }
        _ => (None, None),
    }
}

/// A wire fixture resized to exactly `size` bytes: payload members enrichment does not read
/// are dropped until it fits, then `description` is padded.
fn sized(fixture: &str, size: usize) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/calcom/wire/{fixture}.body",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("the fixture is readable");
    let mut root: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    let payload = root["payload"].as_object_mut().expect("an envelope");
    payload.insert("description".into(), Value::String(String::new()));

    let length = |root: &Value| serde_json::to_vec(root).expect("serialises").len();
    let removable: Vec<String> = payload
        .keys()
        .filter(|key| !KEEP.contains(&key.as_str()))
        .cloned()
        .collect();
    for key in removable {
        if length(&root) <= size {
            break;
        }
        root["payload"]
            .as_object_mut()
            .expect("an envelope")
            .remove(&key);
    }
    let missing = size.checked_sub(length(&root)).expect("fits the size");
    root["payload"]["description"] = Value::String("x".repeat(missing));
    let body = serde_json::to_vec(&root).expect("serialises");
    assert_eq!(body.len(), size);
    body
}

/// Payload members that enrichment reads or adds to.
const KEEP: [&str; 8] = [
    "uid",
    "bookingId",
    "rescheduleUid",
    "rescheduleId",
    "metadata",
    "description",
    "title",
    "startTime",
];

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = inbound, enrich_inspect, enrich_pure, enrich_sqlite, sign
}
criterion_main!(benches);
