//! Logs of a run that uses every kind of secret carry none of them, nor any signature value.

use nix::sys::signal::Signal;

use crate::client::{admin_url, booking_created, call, replace_file, signal};
use crate::support::{calcom_signature, post, Hookseal, TestUpstream};

/// Each secret once: inline in the file, from `${VAR}`, and from a `*_file`.
const INBOUND_INLINE: &str = "inbound-inline-9d2b7e";
const INBOUND_ENV: &str = "inbound-env-41c8aa";
const INBOUND_FILE: &str = "inbound-file-7f03d1";
const SIGN_INLINE: &str = "sign-inline-c5e912";
const SIGN_ENV: &str = "sign-env-0be4f7";
const SIGN_FILE: &str = "sign-file-63da28";
const HEADER_INLINE: &str = "header-inline-a81f4c";
const HEADER_ENV: &str = "header-env-2e9b60";
const ADMIN_TOKEN_FILE: &str = "admin-token-file-d4470b";
const WRONG_TOKEN: &str = "wrong-token-sent-58ac1e";

fn config(dir: &std::path::Path, upstream: &str) -> String {
    let file = |name: &str| dir.join(name).display().to_string();
    format!(
        r#"
[admin]
listen = "127.0.0.1:0"
token_file = "{admin}"

[[routes]]
name = "inline"
path = "/hooks/inline"
upstream = "{upstream}"
delivery = "sync"
headers = {{ x-api-key = "{HEADER_INLINE}" }}
[routes.inbound]
calcom_secret = "{INBOUND_INLINE}"
[[routes.sign]]
scheme = "calcom"
secrets = ["{SIGN_INLINE}"]

[[routes]]
name = "env"
path = "/hooks/env"
upstream = "{upstream}"
delivery = "sync"
headers = {{ x-api-key = "${{HS_TEST_HEADER}}" }}
[routes.inbound]
calcom_secret = "${{HS_TEST_INBOUND}}"
[[routes.sign]]
scheme = "calcom"
secrets = ["${{HS_TEST_SIGN}}"]

[[routes]]
name = "file"
path = "/hooks/file"
upstream = "{upstream}"
delivery = "queued"
[routes.inbound]
calcom_secret_file = "{inbound}"
[[routes.sign]]
scheme = "calcom"
secret_files = ["{sign}"]
"#,
        admin = file("admin-token"),
        inbound = file("inbound-secret"),
        sign = file("sign-secret"),
    )
}

#[tokio::test]
async fn no_log_line_carries_a_secret_or_a_signature_even_at_trace() {
    let mut upstream = TestUpstream::start().await;
    let tempdir = tempfile::tempdir().unwrap();
    let dir = tempdir.path();
    for (name, value) in [
        ("admin-token", ADMIN_TOKEN_FILE),
        ("inbound-secret", INBOUND_FILE),
        ("sign-secret", SIGN_FILE),
    ] {
        std::fs::write(dir.join(name), format!("{value}\n")).unwrap();
    }
    let env = [
        ("HS_TEST_INBOUND", INBOUND_ENV),
        ("HS_TEST_SIGN", SIGN_ENV),
        ("HS_TEST_HEADER", HEADER_ENV),
        ("RUST_LOG", "trace"),
    ];
    let hookseal = Hookseal::start_in(dir, &config(dir, &upstream.url("/")), &env);

    // Traffic on every route, a forged signature, and admin calls with right and wrong tokens.
    let mut signatures = Vec::new();
    for (route, secret, status) in [
        ("inline", INBOUND_INLINE, 200),
        ("env", INBOUND_ENV, 200),
        ("file", INBOUND_FILE, 202),
        ("inline", INBOUND_ENV, 401),
    ] {
        let body = booking_created(&format!("secrets-{route}-{status}"));
        let signature = calcom_signature(secret, &body);
        let headers = [
            ("content-type", "application/json"),
            ("x-cal-signature-256", signature.as_str()),
        ];
        let answer = post(&hookseal.url(&format!("/hooks/{route}")), &headers, body).await;
        assert_eq!(answer.status, status, "{route}");
        signatures.push(signature);
    }
    for _ in 0..3 {
        let received = upstream.next().await;
        let sent = received.headers["x-cal-signature-256"].to_str().unwrap();
        signatures.push(sent.to_owned());
    }
    let deliveries = admin_url(&hookseal, "/deliveries");
    assert_eq!(
        call("GET", &deliveries, Some(ADMIN_TOKEN_FILE))
            .await
            .status,
        200
    );
    assert_eq!(
        call("GET", &deliveries, Some(WRONG_TOKEN)).await.status,
        401
    );

    // A reload whose broken line holds a secret: the refusal must not quote it.
    let path = dir.join("hookseal.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    replace_file(
        &path,
        &text.replace(INBOUND_INLINE, &format!("{INBOUND_INLINE}\" oops \"")),
    );
    signal(&hookseal, Signal::SIGHUP);
    let refused = "config reload refused; the running config keeps serving";
    hookseal.wait_logs(refused, 1, |_| true).await;
    hookseal.wait_logs("webhook", 3, |_| true).await;

    let logs = hookseal.logs().join("\n");
    assert!(logs.contains("\"level\":\"TRACE\""), "trace logging was on");
    let secrets = [
        INBOUND_INLINE,
        INBOUND_ENV,
        INBOUND_FILE,
        SIGN_INLINE,
        SIGN_ENV,
        SIGN_FILE,
        HEADER_INLINE,
        HEADER_ENV,
        ADMIN_TOKEN_FILE,
        WRONG_TOKEN,
    ];
    for secret in secrets
        .iter()
        .copied()
        .chain(signatures.iter().map(String::as_str))
    {
        assert!(!logs.contains(secret), "a log line carries {secret:?}");
    }
    for header in ["x-cal-signature-256", "x-api-key", "authorization"] {
        assert!(
            !logs.to_lowercase().contains(header),
            "a log line names {header}"
        );
    }
}

/// The PostgreSQL password in the store URL never reaches a log line, even at trace level
/// with the database driver's own logging on.
#[tokio::test]
async fn no_log_line_carries_the_store_password() {
    const PASSWORD: &str = "store-password-3f9a71";
    let mut upstream = TestUpstream::start().await;
    let tempdir = tempfile::tempdir().unwrap();
    let dir = tempdir.path();
    let url = crate::postgres_support::Cluster::shared()
        .fresh_database()
        .await;
    let with_password = url.replacen("postgres@", &format!("postgres:{PASSWORD}@"), 1);
    std::fs::write(dir.join("store-url"), format!("{with_password}\n")).unwrap();
    let config = format!(
        r#"
[[routes]]
name = "crm"
path = "/hooks/crm"
upstream = "{}"
[routes.inbound]
calcom_secret = "{INBOUND_INLINE}"
"#,
        upstream.url("/")
    );
    let store = format!(
        "kind = \"postgres\"\nurl_file = {:?}",
        dir.join("store-url").display().to_string()
    );
    let hookseal = Hookseal::start_with("", &store, &config, &[("RUST_LOG", "trace")]);
    let body = booking_created("secrets-store-url");
    let signature = calcom_signature(INBOUND_INLINE, &body);
    let headers = [("x-cal-signature-256", signature.as_str())];
    assert_eq!(
        post(&hookseal.url("/hooks/crm"), &headers, body)
            .await
            .status,
        202
    );
    upstream.next().await;
    hookseal.wait_logs("webhook", 1, |_| true).await;
    let logs = hookseal.logs().join("\n");
    assert!(logs.contains("\"level\":\"TRACE\""), "trace logging was on");
    assert!(
        !logs.contains(PASSWORD),
        "a log line carries the store password"
    );
}
