//! The shape several schemes share: one header carrying an HMAC-SHA256 of the body alone,
//! maybe behind a prefix, checked the same way by their receivers.

use super::mac::{self, Encoding};
use super::verify::{one_mac, prefixed_mac, Request, VerifyFailure};
use super::{push_header, Attempt, Signature, Signer};
use crate::secret::Secret;

/// Headers a scheme sends beside its MAC, such as GitHub's delivery id.
pub type ExtraHeaders = fn(&Attempt<'_>, &mut Signature);

/// Signs with the entry's first secret: the MAC header, then the scheme's extra headers.
#[derive(Debug)]
pub struct BodyMacSigner {
    mac: BodyMac,
    secret: Secret,
    extra: ExtraHeaders,
}

impl BodyMacSigner {
    /// A signer for `mac` keyed with the secret's UTF-8 bytes.
    pub fn new(mac: BodyMac, secret: Secret, extra: ExtraHeaders) -> Self {
        Self { mac, secret, extra }
    }
}

impl Signer for BodyMacSigner {
    fn sign(&self, attempt: &Attempt<'_>, out: &mut Signature) {
        push_header(
            out,
            self.mac.header,
            &self.mac.value(&self.secret, attempt.body),
        );
        (self.extra)(attempt, out);
    }
}

/// For schemes that send nothing beside the MAC.
pub fn no_extra(_attempt: &Attempt<'_>, _out: &mut Signature) {}

/// A body-only HMAC-SHA256 header: its name, prefix and encoding.
#[derive(Debug, Clone, Copy)]
pub struct BodyMac {
    /// The header's name.
    pub header: &'static str,
    /// Text before the MAC, such as `sha256=`.
    pub prefix: &'static str,
    /// How the MAC is written.
    pub encoding: Encoding,
}

impl BodyMac {
    /// The header's value for `body` under `secret`.
    pub fn value(&self, secret: &Secret, body: &[u8]) -> String {
        let mac = mac::hmac_sha256(secret.expose_bytes(), &[body]);
        format!("{}{}", self.prefix, mac::encode(self.encoding, &mac))
    }

    /// Checks the header of `request` against `secret`.
    ///
    /// # Errors
    /// The header is missing, lacks the prefix or is not in the encoding, or does not match.
    pub fn check(&self, secret: &Secret, request: &Request<'_>) -> Result<String, VerifyFailure> {
        let given = prefixed_mac(request.headers, self.header, self.prefix, self.encoding)?;
        let expected = mac::hmac_sha256(secret.expose_bytes(), &[request.body]);
        one_mac(self.header, &expected, &given)
    }
}
