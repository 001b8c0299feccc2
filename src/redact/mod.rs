//! One redactor for every byte the harness writes: report files, stdout and stderr.
//!
//! It knows every secret of the run (secret inputs, auth tokens, client-key material,
//! URL userinfo and credential-like query parameters) in every form a target or a
//! writer can give it ([`forms`]), and masks them in bytes, so that a body that is not
//! UTF-8 is cleaned before it is encoded. Three places apply it: evidence at capture
//! (`evidence::Body::capture`), every report file through [`sink::Sink`], and the
//! process's own stdout and stderr through [`stdio`]. Nothing reaches a file or a
//! terminal any other way.

pub mod forms;
pub mod sink;
pub mod stdio;
pub mod terminal;
pub mod unescape;

use std::borrow::Cow;
use std::sync::{Arc, OnceLock, RwLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

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

/// Secrets shorter than this would mask innocent text everywhere; inputs refuse them.
const MIN_SECRET: usize = 4;

/// Escapes are undone window by window, so that a large body needs no large copy.
const WINDOW: usize = 64 * 1024;

/// How much longer than its longest form a secret can be once escaped: two levels of
/// the widest escape (`&#x10ffff;` for four bytes, `\u002f` for one).
const STRETCH: usize = 40;

/// Removes secrets from anything bound for a report or a terminal. Cheap to clone.
#[derive(Clone, Default)]
pub struct Redactor {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    secrets: Vec<Vec<u8>>,
    matcher: Option<AhoCorasick>,
    longest: usize,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets themselves.
        write!(f, "Redactor({} secrets)", self.inner.secrets.len())
    }
}

impl Redactor {
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        Redactor::default().with(secrets)
    }

    /// This redactor with more secrets.
    #[must_use]
    pub fn with<I, S>(&self, more: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let mut secrets = self.inner.secrets.clone();
        let before = secrets.len();
        for s in more {
            let s = s.as_ref();
            if s.len() >= MIN_SECRET && !secrets.iter().any(|k| k == s) {
                secrets.push(s.to_vec());
            }
        }
        if secrets.len() == before {
            return self.clone();
        }
        let mut needles: Vec<Vec<u8>> = secrets
            .iter()
            .flat_map(|s| forms::echoed(s))
            .flat_map(|f| forms::escaped(&f))
            .filter(|n| n.len() >= MIN_SECRET)
            .collect();
        needles.sort();
        needles.dedup();
        let longest = needles.iter().map(Vec::len).max().unwrap_or(0);
        let matcher = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&needles)
            .ok();
        Redactor {
            inner: Arc::new(Inner {
                secrets,
                matcher,
                longest,
            }),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.inner.matcher.is_none()
    }

    /// The longest byte run a secret can take in any of its forms, escapes included.
    pub fn longest(&self) -> usize {
        self.inner.longest * STRETCH
    }

    pub fn is_secret_header(name: &str) -> bool {
        SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str())
    }

    /// Where secrets are in `data`: sorted, disjoint byte spans. A secret counts
    /// in any of its forms, and behind any mix of percent-encoding, JSON escapes and
    /// HTML character references, up to two levels deep.
    pub fn spans(&self, data: &[u8]) -> Vec<(usize, usize)> {
        let Some(matcher) = &self.inner.matcher else {
            return Vec::new();
        };
        let mut spans: Vec<(usize, usize)> = matcher
            .find_iter(data)
            .map(|m| (m.start(), m.end()))
            .collect();
        if unescape::has_escapes(data) {
            let reach = self.longest();
            let mut at = 0;
            while at < data.len() {
                let window = &data[at..(at + WINDOW + reach).min(data.len())];
                if unescape::has_escapes(window) {
                    let once = unescape::decode(window, at);
                    let twice =
                        unescape::has_escapes(&once.bytes).then(|| unescape::decode_again(&once));
                    for decoded in std::iter::once(&once).chain(twice.as_ref()) {
                        for m in matcher.find_iter(&decoded.bytes) {
                            let (start, end) = decoded.original(m.start(), m.end());
                            // Each window answers for secrets that start in it.
                            if (at..at + WINDOW).contains(&start) {
                                spans.push((start, end));
                            }
                        }
                    }
                }
                at += WINDOW;
            }
            spans.sort_unstable();
        }
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
        for (start, end) in spans {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }

    /// Calls `f(start, end)` for each secret in `data`, left to right, until it
    /// returns false.
    pub fn for_each_match(&self, data: &[u8], mut f: impl FnMut(usize, usize) -> bool) {
        for (start, end) in self.spans(data) {
            if !f(start, end) {
                break;
            }
        }
    }

    /// Feeds `data` to `out` in pieces, each secret replaced by [`MASK`].
    pub fn pieces(&self, data: &[u8], mut out: impl FnMut(&[u8])) {
        let mut at = 0;
        for (start, end) in self.spans(data) {
            out(&data[at..start]);
            out(MASK.as_bytes());
            at = end;
        }
        out(&data[at..]);
    }

    /// `data` with every secret masked.
    pub fn bytes<'a>(&self, data: &'a [u8]) -> Cow<'a, [u8]> {
        if self.spans(data).is_empty() {
            return Cow::Borrowed(data);
        }
        let mut out = Vec::with_capacity(data.len());
        self.pieces(data, |p| out.extend_from_slice(p));
        Cow::Owned(out)
    }

    /// Text with every secret masked, and URL userinfo and credential-like query
    /// parameters masked wherever a URL appears in it.
    pub fn text(&self, text: &str) -> String {
        let masked = match self.bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
        };
        structural(&masked).into_owned()
    }

    /// Bytes with every secret masked and, when they are text, URL credentials too.
    pub fn scrub<'a>(&self, data: &'a [u8]) -> Cow<'a, [u8]> {
        let masked = self.bytes(data);
        let Ok(text) = std::str::from_utf8(&masked) else {
            return masked;
        };
        match structural(text) {
            Cow::Borrowed(_) => masked,
            Cow::Owned(t) => Cow::Owned(t.into_bytes()),
        }
    }

    pub fn header(&self, name: &str, value: &str) -> String {
        if Self::is_secret_header(name) {
            // An unsigned JWT (GP Connect's access token) proves nothing and carries no
            // secret: assessors need its claims to see what a negative test changed.
            if name.eq_ignore_ascii_case("authorization") {
                if let Some(claims) = unsigned_jwt_claims(value) {
                    // ...unless a secret hides in it, in its claims or encoded.
                    if self.text(&claims) == claims && self.text(value) == value {
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
        self.text(url)
    }
}

/// Whether a query parameter name says its value is a credential.
pub fn is_credential_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    const PARTS: &[&str] = &[
        "token",
        "secret",
        "passw",
        "pwd",
        "apikey",
        "api_key",
        "api-key",
        "credential",
        "signature",
    ];
    // Not `code`: FHIR searches by it.
    const WHOLE: &[&str] = &["key", "sig", "auth", "authorization", "session"];
    PARTS.iter().any(|p| name.contains(p)) || WHOLE.contains(&name.as_str())
}

/// Masks the userinfo of every `scheme://user:pass@host` and the value of every
/// credential-like query parameter in `text`.
fn structural(text: &str) -> Cow<'_, str> {
    static USERINFO: OnceLock<regex::Regex> = OnceLock::new();
    static PARAM: OnceLock<regex::Regex> = OnceLock::new();
    let userinfo = USERINFO.get_or_init(|| {
        regex::Regex::new(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s]+@").expect("static regex")
    });
    let param = PARAM.get_or_init(|| {
        regex::Regex::new(r#"([?&;])([A-Za-z0-9_.\-]+)=([^&#\s"'<>]*)"#).expect("static regex")
    });
    // Cheap tests first: large bodies seldom hold either shape.
    let has_userinfo = text.contains("://") && text.contains('@');
    let has_params = text.contains('=') && text.contains(['?', '&', ';']);
    let mut out = Cow::Borrowed(text);
    if has_userinfo {
        if let Cow::Owned(o) =
            userinfo.replace_all(&out, |c: &regex::Captures<'_>| format!("{}{MASK}@", &c[1]))
        {
            out = Cow::Owned(o);
        }
    }
    if has_params {
        let replaced = param.replace_all(&out, |c: &regex::Captures<'_>| {
            if is_credential_param(&c[2]) && !c[3].is_empty() && &c[3] != MASK {
                format!("{}{}={MASK}", &c[1], &c[2])
            } else {
                c[0].to_owned()
            }
        });
        if let Cow::Owned(o) = replaced {
            out = Cow::Owned(o);
        }
    }
    match out {
        Cow::Owned(o) if o == text => Cow::Borrowed(text),
        other => other,
    }
}

/// The secrets a URL carries: the userinfo password (and `user:password`, as Basic
/// credentials encode it) and the values of credential-like query parameters.
pub fn url_secrets(url: &str) -> Vec<String> {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(password) = parsed.password() {
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        out.push(decode(password));
        out.push(format!(
            "{}:{}",
            decode(parsed.username()),
            decode(password)
        ));
        out.push(password.to_owned());
    }
    for (k, v) in parsed.query_pairs() {
        if is_credential_param(&k) && !v.is_empty() {
            out.push(v.into_owned());
        }
    }
    out
}

/// The decoded claims of `Bearer <header>.<payload>.` whose header says `"alg": "none"`.
fn unsigned_jwt_claims(value: &str) -> Option<String> {
    use base64::Engine as _;
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

fn global_cell() -> &'static RwLock<Redactor> {
    static GLOBAL: OnceLock<RwLock<Redactor>> = OnceLock::new();
    GLOBAL.get_or_init(Default::default)
}

/// The process's redactor: every secret learned so far. Report files and the
/// process's stdout and stderr pass through it.
pub fn global() -> Redactor {
    global_cell()
        .read()
        .map_or_else(|p| p.into_inner().clone(), |r| r.clone())
}

/// Teaches the process's redactor more secrets; returns the redactor now in force.
pub fn learn<I, S>(secrets: I) -> Redactor
where
    I: IntoIterator<Item = S>,
    S: AsRef<[u8]>,
{
    let mut guard = global_cell().write().unwrap_or_else(|p| p.into_inner());
    *guard = guard.with(secrets);
    guard.clone()
}

#[cfg(test)]
mod tests;
