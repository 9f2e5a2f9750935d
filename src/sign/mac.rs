//! The HMAC and digest primitives the schemes share, and the encodings they print them in.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::Hmac;
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha512};

use crate::secret::constant_time_eq;

/// The hash functions an HMAC can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// HMAC-SHA1, still Twilio's default.
    Sha1,
    /// HMAC-SHA256, what nearly every scheme uses.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// How a MAC is written out as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Lower-case hex.
    Hex,
    /// Standard base64 with padding.
    Base64,
}

impl std::fmt::Display for Encoding {
    /// The name the config uses: `hex` or `base64`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Hex => "hex",
            Self::Base64 => "base64",
        })
    }
}

/// The HMAC of `parts`, concatenated, under `key`.
pub fn hmac(algorithm: Algorithm, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    match algorithm {
        Algorithm::Sha1 => mac_with::<Hmac<Sha1>>(key, parts),
        Algorithm::Sha256 => mac_with::<Hmac<Sha256>>(key, parts),
        Algorithm::Sha512 => mac_with::<Hmac<Sha512>>(key, parts),
    }
}

/// HMAC-SHA256 of `parts`, concatenated, under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    hmac(Algorithm::Sha256, key, parts)
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes `mac` in `encoding`.
pub fn encode(encoding: Encoding, mac: &[u8]) -> String {
    match encoding {
        Encoding::Hex => hex::encode(mac),
        Encoding::Base64 => STANDARD.encode(mac),
    }
}

/// Reads a MAC written in `encoding`; `None` if it is not valid text of that encoding.
pub fn decode(encoding: Encoding, text: &str) -> Option<Vec<u8>> {
    match encoding {
        Encoding::Hex => hex::decode(text).ok(),
        Encoding::Base64 => STANDARD.decode(text).ok(),
    }
}

/// Whether `expected` equals `given`, compared in constant time.
pub fn same(expected: &[u8], given: &[u8]) -> bool {
    constant_time_eq(expected, given)
}

fn mac_with<M: hmac::Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac =
        <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}
