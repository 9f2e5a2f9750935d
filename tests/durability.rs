//! Kills hookseal with SIGKILL while thousands of events are being accepted and delivered,
//! restarts it on the same store, and checks that every event answered 202 reached the
//! receiver at least once, in order per booking, with duplicates only as repeats of the same
//! event id.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{fixture, try_post_signed, Hookseal, Received, TestUpstream, CALCOM_SECRET};
use time::format_description::well_known::Rfc3339;
use tokio::sync::watch;

const BOOKINGS: usize = 40;
const EVENTS_PER_BOOKING: usize = 50;
const KILL_AFTER_ACCEPTED: usize = 700;

fn config(upstream: &str) -> String {
    format!(
        r#"
[[routes]]
name = "crm"
path = "/hooks/crm"
upstream = "{upstream}"
retry_schedule = ["0s", "50ms", "50ms", "50ms", "50ms"]

[routes.inbound]
calcom_secret = "{CALCOM_SECRET}"

[[routes.sign]]
scheme = "standard-webhooks"
secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
"#
    )
}

/// Event `index` of booking `booking`: a BOOKING_CREATED body whose `createdAt` makes it a
/// distinct event with its own id.
fn event(template: &str, booking: usize, index: usize, base: time::OffsetDateTime) -> Vec<u8> {
    let created_at = (base + Duration::from_millis(index as u64))
        .format(&Rfc3339)
        .unwrap();
    template
        .replace(
            "3rTqW8mZkP1vYx6NcB2dLs",
            &format!("durability{booking:012}"),
        )
        .replace("2026-03-02T09:14:07.512Z", &created_at)
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loses_no_accepted_event_and_keeps_order_per_booking() {
    let dir = tempfile::tempdir().unwrap();
    let mut upstream = TestUpstream::start().await;
    let config = config(&upstream.url("/"));
    let first = Hookseal::start_in(dir.path(), &config, &[]);
    let (url, urls) = watch::channel(first.url("/hooks/crm"));
    let accepted = Arc::new(AtomicUsize::new(0));
    // (booking, index) -> event id, for every event answered 202.
    let ids: Arc<Mutex<HashMap<String, (usize, usize)>>> = Arc::default();

    let template = String::from_utf8(fixture("01-booking-created")).unwrap();
    let base = time::OffsetDateTime::now_utc() - Duration::from_secs(60);
    let mut senders = Vec::new();
    for booking in 0..BOOKINGS {
        let (urls, accepted, ids, template) = (
            urls.clone(),
            Arc::clone(&accepted),
            Arc::clone(&ids),
            template.clone(),
        );
        senders.push(tokio::spawn(async move {
            let mut urls = urls;
            for index in 0..EVENTS_PER_BOOKING {
                let body = event(&template, booking, index, base);
                // Like a careful sender, try each event until it is accepted.
                loop {
                    let target = urls.borrow_and_update().clone();
                    let answer = try_post_signed(&target, body.clone()).await;
                    if let Some(answer) = answer.filter(|answer| answer.status == 202) {
                        let reply: serde_json::Value =
                            serde_json::from_slice(&answer.body).unwrap();
                        let id = reply["event_id"].as_str().unwrap().to_owned();
                        ids.lock().unwrap().insert(id, (booking, index));
                        accepted.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    urls.changed().await.expect("the test keeps the URL sender");
                }
            }
        }));
    }

    // Collect what reaches the upstream while the senders run.
    let arrivals: Arc<Mutex<Vec<Received>>> = Arc::default();
    let collected = Arc::clone(&arrivals);
    let collector = tokio::spawn(async move {
        loop {
            let received = upstream.next_within(Duration::from_secs(60)).await;
            let Some(received) = received else { break };
            collected.lock().unwrap().push(received);
        }
    });

    // Kill mid-stream, then restart on the same store.
    let mut first = first;
    while accepted.load(Ordering::SeqCst) < KILL_AFTER_ACCEPTED {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill();
    let second = Hookseal::start_in(dir.path(), &config, &[]);
    url.send(second.url("/hooks/crm")).unwrap();
    for sender in senders {
        sender.await.unwrap();
    }
    let total = BOOKINGS * EVENTS_PER_BOOKING;
    assert_eq!(
        ids.lock().unwrap().len(),
        total,
        "every event was eventually accepted"
    );

    // Wait until every accepted event id has arrived.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let seen = distinct_ids(&arrivals.lock().unwrap());
        if seen >= total {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {seen} of {total} events arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    collector.abort();

    let ids = ids.lock().unwrap();
    let arrivals = arrivals.lock().unwrap();
    let mut last_index: HashMap<usize, usize> = HashMap::new();
    for received in arrivals.iter() {
        let id = received.headers["webhook-id"].to_str().unwrap();
        let &(booking, index) = ids
            .get(id)
            .unwrap_or_else(|| panic!("unknown event id {id}"));
        let last = last_index.entry(booking).or_insert(0);
        // A repeat of the latest event is allowed; going back to an earlier one is not.
        assert!(
            index >= *last,
            "booking {booking}: event {index} arrived after event {last}"
        );
        *last = index;
    }
    assert!(arrivals.len() >= total);
    drop(second);
}

fn distinct_ids(arrivals: &[Received]) -> usize {
    let mut ids: Vec<_> = arrivals
        .iter()
        .map(|received| received.headers["webhook-id"].clone())
        .collect();
    ids.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    ids.dedup();
    ids.len()
}
