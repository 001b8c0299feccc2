//! Captured exchanges (the evidence behind every check) and redaction of secrets.
//!
//! An exchange is recorded, redacted, before any check reads it, so nothing a report
//! shows can carry a token: the redactor runs at capture time, not at render time.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The mask written where a secret was.
pub const MASK: &str = "[REDACTED]";

/// Header names whose values are always secret.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "apikey",
    "api-key",
    "x-auth-token",
];

/// Query parameter names whose values are always secret.
const SECRET_PARAMS: &[&str] = &[
    "api_key",
    "apikey",
    "access_token",
    "token",
    "client_secret",
    "password",
];

/// Removes secrets from anything bound for a report.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Secret values in every encoding a report could carry them in.
    needles: Vec<String>,
}

impl Redactor {
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut needles = Vec::new();
        for secret in secrets {
            let s = secret.as_ref();
            // Very short values would mask innocent text everywhere; they are refused
            // as secrets when inputs are loaded.
            if s.len() < 4 {
                continue;
            }
            needles.push(s.to_owned());
            needles.push(base64::engine::general_purpose::STANDARD.encode(s));
            needles.push(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s));
            needles.push(percent_encode(s));
            let json = serde_json::to_string(s).unwrap_or_default();
            needles.push(json.trim_matches('"').to_owned());
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        Redactor { needles }
    }

    pub fn is_secret_header(name: &str) -> bool {
        SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str())
    }

    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), MASK);
            }
        }
        out
    }

    pub fn header(&self, name: &str, value: &str) -> String {
        if Self::is_secret_header(name) {
            // An unsigned JWT (GP Connect's access token) proves nothing and carries no
            // secret: assessors need its claims to see what a negative test changed.
            if name.eq_ignore_ascii_case("authorization") {
                if let Some(claims) = unsigned_jwt_claims(value) {
                    // ...unless a secret hides in its (base64-encoded) claims.
                    if self.text(&claims) == claims {
                        return value.to_owned();
                    }
                }
            }
            // Keep the scheme so a reader can still see what kind of credential was sent.
            match value.split_once(' ') {
                Some((scheme, _)) if name.eq_ignore_ascii_case("authorization") => {
                    format!("{scheme} {MASK}")
                }
                _ => MASK.to_owned(),
            }
        } else {
            self.text(value)
        }
    }

    pub fn url(&self, url: &str) -> String {
        let url = self.text(url);
        let Some((base, query)) = url.split_once('?') else {
            return url;
        };
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()) => {
                    format!("{k}={MASK}")
                }
                _ => pair.to_owned(),
            })
            .collect();
        format!("{base}?{}", query.join("&"))
    }
}

/// The decoded claims of `Bearer <header>.<payload>.` whose header says `"alg": "none"`.
fn unsigned_jwt_claims(value: &str) -> Option<String> {
    let token = value.strip_prefix("Bearer ")?;
    let parts: Vec<&str> = token.trim().split('.').collect();
    if parts.len() != 3 || !parts[2].is_empty() {
        return None;
    }
    let decode = |p: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p.trim_end_matches('='))
            .ok()
    };
    let header: serde_json::Value = serde_json::from_slice(&decode(parts[0])?).ok()?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("none") {
        return None;
    }
    String::from_utf8(decode(parts[1])?).ok()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

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

/// A body as captured: text when it is UTF-8, base64 otherwise.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Body {
    pub text: Option<String>,
    pub base64: Option<String>,
    /// Bytes received (before any cap cut it short).
    pub size: u64,
    pub truncated: bool,
    pub sha256: String,
}

impl Body {
    pub fn capture(bytes: &[u8], truncated: bool, redactor: &Redactor) -> Body {
        let sha256 = hex(&Sha256::digest(bytes));
        match std::str::from_utf8(bytes) {
            Ok(text) => Body {
                text: Some(redactor.text(text)),
                base64: None,
                size: bytes.len() as u64,
                truncated,
                sha256,
            },
            Err(_) => Body {
                text: None,
                base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
                size: bytes.len() as u64,
                truncated,
                sha256,
            },
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

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn masks_secrets_in_every_encoding() {
        let r = Redactor::new(["s3cr3t/value"]);
        assert_eq!(r.text("x s3cr3t/value y"), format!("x {MASK} y"));
        assert_eq!(r.text("czNjcjN0L3ZhbHVl"), MASK);
        assert_eq!(r.text("a=s3cr3t%2Fvalue"), format!("a={MASK}"));
        assert_eq!(r.text("nothing here"), "nothing here");
    }

    #[test]
    fn masks_secret_headers_and_params() {
        let r = Redactor::default();
        // An unsigned token stays readable; a signed one does not.
        let unsigned = format!(
            "Bearer {}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(r#"{"sub":"1"}"#)
        );
        assert_eq!(r.header("Authorization", &unsigned), unsigned);
        let signed = format!(
            "Bearer {}.{}.c2ln",
            b64(r#"{"alg":"RS256"}"#),
            b64(r#"{"sub":"1"}"#)
        );
        assert_eq!(r.header("Authorization", &signed), format!("Bearer {MASK}"));
        let forged = format!(
            "Bearer {}.{}.",
            b64(r#"{"alg":"HS256"}"#),
            b64(r#"{"sub":"1"}"#)
        );
        assert_eq!(r.header("Authorization", &forged), format!("Bearer {MASK}"));
        let with_secret = Redactor::new(["hunter22"]);
        let leaky = format!(
            "Bearer {}.{}.",
            b64(r#"{"alg":"none"}"#),
            b64(r#"{"pw":"hunter22"}"#)
        );
        assert_eq!(
            with_secret.header("Authorization", &leaky),
            format!("Bearer {MASK}")
        );
        assert_eq!(
            r.header("Authorization", "Bearer abc.def"),
            format!("Bearer {MASK}")
        );
        assert_eq!(r.header("Cookie", "sid=1"), MASK);
        assert_eq!(
            r.header("Accept", "application/fhir+json"),
            "application/fhir+json"
        );
        assert_eq!(
            r.url("http://h/p?a=1&access_token=xyz"),
            format!("http://h/p?a=1&access_token={MASK}")
        );
    }

    #[test]
    fn binary_bodies_are_kept_as_base64() {
        let body = Body::capture(&[0xff, 0xfe, 0x00], false, &Redactor::default());
        assert!(body.text.is_none());
        assert_eq!(body.base64.as_deref(), Some("//4A"));
        assert_eq!(body.size, 3);
    }
}
