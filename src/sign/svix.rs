//! Svix: the Standard Webhooks scheme under the `svix-id`, `svix-timestamp` and
//! `svix-signature` names that Svix's libraries read first.

use super::standard_webhooks::{self, HeaderNames};
use super::verify::{Request, VerifyFailure};
use super::SchemeError;
use crate::secret::Secret;

/// Svix's names for the three headers.
pub const HEADERS: HeaderNames = HeaderNames {
    id: "svix-id",
    timestamp: "svix-timestamp",
    signature: "svix-signature",
};

/// A Standard Webhooks signer that writes Svix's header names.
///
/// # Errors
/// A key is malformed.
pub fn sign(secrets: &[Secret]) -> Result<standard_webhooks::Sign, SchemeError> {
    standard_webhooks::Sign::with_names(HEADERS, secrets)
}

/// Checks a Svix request against one key.
///
/// # Errors
/// As for [`standard_webhooks::check`].
pub fn check(secret: &Secret, request: &Request<'_>) -> Result<String, VerifyFailure> {
    standard_webhooks::check(HEADERS, secret, request)
}
