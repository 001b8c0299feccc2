//! Every form a secret can take on its way into a report: as a target may echo it
//! (JSON-escaped, base64 at any alignment, hex, inside a JWT or Basic credentials)
//! and as a writer may escape it again (JSON, XML/HTML, Markdown). Percent-encoding and
//! character escapes in any mix are undone before matching instead (`unescape`).

use base64::Engine as _;

/// Base64 runs shorter than this would mask innocent words: a secret that short is
/// only matched in its whole, padded encoding.
const MIN_BASE64_CORE: usize = 8;

/// The forms of `secret` a target or a transport may produce.
pub fn echoed(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut textual: Vec<Vec<u8>> = vec![secret.to_vec()];
    if let Ok(s) = std::str::from_utf8(secret) {
        let json = json_inner(s);
        textual.push(json.replace('/', "\\/").into_bytes());
        textual.push(json.into_bytes());
        textual.push(unicode_escaped(s, false).into_bytes());
        textual.push(unicode_escaped(s, true).into_bytes());
    }
    let mut out = Vec::new();
    for form in &textual {
        out.push(form.clone());
        // Percent-encoding and escapes in any mix are undone before matching
        // (`unescape`); a form-encoded space is not an escape.
        out.push(percent(form, true, true, false));
        // In base64 (Basic credentials, a JWT claim, a binary body shown as base64)
        // the secret may start at any byte offset of the encoded data.
        out.extend(base64_cores(form));
        out.push(hex(form, false).into_bytes());
        out.push(hex(form, true).into_bytes());
    }
    dedup(out)
}

/// `form` as each report writer may escape it on output.
pub fn escaped(form: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![form.to_vec()];
    if let Ok(s) = std::str::from_utf8(form) {
        let json = json_inner(s);
        out.push(xml(&json).into_bytes());
        out.push(json.into_bytes());
        out.push(xml(s).into_bytes());
        out.push(s.replace('|', "\\|").replace('`', "'").into_bytes());
    }
    dedup(out)
}

fn dedup(mut forms: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    forms.retain(|f| !f.is_empty());
    forms.sort();
    forms.dedup();
    forms
}

/// The characters of base64 (standard and URL-safe) that depend on `bytes` alone,
/// for each of the three byte offsets at which `bytes` may start in encoded data.
pub fn base64_cores(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let whole = base64::engine::general_purpose::STANDARD.encode(bytes);
    if whole.len() < MIN_BASE64_CORE {
        out.push(whole.clone().into_bytes());
        out.push(whole.trim_end_matches('=').to_owned().into_bytes());
    }
    for offset in 0..3usize {
        let mut padded = vec![0u8; offset];
        padded.extend_from_slice(bytes);
        let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&padded);
        // Character i carries bits 6i..6i+6; the secret holds bits 8*offset.. onwards.
        let first = (8 * offset).div_ceil(6);
        let last = (8 * (offset + bytes.len())) / 6;
        if last <= first || last - first < MIN_BASE64_CORE {
            continue;
        }
        let core = &encoded[first..last];
        out.push(core.as_bytes().to_vec());
        out.push(core.replace('+', "-").replace('/', "_").into_bytes());
    }
    out
}

/// The inside of a JSON string holding `s`, as serde_json writes it.
pub fn json_inner(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(&quoted)
        .to_owned()
}

/// Every character as a JSON `\uXXXX` escape (UTF-16 units beyond the BMP).
fn unicode_escaped(s: &str, upper: bool) -> String {
    let mut out = String::new();
    for unit in s.encode_utf16() {
        if upper {
            out.push_str(&format!("\\u{unit:04X}"));
        } else {
            out.push_str(&format!("\\u{unit:04x}"));
        }
    }
    out
}

/// Percent-encoding: of bytes outside the unreserved set, or of `every` byte;
/// `form` writes a space as `+`.
fn percent(bytes: &[u8], upper: bool, form: bool, every: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if form && b == b' ' {
            out.push(b'+');
        } else if !every && (b.is_ascii_alphanumeric() || b"-_.~".contains(&b)) {
            out.push(b);
        } else if upper {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.extend_from_slice(format!("%{b:02x}").as_bytes());
        }
    }
    out
}

fn hex(bytes: &[u8], upper: bool) -> String {
    bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect()
}

/// XML and HTML text and attribute escaping, as the report writers do it.
fn xml(s: &str) -> String {
    crate::report::junit::esc(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn a_base64_core_is_found_at_every_offset() {
        let secret = b"s3cr3t-value/with+odd=chars";
        let cores = base64_cores(secret);
        for prefix in ["", "x", "xy", "xyz", "user:"] {
            let mut data = prefix.as_bytes().to_vec();
            data.extend_from_slice(secret);
            data.extend_from_slice(b"tail");
            let encoded = b64(&data);
            let url = encoded.replace('+', "-").replace('/', "_");
            assert!(
                cores
                    .iter()
                    .any(|c| encoded.contains(std::str::from_utf8(c).unwrap())),
                "standard, prefix {prefix:?}"
            );
            assert!(
                cores
                    .iter()
                    .any(|c| url.contains(std::str::from_utf8(c).unwrap())),
                "url-safe, prefix {prefix:?}"
            );
        }
        // Innocent data has none of them.
        let other = b64(b"something else entirely, of some length");
        assert!(!cores
            .iter()
            .any(|c| other.contains(std::str::from_utf8(c).unwrap())));
    }

    #[test]
    fn echoed_forms_cover_json_form_encoding_and_hex() {
        let forms: Vec<String> = echoed("a b/c\"d".as_bytes())
            .into_iter()
            .map(|f| String::from_utf8(f).unwrap())
            .collect();
        for want in [
            "a b/c\"d",
            "a+b%2Fc%22d",
            "a b/c\\\"d",
            "a b\\/c\\\"d",
            "\\u0061\\u0020\\u0062",
            "6120622f632264",
            "6120622F632264",
        ] {
            assert!(
                forms.iter().any(|f| f.contains(want)),
                "{want} missing from {forms:?}"
            );
        }
    }
}
