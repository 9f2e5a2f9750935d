//! Bad input and limits, end to end: slow clients, wrong methods, odd bodies, fixed headers,
//! and back-pressure on queued routes. Every refusal is a status and a log line.

mod support;

use std::time::Duration;

use support::{fixture, fresh, post, post_signed, Hookseal, Reply, TestUpstream, CALCOM_SECRET};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn route(upstream: &str, extra: &str) -> String {
    format!(
        r#"
[[routes]]
name = "crm"
path = "/hooks/crm"
upstream = "{upstream}"
{extra}

[routes.inbound]
calcom_secret = "{CALCOM_SECRET}"
"#
    )
}

/// Reads from `stream` until the peer closes it (or 10 s pass); returns what arrived.
async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> String {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    assert!(
        read.is_ok(),
        "hookseal did not close the connection of a slow client"
    );
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let upstream = TestUpstream::start().await;
    let server = "header_read_timeout = \"300ms\"\nbody_read_timeout = \"300ms\"";
    let hookseal = Hookseal::start_with(
        server,
        "",
        &route(&upstream.url("/"), "delivery = \"sync\""),
        &[],
    );

    // A head that never ends.
    let mut stream = tokio::net::TcpStream::connect(hookseal.addr).await.unwrap();
    stream
        .write_all(b"POST /hooks/crm HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );

    // A body that stops short of its length.
    let mut stream = tokio::net::TcpStream::connect(hookseal.addr).await.unwrap();
    stream
        .write_all(b"POST /hooks/crm HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"tri")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    hookseal
        .wait_logs("refused", 1, |line| line["status"] == 408)
        .await;
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_the_body() {
    let upstream = TestUpstream::start().await;
    // The body read timeout is long: a 413 can only come from the declared length.
    let server = "body_read_timeout = \"1h\"";
    let hookseal = Hookseal::start_with(
        server,
        "",
        &route(&upstream.url("/"), "delivery = \"sync\""),
        &[],
    );
    let mut stream = tokio::net::TcpStream::connect(hookseal.addr).await.unwrap();
    stream
        .write_all(b"POST /hooks/crm HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{")
        .await
        .unwrap();
    let mut head = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut head))
        .await
        .expect("an answer before any timeout")
        .unwrap();
    assert_eq!(&head, b"HTTP/1.1 413");
}

#[tokio::test]
async fn only_post_is_accepted() {
    let upstream = TestUpstream::start().await;
    let hookseal = Hookseal::start(&route(&upstream.url("/"), "delivery = \"sync\""));
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let response = client
        .get(hookseal.url("/hooks/crm").parse().unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    hookseal
        .wait_logs("refused", 1, |line| {
            line["status"] == 405 && line["route"] == "crm"
        })
        .await;
}

#[tokio::test]
async fn odd_bodies_pass_byte_for_byte() {
    let mut upstream = TestUpstream::start().await;
    let hookseal = Hookseal::start(&route(&upstream.url("/"), "delivery = \"sync\""));
    let bodies: [&[u8]; 5] = [
        b"{\"triggerEvent\":\"BOOKING_CREATED\",\"payload\":{\"uid\":",
        b"\xff\xfe{\"triggerEvent\":\"BOOKING_CREATED\"}",
        b"{\"triggerEvent\":\"BOOKING_CREATED\",\"payload\":{\"uid\":\"x\",\"metadata\":\"\\ud800\"}}",
        b"",
        b"   {\"triggerEvent\" : \"PING\" }   ",
    ];
    for body in bodies {
        let answer = post_signed(&hookseal.url("/hooks/crm"), body.to_vec()).await;
        assert_eq!(answer.status, 200, "{body:?}");
        assert_eq!(upstream.next().await.body, body);
    }
}

#[tokio::test]
async fn fixed_headers_come_from_the_environment() {
    let mut upstream = TestUpstream::start().await;
    let extra = "delivery = \"sync\"\nheaders = { \"X-Api-Key\" = \"${HOOKSEAL_TEST_CRM_KEY}\" }";
    let hookseal = Hookseal::start_with(
        "",
        "",
        &route(&upstream.url("/"), extra),
        &[("HOOKSEAL_TEST_CRM_KEY", "crm-key-123")],
    );
    post_signed(&hookseal.url("/hooks/crm"), fresh(&fixture("07-ping"))).await;
    assert_eq!(upstream.next().await.headers["x-api-key"], "crm-key-123");
    assert!(hookseal
        .logs()
        .iter()
        .all(|line| !line.contains("crm-key-123")));
}

#[tokio::test]
async fn too_many_waiting_events_get_503() {
    let mut upstream = TestUpstream::start().await;
    upstream.set_reply(Reply::Hang);
    let hookseal = Hookseal::start_with(
        "",
        "max_pending_events = 2",
        &route(&upstream.url("/"), "timeout = \"30s\""),
        &[],
    );
    for uid in ["bookingPressure0000001", "bookingPressure0000002"] {
        let body = String::from_utf8(fresh(&fixture("01-booking-created")))
            .unwrap()
            .replace("3rTqW8mZkP1vYx6NcB2dLs", uid);
        assert_eq!(
            post_signed(&hookseal.url("/hooks/crm"), body.into_bytes())
                .await
                .status,
            202
        );
    }
    upstream.next().await;
    let third = post_signed(
        &hookseal.url("/hooks/crm"),
        fresh(&fixture("05-booking-requested")),
    )
    .await;
    assert_eq!(third.status, 503);
    hookseal
        .wait_logs("refused", 1, |line| {
            line["status"] == 503
                && line["reason"]
                    .as_str()
                    .unwrap()
                    .contains("max_pending_events")
        })
        .await;
}

#[tokio::test]
async fn a_nearly_full_disk_gets_503() {
    let upstream = TestUpstream::start().await;
    // No disk has an exabyte free: the floor is never met.
    let store = "min_free_disk_bytes = 1000000000000000000";
    let hookseal = Hookseal::start_with("", store, &route(&upstream.url("/"), ""), &[]);
    let answer = post_signed(
        &hookseal.url("/hooks/crm"),
        fresh(&fixture("01-booking-created")),
    )
    .await;
    assert_eq!(answer.status, 503);
    hookseal
        .wait_logs("refused", 1, |line| {
            line["reason"]
                .as_str()
                .unwrap()
                .contains("min_free_disk_bytes")
        })
        .await;
    let unsigned = post(
        &hookseal.url("/hooks/crm"),
        &[],
        fresh(&fixture("01-booking-created")),
    )
    .await;
    assert_eq!(
        unsigned.status, 401,
        "the sender check comes before the capacity check"
    );
}
