//! The load generator of the queued run, where every request must be a distinct event: oha
//! picks body lines at random, so some would repeat, and hookseal answers a repeat without
//! committing anything. Each connection sends the next unused body, in turn: as soon as it has
//! its answer (closed loop), or at the moment a fixed rate gives that body (open loop).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::oha::Measured;

/// Sends each of `bodies` once to `path` over `connections` keep-alive connections, stopping
/// early at `limit`. With a `rate` (bodies per second), body `n` is due `n / rate` seconds after
/// the start, and a body whose connection was still busy then counts its latency from then,
/// so that a slow answer does not hide the wait of the bodies behind it.
pub async fn send_each(
    addr: SocketAddr,
    path: &str,
    bodies: Vec<Bytes>,
    connections: usize,
    rate: Option<u32>,
    limit: Duration,
) -> std::io::Result<Measured> {
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let plan = Plan {
        started,
        deadline: started + limit,
        rate,
    };
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (bodies, next, path) = (Arc::clone(&bodies), Arc::clone(&next), path.to_owned());
        tasks.push(tokio::spawn(async move {
            connection(addr, &path, &bodies, &next, plan).await
        }));
    }
    let mut latencies = Vec::with_capacity(bodies.len());
    let mut failed = 0;
    for task in tasks {
        let (mut done, failures) = task.await.map_err(std::io::Error::other)??;
        latencies.append(&mut done);
        failed += failures;
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1);
        latencies
            .get(index)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    };
    Ok(Measured {
        requests_per_sec: latencies.len() as f64 / elapsed.as_secs_f64(),
        answered: latencies.len() as u64,
        failed,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        p999_ms: percentile(0.999),
    })
}

/// When bodies are due and when the run ends.
#[derive(Debug, Clone, Copy)]
struct Plan {
    started: Instant,
    deadline: Instant,
    rate: Option<u32>,
}

impl Plan {
    /// When body `n` is due: at once in a closed loop, else at its place in the fixed rate.
    fn due(&self, n: usize) -> Option<Instant> {
        let rate = self.rate?;
        Some(self.started + Duration::from_secs_f64(n as f64 / f64::from(rate)))
    }
}

/// One connection's loop: latencies of the requests answered, and how many were not 2xx.
async fn connection(
    addr: SocketAddr,
    path: &str,
    bodies: &[Bytes],
    next: &AtomicUsize,
    plan: Plan,
) -> std::io::Result<(Vec<Duration>, u64)> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    let (mut latencies, mut failed) = (Vec::new(), 0);
    while Instant::now() < plan.deadline {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let Some(body) = bodies.get(n) else {
            break;
        };
        // A body already due when its connection comes free was held up by an earlier
        // answer: its latency counts from when it was due. Otherwise the connection waits,
        // and the timer's own lateness is not hookseal's.
        let late_since = plan.due(n).and_then(|due| {
            if due <= Instant::now() {
                return Some(due);
            }
            None
        });
        if let (None, Some(due)) = (late_since, plan.due(n)) {
            tokio::time::sleep_until(due.into()).await;
        }
        let request = Request::post(path)
            .header("host", addr.to_string())
            .header("content-type", "application/json")
            .body(Full::new(body.clone()))
            .map_err(std::io::Error::other)?;
        let sent = late_since.unwrap_or_else(Instant::now);
        let response = sender
            .send_request(request)
            .await
            .map_err(std::io::Error::other)?;
        let status = response.status();
        let _ = response.into_body().collect().await;
        latencies.push(sent.elapsed());
        if status != StatusCode::ACCEPTED {
            failed += 1;
        }
    }
    Ok((latencies, failed))
}
