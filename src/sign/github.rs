//! GitHub: `X-Hub-Signature-256: sha256={hex HMAC-SHA256 of the body}` and an
//! `X-GitHub-Delivery` id, which is the event id so receivers can drop repeats.

use super::body_mac::BodyMac;
use super::mac::Encoding;
use super::verify::{Request, VerifyFailure};
use super::{push_header, Attempt, Signature, Signer};
use crate::secret::Secret;

/// The signature header.
pub const SIGNATURE: BodyMac = BodyMac {
    header: "x-hub-signature-256",
    prefix: "sha256=",
    encoding: Encoding::Hex,
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
        push_header(out, "x-github-delivery", attempt.event_id);
    }
}

/// Checks a request against one secret.
///
/// # Errors
/// As for [`BodyMac::check`].
pub fn check(secret: &Secret, request: &Request<'_>) -> Result<String, VerifyFailure> {
    SIGNATURE.check(secret, request)
}
