//! Signing: each `[[routes.sign]]` entry adds one scheme's headers to a delivery attempt.
//!
//! A [`Scheme`] is built once from its config entry (keys parsed and checked then, so a bad key
//! is a config error, never a failure at the first request) and then signs each attempt's exact
//! outgoing bytes. Each scheme lives in its own file behind the small [`Signer`] trait; the same
//! files hold the receiver's side of the recipe, which [`verify`] uses.

use http::{HeaderName, HeaderValue, Uri};

use crate::config::SignConfig;
use crate::secret::Secret;

pub mod body_mac;
pub mod calcom;
pub mod generic;
pub mod github;
pub mod keygen;
pub mod mac;
pub mod preview;
pub mod request_file;
pub mod shopify;
pub mod slack;
pub mod standard_webhooks;
pub mod stripe;
pub mod svix;
pub mod twilio;
pub mod verify;
pub mod webhook_key;

pub use keygen::{keygen, Generated, KeygenError};
pub use verify::{verify, Verified, VerifyFailure};

/// What one delivery attempt sends, as the schemes see it.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The event id: the same on every attempt of the event.
    pub event_id: &'a str,
    /// A fresh id for this attempt alone.
    pub attempt_id: &'a str,
    /// Unix seconds of this attempt.
    pub timestamp: i64,
    /// Unix seconds when hookseal accepted the event.
    pub accepted_at: i64,
    /// The upstream URL the attempt goes to.
    pub upstream: &'a Uri,
    /// The body's content type, if any.
    pub content_type: Option<&'a str>,
    /// The exact bytes sent.
    pub body: &'a [u8],
}

/// The headers (and, for Twilio, the URL) that the schemes add to an attempt.
#[derive(Debug, Default)]
pub struct Signature {
    /// Headers to add, in order.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// A replacement upstream URL, when a scheme signs the URL itself.
    pub upstream: Option<Uri>,
}

/// A reason a `[[routes.sign]]` entry cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SchemeError(pub String);

/// One scheme's signing recipe with its parsed keys.
pub trait Signer: Send + Sync {
    /// Adds the scheme's headers for `attempt` to `out`.
    fn sign(&self, attempt: &Attempt<'_>, out: &mut Signature);
}

/// One configured signing scheme with its parsed keys.
pub struct Scheme {
    name: &'static str,
    signer: Box<dyn Signer>,
}

/// The scheme names a `[[routes.sign]]` entry may use, as written in the config.
pub const SCHEME_NAMES: [&str; 9] = [
    "standard-webhooks",
    "svix",
    "stripe",
    "github",
    "slack",
    "shopify",
    "twilio",
    "calcom",
    "hmac",
];

impl Scheme {
    /// Builds a scheme from its config entry.
    ///
    /// # Errors
    /// Unknown scheme, missing or malformed keys, or options the scheme does not take.
    pub fn from_config(config: &SignConfig) -> Result<Self, SchemeError> {
        let Some(name) = SCHEME_NAMES
            .iter()
            .copied()
            .find(|name| *name == config.scheme)
        else {
            return Err(SchemeError(format!(
                "unknown scheme {:?}; known: {}",
                config.scheme,
                SCHEME_NAMES.join(", ")
            )));
        };
        if name != "hmac" {
            refuse_options(config, name)?;
        }

        let secrets = secrets_of(config)?;
        let signer: Box<dyn Signer> = match name {
            "standard-webhooks" => Box::new(standard_webhooks::Sign::new(&secrets)?),
            "svix" => Box::new(svix::sign(&secrets)?),
            "stripe" => Box::new(stripe::Sign::new(secrets)),
            "github" => Box::new(github::signer(first(secrets))),
            "slack" => Box::new(slack::Sign::new(first(secrets))),
            "shopify" => Box::new(shopify::signer(first(secrets))),
            "twilio" => Box::new(twilio::Sign::new(first(secrets))),
            "calcom" => Box::new(calcom::signer(first(secrets))),
            _ => Box::new(generic::Sign::new(config, first(secrets))?),
        };
        Ok(Self { name, signer })
    }

    /// The scheme's config name.
    pub fn name(&self) -> &str {
        self.name
    }

    /// Adds this scheme's headers for `attempt` to `out`.
    pub fn sign(&self, attempt: &Attempt<'_>, out: &mut Signature) {
        self.signer.sign(attempt, out);
    }
}

impl std::fmt::Debug for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys stay out: only the name prints.
        f.debug_struct("Scheme")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Signs `attempt` with every scheme in order, all over the same bytes.
pub fn sign_all(schemes: &[Scheme], attempt: &Attempt<'_>) -> Signature {
    let mut out = Signature::default();
    for scheme in schemes {
        scheme.sign(attempt, &mut out);
    }
    out
}

/// Adds a header whose value hookseal made (a signature, a timestamp, an id).
///
/// Values that are not valid header text are dropped with a warning rather than sent broken;
/// only an id handed in by a caller could be one.
pub(crate) fn push_header(out: &mut Signature, name: &'static str, value: &str) {
    match HeaderValue::from_str(value) {
        Ok(value) => out.headers.push((HeaderName::from_static(name), value)),
        Err(_) => tracing::warn!(header = name, "value is not valid header text; not sent"),
    }
}

/// Refuses the `hmac`-only options on any other scheme.
fn refuse_options(config: &SignConfig, scheme: &str) -> Result<(), SchemeError> {
    let options = [
        ("header", config.header.is_some()),
        ("algorithm", config.algorithm.is_some()),
        ("encoding", config.encoding.is_some()),
        ("prefix", config.prefix.is_some()),
        ("signed", config.signed.is_some()),
        ("id_header", config.id_header.is_some()),
        ("timestamp_header", config.timestamp_header.is_some()),
    ];
    match options.iter().find(|(_, set)| *set) {
        Some((option, _)) => Err(SchemeError(format!(
            "`{option}` is an option of scheme \"hmac\" only; scheme {scheme:?} does not take it"
        ))),
        None => Ok(()),
    }
}

/// The entry's secrets, inline then from files; at least one.
fn secrets_of(config: &SignConfig) -> Result<Vec<Secret>, SchemeError> {
    let secrets = config.all_secrets().map_err(SchemeError)?;
    if secrets.is_empty() {
        return Err(SchemeError(
            "no secret: set `secrets` or `secret_files`".to_owned(),
        ));
    }
    Ok(secrets)
}

/// The signing secret of a scheme that sends one signature: the first.
fn first(secrets: Vec<Secret>) -> Secret {
    secrets
        .into_iter()
        .next()
        .expect("secrets_of returns at least one secret")
}

#[cfg(test)]
mod tests;

/// The header names a `[[routes.sign]]` entry sets, found by signing a sample attempt; empty
/// when the entry cannot be built (its own error is reported elsewhere).
pub fn header_names(config: &SignConfig, upstream: &Uri) -> Vec<String> {
    let Ok(scheme) = Scheme::from_config(config) else {
        return Vec::new();
    };
    let attempt = Attempt {
        event_id: "sample",
        attempt_id: "sample",
        timestamp: 0,
        accepted_at: 0,
        upstream,
        content_type: Some("application/json"),
        body: b"{}",
    };
    let mut signature = Signature::default();
    scheme.sign(&attempt, &mut signature);
    let mut names: Vec<String> = signature
        .headers
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    names.dedup();
    names
}
