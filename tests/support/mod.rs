//! Shared parts of the end-to-end tests: a recording upstream, a hookseal process on a port
//! chosen at run time, and a small HTTP client.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// The cal.com test secret the fixtures are signed with.
pub const CALCOM_SECRET: &str = "test-secret-not-real";

/// Bytes of a wire fixture, e.g. `fixture("01-booking-created")`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = repo()
        .join("tests/fixtures/calcom/wire")
        .join(format!("{name}.body"));
    std::fs::read(&path).unwrap_or_else(|err| panic!("fixture {}: {err}", path.display()))
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// cal.com's signature of `body` under `secret`.
pub fn calcom_signature(secret: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Replaces `"createdAt":"<old>"` (the envelope's first one) with a time `secs_ago` in the past,
/// so that fixtures pass the replay check.
pub fn fresh(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(body.to_vec()).expect("fixture is UTF-8");
    let Some(start) = text.find("\"createdAt\":\"") else {
        return body.to_vec();
    };
    let value_start = start + "\"createdAt\":\"".len();
    let value_end = value_start + text[value_start..].find('"').unwrap();
    let now = time::OffsetDateTime::now_utc();
    let stamp = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    format!("{}{}{}", &text[..value_start], stamp, &text[value_end..]).into_bytes()
}

/// A flat MEETING_* fixture whose `endTime` (when cal.com's scheduler sends MEETING_ENDED) is
/// now, so that it passes the replay check.
pub fn fresh_meeting(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(body.to_vec()).expect("fixture is UTF-8");
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    text.replace(
        "\"endTime\":\"2026-03-11T10:30:00.000Z\"",
        &format!("\"endTime\":\"{now}\""),
    )
    .into_bytes()
}

// ---- the recording upstream ----

/// One request as the upstream received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// What the upstream answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A status and body.
    Status(u16, &'static str),
    /// A status with extra headers.
    WithHeaders(u16, Vec<(&'static str, String)>),
    /// Never answer (until the test ends).
    Hang,
    /// A status with an empty body after a delay, so that attempts stay in flight a while.
    Slow(Duration, u16),
}

/// A real HTTP server on a loopback port that records what reaches it.
pub struct TestUpstream {
    pub addr: SocketAddr,
    received: mpsc::UnboundedReceiver<Received>,
    reply: Arc<Mutex<Reply>>,
    _stop: watch::Sender<()>,
}

impl TestUpstream {
    /// Starts an upstream answering 200 `ok`.
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// Starts an upstream behind TLS with the given server config.
    pub async fn start_tls(tls: Arc<rustls::ServerConfig>) -> Self {
        Self::start_with(Some(tls)).await
    }

    async fn start_with(tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (sender, received) = mpsc::unbounded_channel();
        let reply = Arc::new(Mutex::new(Reply::Status(200, "ok")));
        let (stop, mut stopped) = watch::channel(());
        let shared_reply = Arc::clone(&reply);
        tokio::spawn(async move {
            loop {
                let stream = tokio::select! {
                    accepted = listener.accept() => accepted.unwrap().0,
                    _ = stopped.changed() => break,
                };
                let sender = sender.clone();
                let reply = Arc::clone(&shared_reply);
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        record(request, sender.clone(), Arc::clone(&reply))
                    });
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    match tls {
                        Some(tls) => {
                            let Ok(stream) =
                                tokio_rustls::TlsAcceptor::from(tls).accept(stream).await
                            else {
                                return;
                            };
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                        None => {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                });
            }
        });
        Self {
            addr,
            received,
            reply,
            _stop: stop,
        }
    }

    /// The upstream's base URL.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Changes what the upstream answers from now on.
    pub fn set_reply(&self, reply: Reply) {
        *self.reply.lock().unwrap() = reply;
    }

    /// The next request that arrives (waits up to 10 s, then fails the test).
    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(10), self.received.recv())
            .await
            .expect("upstream received nothing within 10 s")
            .expect("upstream stopped")
    }

    /// The next request, or `None` if none arrives within `limit`.
    pub async fn next_within(&mut self, limit: Duration) -> Option<Received> {
        tokio::time::timeout(limit, self.received.recv())
            .await
            .ok()
            .flatten()
    }

    /// Whether a request has arrived that has not been taken yet.
    pub fn try_next(&mut self) -> Option<Received> {
        self.received.try_recv().ok()
    }
}

async fn record(
    request: Request<Incoming>,
    sender: mpsc::UnboundedSender<Received>,
    reply: Arc<Mutex<Reply>>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let _ = sender.send(Received {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        headers: parts.headers,
        body,
    });
    let reply = reply.lock().unwrap().clone();
    match reply {
        Reply::Status(status, text) => Ok(response(status, text, Vec::new())),
        Reply::WithHeaders(status, headers) => Ok(response(status, "", headers)),
        Reply::Slow(delay, status) => {
            tokio::time::sleep(delay).await;
            Ok(response(status, "", Vec::new()))
        }
        Reply::Hang => {
            std::future::pending::<()>().await;
            unreachable!()
        }
    }
}

fn response(
    status: u16,
    text: &'static str,
    headers: Vec<(&'static str, String)>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    for (name, value) in headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

// ---- the hookseal process ----

/// A `hookseal serve` process with its config in a temporary folder.
pub struct Hookseal {
    child: Child,
    pub addr: SocketAddr,
    pub dir: PathBuf,
    logs: Arc<Mutex<Vec<String>>>,
    env: Vec<(String, String)>,
    _tempdir: Option<tempfile::TempDir>,
}

impl Hookseal {
    /// Starts hookseal with `config` (TOML without `[server]` and `[store]`, which are added:
    /// a port chosen at run time and a store in a fresh temporary folder).
    pub fn start(config: &str) -> Self {
        let tempdir = tempfile::tempdir().unwrap();
        let dir = tempdir.path().to_path_buf();
        let mut hookseal = Self::start_in(&dir, config, &[]);
        hookseal._tempdir = Some(tempdir);
        hookseal
    }

    /// Starts hookseal with extra `[server]` and `[store]` keys before `config`, and extra
    /// environment variables.
    pub fn start_with(server: &str, store: &str, config: &str, env: &[(&str, &str)]) -> Self {
        let tempdir = tempfile::tempdir().unwrap();
        let dir = tempdir.path().to_path_buf();
        let mut hookseal = Self::write_and_spawn(&dir, server, store, config, env);
        hookseal._tempdir = Some(tempdir);
        hookseal
    }

    /// Starts hookseal in `dir` (kept by the caller), with extra environment variables.
    pub fn start_in(dir: &Path, config: &str, env: &[(&str, &str)]) -> Self {
        Self::write_and_spawn(dir, "", "", config, env)
    }

    fn write_and_spawn(
        dir: &Path,
        server: &str,
        store_keys: &str,
        config: &str,
        env: &[(&str, &str)],
    ) -> Self {
        let store = dir.join("store/hookseal.db");
        let full = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n{server}\n\n[store]\npath = {:?}\n{store_keys}\n\n{config}",
            store.display().to_string()
        );
        let path = dir.join("hookseal.toml");
        std::fs::write(&path, full).unwrap();
        Self::spawn(dir, &path, env)
    }

    /// Starts `hookseal serve` on an existing config file.
    pub fn spawn(dir: &Path, config: &Path, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hookseal"));
        command
            .args(["--log-format", "json", "serve", "--config"])
            .arg(config)
            .current_dir(dir)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("hookseal starts");
        let stderr = child.stderr.take().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (addr_sender, addr_receiver) = std::sync::mpsc::channel();
        let shared = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = listening_addr(&line) {
                    let _ = addr_sender.send(addr);
                }
                shared.lock().unwrap().push(line);
            }
        });
        let Ok(addr) = addr_receiver.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            panic!(
                "hookseal did not start; log:\n{}",
                logs.lock().unwrap().join("\n")
            );
        };
        Self {
            child,
            addr,
            dir: dir.to_path_buf(),
            logs,
            env: env
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            _tempdir: None,
        }
    }

    /// The URL of a path on hookseal.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every log line so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// The JSON log lines whose `message` is `message`.
    pub fn log_events(&self, message: &str) -> Vec<serde_json::Value> {
        self.logs()
            .iter()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|value| value["message"] == message)
            .collect()
    }

    /// Waits (up to 10 s) until `count` JSON log lines with `message` match `matches`, and
    /// returns them. Log lines reach the test through a pipe, so they may trail the answer.
    pub async fn wait_logs(
        &self,
        message: &str,
        count: usize,
        matches: impl Fn(&serde_json::Value) -> bool,
    ) -> Vec<serde_json::Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let found: Vec<_> = self
                .log_events(message)
                .into_iter()
                .filter(|line| matches(line))
                .collect();
            if found.len() >= count {
                return found;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected {count} {message:?} log lines, found {}; log:\n{}",
                found.len(),
                self.logs().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the process and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit by itself.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }
}

impl Drop for Hookseal {
    fn drop(&mut self) {
        self.kill();
    }
}

fn listening_addr(line: &str) -> Option<SocketAddr> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    if value["message"] != "listening" {
        return None;
    }
    value["addr"].as_str()?.parse().ok()
}

// ---- the client ----

/// What hookseal answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// POSTs `body` to `url` with `headers`.
pub async fn post(url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Answer {
    try_post(url, headers, body)
        .await
        .expect("hookseal answers")
}

/// POSTs `body` to `url` with `headers`; `None` when no answer came (connection failed).
pub async fn try_post(url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Option<Answer> {
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let mut request = Request::post(url)
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().append(name, value.parse().unwrap());
    }
    let response = client.request(request).await.ok()?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.ok()?.to_bytes();
    Some(Answer {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

/// POSTs a body signed the way cal.com signs it with the test secret.
pub async fn post_signed(url: &str, body: Vec<u8>) -> Answer {
    try_post_signed(url, body).await.expect("hookseal answers")
}

/// As [`post_signed`]; `None` when no answer came.
pub async fn try_post_signed(url: &str, body: Vec<u8>) -> Option<Answer> {
    let signature = calcom_signature(CALCOM_SECRET, &body);
    let headers = [
        ("content-type", "application/json"),
        ("x-cal-signature-256", signature.as_str()),
        ("x-cal-webhook-version", "2021-10-20"),
    ];
    try_post(url, &headers, body).await
}

/// The Python interpreter of the pinned verification tools; fails the test when the tools
/// are not installed, since a skipped cross-check proves nothing.
pub fn tools_python() -> PathBuf {
    let python = repo().join(".tools/venv/bin/python");
    assert!(
        python.exists(),
        "verification tools missing: run `tests/tools/setup.sh` (or `tests/run`) first"
    );
    python
}

// ---- the command line ----

/// Runs `hookseal ARGS` to completion; returns whether it succeeded, and its stdout and stderr.
pub fn cli(args: &[&str]) -> (bool, String, String) {
    cli_with_env(args, &[])
}

/// As [`cli`], with extra environment variables.
pub fn cli_with_env(args: &[&str], env: &[(String, String)]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_hookseal"))
        .args(args)
        .envs(env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::null())
        .output()
        .expect("hookseal runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

impl Hookseal {
    /// Runs `hookseal ARGS` with this process's environment additions.
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        cli_with_env(args, &self.env)
    }

    /// The config file the process was started with.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("hookseal.toml")
    }

    /// `hookseal deliveries show` for this process's store, parsed.
    pub fn stored(&self, selection: &[&str]) -> Vec<serde_json::Value> {
        let config = self.config_path();
        let mut args = vec!["deliveries", "show", "--config", config.to_str().unwrap()];
        args.extend_from_slice(selection);
        let (ok, stdout, stderr) = cli_with_env(&args, &self.env);
        if !ok {
            assert!(stderr.contains("no stored event matches"), "{stderr}");
            return Vec::new();
        }
        stdout
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// Waits (up to 20 s) until the stored event selected is in `state`, and returns it.
    pub async fn wait_state(&self, selection: &[&str], state: &str) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let stored = self.stored(selection);
            if let Some(event) = stored.iter().find(|event| event["state"] == state) {
                return event.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never {state}: {stored:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs `hookseal deliveries ACTION` on this process's store.
    pub fn deliveries(&self, action: &str, selection: &[&str]) -> String {
        let config = self.config_path();
        let mut args = vec!["deliveries", action, "--config", config.to_str().unwrap()];
        args.extend_from_slice(selection);
        let (ok, stdout, stderr) = cli_with_env(&args, &self.env);
        assert!(ok, "deliveries {action} failed: {stderr}");
        stdout
    }
}

/// Whether the Python script `tests/tools/<script>` (one of the pinned reference libraries)
/// accepts what an upstream received. Fails the test if the script itself breaks.
pub fn library_accepts(script: &str, secret: &str, received: &Received) -> bool {
    use base64::Engine as _;
    use std::io::Write as _;

    let headers: serde_json::Map<String, serde_json::Value> = received
        .headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or_default().into()))
        .collect();
    let input = serde_json::json!({
        "secret": secret,
        "headers": headers,
        "body_base64": base64::engine::general_purpose::STANDARD.encode(&received.body),
        "url": serde_json::Value::Null,
    });
    let mut child = Command::new(tools_python())
        .arg(repo().join("tests/tools").join(script))
        .current_dir(repo().join("tests/tools"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    match output.status.code() {
        Some(0) => true,
        Some(1) => false,
        _ => panic!(
            "{script} broke: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}
