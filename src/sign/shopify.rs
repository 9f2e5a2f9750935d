//! Shopify: `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the body), with
//! `X-Shopify-Webhook-Id` (per attempt), `X-Shopify-Event-Id` (per event) and
//! `X-Shopify-Triggered-At` (when hookseal accepted the event, RFC 3339 UTC).

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::body_mac::BodyMac;
use super::mac::Encoding;
use super::verify::{Request, VerifyFailure};
use super::{push_header, Attempt, Signature, Signer};
use crate::secret::Secret;

/// The signature header.
pub const SIGNATURE: BodyMac = BodyMac {
    header: "x-shopify-hmac-sha256",
    prefix: "",
    encoding: Encoding::Base64,
};

/// Signs with the entry's first secret.
#[derive(Debug)]
pub struct Sign {
    secret: Secret,
}

impl Sign {
    /// Keeps the secret; its UTF-8 bytes are the key.
    pub fn new(secret: Secret) -> Self {
        Self { secret }
    }
}

impl Signer for Sign {
    fn sign(&self, attempt: &Attempt<'_>, out: &mut Signature) {
        push_header(
            out,
            SIGNATURE.header,
            &SIGNATURE.value(&self.secret, attempt.body),
        );
        push_header(out, "x-shopify-webhook-id", attempt.attempt_id);
        push_header(out, "x-shopify-event-id", attempt.event_id);
        if let Some(triggered_at) = rfc3339(attempt.accepted_at) {
            push_header(out, "x-shopify-triggered-at", &triggered_at);
        }
    }
}

/// Checks a request against one secret.
///
/// # Errors
/// As for [`BodyMac::check`].
pub fn check(secret: &Secret, request: &Request<'_>) -> Result<String, VerifyFailure> {
    SIGNATURE.check(secret, request)
}

/// Unix seconds as RFC 3339 UTC, such as `2026-03-02T09:14:07Z`.
fn rfc3339(unix_secs: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(unix_secs)
        .ok()?
        .format(&Rfc3339)
        .ok()
}
