//! Helpers of the operations tests: the admin listener's address, calls with or without a
//! token, a small Prometheus exposition parser, and events made unique per call.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioExecutor;

use crate::support::{Answer, Hookseal};

/// The admin token of the tests' configs.
pub const TOKEN: &str = "admin-token-for-tests-5c1e";

/// An `[admin]` table on a port chosen at run time, with the test token.
pub fn admin_table() -> String {
    format!("[admin]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n")
}

/// The admin listener's address, from its `admin listening` log line.
pub fn admin_addr(hookseal: &Hookseal) -> SocketAddr {
    let lines = hookseal.log_events("admin listening");
    let line = lines.first().expect("an `admin listening` log line");
    line["addr"].as_str().unwrap().parse().unwrap()
}

/// `http://<admin>/<path>`.
pub fn admin_url(hookseal: &Hookseal, path: &str) -> String {
    format!("http://{}{path}", admin_addr(hookseal))
}

/// Sends `method` to `url`, with `Authorization: Bearer <token>` when given.
pub async fn call(method: &str, url: &str, token: Option<&str>) -> Answer {
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let mut request = Request::builder().method(method).uri(url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.body(Full::new(Bytes::new())).unwrap();
    let response = client.request(request).await.expect("admin answers");
    let (parts, body) = response.into_parts();
    Answer {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
    }
}

/// Calls with the test token and parses the JSON answer, expecting `status`.
pub async fn api(method: &str, url: &str, status: u16) -> serde_json::Value {
    let answer = call(method, url, Some(TOKEN)).await;
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    assert_eq!(answer.status, status, "{method} {url}: {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
}

/// Polls `check` every 20 ms until it returns `Some`, failing after 15 s with `what`.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One scrape: every sample by its name and labels.
#[derive(Debug)]
pub struct Scrape(Vec<(String, BTreeMap<String, String>, f64)>);

impl Scrape {
    /// Scrapes `/metrics` and parses it.
    pub async fn take(hookseal: &Hookseal) -> Self {
        let answer = call("GET", &admin_url(hookseal, "/metrics"), None).await;
        assert_eq!(answer.status, 200);
        let content_type = answer.headers["content-type"].to_str().unwrap();
        assert!(content_type.starts_with("application/openmetrics-text"));
        Self::parse(std::str::from_utf8(&answer.body).unwrap())
    }

    /// Parses the exposition text; comments (`# TYPE`, `# HELP`, `# EOF`) are skipped.
    pub fn parse(text: &str) -> Self {
        let samples = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .map(|line| sample(line).unwrap_or_else(|| panic!("bad sample line {line:?}")))
            .collect();
        Self(samples)
    }

    /// The sum of the samples named `name` whose labels include `labels` (0 when none).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|(sample, _, _)| sample == name)
            .filter(|(_, have, _)| {
                labels
                    .iter()
                    .all(|(key, value)| have.get(*key).map(String::as_str) == Some(*value))
            })
            .map(|(_, _, value)| value)
            .sum()
    }
}

fn sample(line: &str) -> Option<(String, BTreeMap<String, String>, f64)> {
    let (series, value) = line.rsplit_once(' ')?;
    let value = value.parse().ok()?;
    let Some((name, labels)) = series.split_once('{') else {
        return Some((series.to_owned(), BTreeMap::new(), value));
    };
    let mut parsed = BTreeMap::new();
    let mut rest = labels.strip_suffix('}')?;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"")?;
        let end = after.find('"')?;
        parsed.insert(key.to_owned(), after[..end].to_owned());
        rest = after[end + 1..].trim_start_matches(',');
    }
    Some((name.to_owned(), parsed, value))
}

/// A cal.com BOOKING_CREATED event about booking `uid`, created now.
pub fn booking_created(uid: &str) -> Vec<u8> {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    serde_json::json!({
        "triggerEvent": "BOOKING_CREATED",
        "createdAt": now,
        "payload": { "uid": uid, "bookingId": 1, "title": "Intro call" }
    })
    .to_string()
    .into_bytes()
}

/// Writes `text` to `path` through a rename, so a reload never reads half a file.
pub fn replace_file(path: &std::path::Path, text: &str) {
    let temporary = path.with_extension("new");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

/// Sends `signal` to the hookseal process.
pub fn signal(hookseal: &Hookseal, signal: nix::sys::signal::Signal) {
    let pid = nix::unistd::Pid::from_raw(hookseal.pid() as i32);
    nix::sys::signal::kill(pid, signal).expect("signal delivered");
}

#[test]
fn the_parser_reads_labels_and_values() {
    let scrape = Scrape::parse(
        "# TYPE x counter\nx_total{route=\"a\",status=\"200\"} 2\nx_total{route=\"b\"} 1\ny 0.5\n# EOF\n",
    );
    assert_eq!(scrape.value("x_total", &[("route", "a")]), 2.0);
    assert_eq!(scrape.value("x_total", &[]), 3.0);
    assert_eq!(scrape.value("y", &[]), 0.5);
    assert_eq!(scrape.value("z", &[]), 0.0);
}
