//! Standard Webhooks: `webhook-id`, `webhook-timestamp` and a space-separated
//! `webhook-signature` list of `v1,` (HMAC-SHA256) and `v1a,` (Ed25519) entries over
//! `{id}.{timestamp}.{body}`, one entry per key so receivers can rotate.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::Signer as _;

use super::verify::{header, timestamp_within_tolerance, Request, VerifyFailure};
use super::webhook_key::{self, SigningKeyMaterial, VerifyingKeyMaterial};
use super::{mac, push_header, Attempt, SchemeError, Signature, Signer};
use crate::secret::Secret;

/// The three header names a Standard Webhooks request carries.
#[derive(Debug, Clone, Copy)]
pub struct HeaderNames {
    /// The event id.
    pub id: &'static str,
    /// The attempt's Unix seconds.
    pub timestamp: &'static str,
    /// The list of signatures.
    pub signature: &'static str,
}

/// The spec's own names.
pub const HEADERS: HeaderNames = HeaderNames {
    id: "webhook-id",
    timestamp: "webhook-timestamp",
    signature: "webhook-signature",
};

/// Signs with every key of the entry, under some set of header names.
#[derive(Debug)]
pub struct Sign {
    names: HeaderNames,
    keys: Vec<SigningKeyMaterial>,
}

impl Sign {
    /// Parses every key under the spec's header names.
    ///
    /// # Errors
    /// A key is malformed; the message names its position, never its value.
    pub fn new(secrets: &[Secret]) -> Result<Self, SchemeError> {
        Self::with_names(HEADERS, secrets)
    }

    /// Parses every key, to send under `names`.
    ///
    /// # Errors
    /// As for [`Sign::new`].
    pub fn with_names(names: HeaderNames, secrets: &[Secret]) -> Result<Self, SchemeError> {
        let keys = secrets
            .iter()
            .enumerate()
            .map(|(index, secret)| {
                webhook_key::signing_key(secret)
                    .map_err(|err| SchemeError(format!("secret {}: {err}", index + 1)))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { names, keys })
    }
}

impl Signer for Sign {
    fn sign(&self, attempt: &Attempt<'_>, out: &mut Signature) {
        let timestamp = attempt.timestamp.to_string();
        let content = signed_content(attempt.event_id, &timestamp, attempt.body);
        let entries: Vec<String> = self.keys.iter().map(|key| entry(key, &content)).collect();

        push_header(out, self.names.id, attempt.event_id);
        push_header(out, self.names.timestamp, &timestamp);
        push_header(out, self.names.signature, &entries.join(" "));
    }
}

/// Checks a request against one key, under `names`.
///
/// # Errors
/// A header is missing or malformed, the timestamp is outside the tolerance, or no entry of
/// the key's version matches.
pub fn check(
    names: HeaderNames,
    secret: &Secret,
    request: &Request<'_>,
) -> Result<String, VerifyFailure> {
    let key = webhook_key::verifying_key(secret)
        .map_err(|reason| VerifyFailure::BadSecret { index: 0, reason })?;
    let id = header(request.headers, names.id)?;
    let timestamp = header(request.headers, names.timestamp)?;
    let list = header(request.headers, names.signature)?;
    timestamp_within_tolerance(names.timestamp, timestamp, request.now_unix)?;

    let content = signed_content(id, timestamp, request.body);
    let version = match key {
        VerifyingKeyMaterial::Hmac(_) => "v1",
        VerifyingKeyMaterial::Ed25519(_) => "v1a",
    };
    let mut checked = 0;
    for (position, item) in list.split(' ').filter(|item| !item.is_empty()).enumerate() {
        let Some((entry_version, signature)) = item.split_once(',') else {
            return Err(malformed(names, "an entry is not `version,signature`"));
        };
        if entry_version != version {
            continue;
        }
        let signature = STANDARD
            .decode(signature)
            .map_err(|_| malformed(names, "a signature is not base64"))?;
        checked += 1;
        if entry_matches(&key, &content, &signature) {
            return Ok(format!("{version} entry {}", position + 1));
        }
    }
    Err(VerifyFailure::NoMatch {
        checked: format!("{checked} {version} entries checked"),
    })
}

/// `{id}.{timestamp}.{body}`, the bytes both versions sign.
fn signed_content(id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    [id.as_bytes(), b".", timestamp.as_bytes(), b".", body].concat()
}

fn entry(key: &SigningKeyMaterial, content: &[u8]) -> String {
    match key {
        SigningKeyMaterial::Hmac(key) => {
            format!("v1,{}", STANDARD.encode(mac::hmac_sha256(key, &[content])))
        }
        SigningKeyMaterial::Ed25519(key) => {
            format!("v1a,{}", STANDARD.encode(key.sign(content).to_bytes()))
        }
    }
}

fn entry_matches(key: &VerifyingKeyMaterial, content: &[u8], signature: &[u8]) -> bool {
    match key {
        VerifyingKeyMaterial::Hmac(key) => mac::same(&mac::hmac_sha256(key, &[content]), signature),
        VerifyingKeyMaterial::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
            .is_ok_and(|signature| key.verify_strict(content, &signature).is_ok()),
    }
}

fn malformed(names: HeaderNames, reason: &str) -> VerifyFailure {
    VerifyFailure::MalformedHeader {
        header: names.signature.to_owned(),
        reason: reason.to_owned(),
    }
}
