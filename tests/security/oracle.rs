//! Finds a secret the way a reader with decoders would: in the bytes as they are, and
//! after up to two decodings of percent-encoding, JSON and HTML escapes, base64
//! (standard and URL-safe, read from every character offset) and hex. Written apart
//! from the redactor, so that it checks it rather than repeating it.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

type Decoder = fn(&[u8]) -> Vec<u8>;

const DECODERS: [(&str, Decoder); 6] = [
    ("as written", |b| b.to_vec()),
    ("percent-decoded", percent),
    ("form-decoded", form),
    ("unescaped", unescape),
    ("base64-decoded", base64_runs),
    ("hex-decoded", hex_runs),
];

/// For each of `secrets` that can be read out of `data`: which one, and how.
pub fn reveals(data: &[u8], secrets: &[&[u8]]) -> Vec<(usize, String)> {
    let finder = aho_corasick::AhoCorasick::new(secrets).unwrap();
    let mut found: Vec<(usize, String)> = Vec::new();
    for (i, (first, d1)) in DECODERS.iter().enumerate() {
        let once = d1(data);
        if i > 0 && once == data {
            continue;
        }
        for (j, (second, d2)) in DECODERS.iter().enumerate() {
            // What base64 or hex decoding gives is bytes: only text decoders after it.
            if i >= 4 && j >= 4 {
                continue;
            }
            for m in finder.find_overlapping_iter(&d2(&once)) {
                let which = m.pattern().as_usize();
                if !found.iter().any(|(w, _)| *w == which) {
                    found.push((which, format!("{first}, then {second}")));
                }
            }
        }
    }
    found
}

fn percent(b: &[u8]) -> Vec<u8> {
    percent_encoding::percent_decode(b).collect()
}

fn form(b: &[u8]) -> Vec<u8> {
    let spaced: Vec<u8> = b
        .iter()
        .map(|&c| if c == b'+' { b' ' } else { c })
        .collect();
    percent(&spaced)
}

/// JSON string escapes and HTML/XML character references.
fn unescape(b: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(b);
    let mut out = String::with_capacity(text.len());
    let mut rest: &str = &text;
    while let Some(c) = rest.chars().next() {
        let (taken, skip) = match c {
            '\\' => json_escape(rest),
            '&' => html_reference(rest),
            _ => (None, 0),
        };
        match taken {
            Some(s) => {
                out.push_str(&s);
                rest = &rest[skip..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out.into_bytes()
}

fn json_escape(s: &str) -> (Option<String>, usize) {
    let b = s.as_bytes();
    match b.get(1) {
        Some(b'u') => {
            let unit = |at: usize| {
                s.get(at..at + 4)
                    .and_then(|h| u16::from_str_radix(h, 16).ok())
            };
            let Some(first) = unit(2) else {
                return (None, 0);
            };
            if (0xd800..0xdc00).contains(&first) && s.get(6..8) == Some("\\u") {
                if let Some(second) = unit(8) {
                    let c = char::decode_utf16([first, second]).next();
                    if let Some(Ok(c)) = c {
                        return (Some(c.to_string()), 12);
                    }
                }
            }
            match char::from_u32(u32::from(first)) {
                Some(c) => (Some(c.to_string()), 6),
                None => (None, 0),
            }
        }
        Some(&c @ (b'"' | b'\\' | b'/')) => (Some((c as char).to_string()), 2),
        Some(b'n') => (Some("\n".into()), 2),
        Some(b't') => (Some("\t".into()), 2),
        _ => (None, 0),
    }
}

fn html_reference(s: &str) -> (Option<String>, usize) {
    let Some(end) = s.find(';').filter(|&e| e <= 10) else {
        return (None, 0);
    };
    let name = &s[1..end];
    let c = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => name
            .strip_prefix("#x")
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
            .and_then(char::from_u32),
    };
    (c.map(|c| c.to_string()), end + 1)
}

/// Maximal runs of at least eight bytes that `part_of` accepts.
fn runs(b: &[u8], part_of: fn(u8) -> bool) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &c) in b.iter().chain(std::iter::once(&b' ')).enumerate() {
        if !part_of(c) || i == b.len() {
            if i - start >= 8 {
                out.push(&b[start..i]);
            }
            start = i + 1;
        }
    }
    out
}

/// Every run of base64 characters decoded from each of its first four offsets.
fn base64_runs(b: &[u8]) -> Vec<u8> {
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let mut out = Vec::new();
    for run in runs(b, |c| c.is_ascii_alphanumeric() || b"+/_-".contains(&c)) {
        let run: Vec<u8> = run
            .iter()
            .map(|&c| match c {
                b'-' => b'+',
                b'_' => b'/',
                c => c,
            })
            .collect();
        for shift in 0..4 {
            let mut part = run[shift..].to_vec();
            if part.len() % 4 == 1 {
                part.pop();
            }
            if let Ok(decoded) = engine.decode(&part) {
                out.extend_from_slice(&decoded);
                out.push(0);
            }
        }
    }
    out
}

/// Every run of hex digits decoded from each of its first two offsets.
fn hex_runs(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for run in runs(b, |c| c.is_ascii_hexdigit()) {
        for shift in 0..2 {
            let digits = &run[shift..];
            for pair in digits.chunks_exact(2) {
                let text = std::str::from_utf8(pair).unwrap_or("00");
                out.push(u8::from_str_radix(text, 16).unwrap_or(0));
            }
            out.push(0);
        }
    }
    out
}

#[test]
fn the_oracle_finds_what_it_should() {
    let secret = b"k9/Q+z=x-secret";
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let url64 = |d: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d);
    let mut with_prefix = b"xy".to_vec();
    with_prefix.extend_from_slice(secret);
    for shown in [
        String::from_utf8(secret.to_vec()).unwrap(),
        "k9%2FQ%2Bz%3Dx-secret".into(),
        "k9\\/Q+z=x-secret".into(),
        "k9&#x2F;Q+z=x-secret".into(),
        b64(&with_prefix),
        url64(&[b"user:".as_slice(), secret].concat()),
        secret.iter().map(|b| format!("{b:02x}")).collect(),
        // Nested: base64 inside a JSON string inside a report.
        serde_json::to_string(&b64(&with_prefix)).unwrap(),
    ] {
        let page = format!("<td>before {shown} after</td>");
        assert_eq!(
            reveals(page.as_bytes(), &[b"other", secret]).len(),
            1,
            "{shown}"
        );
    }
    assert!(reveals(b"nothing [REDACTED] here", &[secret]).is_empty());
}
