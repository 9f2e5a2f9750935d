//! `${VAR}` in config values: expansion from the environment, and the deserializers that
//! apply it to typed values.

use std::path::PathBuf;

use serde::de::{Deserializer, Error as _};
use serde::Deserialize;

/// Replaces each `${VAR}` in `raw` with the environment variable's value. `$$` stands for a
/// literal `$`.
///
/// # Errors
/// A variable is unset or a `${` is not closed.
pub fn expand_env(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                return Err("unclosed `${` in value".to_owned());
            };
            let name = &inner[..end];
            if name.is_empty() {
                return Err("`${}` names no environment variable".to_owned());
            }
            let value = std::env::var(name)
                .map_err(|_| format!("environment variable {name} is not set"))?;
            out.push_str(&value);
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

pub(super) fn expanded_parse<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let raw = String::deserialize(deserializer)?;
    let value = expand_env(&raw).map_err(D::Error::custom)?;
    value
        .parse()
        // The value is not quoted: an upstream URL may carry credentials.
        .map_err(|err| D::Error::custom(format!("not a valid value: {err}")))
}

pub(super) fn expanded_path<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<PathBuf, D::Error> {
    let raw = String::deserialize(deserializer)?;
    expand_env(&raw)
        .map(PathBuf::from)
        .map_err(D::Error::custom)
}

pub(super) fn expanded_opt_path<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<PathBuf>, D::Error> {
    expanded_path(deserializer).map(Some)
}
