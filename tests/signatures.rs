//! Cross-checks hookseal's signatures with the receivers' own libraries, run for real: Python
//! `standardwebhooks`, `svix`, `stripe`, `twilio` and `slack_sdk`, Node
//! `@octokit/webhooks-methods`, and Ed25519 through Python's `cryptography`. Then checks that
//! `hookseal verify` (library and command) agrees with those libraries on good requests and on
//! each kind of failure.
//!
//! The libraries are installed by `tests/tools/setup.sh`; without them these tests fail.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use hookseal::config::SignConfig;
use hookseal::secret::Secret;
use hookseal::sign::{self, Attempt, Scheme, Signature, VerifyFailure};
use http::{HeaderMap, HeaderName, HeaderValue, Uri};

const UPSTREAM: &str = "https://crm.example.com:8443/hooks/cal?tenant=7";
const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

// ---- the reference libraries ----

/// One reference verifier: the program and the script it runs.
#[derive(Debug, Clone, Copy)]
enum Tool {
    Python(&'static str),
    Node(&'static str),
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn program(tool: Tool) -> (PathBuf, PathBuf) {
    let tools = repo().join("tests/tools");
    match tool {
        Tool::Python(script) => {
            let python = repo().join(".tools/venv/bin/python");
            assert!(
                python.exists(),
                "{} is missing: run tests/tools/setup.sh",
                python.display()
            );
            (python, tools.join(script))
        }
        Tool::Node(script) => {
            // Every Node script runs with node_modules in place, as setup.sh leaves it.
            let modules = tools.join("node_modules/@octokit/webhooks-methods");
            assert!(
                modules.exists(),
                "{} is missing: run tests/tools/setup.sh",
                modules.display()
            );
            (PathBuf::from("node"), tools.join(script))
        }
    }
}

/// Whether the library accepts the request; panics if the script itself failed.
fn library_accepts(tool: Tool, secret: &str, request: &Request) -> bool {
    let (program, script) = program(tool);
    let input = serde_json::json!({
        "scheme": request.scheme,
        "secret": secret,
        "headers": request.headers_json(),
        "body_base64": base64::engine::general_purpose::STANDARD.encode(&request.body),
        "url": request.url,
    });
    let mut child = Command::new(&program)
        .arg(&script)
        .current_dir(repo().join("tests/tools"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", program.display()));
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all(input.to_string().as_bytes())
        .expect("script reads its input");
    drop(stdin);
    let output = child.wait_with_output().expect("script runs");
    match output.status.code() {
        Some(0) => true,
        Some(1) => false,
        _ => panic!(
            "{} failed: {}\n{}",
            script.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

// ---- requests ----

/// A signed request as the upstream would receive it.
#[derive(Debug, Clone)]
struct Request {
    scheme: String,
    headers: HeaderMap,
    body: Vec<u8>,
    url: String,
}

impl Request {
    fn headers_json(&self) -> serde_json::Value {
        let pairs = self.headers.iter().map(|(name, value)| {
            (
                name.to_string(),
                serde_json::Value::from(value.to_str().expect("ascii")),
            )
        });
        serde_json::Value::Object(pairs.collect())
    }
}

fn entry(scheme: &str, secrets: &[&str]) -> SignConfig {
    SignConfig {
        scheme: scheme.to_owned(),
        secrets: secrets.iter().map(|secret| Secret::new(*secret)).collect(),
        secret_files: Vec::new(),
        header: None,
        algorithm: None,
        encoding: None,
        prefix: None,
        signed: None,
        id_header: None,
        timestamp_header: None,
    }
}

fn now_unix() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    i64::try_from(since.expect("clock after 1970").as_secs()).expect("fits")
}

/// Signs `body` as a delivery attempt at `timestamp` would be.
fn signed(config: &SignConfig, body: &[u8], content_type: &str, timestamp: i64) -> Request {
    let scheme = Scheme::from_config(config).expect("valid entry");
    let upstream: Uri = UPSTREAM.parse().expect("valid url");
    let event_id = format!("evt_{}", uuid::Uuid::new_v4().simple());
    let attempt = Attempt {
        event_id: &event_id,
        attempt_id: "att_1",
        timestamp,
        accepted_at: timestamp,
        upstream: &upstream,
        content_type: Some(content_type),
        body,
    };
    let Signature {
        headers,
        upstream: changed,
    } = sign::sign_all(&[scheme], &attempt);
    let mut map = HeaderMap::new();
    map.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).expect("ascii"),
    );
    for (name, value) in headers {
        map.append(name, value);
    }
    let url = changed.map_or_else(|| UPSTREAM.to_owned(), |uri| uri.to_string());
    Request {
        scheme: config.scheme.clone(),
        headers: map,
        body: body.to_vec(),
        url,
    }
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = repo().join("tests/fixtures/calcom/wire");
    let mut all: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures present")
        .map(|item| item.expect("readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "body"))
        .map(|path| {
            (
                path.display().to_string(),
                std::fs::read(&path).expect("readable"),
            )
        })
        .collect();
    all.sort();
    assert!(
        all.len() >= 10,
        "expected the cal.com wire fixtures in {}",
        dir.display()
    );
    all
}

fn json_fixtures() -> Vec<(String, Vec<u8>)> {
    let all = fixtures().into_iter();
    all.filter(|(_, body)| serde_json::from_slice::<serde_json::Value>(body).is_ok())
        .collect()
}

fn whsec(byte: u8) -> String {
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode([byte; 32])
    )
}

fn ed25519_pair(byte: u8, bare: bool) -> (String, String) {
    let key = ed25519_dalek::SigningKey::from_bytes(&[byte; 32]);
    let public = key.verifying_key().to_bytes();
    let engine = base64::engine::general_purpose::STANDARD;
    let secret = if bare {
        format!("whsk_{}", engine.encode(key.to_bytes()))
    } else {
        format!("whsk_{}", engine.encode([key.to_bytes(), public].concat()))
    };
    (secret, format!("whpk_{}", engine.encode(public)))
}

// ---- hookseal's output verified by the senders' libraries ----

#[test]
fn standard_webhooks_passes_standardwebhooks_for_every_key_and_fixture() {
    let (current, previous) = (whsec(1), whsec(2));
    let (asymmetric, _) = ed25519_pair(3, false);
    let config = entry("standard-webhooks", &[&current, &previous, &asymmetric]);
    for (name, body) in json_fixtures() {
        let request = signed(&config, &body, JSON, now_unix());
        for secret in [&current, &previous] {
            let tool = Tool::Python("verify_standardwebhooks.py");
            assert!(library_accepts(tool, secret, &request), "{name}");
        }
        let wrong = whsec(9);
        assert!(!library_accepts(
            Tool::Python("verify_standardwebhooks.py"),
            &wrong,
            &request
        ));
    }
}

#[test]
fn svix_passes_the_svix_library_for_every_key_and_fixture() {
    let (current, previous) = (whsec(4), whsec(5));
    let config = entry("svix", &[&current, &previous]);
    for (name, body) in json_fixtures() {
        let request = signed(&config, &body, JSON, now_unix());
        assert!(request.headers.contains_key("svix-signature"));
        for secret in [&current, &previous] {
            assert!(
                library_accepts(Tool::Python("verify_svix.py"), secret, &request),
                "{name}"
            );
        }
    }
}

#[test]
fn v1a_entries_pass_an_independent_ed25519_check_in_both_key_forms() {
    let (pair, pair_public) = ed25519_pair(6, false);
    let (bare, bare_public) = ed25519_pair(7, true);
    let config = entry("standard-webhooks", &[&whsec(8), &pair, &bare]);
    for (name, body) in fixtures() {
        let request = signed(&config, &body, JSON, now_unix());
        for public in [&pair_public, &bare_public] {
            assert!(
                library_accepts(Tool::Python("verify_ed25519.py"), public, &request),
                "{name}"
            );
        }
        let (_, other_public) = ed25519_pair(10, true);
        assert!(!library_accepts(
            Tool::Python("verify_ed25519.py"),
            &other_public,
            &request
        ));
    }
}

#[test]
fn stripe_passes_the_stripe_library_for_each_rolled_secret() {
    let config = entry("stripe", &["whsec_current_7f3a", "whsec_previous_91bc"]);
    for (name, body) in json_fixtures() {
        let request = signed(&config, &body, JSON, now_unix());
        for secret in ["whsec_current_7f3a", "whsec_previous_91bc"] {
            assert!(
                library_accepts(Tool::Python("verify_stripe.py"), secret, &request),
                "{name}"
            );
        }
    }
}

#[test]
fn github_passes_octokit_webhooks_methods() {
    let config = entry("github", &["It's a Secret to Everybody"]);
    for (name, body) in fixtures() {
        let request = signed(&config, &body, JSON, now_unix());
        let tool = Tool::Node("verify_github.mjs");
        assert!(
            library_accepts(tool, "It's a Secret to Everybody", &request),
            "{name}"
        );
    }
}

#[test]
fn slack_passes_slack_sdk_signature_verifier() {
    let config = entry("slack", &["8f742231b10e8888abcd99yyyzzz85a5"]);
    for (name, body) in fixtures() {
        let request = signed(&config, &body, JSON, now_unix());
        let tool = Tool::Python("verify_slack.py");
        assert!(
            library_accepts(tool, "8f742231b10e8888abcd99yyyzzz85a5", &request),
            "{name}"
        );
    }
}

#[test]
fn twilio_passes_request_validator_for_forms_and_json() {
    let token = "12345678901234567890123456789012";
    let config = entry("twilio", &[token]);
    for (name, body) in fixtures() {
        let content_type = sign::preview::content_type_of(&body);
        let request = signed(&config, &body, content_type, now_unix());
        assert_eq!(
            request.url.contains("bodySHA256="),
            content_type == JSON,
            "{name}"
        );
        assert!(
            library_accepts(Tool::Python("verify_twilio.py"), token, &request),
            "{name}"
        );
    }
}

#[test]
fn body_hmac_schemes_pass_the_documented_python_and_node_checks() {
    let secret = "shpss_0123456789abcdef";
    for scheme in ["shopify", "calcom"] {
        for (name, body) in fixtures() {
            let request = signed(&entry(scheme, &[secret]), &body, JSON, now_unix());
            for tool in [
                Tool::Python("verify_body_hmac.py"),
                Tool::Node("verify_node.mjs"),
            ] {
                assert!(
                    library_accepts(tool, secret, &request),
                    "{scheme} {tool:?} {name}"
                );
                assert!(
                    !library_accepts(tool, "other", &request),
                    "{scheme} {tool:?} {name}"
                );
            }
        }
    }
}

#[test]
fn timestamped_schemes_pass_the_documented_node_checks() {
    let subjects = [
        ("standard-webhooks", whsec(31)),
        ("svix", whsec(32)),
        ("stripe", "whsec_node_33".to_owned()),
        ("slack", "slack-node-34".to_owned()),
    ];
    for (scheme, secret) in subjects {
        for (name, body) in fixtures() {
            let tool = Tool::Node("verify_node.mjs");
            let request = signed(&entry(scheme, &[&secret]), &body, JSON, now_unix());
            assert!(library_accepts(tool, &secret, &request), "{scheme} {name}");
            let stale = signed(&entry(scheme, &[&secret]), &body, JSON, now_unix() - 400);
            assert!(!library_accepts(tool, &secret, &stale), "{scheme} {name}");
        }
    }
}

// ---- `hookseal verify` agrees with the libraries ----

/// What to do to a good request before checking it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Good,
    TamperedBody,
    WrongSecret,
    Stale,
    Future,
    MissingHeader,
    MalformedHeader,
}

const CASES: [Case; 7] = [
    Case::Good,
    Case::TamperedBody,
    Case::WrongSecret,
    Case::Stale,
    Case::Future,
    Case::MissingHeader,
    Case::MalformedHeader,
];

/// One scheme under test: how to sign, how its library checks, and which header carries the
/// signature.
struct Subject {
    scheme: &'static str,
    sign_secret: String,
    verify_secret: String,
    wrong_secret: String,
    tool: Tool,
    signature_header: &'static str,
    has_timestamp: bool,
    content_type: &'static str,
}

fn agreement(subject: &Subject) {
    let body = std::fs::read(repo().join("tests/fixtures/calcom/wire/01-booking-created.body"))
        .expect("fixture present");
    let body = if subject.content_type == FORM {
        std::fs::read(repo().join("tests/fixtures/calcom/wire/09-custom-template-form.body"))
            .expect("fixture present")
    } else {
        body
    };
    for case in CASES {
        if !subject.has_timestamp && matches!(case, Case::Stale | Case::Future) {
            continue;
        }
        let (request, secret) = prepare(subject, case, &body);
        let now = now_unix();
        let ours = sign::verify(
            subject.scheme,
            &[Secret::new(secret.as_str())],
            &request.headers,
            &request.body,
            Some(&request.url),
            now,
        );
        let theirs = library_accepts(subject.tool, &secret, &request);
        let cli = cli_verify(subject.scheme, &secret, &request, now);
        let label = format!("{} {case:?}: ours {ours:?}", subject.scheme);

        assert_eq!(
            cli,
            ours.is_ok(),
            "{label}: the command disagrees with the library call"
        );
        assert!(
            expected_kind(subject, case, &ours),
            "{label}: unexpected verdict"
        );
        if subject.scheme == "stripe" && case == Case::Future {
            // Stripe's library checks only that `t` is not too old; hookseal refuses a future
            // timestamp too, as the Standard Webhooks and Slack libraries do.
            assert!(
                theirs,
                "{label}: stripe's library now refuses future timestamps"
            );
            continue;
        }
        assert_eq!(theirs, ours.is_ok(), "{label}: the library says {theirs}");
    }
}

fn prepare(subject: &Subject, case: Case, body: &[u8]) -> (Request, String) {
    let timestamp = match case {
        Case::Stale => now_unix() - 400,
        Case::Future => now_unix() + 400,
        _ => now_unix(),
    };
    let config = entry(subject.scheme, &[&subject.sign_secret]);
    let mut request = signed(&config, body, subject.content_type, timestamp);
    let mut secret = subject.verify_secret.clone();
    let name = HeaderName::from_static(subject.signature_header);
    match case {
        Case::TamperedBody => request.body = [body, b" "].concat(),
        Case::WrongSecret => secret = subject.wrong_secret.clone(),
        Case::MissingHeader => drop(request.headers.remove(&name)),
        Case::MalformedHeader => drop(
            request
                .headers
                .insert(name, HeaderValue::from_static("garbage")),
        ),
        Case::Good | Case::Stale | Case::Future => {}
    }
    (request, secret)
}

fn expected_kind(
    subject: &Subject,
    case: Case,
    ours: &Result<sign::Verified, VerifyFailure>,
) -> bool {
    let json_twilio = subject.scheme == "twilio" && subject.content_type == JSON;
    match (case, ours) {
        (Case::Good, Ok(_)) => true,
        (Case::TamperedBody, Err(VerifyFailure::BodyHashMismatch)) => json_twilio,
        (Case::TamperedBody | Case::WrongSecret, Err(VerifyFailure::NoMatch { .. })) => true,
        (Case::Stale, Err(VerifyFailure::TimestampTooOld { .. })) => true,
        (Case::Future, Err(VerifyFailure::TimestampInFuture { .. })) => true,
        (Case::MissingHeader, Err(VerifyFailure::MissingHeader(header))) => {
            *header == subject.signature_header
        }
        // A Twilio signature is opaque base64: a bad one simply does not match.
        (Case::MalformedHeader, Err(VerifyFailure::NoMatch { .. })) => subject.scheme == "twilio",
        (Case::MalformedHeader, Err(VerifyFailure::MalformedHeader { header, .. })) => {
            *header == subject.signature_header
        }
        _ => false,
    }
}

/// Runs `hookseal verify` on the request; true if it exits 0.
fn cli_verify(scheme: &str, secret: &str, request: &Request, now: i64) -> bool {
    let dir = tempfile::tempdir().expect("temp dir");
    let (secret_file, headers_file, body_file) = (
        dir.path().join("secret"),
        dir.path().join("head"),
        dir.path().join("body"),
    );
    std::fs::write(&secret_file, format!("{secret}\n")).expect("writable");
    let mut head = format!("POST {} HTTP/1.1\n", request.url);
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {}\n", value.to_str().expect("ascii")));
    }
    std::fs::write(&headers_file, head).expect("writable");
    std::fs::write(&body_file, &request.body).expect("writable");

    let output = Command::new(env!("CARGO_BIN_EXE_hookseal"))
        .args(["verify", "--scheme", scheme, "--now", &now.to_string()])
        .arg("--secret-file")
        .arg(&secret_file)
        .arg("--headers")
        .arg(&headers_file)
        .arg(&body_file)
        .output()
        .expect("hookseal runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains(secret) && !String::from_utf8_lossy(&output.stderr).contains(secret));
    match output.status.code() {
        Some(0) => stdout.starts_with("ok: "),
        Some(1) if stdout.starts_with("fail: ") => false,
        _ => panic!(
            "hookseal verify failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

fn subject(scheme: &'static str, secret: &str, tool: Tool, header: &'static str) -> Subject {
    Subject {
        scheme,
        sign_secret: secret.to_owned(),
        verify_secret: secret.to_owned(),
        wrong_secret: format!("{secret}x"),
        tool,
        signature_header: header,
        has_timestamp: true,
        content_type: JSON,
    }
}

#[test]
fn verify_agrees_with_standardwebhooks() {
    let mut subject = subject(
        "standard-webhooks",
        &whsec(11),
        Tool::Python("verify_standardwebhooks.py"),
        "webhook-signature",
    );
    subject.wrong_secret = whsec(12);
    agreement(&subject);
}

#[test]
fn verify_agrees_with_svix() {
    let mut subject = subject(
        "svix",
        &whsec(13),
        Tool::Python("verify_svix.py"),
        "svix-signature",
    );
    subject.wrong_secret = whsec(14);
    agreement(&subject);
}

#[test]
fn verify_agrees_with_an_independent_ed25519_check() {
    let (secret, public) = ed25519_pair(15, false);
    let mut subject = subject(
        "standard-webhooks",
        &secret,
        Tool::Python("verify_ed25519.py"),
        "webhook-signature",
    );
    subject.verify_secret = public;
    subject.wrong_secret = ed25519_pair(16, true).1;
    agreement(&subject);
}

#[test]
fn verify_agrees_with_stripe() {
    agreement(&subject(
        "stripe",
        "whsec_agree_5e1d",
        Tool::Python("verify_stripe.py"),
        "stripe-signature",
    ));
}

#[test]
fn verify_agrees_with_slack_sdk() {
    agreement(&subject(
        "slack",
        "slack-signing-secret",
        Tool::Python("verify_slack.py"),
        "x-slack-signature",
    ));
}

#[test]
fn verify_agrees_with_octokit() {
    let mut subject = subject(
        "github",
        "gh-secret",
        Tool::Node("verify_github.mjs"),
        "x-hub-signature-256",
    );
    subject.has_timestamp = false;
    agreement(&subject);
}

#[test]
fn verify_agrees_with_twilio_for_json_and_forms() {
    for content_type in [JSON, FORM] {
        let mut subject = subject(
            "twilio",
            "twilio-auth-token",
            Tool::Python("verify_twilio.py"),
            "x-twilio-signature",
        );
        subject.has_timestamp = false;
        subject.content_type = content_type;
        agreement(&subject);
    }
}

#[test]
fn verify_agrees_with_the_documented_body_hmac_checks() {
    let cases = [
        (
            "shopify",
            Tool::Python("verify_body_hmac.py"),
            "x-shopify-hmac-sha256",
        ),
        (
            "shopify",
            Tool::Node("verify_node.mjs"),
            "x-shopify-hmac-sha256",
        ),
        (
            "calcom",
            Tool::Python("verify_body_hmac.py"),
            "x-cal-signature-256",
        ),
        (
            "calcom",
            Tool::Node("verify_node.mjs"),
            "x-cal-signature-256",
        ),
    ];
    for (scheme, tool, header) in cases {
        let mut subject = subject(scheme, "body-hmac-secret", tool, header);
        subject.has_timestamp = false;
        agreement(&subject);
    }
}

// ---- the docs quote what the tests run ----

#[test]
fn receiver_docs_quote_every_tested_snippet_verbatim() {
    let docs = std::fs::read_to_string(repo().join("README.md")).expect("docs present");
    let tools = repo().join("tests/tools");
    let mut found = 0;
    for item in std::fs::read_dir(&tools).expect("tools present") {
        let path = item.expect("readable").path();
        if !path
            .extension()
            .is_some_and(|ext| ext == "py" || ext == "mjs")
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        for snippet in snippets(&text) {
            found += 1;
            assert!(
                docs.contains(&snippet),
                "README.md lacks, from {}:\n{snippet}",
                path.display()
            );
        }
    }
    assert!(found >= 12, "only {found} snippets found");
}

/// The text between `receiver snippet begin` and `end` marker lines.
fn snippets(text: &str) -> Vec<String> {
    let mut all = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        if line.ends_with("receiver snippet begin") {
            current = Some(Vec::new());
        } else if line.ends_with("receiver snippet end") {
            let lines = current.take().expect("begin before end");
            all.push(lines.join("\n").trim().to_owned());
        } else if let Some(lines) = current.as_mut() {
            lines.push(line);
        }
    }
    all
}

// ---- the commands ----

#[test]
fn check_refuses_bad_secrets_naming_the_entry_but_not_the_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("key");
    let mismatched = {
        let engine = base64::engine::general_purpose::STANDARD;
        format!("whsk_{}", engine.encode([[1u8; 32], [2u8; 32]].concat()))
    };
    std::fs::write(&key_file, format!("{mismatched}\n")).expect("writable");
    let cases = [
        (
            "secrets = [\"whsec_dG9vc2hvcnRrZXk=\"]",
            "dG9vc2hvcnRrZXk",
            "at least 24",
        ),
        (
            "secrets = [\"whsec_%%%not-base64%%%\"]",
            "not-base64",
            "not base64",
        ),
        (
            &format!("secret_files = [{:?}]", key_file.display().to_string()) as &str,
            &mismatched[5..20],
            "does not match",
        ),
    ];
    for (keys, value, reason) in cases {
        let config = dir.path().join("hookseal.toml");
        std::fs::write(
            &config,
            config_text(&format!(
                "[[routes.sign]]\nscheme = \"standard-webhooks\"\n{keys}\n"
            )),
        )
        .expect("writable");
        let output = Command::new(env!("CARGO_BIN_EXE_hookseal"))
            .args(["check", "--config"])
            .arg(&config)
            .output()
            .expect("hookseal runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{keys}: accepted");
        assert!(
            stderr.contains("[[routes.sign]] entry 2 (scheme \"standard-webhooks\")"),
            "{stderr}"
        );
        assert!(stderr.contains(reason), "{stderr}");
        assert!(!stderr.contains(value), "the secret leaked: {stderr}");
    }
}

#[test]
fn sign_command_output_verifies_with_the_verify_command() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("hookseal.toml");
    std::fs::write(&config, config_text("")).expect("writable");
    let body = repo().join("tests/fixtures/calcom/wire/07-ping.body");
    let head = signed_head(&config, &body);
    assert!(
        head.starts_with("POST https://crm.example.com/hook?bodySHA256="),
        "{head}"
    );
    assert!(!head.contains(&whsec(21)[6..]), "the secret leaked");

    let head_file = dir.path().join("head");
    std::fs::write(&head_file, &head).expect("writable");
    for (scheme, secret) in [
        ("standard-webhooks", whsec(21)),
        ("stripe", "whsec_stripe_21".to_owned()),
        ("twilio", "tw-21".to_owned()),
    ] {
        let (code, said) = verify_cli(scheme, &secret, &[], &head_file, &body);
        assert_eq!(code, Some(0), "{scheme}: {said}");
    }
}

#[test]
fn sign_command_gives_the_id_serve_derives_and_hides_fixed_header_values() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("hookseal.toml");
    let text = config_text("").replace(
        "upstream = \"https://crm.example.com/hook\"\n",
        "upstream = \"https://crm.example.com/hook\"\nheaders = { \"X-Api-Key\" = \"api-key-21\" }\n",
    );
    std::fs::write(&config, text).expect("writable");
    let body = repo().join("tests/fixtures/calcom/wire/01-booking-created.body");
    let id = |head: &str| head_field(head, "webhook-id");

    let (first, second) = (signed_head(&config, &body), signed_head(&config, &body));
    // A cal.com event's id comes from its identity (a version 8 UUID), as serve derives it.
    assert_eq!(id(&first), id(&second));
    assert_eq!(
        id(&first).split('-').nth(2).map(|group| &group[..1]),
        Some("8")
    );
    assert!(first.contains("\nuser-agent: hookseal/"), "{first}");
    assert!(
        first.contains("\nx-api-key: <from the config, not shown>\n"),
        "{first}"
    );
    assert!(
        !first.contains("api-key-21"),
        "a fixed header's value leaked: {first}"
    );
}

#[test]
fn verify_checks_the_generic_hmac_scheme_from_its_options() {
    use hmac::Mac as _;

    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("hookseal.toml");
    let text = config_text("").replace(
        "[[routes.sign]]\nscheme = \"stripe\"",
        "[[routes.sign]]\nscheme = \"hmac\"\nsecrets = [\"hmac-secret-21\"]\n\
         header = \"X-Signature\"\nalgorithm = \"sha512\"\nencoding = \"base64\"\n\
         prefix = \"v1=\"\nsigned = \"id.timestamp.body\"\nid_header = \"X-Event-Id\"\n\
         timestamp_header = \"X-Event-Time\"\n\n[[routes.sign]]\nscheme = \"stripe\"",
    );
    std::fs::write(&config, text).expect("writable");
    let body_file = repo().join("tests/fixtures/calcom/wire/01-booking-created.body");
    let head = signed_head(&config, &body_file);
    let head_file = dir.path().join("head");
    std::fs::write(&head_file, &head).expect("writable");

    // The signature is what the receiver computes by hand: HMAC-SHA512 over id.timestamp.body.
    let field = |name: &str| head_field(&head, name);
    let (id, timestamp) = (field("x-event-id"), field("x-event-time"));
    assert_eq!(id, field("webhook-id"), "one event id on every header");
    let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(b"hmac-secret-21").expect("key");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&std::fs::read(&body_file).expect("fixture"));
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(field("x-signature"), format!("v1={expected}"));

    let options = [
        "--header",
        "X-Signature",
        "--algorithm",
        "sha512",
        "--encoding",
        "base64",
        "--prefix",
        "v1=",
        "--signed",
        "id.timestamp.body",
        "--id-header",
        "X-Event-Id",
        "--timestamp-header",
        "X-Event-Time",
    ];
    let verify = |scheme: &str, secret: &str, extra: &[&str]| {
        verify_cli(scheme, secret, extra, &head_file, &body_file)
    };

    let (code, said) = verify("hmac", "hmac-secret-21", &options);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.starts_with("ok: x-signature signature matches"),
        "{said}"
    );
    let (code, said) = verify("hmac", "another-secret", &options);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("no signature matches"), "{said}");
    let mut sha256 = options;
    sha256[3] = "sha256";
    assert_eq!(verify("hmac", "hmac-secret-21", &sha256).0, Some(1));
    let late = [&options[..], &["--now", "4102444800"]].concat();
    let (code, said) = verify("hmac", "hmac-secret-21", &late);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("s old"), "{said}");

    // What cannot be checked as asked is a usage error, told apart from a failed check.
    for (scheme, extra) in [
        ("hmac", &[][..]),
        ("stripe", &options[..2]),
        ("nope", &[][..]),
    ] {
        let (code, said) = verify(scheme, "hmac-secret-21", extra);
        assert_eq!(code, Some(2), "{scheme} {extra:?}: {said}");
        assert!(said.starts_with("error: "), "{said}");
    }
    let (code, said) = verify("standard-webhooks", "whsec_!!!notbase64", &[]);
    assert_eq!(code, Some(2), "an unusable secret: {said}");
    assert!(said.starts_with("error: secret 1 cannot be used"), "{said}");
    assert!(!said.contains("notbase64"), "the secret leaked: {said}");
}

#[test]
fn keygen_keys_sign_and_verify() {
    for (scheme, ed25519) in [
        ("standard-webhooks", false),
        ("svix", true),
        ("stripe", false),
        ("slack", false),
    ] {
        let mut args = vec!["keygen", "--scheme", scheme];
        if ed25519 {
            args.push("--ed25519");
        }
        let output = Command::new(env!("CARGO_BIN_EXE_hookseal"))
            .args(&args)
            .output()
            .expect("runs");
        assert!(output.status.success());
        let text = String::from_utf8(output.stdout).expect("text");
        let secret = text
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("secret: "))
            .expect("secret line");
        let public = text
            .lines()
            .nth(1)
            .and_then(|line| line.strip_prefix("public key: "));
        assert_eq!(public.is_some(), ed25519, "{text}");

        let request = signed(&entry(scheme, &[secret]), b"{}", JSON, now_unix());
        let check_with = Secret::new(public.unwrap_or(secret));
        let verdict = sign::verify(
            scheme,
            &[check_with],
            &request.headers,
            &request.body,
            None,
            now_unix(),
        );
        assert!(verdict.is_ok(), "{scheme}: {verdict:?}");
    }
}

/// What `hookseal sign` prints for `body` on route `crm` of `config`.
fn signed_head(config: &Path, body: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_hookseal"))
        .args(["sign", "--route", "crm", "--config"])
        .arg(config)
        .arg(body)
        .output()
        .expect("hookseal runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).expect("text")
}

/// Runs `hookseal verify` with the secret in the environment: its exit code, and what it
/// printed on both streams.
fn verify_cli(
    scheme: &str,
    secret: &str,
    extra: &[&str],
    head_file: &Path,
    body: &Path,
) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_hookseal"))
        .args([
            "verify",
            "--scheme",
            scheme,
            "--secret-env",
            "HOOKSEAL_TEST_SECRET",
        ])
        .args(extra)
        .arg("--headers")
        .arg(head_file)
        .arg(body)
        .env("HOOKSEAL_TEST_SECRET", secret)
        .output()
        .expect("hookseal runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), said)
}

/// The value of header `name` in a printed request head.
fn head_field(head: &str, name: &str) -> String {
    head.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
        .unwrap_or_else(|| panic!("no {name} in {head}"))
        .to_owned()
}

fn config_text(extra_sign: &str) -> String {
    format!(
        r#"[server]
listen = "127.0.0.1:0"

[[routes]]
name = "crm"
path = "/hooks/crm"
upstream = "https://crm.example.com/hook"

[routes.inbound]
calcom_secret = "calcom-inbound-secret"

[[routes.sign]]
scheme = "standard-webhooks"
secrets = ["{}"]

{extra_sign}
[[routes.sign]]
scheme = "stripe"
secrets = ["whsec_stripe_21"]

[[routes.sign]]
scheme = "twilio"
secrets = ["tw-21"]
"#,
        whsec(21)
    )
}
