//! Twilio: `X-Twilio-Signature`, base64 HMAC-SHA1 keyed with the auth token over the full URL
//! followed by the form parameters sorted by name, each written `{name}{value}`.
//!
//! A body that is not form-encoded has no parameters to sign; as Twilio does for JSON, its
//! SHA-256 goes into a `bodySHA256` query parameter added to the upstream URL, and the new URL
//! is what is signed and where the attempt is sent. For `https` URLs the port is left out of
//! the signed text: Twilio's older validators strip it, and the current ones try the URL both
//! with and without it.

use http::Uri;

use super::verify::{header, Request, VerifyFailure};
use super::{mac, push_header, Attempt, Signature, Signer};
use crate::secret::Secret;

/// The signature header.
pub const SIGNATURE: &str = "x-twilio-signature";
/// The query parameter that carries the SHA-256 of a body that is not a form.
pub const BODY_HASH_PARAM: &str = "bodySHA256";
/// The content type whose parameters are signed.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// Signs with the entry's first secret (the auth token).
#[derive(Debug)]
pub struct Sign {
    secret: Secret,
}

impl Sign {
    /// Keeps the token; its UTF-8 bytes are the key.
    pub fn new(secret: Secret) -> Self {
        Self { secret }
    }
}

impl Signer for Sign {
    fn sign(&self, attempt: &Attempt<'_>, out: &mut Signature) {
        if is_form(attempt.content_type) {
            let signed = signed_url(attempt.upstream);
            let value = signature(&self.secret, &signed, &form_pairs(attempt.body));
            push_header(out, SIGNATURE, &value);
            return;
        }

        let url = with_body_hash(&attempt.upstream.to_string(), attempt.body);
        let Ok(upstream) = url.parse::<Uri>() else {
            tracing::warn!("upstream url with bodySHA256 does not parse; not signed");
            return;
        };
        push_header(
            out,
            SIGNATURE,
            &signature(&self.secret, &signed_url(&upstream), &[]),
        );
        out.upstream = Some(upstream);
    }
}

/// Checks a request against one token. A form body (by its `content-type`) is checked with its
/// parameters; any other body against the URL's `bodySHA256`.
///
/// # Errors
/// The header or URL is missing or malformed, the body hash differs, or the signature does not
/// match the URL with or without its port.
pub fn check(secret: &Secret, request: &Request<'_>) -> Result<String, VerifyFailure> {
    let given = header(request.headers, SIGNATURE)?;
    let url = request
        .url
        .ok_or_else(|| VerifyFailure::Url("twilio signs the url; give it".into()))?;
    let uri: Uri = url
        .parse()
        .map_err(|_| VerifyFailure::Url("not a valid url".into()))?;
    let content_type = request.headers.get(http::header::CONTENT_TYPE);

    let pairs = if is_form(content_type.and_then(|value| value.to_str().ok())) {
        form_pairs(request.body)
    } else {
        check_body_hash(&uri, request.body)?;
        Vec::new()
    };
    let matches = url_variants(&uri).iter().any(|candidate| {
        mac::same(
            signature(secret, candidate, &pairs).as_bytes(),
            given.as_bytes(),
        )
    });
    if matches {
        return Ok("X-Twilio-Signature".to_owned());
    }
    Err(VerifyFailure::NoMatch {
        checked: "the url with and without its port".to_owned(),
    })
}

/// Whether a content type is form-encoded, ignoring parameters such as `charset`.
pub fn is_form(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case(FORM))
}

/// `url` with `bodySHA256={hex sha256(body)}` appended to its query.
pub fn with_body_hash(url: &str, body: &[u8]) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{separator}{BODY_HASH_PARAM}={}",
        mac::sha256_hex(body)
    )
}

fn signature(secret: &Secret, url: &str, pairs: &[(String, String)]) -> String {
    let mut content = url.as_bytes().to_vec();
    for (name, value) in pairs {
        content.extend_from_slice(name.as_bytes());
        content.extend_from_slice(value.as_bytes());
    }
    let digest = mac::hmac(mac::Algorithm::Sha1, secret.expose_bytes(), &[&content]);
    mac::encode(mac::Encoding::Base64, &digest)
}

/// The form's decoded parameters, sorted by name and then value.
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    pairs.sort();
    pairs
}

/// The URL text that is signed: as sent, less the port of an `https` URL.
fn signed_url(uri: &Uri) -> String {
    if uri.scheme_str() == Some("https") && uri.port().is_some() {
        return without_port(uri);
    }
    uri.to_string()
}

/// The URL as given, without its port, and with the scheme's default port: the forms Twilio's
/// validators accept.
fn url_variants(uri: &Uri) -> Vec<String> {
    let default_port = if uri.scheme_str() == Some("https") {
        443
    } else {
        80
    };
    let with_port = match uri.port_u16() {
        Some(_) => uri.to_string(),
        None => rebuild(
            uri,
            &format!("{}:{default_port}", uri.host().unwrap_or_default()),
        ),
    };
    vec![uri.to_string(), without_port(uri), with_port]
}

fn without_port(uri: &Uri) -> String {
    rebuild(uri, uri.host().unwrap_or_default())
}

fn rebuild(uri: &Uri, authority: &str) -> String {
    let scheme = uri.scheme_str().unwrap_or("https");
    let path = uri.path_and_query().map_or("/", |path| path.as_str());
    format!("{scheme}://{authority}{path}")
}

fn check_body_hash(uri: &Uri, body: &[u8]) -> Result<(), VerifyFailure> {
    let query = uri.query().unwrap_or_default();
    let Some((_, given)) =
        url::form_urlencoded::parse(query.as_bytes()).find(|(name, _)| name == BODY_HASH_PARAM)
    else {
        return Err(VerifyFailure::Url(format!(
            "a body that is not a form needs {BODY_HASH_PARAM}"
        )));
    };
    if mac::same(mac::sha256_hex(body).as_bytes(), given.as_bytes()) {
        return Ok(());
    }
    Err(VerifyFailure::BodyHashMismatch)
}
