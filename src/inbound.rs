//! Who may send: cal.com's own signature, or an unsigned request from a trusted network.

use std::net::IpAddr;

use hmac::{Hmac, Mac};
use ipnet::IpNet;
use sha2::Sha256;

use crate::secret::Secret;

/// The header cal.com signs its webhooks with.
pub const SIGNATURE_HEADER: &str = "x-cal-signature-256";

/// What cal.com sends in [`SIGNATURE_HEADER`] when the webhook has no secret.
pub const NO_SECRET: &str = "no-secret-provided";

/// A route's sender check, built from `[routes.inbound]`.
#[derive(Debug, Clone)]
pub struct Inbound {
    secrets: Vec<Secret>,
    allow_unsigned_from: Vec<IpNet>,
}

/// How a request proved who sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// Its signature matched the secret at this index (0 is the first configured).
    Signed(usize),
    /// It came unsigned from a trusted network.
    TrustedNetwork,
}

/// Why a request was refused; each maps to 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A signature was sent but matches none of the route's secrets.
    #[error("signature does not match any cal.com secret")]
    BadSignature,
    /// A signature was sent but is not 64 hex digits.
    #[error("signature is not hex HMAC-SHA256")]
    MalformedSignature,
    /// No signature, from a network not in `allow_unsigned_from`.
    #[error("unsigned request from a source not in allow_unsigned_from")]
    UnsignedFromUntrusted,
}

impl Inbound {
    /// A check accepting any of `secrets` and unsigned requests from `allow_unsigned_from`.
    pub fn new(secrets: Vec<Secret>, allow_unsigned_from: Vec<IpNet>) -> Self {
        Self {
            secrets,
            allow_unsigned_from,
        }
    }

    /// Checks a request's signature header (if any) against its raw body and source address.
    ///
    /// # Errors
    /// A wrong or malformed signature, or an unsigned request from an untrusted source.
    pub fn authenticate(
        &self,
        signature: Option<&[u8]>,
        peer: IpAddr,
        body: &[u8],
    ) -> Result<Sender, Refusal> {
        let signature = signature
            .map(<[u8]>::trim_ascii)
            .filter(|sig| *sig != NO_SECRET.as_bytes());
        let Some(signature) = signature else {
            return self.unsigned(peer);
        };
        let mut digest = [0u8; 32];
        hex::decode_to_slice(signature, &mut digest).map_err(|_| Refusal::MalformedSignature)?;
        self.secrets
            .iter()
            .position(|secret| hmac_matches(secret, body, &digest))
            .map(Sender::Signed)
            .ok_or(Refusal::BadSignature)
    }

    fn unsigned(&self, peer: IpAddr) -> Result<Sender, Refusal> {
        let peer = peer.to_canonical();
        if self
            .allow_unsigned_from
            .iter()
            .any(|net| net.contains(&peer))
        {
            Ok(Sender::TrustedNetwork)
        } else {
            Err(Refusal::UnsignedFromUntrusted)
        }
    }
}

/// cal.com's signature: hex HMAC-SHA256 of the raw body keyed with the secret's UTF-8 bytes.
pub fn calcom_signature(secret: &Secret, body: &[u8]) -> String {
    crate::sign::calcom::SIGNATURE.value(secret, body)
}

fn hmac_matches(secret: &Secret, body: &[u8], digest: &[u8]) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(digest).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = include_bytes!("../tests/fixtures/calcom/wire/01-booking-created.body");
    const FIXTURE_SIGNATURE: &str =
        "4a34def1c20978d6fc70fed1e114fb118f4fadc249bfa28f3de3f8e36dfc76d2";

    fn localhost() -> IpAddr {
        IpAddr::from([127, 0, 0, 1])
    }

    #[test]
    fn fixture_signature_is_reproduced() {
        let secret = Secret::new("test-secret-not-real");
        assert_eq!(calcom_signature(&secret, BODY), FIXTURE_SIGNATURE);
    }

    #[test]
    fn any_rotated_secret_passes() {
        let check = Inbound::new(
            vec![
                Secret::new("new-secret"),
                Secret::new("test-secret-not-real"),
            ],
            vec![],
        );
        let sender = check.authenticate(Some(FIXTURE_SIGNATURE.as_bytes()), localhost(), BODY);
        assert_eq!(sender, Ok(Sender::Signed(1)));
    }

    #[test]
    fn wrong_and_malformed_signatures_are_refused() {
        let check = Inbound::new(
            vec![Secret::new("other")],
            vec!["0.0.0.0/0".parse().unwrap()],
        );
        let wrong = check.authenticate(Some(FIXTURE_SIGNATURE.as_bytes()), localhost(), BODY);
        assert_eq!(wrong, Err(Refusal::BadSignature));
        let malformed = check.authenticate(Some(b"sha256=zz"), localhost(), BODY);
        assert_eq!(malformed, Err(Refusal::MalformedSignature));
    }

    #[test]
    fn unsigned_passes_only_from_allowed_networks() {
        let check = Inbound::new(vec![], vec!["10.0.0.0/8".parse().unwrap()]);
        let inside = IpAddr::from([10, 1, 2, 3]);
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(
            check.authenticate(None, inside, BODY),
            Ok(Sender::TrustedNetwork)
        );
        assert_eq!(
            check.authenticate(Some(b"no-secret-provided"), mapped, BODY),
            Ok(Sender::TrustedNetwork)
        );
        assert_eq!(
            check.authenticate(None, localhost(), BODY),
            Err(Refusal::UnsignedFromUntrusted)
        );
    }
}
