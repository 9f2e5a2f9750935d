//! The receiver's side: checks a captured request the way each scheme's receivers do, and says
//! which signature matched or exactly why none did.

use http::HeaderMap;

use super::mac::{self, Encoding};
use super::{calcom, generic, github, shopify, slack, standard_webhooks, stripe, svix, twilio};
use crate::config::SignConfig;
use crate::secret::Secret;

/// Largest distance, either way, between a signed timestamp and now: 5 minutes, as in the
/// Standard Webhooks, Stripe and Slack libraries.
pub const TOLERANCE_SECS: i64 = 300;

/// A request that passed: which signature matched, under which secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signature that matched, such as `v1 entry 2` or `v1a entry 1`; entries are
    /// numbered by their position in the header.
    pub matched: String,
    /// The 1-based position of the secret that matched, among those given.
    pub secret: usize,
}

/// Why a request did not pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyFailure {
    /// The scheme name is not one hookseal knows.
    #[error("unknown scheme {0:?}")]
    UnknownScheme(String),
    /// The scheme needs its config options to be checked (`hmac`).
    #[error("scheme {0:?} cannot be verified from its name alone: give its options")]
    NeedsOptions(String),
    /// The `hmac` options given cannot be used.
    #[error("hmac options: {0}")]
    Options(String),
    /// No secret was given.
    #[error("no secret given")]
    NoSecret,
    /// A secret cannot be used with the scheme.
    #[error("secret {index} cannot be used: {reason}")]
    BadSecret {
        /// The 1-based position of the secret.
        index: usize,
        /// What is wrong with it (never its value).
        reason: String,
    },
    /// A header the scheme needs is absent.
    #[error("header {0} is missing")]
    MissingHeader(String),
    /// A header is present but cannot be read.
    #[error("header {header} is malformed: {reason}")]
    MalformedHeader {
        /// The header's name.
        header: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The signed timestamp is older than the tolerance.
    #[error("timestamp is {age_secs} s old; at most {TOLERANCE_SECS} s is accepted")]
    TimestampTooOld {
        /// How old it is.
        age_secs: i64,
    },
    /// The signed timestamp is further ahead than the tolerance.
    #[error("timestamp is {ahead_secs} s in the future; at most {TOLERANCE_SECS} s is accepted")]
    TimestampInFuture {
        /// How far ahead it is.
        ahead_secs: i64,
    },
    /// Signatures were found, but none matches the body and secret.
    #[error("no signature matches the body and secret ({checked})")]
    NoMatch {
        /// What was compared, such as `2 v1 entries checked`.
        checked: String,
    },
    /// Twilio: the body's SHA-256 is not the URL's `bodySHA256` parameter.
    #[error("the body does not match the url's bodySHA256 parameter")]
    BodyHashMismatch,
    /// The URL is needed (Twilio) but missing or unusable.
    #[error("url: {0}")]
    Url(String),
}

/// A captured request, as the per-scheme checks see it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Its headers.
    pub headers: &'a HeaderMap,
    /// Its exact body.
    pub body: &'a [u8],
    /// The full URL it was sent to, where the scheme signs it.
    pub url: Option<&'a str>,
    /// Unix seconds to judge signed timestamps against.
    pub now_unix: i64,
}

/// Checks a request signed with `scheme` against `secrets`, accepting any that matches (as a
/// receiver does while rotating).
///
/// # Errors
/// The first secret's reason for refusing, when no secret matches.
pub fn verify(
    scheme: &str,
    secrets: &[Secret],
    headers: &HeaderMap,
    body: &[u8],
    url: Option<&str>,
    now_unix: i64,
) -> Result<Verified, VerifyFailure> {
    let check = checker(scheme)?;
    let request = Request {
        headers,
        body,
        url,
        now_unix,
    };
    first_match(secrets, &request, check)
}

/// Checks a request signed by an `hmac` entry whose options are those of `options` (its own
/// secrets are not used) against `secrets`, accepting any that matches.
///
/// # Errors
/// The options cannot be used, or the first secret's reason for refusing when none matches.
pub fn verify_hmac(
    options: &SignConfig,
    secrets: &[Secret],
    headers: &HeaderMap,
    body: &[u8],
    now_unix: i64,
) -> Result<Verified, VerifyFailure> {
    let request = Request {
        headers,
        body,
        url: None,
        now_unix,
    };
    first_match(secrets, &request, |secret, request| {
        generic::Sign::new(options, secret.clone())
            .map_err(|err| VerifyFailure::Options(err.0))?
            .check(request)
    })
}

/// The first of `secrets` under which `check` passes; otherwise the first reason it failed.
fn first_match(
    secrets: &[Secret],
    request: &Request<'_>,
    check: impl Fn(&Secret, &Request<'_>) -> Result<String, VerifyFailure>,
) -> Result<Verified, VerifyFailure> {
    let mut first_failure = None;
    for (index, secret) in secrets.iter().enumerate() {
        match check(secret, request) {
            Ok(matched) => {
                return Ok(Verified {
                    matched,
                    secret: index + 1,
                })
            }
            Err(VerifyFailure::BadSecret { reason, .. }) => {
                return Err(VerifyFailure::BadSecret {
                    index: index + 1,
                    reason,
                })
            }
            Err(failure) => first_failure = first_failure.or(Some(failure)),
        }
    }
    Err(first_failure.unwrap_or(VerifyFailure::NoSecret))
}

type Check = fn(&Secret, &Request<'_>) -> Result<String, VerifyFailure>;

fn checker(scheme: &str) -> Result<Check, VerifyFailure> {
    Ok(match scheme {
        "standard-webhooks" => {
            |secret, request| standard_webhooks::check(standard_webhooks::HEADERS, secret, request)
        }
        "svix" => svix::check,
        "stripe" => stripe::check,
        "github" => github::check,
        "slack" => slack::check,
        "shopify" => shopify::check,
        "twilio" => twilio::check,
        "calcom" => calcom::check,
        "hmac" => return Err(VerifyFailure::NeedsOptions(scheme.to_owned())),
        _ => return Err(VerifyFailure::UnknownScheme(scheme.to_owned())),
    })
}

/// The text of header `name`.
///
/// # Errors
/// The header is absent or not visible ASCII.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, VerifyFailure> {
    let value = headers
        .get(name)
        .ok_or_else(|| VerifyFailure::MissingHeader(name.to_owned()))?;
    value.to_str().map_err(|_| VerifyFailure::MalformedHeader {
        header: name.to_owned(),
        reason: "not visible ASCII".to_owned(),
    })
}

/// The one MAC that header `name` carries: `prefix`, then the MAC written in `encoding`.
///
/// # Errors
/// The header is missing, lacks the prefix, or is not text of the encoding.
pub fn prefixed_mac(
    headers: &HeaderMap,
    name: &str,
    prefix: &str,
    encoding: Encoding,
) -> Result<Vec<u8>, VerifyFailure> {
    let malformed = |reason: String| VerifyFailure::MalformedHeader {
        header: name.to_owned(),
        reason,
    };
    let value = header(headers, name)?;
    let Some(encoded) = value.strip_prefix(prefix) else {
        return Err(malformed(format!("does not start with {prefix:?}")));
    };
    mac::decode(encoding, encoded.trim()).ok_or_else(|| malformed(format!("not {encoding} text")))
}

/// Compares the one MAC of header `name` with the one expected, in constant time.
///
/// # Errors
/// The two differ.
pub fn one_mac(name: &str, expected: &[u8], given: &[u8]) -> Result<String, VerifyFailure> {
    if mac::same(expected, given) {
        return Ok(format!("{name} signature"));
    }
    Err(VerifyFailure::NoMatch {
        checked: format!("1 {name} signature checked"),
    })
}

/// Reads a signed Unix-seconds timestamp and checks it is within [`TOLERANCE_SECS`] of now.
///
/// # Errors
/// Not an integer, too old, or too far in the future.
pub fn timestamp_within_tolerance(
    name: &str,
    text: &str,
    now_unix: i64,
) -> Result<i64, VerifyFailure> {
    let timestamp: i64 = text
        .trim()
        .parse()
        .map_err(|_| VerifyFailure::MalformedHeader {
            header: name.to_owned(),
            reason: "the timestamp is not integer Unix seconds".to_owned(),
        })?;
    let age_secs = now_unix.saturating_sub(timestamp);
    if age_secs > TOLERANCE_SECS {
        return Err(VerifyFailure::TimestampTooOld { age_secs });
    }
    if -age_secs > TOLERANCE_SECS {
        return Err(VerifyFailure::TimestampInFuture {
            ahead_secs: -age_secs,
        });
    }
    Ok(timestamp)
}
