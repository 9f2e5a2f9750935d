//! What a route would send for a body: the signing half of a delivery, run without sending,
//! for `hookseal sign`.

use http::Uri;

use super::{sign_all, Attempt, Scheme, SchemeError, Signature};
use crate::config::RouteConfig;

/// The content type cal.com sends: JSON when the body parses as JSON, otherwise a form (what
/// cal.com sends for a payload template that is not JSON).
pub fn content_type_of(body: &[u8]) -> &'static str {
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    }
}

/// One attempt to preview: the ids, the time and the body.
#[derive(Debug, Clone, Copy)]
pub struct Draft<'a> {
    /// The event id (also used as the attempt id).
    pub event_id: &'a str,
    /// Unix seconds of the attempt and of acceptance.
    pub now_unix: i64,
    /// The body's content type.
    pub content_type: &'a str,
    /// The exact body.
    pub body: &'a [u8],
}

/// Signs `draft` with every `[[routes.sign]]` entry of `route`.
///
/// # Errors
/// An entry cannot be built; the message names it.
pub fn preview(route: &RouteConfig, draft: &Draft<'_>) -> Result<(Uri, Signature), SchemeError> {
    let schemes = route
        .sign
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            Scheme::from_config(entry).map_err(|err| {
                SchemeError(format!(
                    "[[routes.sign]] entry {} (scheme {:?}): {err}",
                    index + 1,
                    entry.scheme
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let attempt = Attempt {
        event_id: draft.event_id,
        attempt_id: draft.event_id,
        timestamp: draft.now_unix,
        accepted_at: draft.now_unix,
        upstream: &route.upstream,
        content_type: Some(draft.content_type),
        body: draft.body,
    };
    let signature = sign_all(&schemes, &attempt);
    let upstream = signature
        .upstream
        .clone()
        .unwrap_or_else(|| route.upstream.clone());
    Ok((upstream, signature))
}
