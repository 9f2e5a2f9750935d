//! The secret newtype: key material that never reaches a log line or a `Debug` print.
//!
//! Every signing key, sender secret and admin token in hookseal is a [`Secret`]. It prints as a
//! mask, compares in constant time and wipes its bytes when dropped.

use std::fmt;

use serde::de::{Deserialize, Deserializer, Error as _};
use zeroize::Zeroizing;

use crate::config::expand_env;

/// Key material read from the config, the environment or a file.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret's text. Callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The secret's bytes. Callers must not log them.
    pub fn expose_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Reads a secret from a file, as container orchestrators mount them. One trailing
    /// newline (or CRLF) is dropped, since editors and `echo` add it.
    ///
    /// # Errors
    /// The file cannot be read, or it is empty.
    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read secret file {}: {err}", path.display()))?;
        let trimmed = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text);
        if trimmed.is_empty() {
            return Err(format!("secret file {} is empty", path.display()));
        }
        Ok(Self::new(trimmed))
    }

    /// Compares with `other` in time that depends only on the lengths.
    pub fn matches(&self, other: &str) -> bool {
        constant_time_eq(self.expose_bytes(), other.as_bytes())
    }
}

/// Compares two byte strings without an early exit on the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Zeroizing::new(String::deserialize(deserializer)?);
        let value = expand_env(&raw).map_err(D::Error::custom)?;
        if value.is_empty() {
            return Err(D::Error::custom("secret is empty"));
        }
        Ok(Self::new(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_the_value() {
        let secret = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{secret:?}"), "Secret(****)");
        assert!(!format!("{secret:#?}").contains("hunter2"));
    }

    #[test]
    fn matches_only_the_same_bytes() {
        let secret = Secret::new("abc");
        assert!(secret.matches("abc"));
        assert!(!secret.matches("abd"));
        assert!(!secret.matches("abcd"));
    }
}
