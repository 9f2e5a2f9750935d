//! cal.com's own scheme: `X-Cal-Signature-256: {hex HMAC-SHA256 of the body}`, for receivers
//! written against cal.com directly.

use super::body_mac::BodyMac;
use super::mac::Encoding;
use super::verify::{Request, VerifyFailure};
use super::{push_header, Attempt, Signature, Signer};
use crate::secret::Secret;

/// The signature header.
pub const SIGNATURE: BodyMac = BodyMac {
    header: "x-cal-signature-256",
    prefix: "",
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
    }
}

/// Checks a request against one secret.
///
/// # Errors
/// As for [`BodyMac::check`].
pub fn check(secret: &Secret, request: &Request<'_>) -> Result<String, VerifyFailure> {
    SIGNATURE.check(secret, request)
}
