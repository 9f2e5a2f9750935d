//! `hookseal demo`: the whole gateway on one machine with nothing else installed. It starts
//! hookseal on loopback with a built-in config and an embedded store in a temporary folder,
//! starts a receiver, replays a cal.com booking lifecycle, and shows for each event what came
//! in, what hookseal added, the signature headers it sent, and the receiver's verification.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::app::App;
use crate::config::Config;
use crate::secret::Secret;

mod lifecycle;
mod receiver;

/// The secret the demo's cal.com signs with.
const CALCOM_SECRET: &str = "demo-calcom-secret";
/// The receiver's Standard Webhooks key.
const RECEIVER_WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The secret the receiver already verifies cal.com signatures with.
const RECEIVER_CALCOM_SECRET: &str = "receiver-calcom-secret";

/// Runs the demo and prints its report to stdout.
///
/// # Errors
/// A part cannot start, an event is not delivered, or the receiver cannot verify a signature.
pub async fn run() -> anyhow::Result<()> {
    let folder = tempfile::tempdir().context("cannot create a temporary folder")?;
    let (receiver_addr, mut received) = receiver::start().await?;
    let config = Config::parse(
        &demo_config(receiver_addr, folder.path()),
        Path::new("<demo>"),
    )?;
    let app = App::start(config).await?;
    let addr = app.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    println!(
        "hookseal demo: gateway on http://{addr}/hooks/crm, receiver on http://{receiver_addr}/"
    );
    println!("store: {}\n", folder.path().join("hookseal.db").display());

    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
    let mut failures = 0;
    for (index, step) in lifecycle::steps().iter().enumerate() {
        println!("{}. {}", index + 1, step.title);
        let status = send(&client, addr, step).await?;
        anyhow::ensure!(
            status == 200,
            "hookseal answered {status}; see its log above"
        );
        let got = tokio::time::timeout(Duration::from_secs(10), received.recv())
            .await
            .context("the receiver got nothing within 10 s")?
            .context("the receiver stopped")?;
        failures += report(step, status, &got);
        println!();
    }
    let _ = stop.send(());
    let _ = server.await;
    anyhow::ensure!(failures == 0, "{failures} signatures failed verification");
    println!("every event was delivered, enriched where hookseal knew more, and verified.");
    Ok(())
}

fn demo_config(receiver: std::net::SocketAddr, folder: &Path) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"

[store]
path = {store:?}

[[routes]]
name = "crm"
path = "/hooks/crm"
upstream = "http://{receiver}/calcom"
delivery = "sync"

[routes.inbound]
calcom_secret = "{CALCOM_SECRET}"
allow_unsigned_from = ["127.0.0.1/32"]

[[routes.sign]]
scheme = "standard-webhooks"
secrets = ["{RECEIVER_WHSEC}"]

[[routes.sign]]
scheme = "calcom"
secrets = ["{RECEIVER_CALCOM_SECRET}"]
"#,
        store = folder.join("hookseal.db").display().to_string(),
    )
}

async fn send(
    client: &hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<Bytes>,
    >,
    addr: std::net::SocketAddr,
    step: &lifecycle::Step,
) -> anyhow::Result<u16> {
    let signature = match step.signed {
        true => crate::inbound::calcom_signature(&Secret::new(CALCOM_SECRET), &step.body),
        false => crate::inbound::NO_SECRET.to_owned(),
    };
    let request = Request::post(format!("http://{addr}/hooks/crm"))
        .header("content-type", step.content_type)
        .header(crate::inbound::SIGNATURE_HEADER, signature)
        .body(Full::new(Bytes::from(step.body.clone())))?;
    let response = client
        .request(request)
        .await
        .context("hookseal did not answer")?;
    let status = response.status().as_u16();
    let _ = response.into_body().collect().await;
    Ok(status)
}

/// Prints one event's story; returns how many signature checks failed.
fn report(step: &lifecycle::Step, status: u16, got: &receiver::Received) -> usize {
    let signed = if step.signed {
        "signed by cal.com"
    } else {
        "unsigned, from an allowed network"
    };
    println!("   in:       {} bytes, {signed}", step.body.len());
    if let Some(event) = crate::enrich::calcom::inspect(&step.body) {
        let uid = event.booking_uid.as_deref().unwrap_or("-");
        let metadata = event
            .metadata
            .filter(|metadata| !metadata.is_empty())
            .map_or_else(
                || "none".to_owned(),
                |metadata| Value::Object(metadata).to_string(),
            );
        println!("   in:       booking uid {uid}, metadata {metadata}");
    }
    for line in added(&step.body, &got.body) {
        println!("   added:    {line}");
    }
    for name in [
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "x-cal-signature-256",
    ] {
        let value = got
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("-");
        println!("   sent:     {name}: {value}");
    }
    let now = crate::deliver::unix_now();
    let checks = [
        ("standard-webhooks", RECEIVER_WHSEC),
        ("calcom", RECEIVER_CALCOM_SECRET),
    ];
    let mut failures = 0;
    for (scheme, secret) in checks {
        let verdict = crate::sign::verify(
            scheme,
            &[Secret::new(secret)],
            &got.headers,
            &got.body,
            None,
            now,
        );
        match verdict {
            Ok(verified) => println!("   receiver: {scheme} verified ({})", verified.matched),
            Err(err) => {
                failures += 1;
                println!("   receiver: {scheme} FAILED: {err}");
            }
        }
    }
    println!("   answer:   hookseal answered cal.com {status}");
    failures
}

/// What the delivered body has that the sent one lacked, one line per added member.
fn added(sent: &[u8], delivered: &[u8]) -> Vec<String> {
    if sent == delivered {
        return vec!["nothing (forwarded byte for byte)".to_owned()];
    }
    let (Ok(before), Ok(after)) = (
        serde_json::from_slice::<Value>(sent),
        serde_json::from_slice::<Value>(delivered),
    ) else {
        return vec!["(body changed but is not JSON)".to_owned()];
    };
    let booking = |value: &Value| match value.get("payload") {
        Some(payload) if payload.is_object() => payload.clone(),
        _ => value.clone(),
    };
    let (before, after) = (booking(&before), booking(&after));
    let mut lines = Vec::new();
    let Some(after) = after.as_object() else {
        return lines;
    };
    for (key, value) in after {
        match before.get(key) {
            None => lines.push(format!("{key} = {value}")),
            Some(old) if key == "metadata" && old != value => {
                let old = old.as_object().cloned().unwrap_or_default();
                for (name, item) in value.as_object().into_iter().flatten() {
                    if !old.contains_key(name) {
                        lines.push(format!("metadata.{name} = {item}"));
                    }
                }
            }
            Some(_) => {}
        }
    }
    lines
}
