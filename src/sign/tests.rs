//! Known-answer tests: fixed keys, ids, timestamps and bodies give one exact signature per
//! scheme. The Standard Webhooks answer is the spec library's own test vector; the others were
//! computed separately with Python's `hmac`, `hashlib` and `cryptography` modules.

use http::Uri;

use super::*;
use crate::config::SignConfig;

const EVENT_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
const TIMESTAMP: i64 = 1_649_367_553;
const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
const SECRET: &str = "hookseal-test-secret";
const SW_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
/// RFC 8032 test 1 key pair, written as Svix writes Ed25519 keys.
const RFC8032_WHSK: &str =
    "whsk_nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg==";

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

fn sign_with(config: &SignConfig, upstream: &str, content_type: &str, body: &[u8]) -> Signature {
    let scheme = Scheme::from_config(config).expect("valid entry");
    let upstream: Uri = upstream.parse().expect("valid url");
    let attempt = Attempt {
        event_id: EVENT_ID,
        attempt_id: "attempt-7",
        timestamp: TIMESTAMP,
        accepted_at: 1_772_442_847,
        upstream: &upstream,
        content_type: Some(content_type),
        body,
    };
    sign_all(std::slice::from_ref(&scheme), &attempt)
}

fn headers_of(config: &SignConfig) -> Vec<(String, String)> {
    let signature = sign_with(config, "https://example.com/hook", "application/json", BODY);
    assert!(signature.upstream.is_none());
    signature
        .headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().expect("ascii").to_owned()))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

fn error_of(config: &SignConfig) -> String {
    match Scheme::from_config(config) {
        Ok(scheme) => panic!("{} accepted", scheme.name()),
        Err(err) => err.to_string(),
    }
}

#[test]
fn standard_webhooks_matches_the_spec_vector() {
    assert_eq!(
        headers_of(&entry("standard-webhooks", &[SW_SECRET])),
        pairs(&[
            ("webhook-id", EVENT_ID),
            ("webhook-timestamp", "1649367553"),
            (
                "webhook-signature",
                "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
            ),
        ])
    );
}

#[test]
fn standard_webhooks_sends_one_entry_per_key_in_order() {
    let headers = headers_of(&entry("standard-webhooks", &[RFC8032_WHSK, SW_SECRET]));
    let expected = "v1a,jfp5j4J3Buv9EPOcc9Bqo8rJqAO1H6lrRl0WZQdzVZI6IttNPT8HSLyPvUvY54dJJt2BQGA01di1ePvigCwlCw== \
                    v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";
    assert_eq!(
        headers[2],
        ("webhook-signature".to_owned(), expected.to_owned())
    );
}

#[test]
fn unprefixed_standard_webhooks_secret_is_base64_key_bytes() {
    let headers = headers_of(&entry(
        "standard-webhooks",
        &["C2FVsBQIhrscChlQIMV+b5sSYspob7oD"],
    ));
    assert_eq!(
        headers[2].1,
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
    );
}

#[test]
fn svix_is_the_same_scheme_under_svix_names() {
    assert_eq!(
        headers_of(&entry("svix", &[SW_SECRET])),
        pairs(&[
            ("svix-id", EVENT_ID),
            ("svix-timestamp", "1649367553"),
            (
                "svix-signature",
                "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
            ),
        ])
    );
}

#[test]
fn stripe_keys_with_the_whole_secret_text_and_sends_one_v1_per_secret() {
    let headers = headers_of(&entry("stripe", &["whsec_test_secret", "whsec_old_secret"]));
    assert_eq!(
        headers,
        pairs(&[(
            "stripe-signature",
            "t=1649367553,\
             v1=d73e0eadf2fe93e4eb46b79add6635e2d024cfb914901ad59365f1f206e16783,\
             v1=d0ec0080ca65df3d2662de8f08c07ff603423978d8ff84d01b2e9ba814190b2c"
        )])
    );
}

#[test]
fn github_signs_the_body_and_sends_the_event_id_as_delivery() {
    assert_eq!(
        headers_of(&entry("github", &[SECRET, "ignored-second-secret"])),
        pairs(&[
            (
                "x-hub-signature-256",
                "sha256=be5c9bae0505a37a7d909e0bb3ed5c1c03a035e068fa69cc527a5cc1a3a1080d"
            ),
            ("x-github-delivery", EVENT_ID),
        ])
    );
}

#[test]
fn slack_signs_version_timestamp_and_body() {
    assert_eq!(
        headers_of(&entry("slack", &[SECRET])),
        pairs(&[
            (
                "x-slack-signature",
                "v0=d0ede0e2997265744bcb6462611729a6fc44c4b8284edec7b1e03f054d357e68"
            ),
            ("x-slack-request-timestamp", "1649367553"),
        ])
    );
}

#[test]
fn shopify_sends_base64_hmac_and_its_ids() {
    assert_eq!(
        headers_of(&entry("shopify", &[SECRET])),
        pairs(&[
            (
                "x-shopify-hmac-sha256",
                "vlybrgUFo3p9kJ4Ls+1cHAOgNeBo+mnMUnpcwaOhCA0="
            ),
            ("x-shopify-webhook-id", "attempt-7"),
            ("x-shopify-event-id", EVENT_ID),
            ("x-shopify-triggered-at", "2026-03-02T09:14:07Z"),
        ])
    );
}

#[test]
fn calcom_signs_the_body_in_hex() {
    assert_eq!(
        headers_of(&entry("calcom", &[SECRET])),
        pairs(&[(
            "x-cal-signature-256",
            "be5c9bae0505a37a7d909e0bb3ed5c1c03a035e068fa69cc527a5cc1a3a1080d"
        )])
    );
}

#[test]
fn twilio_signs_url_and_sorted_form_parameters() {
    let body = b"To=%2B15551234567&Body=Hi there&From=x";
    let form = "application/x-www-form-urlencoded; charset=utf-8";
    let signature = sign_with(
        &entry("twilio", &[SECRET]),
        "https://example.com/hook?x=1",
        form,
        body,
    );
    assert!(signature.upstream.is_none());
    assert_eq!(signature.headers.len(), 1);
    assert_eq!(signature.headers[0].0, "x-twilio-signature");
    assert_eq!(signature.headers[0].1, "4ZuoJSTjosy6W7i9rkAIlgVWiyw=");
}

#[test]
fn twilio_adds_body_sha256_for_json_and_signs_the_new_url() {
    let url = "https://example.com/hook?x=1";
    let signature = sign_with(&entry("twilio", &[SECRET]), url, "application/json", BODY);
    let upstream = signature.upstream.expect("url changed").to_string();
    assert_eq!(
        upstream,
        "https://example.com/hook?x=1\
         &bodySHA256=a75236b4293fb36949438f208517dba93f773c9f761e5ec8ce5b698f715bd4a2"
    );
    assert_eq!(signature.headers[0].1, "V/Nb4XZmsr09l5e7qv8XXAv/5oQ=");
}

#[test]
fn twilio_leaves_the_https_port_out_of_the_signed_url_only() {
    let url = "https://example.com:8443/hook";
    let signature = sign_with(&entry("twilio", &[SECRET]), url, "application/json", BODY);
    let upstream = signature.upstream.expect("url changed").to_string();
    assert!(
        upstream.starts_with("https://example.com:8443/hook?bodySHA256="),
        "{upstream}"
    );
    assert_eq!(signature.headers[0].1, "Wz/X7B3IZZFk056CZTHS7KNetjk=");
}

#[test]
fn generic_hmac_follows_its_options() {
    let mut config = entry("hmac", &[SECRET]);
    config.header = Some("X-Acme-Digest".to_owned());
    config.algorithm = Some("sha1".to_owned());
    config.prefix = Some("sha1=".to_owned());
    assert_eq!(
        headers_of(&config),
        pairs(&[(
            "x-acme-digest",
            "sha1=2e046a2e84d124f1dddc0a00f07f969cc2e79c0e"
        )])
    );

    config.algorithm = Some("sha512".to_owned());
    config.encoding = Some("base64".to_owned());
    config.prefix = None;
    config.signed = Some("id.timestamp.body".to_owned());
    config.id_header = Some("x-acme-id".to_owned());
    assert_eq!(
        headers_of(&config),
        pairs(&[
            ("x-acme-digest", "8fczN+R1jAYJayKJ8RuXBU9AO0BBLRlIf8I0QR5rbhvV/3/l5vY1F+WHSmXca4T7/mjXSxe50vv6sjKcuiTR0w=="),
            ("x-acme-id", EVENT_ID),
            ("webhook-timestamp", "1649367553"),
        ])
    );
}

#[test]
fn sign_all_applies_every_scheme_to_the_same_bytes() {
    let schemes = [
        Scheme::from_config(&entry("calcom", &[SECRET])).expect("valid"),
        Scheme::from_config(&entry("github", &[SECRET])).expect("valid"),
    ];
    let upstream: Uri = "https://example.com/".parse().expect("valid url");
    let attempt = Attempt {
        event_id: EVENT_ID,
        attempt_id: EVENT_ID,
        timestamp: TIMESTAMP,
        accepted_at: TIMESTAMP,
        upstream: &upstream,
        content_type: None,
        body: BODY,
    };
    let names: Vec<_> = sign_all(&schemes, &attempt)
        .headers
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        [
            "x-cal-signature-256",
            "x-hub-signature-256",
            "x-github-delivery"
        ]
    );
}

#[test]
fn refuses_unknown_schemes_missing_secrets_and_foreign_options() {
    assert!(error_of(&entry("Stripe", &[SECRET])).contains("unknown scheme \"Stripe\""));
    assert!(error_of(&entry("stripe", &[])).contains("no secret"));

    let mut stripe = entry("stripe", &[SECRET]);
    stripe.header = Some("x-sig".to_owned());
    assert!(error_of(&stripe).contains("`header` is an option of scheme \"hmac\" only"));

    let mut hmac = entry("hmac", &[SECRET]);
    assert!(error_of(&hmac).contains("needs `header`"));
    hmac.header = Some("x-sig".to_owned());
    hmac.algorithm = Some("md5".to_owned());
    assert!(error_of(&hmac).contains("`algorithm` \"md5\""));
    hmac.algorithm = None;
    hmac.id_header = Some("x-id".to_owned());
    assert!(error_of(&hmac).contains("need `signed = \"id.timestamp.body\"`"));
}

#[test]
fn bad_standard_webhooks_keys_name_their_position_not_their_value() {
    let err = error_of(&entry("svix", &[SW_SECRET, "whsec_dG9vLXNob3J0"]));
    assert!(
        err.starts_with("secret 2: the HMAC key is 9 bytes"),
        "{err}"
    );
    assert!(!err.contains("dG9vLXNob3J0"), "{err}");
}

#[test]
fn debug_never_prints_keys() {
    let scheme = Scheme::from_config(&entry("standard-webhooks", &[SW_SECRET])).expect("valid");
    let printed = format!("{scheme:?}");
    assert!(printed.contains("standard-webhooks"));
    assert!(!printed.contains("C2FVsBQI"), "{printed}");
}
