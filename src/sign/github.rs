//! GitHub: `X-Hub-Signature-256: sha256={hex HMAC-SHA256 of the body}` and an
//! `X-GitHub-Delivery` id, which is the event id so receivers can drop repeats.

use super::body_mac::{BodyMac, BodyMacSigner};
use super::mac::Encoding;
use super::verify::{Request, VerifyFailure};
use super::{push_header, Attempt, Signature};
use crate::secret::Secret;

/// The signature header.
pub const SIGNATURE: BodyMac = BodyMac {
    header: "x-hub-signature-256",
    prefix: "sha256=",
    encoding: Encoding::Hex,
};

/// Signs with the entry's first secret; its UTF-8 bytes are the key.
pub fn signer(secret: Secret) -> BodyMacSigner {
    BodyMacSigner::new(SIGNATURE, secret, delivery_id)
}

/// The event id as `X-GitHub-Delivery`, so receivers can drop repeats.
fn delivery_id(attempt: &Attempt<'_>, out: &mut Signature) {
    push_header(out, "x-github-delivery", attempt.event_id);
}

/// Checks a request against one secret.
///
/// # Errors
/// As for [`BodyMac::check`].
pub fn check(secret: &Secret, request: &Request<'_>) -> Result<String, VerifyFailure> {
    SIGNATURE.check(secret, request)
}
