//! Captured exchanges (the evidence behind every check): redacted, bounded, hashed.
//!
//! An exchange is recorded, redacted, before any check reads it, so nothing a report
//! shows can carry a token: the redactor runs at capture time, not at render time
//! (and again on every byte a report writer puts out: `redact::sink`). A body keeps
//! at most the evidence limit of its bytes; its size and sha256 cover all of it.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::redact::{Redactor, MASK};

/// Bytes of each body kept in the evidence unless `--evidence-body-limit` says otherwise.
pub const DEFAULT_EVIDENCE_BODY_LIMIT: u64 = 256 * 1024;

/// One HTTP request and what came back, as a report shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Exchange {
    pub id: String,
    pub request: Request,
    pub response: Option<Response>,
    /// Why no (complete) response was obtained: timeout, refused, over the size cap.
    pub error: Option<String>,
    pub started: String,
    pub duration_ms: f64,
    /// Time the harness itself spent on this exchange (building, recording), apart
    /// from waiting on the network.
    pub overhead_us: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Body>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

/// A body as captured: text when it is UTF-8, base64 otherwise; secrets masked in
/// the bytes before either encoding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Body {
    pub text: Option<String>,
    pub base64: Option<String>,
    /// Bytes received (before any cap cut it short).
    pub size: u64,
    /// Only the first bytes are kept: the body was over the evidence limit or the
    /// response size limit (`--max-body`).
    pub truncated: bool,
    /// Of the whole body as received, after redaction.
    pub sha256: String,
}

impl Body {
    /// Captures `bytes` with the default evidence limit.
    pub fn capture(bytes: &[u8], truncated: bool, redactor: &Redactor) -> Body {
        Body::capture_limited(bytes, truncated, redactor, DEFAULT_EVIDENCE_BODY_LIMIT)
    }

    /// Redacts `bytes`, keeps the first `limit` bytes of the result and hashes all of
    /// it; nothing past the limit is kept.
    pub fn capture_limited(bytes: &[u8], truncated: bool, redactor: &Redactor, limit: u64) -> Body {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        // A copy only when something was masked.
        let clean = redactor.scrub(bytes);
        let sha256 = hex(&Sha256::digest(&clean));
        let mut kept = clean[..clean.len().min(limit)].to_vec();
        let cut = kept.len() < clean.len();
        drop(clean);
        let (text, base64) = match std::str::from_utf8(&kept) {
            Ok(_) => (Some(String::from_utf8(kept).unwrap_or_default()), None),
            // Cut inside a character: the text ends before it.
            Err(e) if cut && e.error_len().is_none() => {
                kept.truncate(e.valid_up_to());
                (Some(String::from_utf8(kept).unwrap_or_default()), None)
            }
            Err(_) => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(&kept)),
            ),
        };
        Body {
            text,
            base64,
            size: bytes.len() as u64,
            truncated: truncated || cut,
            sha256,
        }
    }
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_bodies_are_kept_as_base64_of_the_redacted_bytes() {
        let body = Body::capture(&[0xff, 0xfe, 0x00], false, &Redactor::default());
        assert!(body.text.is_none());
        assert_eq!(body.base64.as_deref(), Some("//4A"));
        assert_eq!(body.size, 3);
        let mut raw = vec![0xff, 0xfe];
        raw.extend_from_slice(b"tok-s3cret-1");
        raw.push(0x00);
        let body = Body::capture(&raw, false, &Redactor::new(["tok-s3cret-1"]));
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(body.base64.unwrap())
            .unwrap();
        assert_eq!(&decoded[2..12], MASK.as_bytes());
        assert_eq!(body.size, raw.len() as u64);
    }

    #[test]
    fn bodies_over_the_limit_keep_a_prefix_and_hash_the_whole() {
        let r = Redactor::new(["tok-s3cret-1"]);
        let mut raw = "é".repeat(10);
        raw.push_str("tok-s3cret-1");
        let body = Body::capture_limited(raw.as_bytes(), false, &r, 5);
        // Cut inside the third `é`: the text stops before it.
        assert_eq!(body.text.as_deref(), Some("éé"));
        assert!(body.truncated);
        assert_eq!(body.size, raw.len() as u64);
        let whole = format!("{}{MASK}", "é".repeat(10));
        assert_eq!(body.sha256, sha256_hex(whole.as_bytes()));
        let all = Body::capture_limited(raw.as_bytes(), false, &r, 1000);
        assert!(!all.truncated);
        assert_eq!(all.text.as_deref(), Some(whole.as_str()));
        assert_eq!(all.sha256, body.sha256);
    }
}
