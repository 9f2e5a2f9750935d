//! Stripe: `Stripe-Signature: t={timestamp},v1={hex}[,v1={hex}…]`, HMAC-SHA256 over
//! `{timestamp}.{body}` keyed with the whole secret text (a `whsec_…` Stripe secret is used as
//! it is, not decoded), one `v1` per secret so receivers can roll their secret.

use super::verify::{header, timestamp_within_tolerance, Request, VerifyFailure};
use super::{mac, push_header, Attempt, Signature, Signer};
use crate::secret::Secret;

/// The header's name.
pub const HEADER: &str = "stripe-signature";

/// Signs with every secret of the entry.
#[derive(Debug)]
pub struct Sign {
    secrets: Vec<Secret>,
}

impl Sign {
    /// Keeps the secrets; any text is a valid Stripe key.
    pub fn new(secrets: Vec<Secret>) -> Self {
        Self { secrets }
    }
}

impl Signer for Sign {
    fn sign(&self, attempt: &Attempt<'_>, out: &mut Signature) {
        let timestamp = attempt.timestamp.to_string();
        let mut value = format!("t={timestamp}");
        for secret in &self.secrets {
            value.push_str(",v1=");
            value.push_str(&signature(secret, &timestamp, attempt.body));
        }
        push_header(out, HEADER, &value);
    }
}

/// Checks a request against one secret.
///
/// # Errors
/// The header is missing or has no `t` or `v1`, the timestamp is outside the tolerance, or no
/// `v1` matches.
pub fn check(secret: &Secret, request: &Request<'_>) -> Result<String, VerifyFailure> {
    let value = header(request.headers, HEADER)?;
    let items: Vec<(&str, &str)> = value
        .split(',')
        .filter_map(|item| item.trim().split_once('='))
        .collect();
    let Some((_, timestamp)) = items.iter().find(|(key, _)| *key == "t") else {
        return Err(malformed("no `t=` timestamp"));
    };
    let signatures: Vec<&str> = items
        .iter()
        .filter(|(key, _)| *key == "v1")
        .map(|(_, sig)| *sig)
        .collect();
    if signatures.is_empty() {
        return Err(malformed("no `v1=` signature"));
    }
    timestamp_within_tolerance(HEADER, timestamp, request.now_unix)?;

    let expected = signature(secret, timestamp.trim(), request.body);
    match signatures
        .iter()
        .position(|given| mac::same(expected.as_bytes(), given.as_bytes()))
    {
        Some(index) => Ok(format!("v1 entry {}", index + 1)),
        None => Err(VerifyFailure::NoMatch {
            checked: format!("{} v1 entries checked", signatures.len()),
        }),
    }
}

fn signature(secret: &Secret, timestamp: &str, body: &[u8]) -> String {
    let mac = mac::hmac_sha256(secret.expose_bytes(), &[timestamp.as_bytes(), b".", body]);
    hex::encode(mac)
}

fn malformed(reason: &str) -> VerifyFailure {
    VerifyFailure::MalformedHeader {
        header: HEADER.to_owned(),
        reason: reason.to_owned(),
    }
}
