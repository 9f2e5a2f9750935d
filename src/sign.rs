//! Signing: each `[[routes.sign]]` entry adds one scheme's headers to a delivery attempt.
//!
//! A [`Scheme`] is built once from its config entry (keys parsed and checked then, so a bad key
//! is a config error, never a failure at the first request) and then signs each attempt's exact
//! outgoing bytes.

use http::{HeaderName, HeaderValue, Uri};

use crate::config::SignConfig;

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

/// One configured signing scheme with its parsed keys.
#[derive(Debug)]
pub struct Scheme {
    name: String,
    secrets: Vec<crate::secret::Secret>,
}

impl Scheme {
    /// Builds a scheme from its config entry.
    ///
    /// # Errors
    /// Unknown scheme, missing or malformed keys, or options the scheme does not take.
    pub fn from_config(config: &SignConfig) -> Result<Self, SchemeError> {
        if config.scheme != "calcom" {
            return Err(SchemeError(format!("unknown scheme {:?}", config.scheme)));
        }
        let secrets = config.all_secrets().map_err(SchemeError)?;
        Ok(Self {
            name: config.scheme.clone(),
            secrets,
        })
    }

    /// The scheme's config name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds this scheme's headers for `attempt` to `out`.
    pub fn sign(&self, attempt: &Attempt<'_>, out: &mut Signature) {
        let Some(secret) = self.secrets.first() else {
            return;
        };
        let value = crate::inbound::calcom_signature(secret, attempt.body);
        let value = HeaderValue::from_str(&value).expect("hex is a valid header value");
        out.headers
            .push((HeaderName::from_static("x-cal-signature-256"), value));
    }
}

/// Applies every scheme to the same attempt.
pub fn sign_all(schemes: &[Scheme], attempt: &Attempt<'_>) -> Signature {
    let mut signature = Signature::default();
    for scheme in schemes {
        scheme.sign(attempt, &mut signature);
    }
    signature
}
