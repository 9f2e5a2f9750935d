//! Standard Webhooks keys as people write them: `whsec_` (HMAC), `whsk_` (Ed25519 secret) and
//! `whpk_` (Ed25519 public), each followed by base64.
//!
//! A secret without a prefix is read as the reference libraries read it: base64 of the HMAC
//! key bytes (they strip an optional `whsec_` and decode the rest). Errors say what is wrong
//! with a key and never repeat it.

use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use ed25519_dalek::{SigningKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::secret::Secret;

/// Prefix of an HMAC secret.
pub const HMAC_PREFIX: &str = "whsec_";
/// Prefix of an Ed25519 secret key.
pub const SECRET_KEY_PREFIX: &str = "whsk_";
/// Prefix of an Ed25519 public key.
pub const PUBLIC_KEY_PREFIX: &str = "whpk_";
/// Fewest HMAC key bytes accepted: the spec asks for 24 to 64 random bytes.
pub const MIN_HMAC_KEY_BYTES: usize = 24;

/// Base64 with the standard alphabet, padded or not (the Python library accepts both).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A key that signs: an HMAC key (`v1`) or an Ed25519 secret key (`v1a`).
pub enum SigningKeyMaterial {
    /// `v1`: the decoded HMAC key bytes.
    Hmac(Zeroizing<Vec<u8>>),
    /// `v1a`: the Ed25519 secret key (wiped on drop by ed25519-dalek).
    Ed25519(Box<SigningKey>),
}

/// A key that checks: an HMAC key (`v1`) or an Ed25519 public key (`v1a`).
pub enum VerifyingKeyMaterial {
    /// `v1`: the decoded HMAC key bytes.
    Hmac(Zeroizing<Vec<u8>>),
    /// `v1a`: the Ed25519 public key.
    Ed25519(VerifyingKey),
}

/// Parses a signing key: `whsec_…`, `whsk_…` or unprefixed base64 HMAC key bytes.
///
/// # Errors
/// Not base64, too short, the wrong length for Ed25519, a `whpk_` public key, or a `whsk_`
/// whose public half does not belong to its private half.
pub fn signing_key(secret: &Secret) -> Result<SigningKeyMaterial, String> {
    let text = secret.expose();
    if text.starts_with(PUBLIC_KEY_PREFIX) {
        return Err("a `whpk_` public key cannot sign; give the `whsk_` secret key".to_owned());
    }
    match text.strip_prefix(SECRET_KEY_PREFIX) {
        Some(rest) => ed25519_secret(rest).map(|key| SigningKeyMaterial::Ed25519(Box::new(key))),
        None => hmac_key(text).map(SigningKeyMaterial::Hmac),
    }
}

/// Parses a verifying key: anything [`signing_key`] takes, or a `whpk_` public key.
///
/// # Errors
/// As for [`signing_key`], or a `whpk_` that is not a 32-byte Ed25519 public key.
pub fn verifying_key(secret: &Secret) -> Result<VerifyingKeyMaterial, String> {
    if let Some(rest) = secret.expose().strip_prefix(PUBLIC_KEY_PREFIX) {
        return ed25519_public(rest).map(VerifyingKeyMaterial::Ed25519);
    }
    Ok(match signing_key(secret)? {
        SigningKeyMaterial::Hmac(bytes) => VerifyingKeyMaterial::Hmac(bytes),
        SigningKeyMaterial::Ed25519(key) => VerifyingKeyMaterial::Ed25519(key.verifying_key()),
    })
}

/// Writes an Ed25519 key pair as Svix does: `whsk_` + base64(private ‖ public), and
/// `whpk_` + base64(public).
pub fn write_ed25519(key: &SigningKey) -> (Secret, String) {
    let mut both = Zeroizing::new([0u8; 64]);
    both[..32].copy_from_slice(key.as_bytes());
    both[32..].copy_from_slice(key.verifying_key().as_bytes());
    let secret = Secret::new(format!(
        "{SECRET_KEY_PREFIX}{}",
        BASE64.encode(both.as_slice())
    ));
    let public = format!(
        "{PUBLIC_KEY_PREFIX}{}",
        BASE64.encode(key.verifying_key().as_bytes())
    );
    (secret, public)
}

/// Writes HMAC key bytes as a `whsec_` secret.
pub fn write_hmac(key: &[u8]) -> Secret {
    Secret::new(format!("{HMAC_PREFIX}{}", BASE64.encode(key)))
}

impl std::fmt::Debug for SigningKeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key itself never prints, only its kind.
        match self {
            Self::Hmac(_) => f.write_str("SigningKeyMaterial::Hmac(****)"),
            Self::Ed25519(_) => f.write_str("SigningKeyMaterial::Ed25519(****)"),
        }
    }
}

impl std::fmt::Debug for VerifyingKeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hmac(_) => f.write_str("VerifyingKeyMaterial::Hmac(****)"),
            Self::Ed25519(key) => f
                .debug_tuple("VerifyingKeyMaterial::Ed25519")
                .field(key)
                .finish(),
        }
    }
}

fn hmac_key(text: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let rest = text.strip_prefix(HMAC_PREFIX).unwrap_or(text);
    let bytes = decode(rest, "the HMAC key (after the optional `whsec_`)")?;
    if bytes.len() < MIN_HMAC_KEY_BYTES {
        return Err(format!(
            "the HMAC key is {} bytes; at least {MIN_HMAC_KEY_BYTES} are needed",
            bytes.len()
        ));
    }
    Ok(bytes)
}

fn ed25519_secret(rest: &str) -> Result<SigningKey, String> {
    let bytes = decode(rest, "the `whsk_` key")?;
    let private: [u8; 32] = match bytes.len() {
        32 | 64 => bytes[..32].try_into().expect("length checked just above"),
        other => {
            return Err(format!(
                "the `whsk_` key is {other} bytes; 64 (private then public) or 32 are needed"
            ))
        }
    };
    let key = SigningKey::from_bytes(&private);
    if bytes.len() == 64 && key.verifying_key().as_bytes()[..] != bytes[32..] {
        return Err("the public half of the `whsk_` key does not match its private half".into());
    }
    Ok(key)
}

fn ed25519_public(rest: &str) -> Result<VerifyingKey, String> {
    let bytes = decode(rest, "the `whpk_` key")?;
    let Ok(array) = <[u8; 32]>::try_from(bytes.as_slice()) else {
        return Err(format!(
            "the `whpk_` key is {} bytes; 32 are needed",
            bytes.len()
        ));
    };
    VerifyingKey::from_bytes(&array)
        .map_err(|_| "the `whpk_` key is not a valid Ed25519 public key".to_owned())
}

fn decode(text: &str, what: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    BASE64
        .decode(text)
        .map(Zeroizing::new)
        .map_err(|_| format!("{what} is not base64"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC8032_WHSK: &str = "whsk_nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg==";
    const RFC8032_WHPK: &str = "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

    fn err_of(text: &str) -> String {
        match signing_key(&Secret::new(text)) {
            Ok(_) => panic!("key accepted"),
            Err(err) => err,
        }
    }

    #[test]
    fn whsec_prefixed_and_bare_base64_give_the_same_key() {
        let Ok(SigningKeyMaterial::Hmac(a)) =
            signing_key(&Secret::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"))
        else {
            panic!("whsec_ not read as HMAC")
        };
        let Ok(SigningKeyMaterial::Hmac(b)) =
            signing_key(&Secret::new("C2FVsBQIhrscChlQIMV+b5sSYspob7oD"))
        else {
            panic!("bare base64 not read as HMAC")
        };
        assert_eq!(*a, *b);
        assert_eq!(a.len(), 24);
    }

    #[test]
    fn whsk_pair_and_bare_private_key_give_the_same_public_key() {
        let (pair, _) = write_ed25519(&SigningKey::from_bytes(&[7u8; 32]));
        let bare = Secret::new(format!("whsk_{}", BASE64.encode([7u8; 32])));
        for secret in [pair, bare] {
            let Ok(VerifyingKeyMaterial::Ed25519(public)) = verifying_key(&secret) else {
                panic!("whsk_ not read as Ed25519")
            };
            assert_eq!(public, SigningKey::from_bytes(&[7u8; 32]).verifying_key());
        }
    }

    #[test]
    fn rfc8032_key_pair_reads_and_writes_back() {
        let Ok(SigningKeyMaterial::Ed25519(key)) = signing_key(&Secret::new(RFC8032_WHSK)) else {
            panic!("RFC 8032 key refused")
        };
        let (secret, public) = write_ed25519(&key);
        assert_eq!(secret.expose(), RFC8032_WHSK);
        assert_eq!(public, RFC8032_WHPK);
    }

    #[test]
    fn bad_keys_are_refused_without_repeating_them() {
        let mismatched = {
            let mut both = [7u8; 64];
            both[32..].copy_from_slice(&[9u8; 32]);
            format!("whsk_{}", BASE64.encode(both))
        };
        let cases = [
            ("whsec_c2hvcnQ=", "at least 24"),
            ("whsec_not base64!!", "not base64"),
            ("whsk_AAAA", "64 (private then public) or 32"),
            (mismatched.as_str(), "does not match"),
            (RFC8032_WHPK, "cannot sign"),
        ];
        for (key, expected) in cases {
            let err = err_of(key);
            assert!(err.contains(expected), "{key}: {err}");
            assert!(!err.contains(&key[5..]), "error repeats the key: {err}");
        }
    }

    #[test]
    fn whpk_verifies_but_is_checked() {
        assert!(matches!(
            verifying_key(&Secret::new(RFC8032_WHPK)),
            Ok(VerifyingKeyMaterial::Ed25519(_))
        ));
        assert!(verifying_key(&Secret::new("whpk_AAAA")).is_err());
    }
}
