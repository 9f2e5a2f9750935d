//! End to end through a real hookseal process on a sync route: routing, sender checks, limits,
//! upstream failures, header handling and HTTPS upstreams.

mod support;

use std::sync::Arc;

use support::{fixture, fresh, post, post_signed, Hookseal, Reply, TestUpstream, CALCOM_SECRET};

fn sync_route(upstream: &str, extra: &str) -> String {
    format!(
        r#"
[[routes]]
name = "crm"
path = "/hooks/crm"
upstream = "{upstream}"
delivery = "sync"
timeout = "2s"
{extra}

[routes.inbound]
calcom_secret = "{CALCOM_SECRET}"

[[routes.sign]]
scheme = "calcom"
secrets = ["receiver-secret"]
"#
    )
}

#[tokio::test]
async fn an_event_reaches_the_upstream_resigned_with_its_answer_passed_back() {
    let mut upstream = TestUpstream::start().await;
    upstream.set_reply(Reply::Status(201, "created-by-crm"));
    let hookseal = Hookseal::start(&sync_route(&upstream.url("/calcom?tenant=7"), ""));
    let body = fresh(&fixture("01-booking-created"));

    let answer = post_signed(&hookseal.url("/hooks/crm"), body.clone()).await;

    assert_eq!(answer.status, 201);
    assert_eq!(&answer.body[..], b"created-by-crm");
    let received = upstream.next().await;
    assert_eq!(received.method, "POST");
    assert_eq!(received.uri, "/calcom?tenant=7");
    assert_eq!(received.headers["host"], upstream.addr.to_string());
    assert_eq!(received.headers["content-type"], "application/json");
    assert_eq!(received.headers["x-cal-webhook-version"], "2021-10-20");
    // The inbound signature is never forwarded; the receiver's own secret signs instead.
    let resigned = support::calcom_signature("receiver-secret", &received.body);
    assert_eq!(
        received
            .headers
            .get_all("x-cal-signature-256")
            .iter()
            .count(),
        1
    );
    assert_eq!(received.headers["x-cal-signature-256"], resigned.as_str());
}

#[tokio::test]
async fn standard_webhooks_signatures_verify_with_the_reference_library() {
    let mut upstream = TestUpstream::start().await;
    let whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let rotated = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let sign = format!(
        "[[routes.sign]]\nscheme = \"standard-webhooks\"\nsecrets = [\"{whsec}\", \"{rotated}\"]\n"
    );
    let config = format!("{}{sign}", sync_route(&upstream.url("/"), ""));
    let hookseal = Hookseal::start(&config);
    let mut ids = Vec::new();
    let bodies: Vec<_> = [
        "01-booking-created",
        "02-booking-rescheduled",
        "03-booking-cancelled",
    ]
    .into_iter()
    .map(|name| (name, fresh(&fixture(name))))
    .collect();
    for (name, body) in &bodies {
        let answer = post_signed(&hookseal.url("/hooks/crm"), body.clone()).await;
        assert_eq!(answer.status, 200);
        let received = upstream.next().await;
        let entries = received.headers["webhook-signature"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            entries.matches("v1,").count(),
            2,
            "one entry per secret: {entries}"
        );
        // The receiver may hold either key during rotation; both verify.
        assert!(
            support::library_accepts("verify_standardwebhooks.py", whsec, &received),
            "{name}"
        );
        assert!(
            support::library_accepts("verify_standardwebhooks.py", rotated, &received),
            "{name}"
        );
        let mut tampered = received.clone();
        tampered.body = bytes::Bytes::from([&received.body[..], b" "].concat());
        assert!(!support::library_accepts(
            "verify_standardwebhooks.py",
            whsec,
            &tampered
        ));
        ids.push(received.headers["webhook-id"].to_str().unwrap().to_owned());
    }
    // A sender's repeat of an event carries the same id, so the receiver can deduplicate.
    post_signed(&hookseal.url("/hooks/crm"), bodies[0].1.clone()).await;
    let repeat = upstream.next().await;
    assert_eq!(repeat.headers["webhook-id"], ids[0].as_str());
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "distinct events never share an id");
}

#[tokio::test]
async fn non_json_bodies_pass_byte_for_byte() {
    let mut upstream = TestUpstream::start().await;
    let hookseal = Hookseal::start(&sync_route(&upstream.url("/"), ""));
    for name in ["09-custom-template-form", "10-custom-template-broken"] {
        let body = fixture(name);
        let signature = support::calcom_signature(CALCOM_SECRET, &body);
        let headers = [
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-cal-signature-256", signature.as_str()),
        ];
        let answer = post(&hookseal.url("/hooks/crm"), &headers, body.clone()).await;
        assert_eq!(answer.status, 200, "{name}");
        let received = upstream.next().await;
        assert_eq!(received.body, body, "{name} changed on the way");
        assert_eq!(
            received.headers["content-type"],
            "application/x-www-form-urlencoded"
        );
    }
}

#[tokio::test]
async fn unknown_path_is_404_and_nothing_is_forwarded() {
    let mut upstream = TestUpstream::start().await;
    let hookseal = Hookseal::start(&sync_route(&upstream.url("/"), ""));
    let answer = post_signed(&hookseal.url("/hooks/other"), fixture("01-booking-created")).await;
    assert_eq!(answer.status, 404);
    let probe = post_signed(&hookseal.url("/hooks/crm"), fresh(&fixture("07-ping"))).await;
    assert_eq!(probe.status, 200);
    // The only request the upstream saw is the probe sent after the refused one.
    assert!(upstream
        .next()
        .await
        .body
        .starts_with(b"{\"triggerEvent\":\"PING\""));
    assert!(upstream.try_next().is_none());
    hookseal
        .wait_logs("refused", 1, |line| {
            line["status"] == 404 && line["path"] == "/hooks/other"
        })
        .await;
}

#[tokio::test]
async fn wrong_or_missing_signatures_are_401_and_nothing_is_forwarded() {
    let mut upstream = TestUpstream::start().await;
    let hookseal = Hookseal::start(&sync_route(&upstream.url("/"), ""));
    let body = fresh(&fixture("01-booking-created"));
    let wrong = support::calcom_signature("not-the-secret", &body);
    let cases: [&[(&str, &str)]; 3] = [
        &[("x-cal-signature-256", wrong.as_str())],
        &[("x-cal-signature-256", "no-secret-provided")],
        &[],
    ];
    for headers in cases {
        let answer = post(&hookseal.url("/hooks/crm"), headers, body.clone()).await;
        assert_eq!(answer.status, 401, "headers {headers:?}");
    }
    hookseal
        .wait_logs("refused", 3, |line| {
            line["status"] == 401 && line["route"] == "crm"
        })
        .await;
    let probe = post_signed(&hookseal.url("/hooks/crm"), fresh(&fixture("07-ping"))).await;
    assert_eq!(probe.status, 200);
    assert!(upstream
        .next()
        .await
        .body
        .starts_with(b"{\"triggerEvent\":\"PING\""));
    assert!(upstream.try_next().is_none());
}

#[tokio::test]
async fn unsigned_events_pass_from_allowed_networks_only() {
    let mut upstream = TestUpstream::start().await;
    let open = Hookseal::start(&sync_route(&upstream.url("/"), "").replace(
        &format!("calcom_secret = \"{CALCOM_SECRET}\""),
        &format!("calcom_secret = \"{CALCOM_SECRET}\"\nallow_unsigned_from = [\"127.0.0.0/8\"]"),
    ));
    let closed = Hookseal::start(&sync_route(&upstream.url("/"), "").replace(
        &format!("calcom_secret = \"{CALCOM_SECRET}\""),
        &format!("calcom_secret = \"{CALCOM_SECRET}\"\nallow_unsigned_from = [\"10.0.0.0/8\"]"),
    ));
    let body = support::fresh_meeting(&fixture("04-meeting-ended"));
    let unsigned = [("x-cal-signature-256", "no-secret-provided")];
    assert_eq!(
        post(&open.url("/hooks/crm"), &unsigned, body.clone())
            .await
            .status,
        200
    );
    assert_eq!(upstream.next().await.body[..20], body[..20]);
    assert_eq!(
        post(&closed.url("/hooks/crm"), &unsigned, body.clone())
            .await
            .status,
        401
    );
    assert_eq!(post(&closed.url("/hooks/crm"), &[], body).await.status, 401);
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let upstream = TestUpstream::start().await;
    let config = sync_route(&upstream.url("/"), "");
    let hookseal = Hookseal::start(&config);
    // The default limit is 1 MiB.
    let body = vec![b' '; 1024 * 1024 + 1];
    let answer = post_signed(&hookseal.url("/hooks/crm"), body).await;
    assert_eq!(answer.status, 413);
    hookseal
        .wait_logs("refused", 1, |line| line["status"] == 413)
        .await;
}

#[tokio::test]
async fn unreachable_upstream_is_502_and_silent_one_is_504() {
    // A port that was bound and released has nothing listening on it.
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let down = Hookseal::start(&sync_route(&format!("http://127.0.0.1:{closed_port}/"), ""));
    let answer = post_signed(&down.url("/hooks/crm"), fresh(&fixture("07-ping"))).await;
    assert_eq!(answer.status, 502);

    let mut upstream = TestUpstream::start().await;
    upstream.set_reply(Reply::Hang);
    let slow = Hookseal::start(
        &sync_route(&upstream.url("/"), "").replace("timeout = \"2s\"", "timeout = \"300ms\""),
    );
    let answer = post_signed(&slow.url("/hooks/crm"), fresh(&fixture("07-ping"))).await;
    assert_eq!(answer.status, 504);
    upstream.next().await;
}

#[tokio::test]
async fn replayed_old_or_future_dated_events_are_422() {
    let mut upstream = TestUpstream::start().await;
    let hookseal = Hookseal::start(&sync_route(&upstream.url("/"), ""));
    // The fixtures' times are in March 2026, far past the default max_event_age of 1 h.
    let stale = post_signed(&hookseal.url("/hooks/crm"), fixture("01-booking-created")).await;
    assert_eq!(stale.status, 422);
    // MEETING_* bodies carry the booking's createdAt; their send time is endTime.
    let stale_meeting = post_signed(&hookseal.url("/hooks/crm"), fixture("04-meeting-ended")).await;
    assert_eq!(stale_meeting.status, 422);
    let future = String::from_utf8(fixture("01-booking-created"))
        .unwrap()
        .replace("2026-03-02T09:14:07.512Z", "2099-01-01T00:00:00.000Z");
    let future = post_signed(&hookseal.url("/hooks/crm"), future.into_bytes()).await;
    assert_eq!(future.status, 422);
    let garbled = String::from_utf8(fixture("01-booking-created"))
        .unwrap()
        .replace("2026-03-02T09:14:07.512Z", "yesterday");
    assert_eq!(
        post_signed(&hookseal.url("/hooks/crm"), garbled.into_bytes())
            .await
            .status,
        422
    );
    // A send time of another type is no timestamp either: refused, not left unchecked.
    for not_text in ["1000", "null", "\"\""] {
        let body = String::from_utf8(fixture("01-booking-created"))
            .unwrap()
            .replace("\"2026-03-02T09:14:07.512Z\"", not_text);
        let answer = post_signed(&hookseal.url("/hooks/crm"), body.into_bytes()).await;
        assert_eq!(answer.status, 422, "createdAt {not_text}");
    }
    hookseal
        .wait_logs("refused", 7, |line| line["status"] == 422)
        .await;

    let meeting = support::fresh_meeting(&fixture("04-meeting-ended"));
    let answer = post_signed(&hookseal.url("/hooks/crm"), meeting).await;
    assert_eq!(answer.status, 200);
    assert!(upstream
        .next()
        .await
        .body
        .starts_with(b"{\"triggerEvent\":\"MEETING_ENDED\""));
    assert!(upstream.try_next().is_none());
}

#[tokio::test]
async fn https_upstream_behind_a_private_ca() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![ca.cert.der().clone()],
            rustls_pki_types::PrivateKeyDer::Pkcs8(ca.key_pair.serialize_der().into()),
        )
        .unwrap();
    let mut upstream = TestUpstream::start_tls(Arc::new(tls)).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.cert.pem()).unwrap();
    let url = format!("https://localhost:{}/secure", upstream.addr.port());

    let without_ca = Hookseal::start(&sync_route(&url, ""));
    let answer = post_signed(&without_ca.url("/hooks/crm"), fresh(&fixture("07-ping"))).await;
    assert_eq!(answer.status, 502, "an unknown CA must not be trusted");

    let extra = format!("ca_file = {:?}", ca_file.display().to_string());
    let with_ca = Hookseal::start(&sync_route(&url, &extra));
    let answer = post_signed(&with_ca.url("/hooks/crm"), fresh(&fixture("07-ping"))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(upstream.next().await.uri, "/secure");
}
