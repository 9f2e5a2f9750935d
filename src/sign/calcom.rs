//! cal.com's own scheme: `X-Cal-Signature-256: {hex HMAC-SHA256 of the body}`, for receivers
//! written against cal.com directly.

use super::body_mac::{no_extra, BodyMac, BodyMacSigner};
use super::mac::Encoding;
use super::verify::{Request, VerifyFailure};
use crate::secret::Secret;

/// The signature header.
pub const SIGNATURE: BodyMac = BodyMac {
    header: "x-cal-signature-256",
    prefix: "",
    encoding: Encoding::Hex,
};

/// Signs with the entry's first secret; its UTF-8 bytes are the key.
pub fn signer(secret: Secret) -> BodyMacSigner {
    BodyMacSigner::new(SIGNATURE, secret, no_extra)
}

/// Checks a request against one secret.
///
/// # Errors
/// As for [`BodyMac::check`].
pub fn check(secret: &Secret, request: &Request<'_>) -> Result<String, VerifyFailure> {
    SIGNATURE.check(secret, request)
}
