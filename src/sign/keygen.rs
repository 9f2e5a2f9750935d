//! Fresh keys for a scheme, from the operating system's random source.

use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

use super::webhook_key;
use crate::secret::Secret;

/// Random bytes in every generated key: 32, within the 24 to 64 the Standard Webhooks spec asks.
pub const KEY_BYTES: usize = 32;

/// A generated key: the secret, and the public key where the scheme has one.
#[derive(Debug)]
pub struct Generated {
    /// The secret for hookseal's config (`whsec_…`, `whsk_…`, or random text).
    pub secret: Secret,
    /// The `whpk_…` public key receivers verify with, for Ed25519.
    pub public_key: Option<String>,
}

/// Why no key was generated.
#[derive(Debug, thiserror::Error)]
pub enum KeygenError {
    /// The scheme is not one hookseal knows.
    #[error("unknown scheme {0:?}")]
    UnknownScheme(String),
    /// Ed25519 was asked for a scheme that has no asymmetric signatures.
    #[error("scheme {0:?} has no Ed25519 signatures; only standard-webhooks and svix do")]
    NoEd25519(String),
    /// The operating system gave no random bytes.
    #[error("no random bytes from the operating system: {0}")]
    Random(String),
}

/// Generates a key for `scheme`: `whsec_` + base64 (or `whsk_`/`whpk_` with `ed25519`) for
/// standard-webhooks and svix, a `whsec_`-prefixed hex secret for stripe, and hex for the rest.
///
/// # Errors
/// Unknown scheme, Ed25519 asked of a scheme without it, or no randomness available.
pub fn keygen(scheme: &str, ed25519: bool) -> Result<Generated, KeygenError> {
    if !super::SCHEME_NAMES.contains(&scheme) {
        return Err(KeygenError::UnknownScheme(scheme.to_owned()));
    }
    let asymmetric_capable = matches!(scheme, "standard-webhooks" | "svix");
    if ed25519 && !asymmetric_capable {
        return Err(KeygenError::NoEd25519(scheme.to_owned()));
    }

    let bytes = random_key()?;
    if ed25519 {
        let (secret, public) = webhook_key::write_ed25519(&SigningKey::from_bytes(&bytes));
        return Ok(Generated {
            secret,
            public_key: Some(public),
        });
    }
    let secret = match scheme {
        "standard-webhooks" | "svix" => webhook_key::write_hmac(bytes.as_slice()),
        // Stripe's secrets look like this and are used as text, never decoded.
        "stripe" => Secret::new(format!("whsec_{}", hex::encode(bytes.as_slice()))),
        _ => Secret::new(hex::encode(bytes.as_slice())),
    };
    Ok(Generated {
        secret,
        public_key: None,
    })
}

fn random_key() -> Result<Zeroizing<[u8; KEY_BYTES]>, KeygenError> {
    let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
    getrandom::getrandom(bytes.as_mut_slice())
        .map_err(|err| KeygenError::Random(err.to_string()))?;
    Ok(bytes)
}
