//! Slack: `X-Slack-Signature: v0={hex HMAC-SHA256 of "v0:{timestamp}:{body}"}` and
//! `X-Slack-Request-Timestamp`.

use super::verify::{header, timestamp_within_tolerance, Request, VerifyFailure};
use super::{mac, push_header, Attempt, Signature, Signer};
use crate::secret::Secret;

/// The signature header.
pub const SIGNATURE: &str = "x-slack-signature";
/// The timestamp header.
pub const TIMESTAMP: &str = "x-slack-request-timestamp";

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
        let timestamp = attempt.timestamp.to_string();
        let value = format!("v0={}", signature(&self.secret, &timestamp, attempt.body));
        push_header(out, SIGNATURE, &value);
        push_header(out, TIMESTAMP, &timestamp);
    }
}

/// Checks a request against one secret.
///
/// # Errors
/// A header is missing or malformed, the timestamp is outside the tolerance, or the signature
/// does not match.
pub fn check(secret: &Secret, request: &Request<'_>) -> Result<String, VerifyFailure> {
    let timestamp = header(request.headers, TIMESTAMP)?;
    let value = header(request.headers, SIGNATURE)?;
    timestamp_within_tolerance(TIMESTAMP, timestamp, request.now_unix)?;
    let Some(given) = value.strip_prefix("v0=") else {
        return Err(VerifyFailure::MalformedHeader {
            header: SIGNATURE.to_owned(),
            reason: "does not start with \"v0=\"".to_owned(),
        });
    };

    let expected = signature(secret, timestamp, request.body);
    if mac::same(expected.as_bytes(), given.as_bytes()) {
        return Ok("v0 signature".to_owned());
    }
    Err(VerifyFailure::NoMatch {
        checked: "1 v0 signature checked".to_owned(),
    })
}

fn signature(secret: &Secret, timestamp: &str, body: &[u8]) -> String {
    let content: [&[u8]; 4] = [b"v0:", timestamp.as_bytes(), b":", body];
    hex::encode(mac::hmac_sha256(secret.expose_bytes(), &content))
}
