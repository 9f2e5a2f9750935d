//! The `hmac` scheme: a body HMAC for receivers no named scheme fits. The config sets the
//! header, the algorithm (sha256, sha512, sha1), the encoding (hex, base64), an optional
//! prefix, and what is signed: the body alone, or `{id}.{timestamp}.{body}` with the id and
//! timestamp sent in headers of their own.
//!
//! (The file is not called `hmac.rs` so that the `hmac` crate keeps its plain name.)

use http::{HeaderName, HeaderValue};

use super::mac::{self, Algorithm, Encoding};
use super::verify::{
    header, one_mac, prefixed_mac, timestamp_within_tolerance, Request, VerifyFailure,
};
use super::{Attempt, SchemeError, Signature, Signer};
use crate::config::SignConfig;
use crate::secret::Secret;

/// Default header carrying the event id when `signed = "id.timestamp.body"`.
pub const DEFAULT_ID_HEADER: &str = "webhook-id";
/// Default header carrying the timestamp when `signed = "id.timestamp.body"`.
pub const DEFAULT_TIMESTAMP_HEADER: &str = "webhook-timestamp";

/// A configured generic HMAC.
#[derive(Debug)]
pub struct Sign {
    secret: Secret,
    header: HeaderName,
    algorithm: Algorithm,
    encoding: Encoding,
    prefix: String,
    /// The id and timestamp headers, when they are signed along with the body.
    id_and_timestamp: Option<(HeaderName, HeaderName)>,
}

impl Sign {
    /// Reads the options of an `hmac` entry.
    ///
    /// # Errors
    /// `header` is missing, an option has a value the scheme does not know, or a header name
    /// or prefix is not valid header text.
    pub fn new(config: &SignConfig, secret: Secret) -> Result<Self, SchemeError> {
        let Some(header) = &config.header else {
            return Err(SchemeError("scheme \"hmac\" needs `header`".to_owned()));
        };
        let prefix = config.prefix.clone().unwrap_or_default();
        HeaderValue::from_str(&prefix)
            .map_err(|_| SchemeError("`prefix` is not valid header text".to_owned()))?;

        Ok(Self {
            secret,
            header: header_name("header", header)?,
            algorithm: algorithm(config.algorithm.as_deref())?,
            encoding: encoding(config.encoding.as_deref())?,
            prefix,
            id_and_timestamp: id_and_timestamp(config)?,
        })
    }

    /// Checks a captured request as its receiver would: the MAC recomputed under this entry's
    /// secret over what it signs, compared in constant time. With `id.timestamp.body`, the
    /// signed timestamp must also be within the tolerance.
    ///
    /// # Errors
    /// A header is missing or malformed, the timestamp is out of tolerance, or the MAC does
    /// not match.
    pub fn check(&self, request: &Request<'_>) -> Result<String, VerifyFailure> {
        let name = self.header.as_str();
        let given = prefixed_mac(request.headers, name, &self.prefix, self.encoding)?;
        let expected = match &self.id_and_timestamp {
            None => self.mac(None, request.body),
            Some((id_header, timestamp_header)) => {
                let id = header(request.headers, id_header.as_str())?;
                let timestamp = header(request.headers, timestamp_header.as_str())?;
                timestamp_within_tolerance(timestamp_header.as_str(), timestamp, request.now_unix)?;
                self.mac(Some((id, timestamp)), request.body)
            }
        };
        one_mac(name, &expected, &given)
    }

    /// The MAC over `body`, or over `{id}.{timestamp}.{body}` when those are signed too.
    fn mac(&self, id_and_timestamp: Option<(&str, &str)>, body: &[u8]) -> Vec<u8> {
        let key = self.secret.expose_bytes();
        match id_and_timestamp {
            None => mac::hmac(self.algorithm, key, &[body]),
            Some((id, timestamp)) => {
                let content: [&[u8]; 5] = [id.as_bytes(), b".", timestamp.as_bytes(), b".", body];
                mac::hmac(self.algorithm, key, &content)
            }
        }
    }
}

impl Signer for Sign {
    fn sign(&self, attempt: &Attempt<'_>, out: &mut Signature) {
        let timestamp = attempt.timestamp.to_string();
        let signed = self
            .id_and_timestamp
            .as_ref()
            .map(|_| (attempt.event_id, timestamp.as_str()));
        let mac = self.mac(signed, attempt.body);
        let value = format!("{}{}", self.prefix, mac::encode(self.encoding, &mac));
        push(out, &self.header, &value);

        if let Some((id_header, timestamp_header)) = &self.id_and_timestamp {
            push(out, id_header, attempt.event_id);
            push(out, timestamp_header, &timestamp);
        }
    }
}

fn push(out: &mut Signature, name: &HeaderName, value: &str) {
    match HeaderValue::from_str(value) {
        Ok(value) => out.headers.push((name.clone(), value)),
        Err(_) => tracing::warn!(header = %name, "value is not valid header text; not sent"),
    }
}

fn algorithm(value: Option<&str>) -> Result<Algorithm, SchemeError> {
    match value.unwrap_or("sha256") {
        "sha256" => Ok(Algorithm::Sha256),
        "sha512" => Ok(Algorithm::Sha512),
        "sha1" => Ok(Algorithm::Sha1),
        other => Err(SchemeError(format!(
            "`algorithm` {other:?} is not one of \"sha256\", \"sha512\", \"sha1\""
        ))),
    }
}

fn encoding(value: Option<&str>) -> Result<Encoding, SchemeError> {
    match value.unwrap_or("hex") {
        "hex" => Ok(Encoding::Hex),
        "base64" => Ok(Encoding::Base64),
        other => Err(SchemeError(format!(
            "`encoding` {other:?} is not \"hex\" or \"base64\""
        ))),
    }
}

fn id_and_timestamp(config: &SignConfig) -> Result<Option<(HeaderName, HeaderName)>, SchemeError> {
    match config.signed.as_deref().unwrap_or("body") {
        "body" => {
            if config.id_header.is_some() || config.timestamp_header.is_some() {
                return Err(SchemeError(
                    "`id_header` and `timestamp_header` need `signed = \"id.timestamp.body\"`"
                        .to_owned(),
                ));
            }
            Ok(None)
        }
        "id.timestamp.body" => {
            let id = config.id_header.as_deref().unwrap_or(DEFAULT_ID_HEADER);
            let timestamp = config
                .timestamp_header
                .as_deref()
                .unwrap_or(DEFAULT_TIMESTAMP_HEADER);
            Ok(Some((
                header_name("id_header", id)?,
                header_name("timestamp_header", timestamp)?,
            )))
        }
        other => Err(SchemeError(format!(
            "`signed` {other:?} is not \"body\" or \"id.timestamp.body\""
        ))),
    }
}

fn header_name(option: &str, value: &str) -> Result<HeaderName, SchemeError> {
    HeaderName::from_bytes(value.as_bytes())
        .map_err(|_| SchemeError(format!("`{option}` {value:?} is not a header name")))
}
