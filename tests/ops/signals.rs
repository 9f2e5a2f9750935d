//! Signals: SIGHUP reloads while requests flow, SIGTERM under load leaves nothing behind.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nix::sys::signal::Signal;

use crate::client::{admin_table, booking_created, eventually, replace_file, signal, Scrape};
use crate::route;
use crate::support::{post_signed, Hookseal, TestUpstream};

/// The most requests the background sender makes, so the loop ends even if a test fails.
const MAX_REQUESTS: usize = 5_000;

/// Sends signed events to `url` in a loop until `stop`, returning every status answered.
fn send_until(url: String, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Vec<u16>> {
    tokio::spawn(async move {
        let mut statuses = Vec::new();
        while !stop.load(Ordering::Relaxed) && statuses.len() < MAX_REQUESTS {
            let uid = format!("flow-{}", statuses.len());
            statuses.push(post_signed(&url, booking_created(&uid)).await.status);
        }
        statuses
    })
}

#[tokio::test]
async fn sighup_swaps_the_config_while_requests_flow_and_refuses_a_broken_one() {
    let mut old_upstream = TestUpstream::start().await;
    let mut new_upstream = TestUpstream::start().await;
    let mut added_upstream = TestUpstream::start().await;
    let config = format!(
        "{}{}",
        admin_table(),
        route("crm", &old_upstream.url("/"), "sync", "")
    );
    let hookseal = Hookseal::start(&config);
    let path = hookseal.dir.join("hookseal.toml");
    let original = std::fs::read_to_string(&path).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let sender = send_until(hookseal.url("/hooks/crm"), Arc::clone(&stop));
    old_upstream.next().await;

    // A good change: crm's upstream moves, and a new route appears.
    let changed = original.replace(&old_upstream.url("/"), &new_upstream.url("/"))
        + &route("added", &added_upstream.url("/"), "sync", "");
    replace_file(&path, &changed);
    signal(&hookseal, Signal::SIGHUP);
    hookseal.wait_logs("config reloaded", 1, |_| true).await;
    new_upstream.next().await;
    let answer = post_signed(&hookseal.url("/hooks/added"), booking_created("new")).await;
    assert_eq!(answer.status, 200);
    added_upstream.next().await;

    // A broken file, then one that changes the listener: both refused, the last good config
    // keeps serving.
    replace_file(&path, &format!("{changed}\n[[routes]]\nname = \n"));
    signal(&hookseal, Signal::SIGHUP);
    let broken = hookseal.wait_logs(REFUSED, 1, |_| true).await;
    assert!(
        broken[0]["error"].as_str().unwrap().contains("line"),
        "{}",
        broken[0]
    );
    let elsewhere = changed.replacen("listen = \"127.0.0.1:0\"", "listen = \"127.0.0.1:1\"", 1);
    replace_file(&path, &elsewhere);
    signal(&hookseal, Signal::SIGHUP);
    let restart = hookseal.wait_logs(REFUSED, 2, |_| true).await;
    let message = restart[1]["error"].as_str().unwrap();
    assert!(
        message.contains("[server] listen changed: a restart is needed"),
        "{message}"
    );

    while new_upstream.try_next().is_some() {}
    new_upstream.next().await;
    let answer = post_signed(&hookseal.url("/hooks/added"), booking_created("still")).await;
    assert_eq!(answer.status, 200);

    stop.store(true, Ordering::Relaxed);
    let statuses = sender.await.unwrap();
    assert!(statuses.len() > 2, "requests flowed: {}", statuses.len());
    let failed: Vec<_> = statuses.iter().filter(|status| **status != 200).collect();
    assert!(
        failed.is_empty(),
        "requests failed during reloads: {failed:?}"
    );

    let scrape = Scrape::take(&hookseal).await;
    let reloads = |result| scrape.value("hookseal_config_reloads_total", &[("result", result)]);
    assert_eq!((reloads("ok"), reloads("failed")), (1.0, 2.0));
}

const REFUSED: &str = "config reload refused; the running config keeps serving";

// Two threads: waiting for the process to exit blocks one, and the test upstream must keep
// answering the attempts hookseal finishes during its shutdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_leaves_every_accepted_event_delivered_or_queued() {
    let mut upstream = TestUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    // One worker, so the queue builds up under load and some events are still waiting at
    // the signal.
    let config = format!(
        "[delivery]\nworkers = 1\n\n{}",
        route("erp", &upstream.url("/"), "queued", "")
    );
    let mut first = Hookseal::start_in(dir.path(), &config, &[]);

    let url = first.url("/hooks/erp");
    let senders: Vec<_> = (0..4)
        .map(|sender| tokio::spawn(send_until_refused(url.clone(), sender)))
        .collect();
    eventually("some events were accepted", || async {
        let accepted = first.log_events("accepted").len();
        (accepted >= 40).then_some(())
    })
    .await;
    signal(&first, Signal::SIGTERM);
    let mut accepted = BTreeSet::new();
    for sender in senders {
        accepted.extend(sender.await.unwrap());
    }
    let exit = tokio::task::block_in_place(|| first.wait());
    assert!(exit.success(), "hookseal exits cleanly on SIGTERM");
    first.wait_logs("stopped", 1, |_| true).await;
    assert!(accepted.len() >= 40, "accepted {}", accepted.len());

    let delivered_before = first.log_events("webhook").len();
    eprintln!(
        "accepted {}, delivered before SIGTERM ended: {delivered_before}",
        accepted.len()
    );

    // The next start on the same store delivers whatever was still queued.
    let _second = Hookseal::start_in(dir.path(), &config, &[]);
    let mut delivered = BTreeSet::new();
    while !accepted.is_subset(&delivered) {
        let received = upstream.next().await;
        let body: serde_json::Value = serde_json::from_slice(&received.body).unwrap();
        delivered.insert(body["payload"]["uid"].as_str().unwrap().to_owned());
    }
}

/// Sends distinct events until hookseal stops answering; returns the uids answered 202.
async fn send_until_refused(url: String, sender: usize) -> Vec<String> {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let mut accepted = Vec::new();
    for count in 0..MAX_REQUESTS / 4 {
        let uid = format!("load-{sender}-{count}");
        let body = booking_created(&uid);
        let signature = crate::support::calcom_signature(crate::support::CALCOM_SECRET, &body);
        let request = http::Request::post(&url)
            .header("content-type", "application/json")
            .header("x-cal-signature-256", signature)
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .unwrap();
        // Once the listener has closed, requests fail to connect: the sender is done.
        let Ok(response) = client.request(request).await else {
            break;
        };
        if response.status() == 202 {
            accepted.push(uid);
        }
    }
    accepted
}
