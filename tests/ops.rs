//! Running hookseal in production, end to end through real processes: probes, metrics, the
//! delivery API, SIGHUP reloads, SIGTERM under load, and logs that never carry a secret.

#[path = "support/postgres.rs"]
mod postgres_support;
mod support;

#[path = "ops/client.rs"]
mod client;
#[path = "ops/secrets.rs"]
mod secrets;
#[path = "ops/signals.rs"]
mod signals;

use client::{admin_table, admin_url, api, booking_created, call, eventually, Scrape, TOKEN};
use support::{fixture, fresh, post, post_signed, Hookseal, Reply, TestUpstream, CALCOM_SECRET};

/// A route named `name` on `/hooks/<name>`, signed by the test secret.
fn route(name: &str, upstream: &str, delivery: &str, extra: &str) -> String {
    format!(
        r#"
[[routes]]
name = "{name}"
path = "/hooks/{name}"
upstream = "{upstream}"
delivery = "{delivery}"
timeout = "2s"
{extra}

[routes.inbound]
calcom_secret = "{CALCOM_SECRET}"

[[routes.sign]]
scheme = "calcom"
secrets = ["receiver-secret-{name}"]
"#
    )
}

#[tokio::test]
async fn metrics_count_real_traffic_on_sync_and_queued_routes() {
    let sync_upstream = TestUpstream::start().await;
    let mut queued_upstream = TestUpstream::start().await;
    let config = format!(
        "{}{}{}",
        admin_table(),
        route("crm", &sync_upstream.url("/"), "sync", ""),
        route("erp", &queued_upstream.url("/"), "queued", "")
    );
    let hookseal = Hookseal::start(&config);
    let before = Scrape::take(&hookseal).await;
    assert_eq!(before.value("hookseal_requests_total", &[]), 0.0);

    // Sync: two delivered, one refused for its signature; one request matches no route.
    for uid in ["sync-a", "sync-b"] {
        let answer = post_signed(&hookseal.url("/hooks/crm"), booking_created(uid)).await;
        assert_eq!(answer.status, 200);
    }
    let forged = [("x-cal-signature-256", "00")];
    let answer = post(&hookseal.url("/hooks/crm"), &forged, booking_created("x")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        post_signed(&hookseal.url("/nowhere"), b"{}".to_vec())
            .await
            .status,
        404
    );

    // Queued: three accepted and delivered in the background.
    for uid in ["queued-a", "queued-b", "queued-c"] {
        let answer = post_signed(&hookseal.url("/hooks/erp"), booking_created(uid)).await;
        assert_eq!(answer.status, 202);
    }
    for _ in 0..3 {
        queued_upstream.next().await;
    }
    // The attempt is counted as it ends and the store records it just after: wait for both.
    let scrape = eventually("three queued attempts counted and recorded", || async {
        let scrape = Scrape::take(&hookseal).await;
        let attempts = scrape.value("hookseal_queued_attempts_total", &[("route", "erp")]);
        let waiting = scrape.value("hookseal_events", &[("state", "waiting")]);
        (attempts == 3.0 && waiting == 0.0).then_some(scrape)
    })
    .await;

    let requests = |labels: &[(&str, &str)]| scrape.value("hookseal_requests_total", labels);
    let delivered = [
        ("route", "crm"),
        ("outcome", "delivered"),
        ("status", "200"),
    ];
    assert_eq!(requests(&delivered), 2.0);
    let refused = [("route", "crm"), ("outcome", "refused"), ("status", "401")];
    assert_eq!(requests(&refused), 1.0);
    let unrouted = [("route", "-"), ("outcome", "refused"), ("status", "404")];
    assert_eq!(requests(&unrouted), 1.0);
    let accepted = [("route", "erp"), ("outcome", "accepted"), ("status", "202")];
    assert_eq!(requests(&accepted), 3.0);
    assert_eq!(requests(&[]), 7.0);

    let upstream = |route, class| {
        scrape.value(
            "hookseal_upstream_responses_total",
            &[("route", route), ("class", class)],
        )
    };
    assert_eq!(upstream("crm", "2xx"), 2.0);
    assert_eq!(upstream("erp", "2xx"), 3.0);
    assert_eq!(scrape.value("hookseal_upstream_responses_total", &[]), 5.0);

    let count = |name: &str, route| scrape.value(name, &[("route", route)]);
    assert_eq!(count("hookseal_answer_duration_seconds_count", "crm"), 3.0);
    assert_eq!(count("hookseal_answer_duration_seconds_count", "erp"), 3.0);
    assert_eq!(
        count("hookseal_upstream_duration_seconds_count", "crm"),
        2.0
    );
    assert_eq!(
        count("hookseal_upstream_duration_seconds_count", "erp"),
        3.0
    );
    let delivered = [("route", "erp"), ("outcome", "delivered")];
    assert_eq!(
        scrape.value("hookseal_queued_attempts_total", &delivered),
        3.0
    );
    assert_eq!(scrape.value("hookseal_retries_total", &[]), 0.0);

    // Five bookings enriched, each new: one lookup apiece, all misses.
    let lookups = |result| scrape.value("hookseal_cache_lookups_total", &[("result", result)]);
    assert_eq!(lookups("miss"), 5.0);
    assert_eq!(lookups("hit"), 0.0);
    assert_eq!(
        scrape.value("hookseal_events", &[("state", "waiting")]),
        0.0
    );
    assert_eq!(
        scrape.value("hookseal_oldest_waiting_event_age_seconds", &[]),
        0.0
    );
    assert_eq!(
        scrape.value("hookseal_route_paused", &[("route", "erp")]),
        0.0
    );
    assert_eq!(scrape.value("hookseal_store_up", &[]), 1.0);
}

#[tokio::test]
async fn cache_hits_and_retries_are_counted() {
    let mut upstream = TestUpstream::start().await;
    upstream.set_reply(Reply::Status(503, "busy"));
    let extra = "retry_schedule = [\"0s\", \"0s\", \"0s\"]";
    let config = format!(
        "{}{}",
        admin_table(),
        route("erp", &upstream.url("/"), "queued", extra)
    );
    let hookseal = Hookseal::start(&config);

    let body = fresh(&fixture("01-booking-created"));
    assert_eq!(
        post_signed(&hookseal.url("/hooks/erp"), body).await.status,
        202
    );
    for _ in 0..3 {
        upstream.next().await;
    }
    let scrape = eventually("the event went dead after three attempts", || async {
        let scrape = Scrape::take(&hookseal).await;
        (scrape.value("hookseal_events", &[("state", "dead")]) == 1.0).then_some(scrape)
    })
    .await;
    assert_eq!(
        scrape.value("hookseal_retries_total", &[("route", "erp")]),
        2.0
    );
    let attempts = |outcome| {
        let labels = [("route", "erp"), ("outcome", outcome)];
        scrape.value("hookseal_queued_attempts_total", &labels)
    };
    assert_eq!((attempts("retry"), attempts("dead")), (2.0, 1.0));
    let classes = [("route", "erp"), ("class", "5xx")];
    assert_eq!(
        scrape.value("hookseal_upstream_responses_total", &classes),
        3.0
    );

    // A reschedule of that booking: the new booking is unknown, the one it replaces cached.
    let rescheduled = fresh(&fixture("02-booking-rescheduled"));
    assert_eq!(
        post_signed(&hookseal.url("/hooks/erp"), rescheduled)
            .await
            .status,
        202
    );
    let scrape = Scrape::take(&hookseal).await;
    let lookups = |result| scrape.value("hookseal_cache_lookups_total", &[("result", result)]);
    assert_eq!((lookups("hit"), lookups("miss")), (1.0, 2.0));
}

#[tokio::test]
async fn probes_answer_while_the_store_is_up_and_readiness_fails_once_it_is_gone() {
    let upstream = TestUpstream::start().await;
    let config = format!(
        "{}{}",
        admin_table(),
        route("erp", &upstream.url("/"), "queued", "")
    );
    let hookseal = Hookseal::start(&config);
    let probe = |path: &'static str| {
        let url = admin_url(&hookseal, path);
        async move { call("GET", &url, None).await }
    };
    assert_eq!(probe("/healthz").await.status, 200);
    assert_eq!(probe("/readyz").await.status, 200);

    // The store goes away: its file is moved off the configured path, as when a volume is
    // unmounted or the file deleted. SQLite keeps its open descriptor, so a bare query would
    // still answer; the ping notices that the path no longer names the file it opened.
    let store = hookseal.dir.join("store/hookseal.db");
    let aside = hookseal.dir.join("store/aside.db");
    std::fs::rename(&store, &aside).unwrap();
    let answer = probe("/readyz").await;
    assert_eq!(answer.status, 503);
    assert_eq!(&answer.body[..], b"store not answering\n");
    assert_eq!(
        probe("/healthz").await.status,
        200,
        "the process still serves"
    );
    let scrape = Scrape::take(&hookseal).await;
    assert_eq!(scrape.value("hookseal_store_up", &[]), 0.0);

    std::fs::rename(&aside, &store).unwrap();
    assert_eq!(probe("/readyz").await.status, 200);
}

#[tokio::test]
async fn the_delivery_api_needs_the_token_and_lists_retries_and_purges() {
    let mut upstream = TestUpstream::start().await;
    upstream.set_reply(Reply::Status(500, "down"));
    let extra = "retry_schedule = [\"0s\"]";
    let config = format!(
        "{}{}",
        admin_table(),
        route("erp", &upstream.url("/"), "queued", extra)
    );
    let hookseal = Hookseal::start(&config);
    let deliveries = admin_url(&hookseal, "/deliveries");

    // Without a token, or with a wrong one: 401 and a log line naming the reason.
    assert_eq!(call("GET", &deliveries, None).await.status, 401);
    assert_eq!(
        call("GET", &deliveries, Some("not-the-token")).await.status,
        401
    );
    let refused = hookseal
        .wait_logs("admin request refused", 2, |_| true)
        .await;
    assert_eq!(refused[0]["reason"], "no Authorization header");
    assert_eq!(refused[1]["reason"], "wrong token");

    // One event, dead after its single attempt got 500.
    let body = booking_created("api-1");
    assert_eq!(
        post_signed(&hookseal.url("/hooks/erp"), body).await.status,
        202
    );
    let sent = upstream.next().await;
    let dead_url = format!("{deliveries}?state=dead&route=erp");
    let dead = eventually("the event is dead", || async {
        let list = api("GET", &dead_url, 200).await;
        (list.as_array().unwrap().len() == 1).then_some(list)
    })
    .await;
    assert_eq!(dead[0]["last_status"], 500);
    assert!(dead[0].get("body").is_none(), "listings carry no bodies");
    let seq = dead[0]["seq"].as_i64().unwrap();

    let shown = api("GET", &format!("{deliveries}/{seq}"), 200).await;
    assert_eq!(shown["body"].as_str().unwrap().as_bytes(), &sent.body[..]);
    assert_eq!(shown["state"], "dead");
    assert_eq!(
        call("GET", &format!("{deliveries}/999"), Some(TOKEN))
            .await
            .status,
        404
    );

    // The upstream recovers; the operator retries the event and it is delivered.
    upstream.set_reply(Reply::Status(200, "ok"));
    let retried = api("POST", &format!("{deliveries}/{seq}/retry"), 200).await;
    assert_eq!(retried["retried"], 1);
    assert_eq!(upstream.next().await.body, sent.body);
    let delivered_url = format!("{deliveries}?state=delivered");
    eventually("the retried event is delivered", || async {
        let list = api("GET", &delivered_url, 200).await;
        (list.as_array().unwrap().len() == 1).then_some(())
    })
    .await;

    // A purge needs a filter (or all=true), and refuses unknown keys.
    let answer = call("DELETE", &deliveries, Some(TOKEN)).await;
    assert_eq!(answer.status, 400);
    let answer = call("DELETE", &format!("{deliveries}?rout=erp"), Some(TOKEN)).await;
    assert_eq!(answer.status, 400);
    let purged = api("DELETE", &format!("{deliveries}?state=delivered"), 200).await;
    assert_eq!(purged["purged"], 1);
    assert_eq!(api("GET", &deliveries, 200).await, serde_json::json!([]));
}

#[tokio::test]
async fn a_route_paused_by_410_is_listed_and_resumed() {
    let mut upstream = TestUpstream::start().await;
    upstream.set_reply(Reply::Status(410, "gone"));
    let config = format!(
        "{}{}",
        admin_table(),
        route("erp", &upstream.url("/"), "queued", "")
    );
    let hookseal = Hookseal::start(&config);
    let routes_url = admin_url(&hookseal, "/routes");

    let first = booking_created("paused-1");
    assert_eq!(
        post_signed(&hookseal.url("/hooks/erp"), first).await.status,
        202
    );
    upstream.next().await;
    let routes = eventually("the route is paused", || async {
        let routes = api("GET", &routes_url, 200).await;
        (routes[0]["paused"] == true).then_some(routes)
    })
    .await;
    assert_eq!(routes[0]["name"], "erp");
    assert_eq!(routes[0]["delivery"], "queued");
    let scrape = Scrape::take(&hookseal).await;
    assert_eq!(
        scrape.value("hookseal_route_paused", &[("route", "erp")]),
        1.0
    );

    // While paused, a new event waits; resuming wakes the workers and it goes out.
    upstream.set_reply(Reply::Status(200, "ok"));
    let second = booking_created("paused-2");
    assert_eq!(
        post_signed(&hookseal.url("/hooks/erp"), second.clone())
            .await
            .status,
        202
    );
    let resumed = api("POST", &admin_url(&hookseal, "/routes/erp/resume"), 200).await;
    assert_eq!(resumed["resumed"], true);
    let received = upstream.next().await;
    assert!(String::from_utf8_lossy(&received.body).contains("paused-2"));
    let routes = api("GET", &routes_url, 200).await;
    assert_eq!(routes[0]["paused"], false);
    // Resuming a running route changes nothing; a route hookseal never had is not found.
    let again = api("POST", &admin_url(&hookseal, "/routes/erp/resume"), 200).await;
    assert_eq!(again["resumed"], false);
    let unknown = call(
        "POST",
        &admin_url(&hookseal, "/routes/nope/resume"),
        Some(TOKEN),
    )
    .await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn without_a_token_the_delivery_api_is_disabled_but_probes_answer() {
    let upstream = TestUpstream::start().await;
    let config = format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\n{}",
        route("erp", &upstream.url("/"), "queued", "")
    );
    let hookseal = Hookseal::start(&config);
    assert_eq!(
        call("GET", &admin_url(&hookseal, "/healthz"), None)
            .await
            .status,
        200
    );
    let answer = call(
        "GET",
        &admin_url(&hookseal, "/deliveries"),
        Some("anything"),
    )
    .await;
    assert_eq!(answer.status, 403);
    hookseal
        .wait_logs(
            "delivery API disabled: [admin] has no token or token_file",
            1,
            |_| true,
        )
        .await;
    let refused = "delivery API refused: it is disabled while [admin] has no token or token_file";
    hookseal.wait_logs(refused, 1, |_| true).await;
}
