//! End to end with two `hookseal serve` processes sharing one PostgreSQL store and one queued
//! route: one replica is killed while attempts are in flight, and still every accepted event
//! reaches the upstream, in order per booking, repeated only where an attempt was cut off.

#[path = "support/postgres.rs"]
mod postgres_support;
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use postgres_support::Cluster;
use support::{fixture, fresh, post_signed, Hookseal, Received, Reply, TestUpstream};

const BOOKINGS: usize = 10;
const EVENTS_PER_BOOKING: usize = 30;

/// Long enough that attempts are in flight whenever a replica is killed, short enough that
/// the route's timeout (and so the lease) stays small.
const UPSTREAM_DELAY: Duration = Duration::from_millis(250);

/// Time to wait for every event: a dead replica's leases run out after the route timeout
/// plus the workers' 30 s margin, and the chains they block finish after that.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(150);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_replica_loses_no_event_and_breaks_no_order() {
    let mut upstream = TestUpstream::start().await;
    upstream.set_reply(Reply::Slow(UPSTREAM_DELAY, 200));
    let url = Cluster::shared().fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &upstream.url("/calcom"));
    let env = [("PG_URL", url.as_str())];
    let mut first = Hookseal::spawn(dir.path(), &config, &env);
    let second = Hookseal::spawn(dir.path(), &config, &env);

    // Each booking's events go one after the other, alternating between the replicas.
    let targets = [first.url("/hooks/crm"), second.url("/hooks/crm")];
    send_all(&targets).await;

    // Attempts are in flight on both replicas: kill one outright, then start it again.
    let mut received = Vec::new();
    drain(&mut upstream, &mut received);
    assert!(
        received.len() < BOOKINGS * EVENTS_PER_BOOKING,
        "every event was delivered before the kill; the test proves nothing"
    );
    first.kill();
    let _restarted = Hookseal::spawn(dir.path(), &config, &env);

    let seen = wait_for_all(&mut upstream, &mut received).await;
    let mut repeats = 0;
    for (booking, order) in &seen {
        repeats += check_order(*booking, order);
    }
    assert!(
        repeats > 0,
        "no attempt was cut off by the kill, so no lease was taken over"
    );
    for request in &received {
        let signature = support::calcom_signature("receiver-secret", &request.body);
        assert_eq!(request.headers["x-cal-signature-256"], signature.as_str());
    }
}

/// Sends every event, booking by booking in parallel, and checks each is accepted.
async fn send_all(targets: &[String; 2]) {
    let mut bookings = Vec::new();
    for booking in 0..BOOKINGS {
        let targets = targets.clone();
        bookings.push(tokio::spawn(async move {
            for index in 0..EVENTS_PER_BOOKING {
                let target = &targets[(booking + index) % 2];
                let answer = post_signed(target, body(booking, index)).await;
                assert_eq!(answer.status, 202, "booking {booking} event {index}");
            }
        }));
    }
    for booking in bookings {
        booking.await.unwrap();
    }
}

/// Polls the upstream until it has seen every event (each at least once).
async fn wait_for_all(
    upstream: &mut TestUpstream,
    received: &mut Vec<Received>,
) -> BTreeMap<usize, Vec<(usize, Vec<u8>)>> {
    let deadline = Instant::now() + DELIVERY_DEADLINE;
    loop {
        drain(upstream, received);
        let seen = by_booking(received);
        let complete = seen.values().map(|order| distinct(order)).sum::<usize>();
        if complete == BOOKINGS * EVENTS_PER_BOOKING {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "only {complete} of {} events reached the upstream",
            BOOKINGS * EVENTS_PER_BOOKING
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts that one booking's deliveries run in order, every event present, where a repeat
/// only follows the same event byte for byte; returns the number of repeats.
fn check_order(booking: usize, order: &[(usize, Vec<u8>)]) -> usize {
    let mut repeats = 0;
    for pair in order.windows(2) {
        let ((previous, previous_body), (next, next_body)) = (&pair[0], &pair[1]);
        if previous == next {
            assert_eq!(previous_body, next_body, "booking {booking} event {next}");
            repeats += 1;
            continue;
        }
        assert_eq!(
            *next,
            previous + 1,
            "booking {booking}: event {next} after {previous}"
        );
    }
    assert_eq!(order.first().map(|(index, _)| *index), Some(0));
    repeats
}

fn distinct(order: &[(usize, Vec<u8>)]) -> usize {
    let mut indexes: Vec<usize> = order.iter().map(|(index, _)| *index).collect();
    indexes.dedup();
    indexes.len()
}

/// Deliveries grouped by booking, in arrival order: (event index, body).
fn by_booking(received: &[Received]) -> BTreeMap<usize, Vec<(usize, Vec<u8>)>> {
    let mut seen: BTreeMap<usize, Vec<(usize, Vec<u8>)>> = BTreeMap::new();
    for request in received {
        let (booking, index) = marker(&request.body);
        seen.entry(booking)
            .or_default()
            .push((index, request.body.to_vec()));
    }
    seen
}

fn drain(upstream: &mut TestUpstream, received: &mut Vec<Received>) {
    while let Some(request) = upstream.try_next() {
        received.push(request);
    }
}

/// A booking-created event of booking `booking`, its notes naming the event's index.
fn body(booking: usize, index: usize) -> Vec<u8> {
    let text = String::from_utf8(fresh(&fixture("01-booking-created"))).unwrap();
    let uid = "\"uid\":\"3rTqW8mZkP1vYx6NcB2dLs\"";
    let notes = "\"additionalNotes\":\"Interested in the annual plan.\"";
    assert!(
        text.contains(uid) && text.contains(notes),
        "fixture changed"
    );
    text.replacen(uid, &format!("\"uid\":\"replica-booking-{booking}\""), 1)
        .replacen(notes, &format!("\"additionalNotes\":\"event {index}\""), 1)
        .into_bytes()
}

/// The (booking, index) a delivered body was built from.
fn marker(body: &[u8]) -> (usize, usize) {
    let value: serde_json::Value = serde_json::from_slice(body).expect("delivered JSON");
    let payload = &value["payload"];
    let uid = payload["uid"].as_str().expect("uid");
    let notes = payload["additionalNotes"].as_str().expect("notes");
    let booking = uid.trim_start_matches("replica-booking-").parse().unwrap();
    let index = notes.trim_start_matches("event ").parse().unwrap();
    (booking, index)
}

fn write_config(dir: &Path, upstream: &str) -> std::path::PathBuf {
    let config = format!(
        r#"
[server]
listen = "127.0.0.1:0"

[store]
kind = "postgres"
url = "${{PG_URL}}"

[delivery]
workers = 8

[[routes]]
name = "crm"
path = "/hooks/crm"
upstream = "{upstream}"
timeout = "2s"
retry_schedule = ["0s", "1s", "1s", "1s", "1s"]

[routes.inbound]
calcom_secret = "{secret}"

[[routes.sign]]
scheme = "calcom"
secrets = ["receiver-secret"]
"#,
        secret = support::CALCOM_SECRET
    );
    let path = dir.join("hookseal.toml");
    std::fs::write(&path, config).unwrap();
    path
}
