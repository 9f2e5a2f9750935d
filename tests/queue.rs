//! End to end on queued routes: durable acceptance, retries, dead events and replay, order per
//! booking chain, repeats, and the `hookseal deliveries` command. Retry delays are asserted in
//! the store and then forced with `deliveries retry`, never waited for. Every behaviour runs
//! twice: on the embedded store and on a real PostgreSQL server.

#[path = "support/postgres.rs"]
mod postgres_support;
mod support;

use std::time::Duration;

use serde_json::Value;
use support::{fixture, fresh, post_signed, Hookseal, Reply, TestUpstream, CALCOM_SECRET};

/// The store a test's hookseal runs on.
#[derive(Debug, Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// Starts hookseal with `config` on `backend` (a fresh database for PostgreSQL).
async fn start(backend: Backend, config: &str) -> Hookseal {
    match backend {
        Backend::Sqlite => Hookseal::start(config),
        Backend::Postgres => {
            let url = postgres_support::Cluster::shared().fresh_database().await;
            let store = "kind = \"postgres\"\nurl = \"${PG_URL}\"";
            Hookseal::start_with("", store, config, &[("PG_URL", &url)])
        }
    }
}

/// Runs a behaviour on both stores, as two tests named after it.
macro_rules! on_both_stores {
    ($($behaviour:ident),* $(,)?) => {$(
        mod $behaviour {
            #[tokio::test]
            async fn sqlite() {
                super::$behaviour(super::Backend::Sqlite).await;
            }

            #[tokio::test]
            async fn postgres() {
                super::$behaviour(super::Backend::Postgres).await;
            }
        }
    )*};
}

on_both_stores!(
    accepted_events_are_delivered_and_repeats_are_not,
    failures_are_retried_on_the_schedule_then_dead_then_replayed,
    timeouts_refusals_and_redirects_count_as_failures,
    retry_after_is_honoured,
    gone_pauses_the_route_until_resumed,
    a_later_event_of_a_chain_waits_for_an_earlier_one_in_retry,
    forget_erases_a_chain,
);

fn queued(upstream: &str, schedule: &str) -> String {
    format!(
        r#"
[[routes]]
name = "crm"
path = "/hooks/crm"
upstream = "{upstream}"
timeout = "1s"
retry_schedule = [{schedule}]

[routes.inbound]
calcom_secret = "{CALCOM_SECRET}"

[[routes.sign]]
scheme = "calcom"
secrets = ["receiver-secret"]
"#
    )
}

/// A BOOKING_CREATED body for booking `uid`, made `ms` milliseconds apart from others.
fn created(uid: &str, ms: u32) -> Vec<u8> {
    let body = String::from_utf8(fresh(&fixture("01-booking-created"))).unwrap();
    let body = body.replace("3rTqW8mZkP1vYx6NcB2dLs", uid);
    // Distinct createdAt per event: the sender's identity of an event includes it.
    let at = body.find("\"createdAt\":\"").unwrap() + 13 + 20;
    format!("{}{:03}{}", &body[..at], ms % 1000, &body[at + 3..]).into_bytes()
}

async fn accept(hookseal: &Hookseal, body: Vec<u8>) -> Value {
    let answer = post_signed(&hookseal.url("/hooks/crm"), body).await;
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    serde_json::from_slice(&answer.body).unwrap()
}

async fn accepted_events_are_delivered_and_repeats_are_not(backend: Backend) {
    let mut upstream = TestUpstream::start().await;
    let hookseal = start(backend, &queued(&upstream.url("/in"), "\"0s\"")).await;
    let body = created("bookingRepeat000000001", 1);

    let first = accept(&hookseal, body.clone()).await;
    assert_eq!(first["repeat"], false);
    let received = upstream.next().await;
    assert_eq!(received.body, body);
    assert_eq!(
        received.headers["x-cal-signature-256"],
        support::calcom_signature("receiver-secret", &body).as_str()
    );

    let again = accept(&hookseal, body).await;
    assert_eq!(again["repeat"], true);
    assert_eq!(again["event_id"], first["event_id"]);
    let event_id = first["event_id"].as_str().unwrap();
    hookseal
        .wait_state(&["--event-id", event_id], "delivered")
        .await;
    assert_eq!(
        hookseal.stored(&["--event-id", event_id]).len(),
        1,
        "a repeat is not stored"
    );
    assert!(upstream.try_next().is_none(), "a repeat is not delivered");
}

async fn failures_are_retried_on_the_schedule_then_dead_then_replayed(backend: Backend) {
    let mut upstream = TestUpstream::start().await;
    upstream.set_reply(Reply::Status(500, "down"));
    let hookseal = start(backend, &queued(&upstream.url("/"), "\"0s\", \"1h\"")).await;
    let accepted = accept(&hookseal, created("bookingRetry0000000001", 2)).await;
    let id = accepted["event_id"].as_str().unwrap();

    upstream.next().await;
    let retrying = hookseal.wait_state(&["--event-id", id], "retrying").await;
    assert_eq!(retrying["last_status"], 500);
    let due = retrying["next_attempt_at_ms"].as_i64().unwrap()
        - retrying["accepted_at_ms"].as_i64().unwrap();
    // The second delay is 1 h, plus up to 10% jitter.
    assert!(
        (3_600_000..=3_960_000 + 5_000).contains(&due),
        "next attempt {due} ms after acceptance"
    );

    hookseal.deliveries("retry", &["--event-id", id]);
    upstream.next().await;
    let dead = hookseal.wait_state(&["--event-id", id], "dead").await;
    assert_eq!(dead["attempts"], 2);

    upstream.set_reply(Reply::Status(200, "ok"));
    let listed = hookseal.deliveries("list", &["--state", "dead"]);
    assert!(listed.contains(id), "{listed}");
    hookseal.deliveries("retry", &["--state", "dead"]);
    upstream.next().await;
    hookseal.wait_state(&["--event-id", id], "delivered").await;
}

async fn timeouts_refusals_and_redirects_count_as_failures(backend: Backend) {
    let mut upstream = TestUpstream::start().await;
    let hookseal = start(backend, &queued(&upstream.url("/"), "\"0s\"")).await;
    for (index, reply) in [Reply::Hang, Reply::Status(302, "")]
        .into_iter()
        .enumerate()
    {
        upstream.set_reply(reply);
        let uid = format!("bookingFailure00000000{index}");
        let accepted = accept(&hookseal, created(&uid, 3)).await;
        upstream.next().await;
        let dead = hookseal
            .wait_state(
                &["--event-id", accepted["event_id"].as_str().unwrap()],
                "dead",
            )
            .await;
        assert_eq!(dead["attempts"], 1);
    }

    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = start(
        backend,
        &queued(&format!("http://127.0.0.1:{closed_port}/"), "\"0s\""),
    )
    .await;
    let accepted = accept(&down, created("bookingRefused00000001", 4)).await;
    let dead = down
        .wait_state(
            &["--event-id", accepted["event_id"].as_str().unwrap()],
            "dead",
        )
        .await;
    assert!(
        dead["last_error"].as_str().unwrap().contains("connect"),
        "{dead}"
    );
}

async fn retry_after_is_honoured(backend: Backend) {
    let mut upstream = TestUpstream::start().await;
    upstream.set_reply(Reply::WithHeaders(
        429,
        vec![("retry-after", "7200".to_owned())],
    ));
    let hookseal = start(backend, &queued(&upstream.url("/"), "\"0s\", \"5s\"")).await;
    let accepted = accept(&hookseal, created("bookingThrottled000001", 5)).await;
    upstream.next().await;
    let retrying = hookseal
        .wait_state(
            &["--event-id", accepted["event_id"].as_str().unwrap()],
            "retrying",
        )
        .await;
    let due = retrying["next_attempt_at_ms"].as_i64().unwrap()
        - retrying["accepted_at_ms"].as_i64().unwrap();
    assert!(
        due >= 7_200_000,
        "Retry-After of 2 h ignored: next attempt after {due} ms"
    );
}

async fn gone_pauses_the_route_until_resumed(backend: Backend) {
    let mut upstream = TestUpstream::start().await;
    upstream.set_reply(Reply::Status(410, "gone"));
    let hookseal = start(backend, &queued(&upstream.url("/"), "\"0s\", \"1s\"")).await;
    let first = accept(&hookseal, created("bookingGone00000000001", 6)).await;
    upstream.next().await;
    let dead = hookseal
        .wait_state(&["--event-id", first["event_id"].as_str().unwrap()], "dead")
        .await;
    assert_eq!(dead["attempts"], 1, "410 kills at once");

    upstream.set_reply(Reply::Status(200, "ok"));
    let second = accept(&hookseal, created("bookingGone00000000002", 7)).await;
    let id = second["event_id"].as_str().unwrap();
    // Paused: the event stays pending. Several worker polls pass while we look.
    for _ in 0..5 {
        assert_eq!(hookseal.stored(&["--event-id", id])[0]["state"], "pending");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(upstream.try_next().is_none());
    let listed = hookseal.deliveries("list", &[]);
    assert!(listed.contains("route crm is PAUSED"), "{listed}");
    let resumed = hookseal.deliveries("resume", &["--route", "crm"]);
    assert!(resumed.contains("resumed"), "{resumed}");
    upstream.next().await;
    hookseal.wait_state(&["--event-id", id], "delivered").await;
}

async fn a_later_event_of_a_chain_waits_for_an_earlier_one_in_retry(backend: Backend) {
    let mut upstream = TestUpstream::start().await;
    upstream.set_reply(Reply::Status(503, "busy"));
    let hookseal = start(backend, &queued(&upstream.url("/"), "\"0s\", \"1h\"")).await;
    let created_a = accept(&hookseal, fresh(&fixture("01-booking-created"))).await;
    upstream.next().await;
    hookseal
        .wait_state(
            &["--event-id", created_a["event_id"].as_str().unwrap()],
            "retrying",
        )
        .await;

    upstream.set_reply(Reply::Status(200, "ok"));
    // The reschedule belongs to the same chain: it waits. Another booking does not.
    let rescheduled = accept(&hookseal, fresh(&fixture("02-booking-rescheduled"))).await;
    let other = accept(&hookseal, fresh(&fixture("05-booking-requested"))).await;
    let first_delivered = upstream.next().await;
    assert!(String::from_utf8_lossy(&first_delivered.body).contains("BOOKING_REQUESTED"));
    hookseal
        .wait_state(
            &["--event-id", other["event_id"].as_str().unwrap()],
            "delivered",
        )
        .await;
    let waiting = hookseal.stored(&["--event-id", rescheduled["event_id"].as_str().unwrap()]);
    assert_eq!(waiting[0]["state"], "pending");
    assert!(upstream.try_next().is_none());

    hookseal.deliveries(
        "retry",
        &["--event-id", created_a["event_id"].as_str().unwrap()],
    );
    let next = upstream.next().await;
    assert!(String::from_utf8_lossy(&next.body).contains("BOOKING_CREATED"));
    let last = upstream.next().await;
    assert!(String::from_utf8_lossy(&last.body).contains("BOOKING_RESCHEDULED"));
}

async fn forget_erases_a_chain(backend: Backend) {
    let mut upstream = TestUpstream::start().await;
    let hookseal = start(backend, &queued(&upstream.url("/"), "\"0s\"")).await;
    accept(&hookseal, fresh(&fixture("01-booking-created"))).await;
    upstream.next().await;
    accept(&hookseal, fresh(&fixture("02-booking-rescheduled"))).await;
    upstream.next().await;
    assert_eq!(
        hookseal
            .stored(&["--booking", "9hGf2KsLw4QzXc7VbN1mPr"])
            .len(),
        1
    );
    let config = hookseal.config_path();
    let (ok, stdout, _) = hookseal.cli(&[
        "forget",
        "--config",
        config.to_str().unwrap(),
        "--booking",
        "9hGf2KsLw4QzXc7VbN1mPr",
    ]);
    assert!(ok && stdout.contains("rows erased"), "{stdout}");
    assert!(hookseal
        .stored(&["--booking", "9hGf2KsLw4QzXc7VbN1mPr"])
        .is_empty());
    assert!(hookseal
        .stored(&["--booking", "3rTqW8mZkP1vYx6NcB2dLs"])
        .is_empty());
    // The cache is gone too: a cancel of the rescheduled booking gets no metadata.
    accept(&hookseal, fresh(&fixture("03-booking-cancelled"))).await;
    let cancelled: Value = serde_json::from_slice(&upstream.next().await.body).unwrap();
    assert!(cancelled["payload"].get("metadata").is_none());
}
