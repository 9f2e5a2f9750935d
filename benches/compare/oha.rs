//! Runs the load generator (`oha`) and reads its JSON summary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// What one load run sends.
#[derive(Debug, Clone)]
pub struct Load {
    /// Target URL.
    pub url: String,
    /// Concurrent connections.
    pub connections: usize,
    /// How long it sends.
    pub duration: Duration,
    /// A fixed rate in requests per second, with latency corrected for coordinated omission.
    pub rate: Option<u32>,
    /// The body: one file, or one body per line picked at random per request.
    pub body: Body,
    /// Extra headers, `Name: value`.
    pub headers: Vec<String>,
}

/// Where the bodies come from.
#[derive(Debug, Clone)]
pub enum Body {
    /// The same body on every request.
    File(PathBuf),
    /// One line of the file per request, picked at random.
    Lines(PathBuf),
}

/// What a run measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Measured {
    /// Requests answered per second (all statuses).
    pub requests_per_sec: f64,
    /// Requests answered.
    pub answered: u64,
    /// Answers that were not 2xx, plus requests that failed.
    pub failed: u64,
    /// Latency percentiles in milliseconds.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
}

/// Runs `oha` with `load` and reads its summary.
///
/// # Errors
/// oha cannot start, fails, or prints something that is not its JSON summary.
pub fn run(oha: &Path, load: &Load) -> std::io::Result<Measured> {
    let mut command = Command::new(oha);
    command
        .arg("--no-tui")
        .args(["--output-format", "json"])
        .args(["-m", "POST"])
        .args(["-T", "application/json"])
        .args(["-c", &load.connections.to_string()])
        .args(["-z", &format!("{}ms", load.duration.as_millis())])
        // A request still unanswered 10 s after it was sent counts as failed.
        .args(["-t", "10s"]);
    match &load.body {
        Body::File(path) => command.arg("-D").arg(path),
        Body::Lines(path) => command.arg("-Z").arg(path),
    };
    if let Some(rate) = load.rate {
        command.args(["-q", &rate.to_string(), "--latency-correction"]);
    }
    for header in &load.headers {
        command.args(["-H", header]);
    }
    let output = command
        .arg(&load.url)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(std::io::Error::other(format!(
            "oha failed: {}",
            output.status
        )));
    }
    let summary: Value = serde_json::from_slice(&output.stdout)
        .map_err(|err| std::io::Error::other(format!("oha's output is not JSON: {err}")))?;
    Ok(measured(&summary))
}

/// How oha counts the requests it abandons at the end of the duration.
const DEADLINE: &str = "aborted due to deadline";

fn measured(summary: &Value) -> Measured {
    let count = |map: &Value, pass: fn(&str) -> bool| -> u64 {
        map.as_object()
            .map(|map| {
                map.iter()
                    .filter(|(key, _)| pass(key))
                    .filter_map(|(_, value)| value.as_u64())
                    .sum()
            })
            .unwrap_or(0)
    };
    let statuses = &summary["statusCodeDistribution"];
    let answered = count(statuses, |_| true);
    let not_2xx = count(statuses, |status| !status.starts_with('2'));
    // Requests still in flight when the duration ends are aborted: not failures.
    let errors = count(&summary["errorDistribution"], |error| error != DEADLINE);
    let percentile = |key: &str| {
        summary["latencyPercentiles"][key]
            .as_f64()
            .unwrap_or(f64::NAN)
            * 1e3
    };
    Measured {
        requests_per_sec: answered as f64
            / summary["summary"]["total"].as_f64().unwrap_or(f64::NAN),
        answered,
        failed: not_2xx + errors,
        p50_ms: percentile("p50"),
        p99_ms: percentile("p99"),
        p999_ms: percentile("p99.9"),
    }
}
