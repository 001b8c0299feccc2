//! String functions, regular expressions, and encode/decode/escape/unescape.

use super::{boolean, one, Call, R};
use crate::fhirpath::value::{Collection, Item, Value};
use base64::Engine;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

fn string<'a>(s: String) -> R<Collection<'a>> {
    one(Value::String(s))
}

/// Compiled patterns, shared by all evaluations: an invariant's `matches()` runs on
/// every element of every resource. Cleared when full rather than grown without bound.
static REGEX_CACHE: OnceLock<Mutex<HashMap<String, Arc<regex::Regex>>>> = OnceLock::new();
const REGEX_CACHE_MAX: usize = 512;

/// Shared through an `Arc`: a cloned `Regex` would start a fresh matching cache.
fn regex(c: &Call<'_, '_>, pattern: &str, full: bool) -> R<Arc<regex::Regex>> {
    let p = if full {
        format!("^(?:{pattern})$")
    } else {
        pattern.to_string()
    };
    let cache = REGEX_CACHE.get_or_init(Default::default);
    if let Some(re) = cache.lock().ok().and_then(|m| m.get(&p).cloned()) {
        return Ok(re);
    }
    let re = regex::RegexBuilder::new(&p)
        .dot_matches_new_line(true)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| c.err(format!("invalid regular expression: {e}")))?;
    let re = Arc::new(re);
    if let Ok(mut m) = cache.lock() {
        if m.len() >= REGEX_CACHE_MAX {
            m.clear();
        }
        m.insert(p, re.clone());
    }
    Ok(re)
}

pub fn call<'a>(c: &Call<'_, 'a>) -> R<Option<Collection<'a>>> {
    const NAMES: [&str; 21] = [
        "indexOf",
        "lastIndexOf",
        "substring",
        "startsWith",
        "endsWith",
        "contains",
        "upper",
        "lower",
        "replace",
        "matches",
        "matchesFull",
        "replaceMatches",
        "length",
        "toChars",
        "trim",
        "split",
        "encode",
        "decode",
        "escape",
        "unescape",
        "join",
    ];
    if !NAMES.contains(&c.name) {
        return Ok(None);
    }
    if c.name == "join" {
        let sep = c.arg_string(0)?.unwrap_or_default();
        let mut parts = Vec::new();
        for item in &c.input {
            match item.to_value() {
                Some(Value::String(s)) => parts.push(s),
                _ => return Err(c.err("join() needs strings")),
            }
        }
        return string(parts.join(&sep)).map(Some);
    }
    let Some(s) = c.input_string()? else {
        return Ok(Some(vec![]));
    };
    let chars = || s.chars().collect::<Vec<char>>();
    let r = match c.name {
        "indexOf" | "lastIndexOf" => {
            let Some(needle) = c.arg_string(0)? else {
                return Ok(Some(vec![]));
            };
            let found = if c.name == "indexOf" {
                s.find(&needle)
            } else {
                s.rfind(&needle)
            };
            let at = found.map_or(-1, |b| s[..b].chars().count() as i64);
            one(Value::Integer(at))
        }
        "substring" => {
            let Some(start) = c.arg_int(0)? else {
                return Ok(Some(vec![]));
            };
            let cs = chars();
            if start < 0 || start as usize >= cs.len() {
                return Ok(Some(vec![]));
            }
            let len = match c.args.len() {
                1 => cs.len(),
                _ => match c.arg_int(1)? {
                    Some(l) => l.max(0) as usize,
                    None => cs.len(),
                },
            };
            string(cs.iter().skip(start as usize).take(len).collect())
        }
        "startsWith" | "endsWith" | "contains" => {
            let Some(x) = c.arg_string(0)? else {
                return Ok(Some(vec![]));
            };
            boolean(match c.name {
                "startsWith" => s.starts_with(&x),
                "endsWith" => s.ends_with(&x),
                _ => s.contains(&x),
            })
        }
        "upper" => string(s.to_uppercase()),
        "lower" => string(s.to_lowercase()),
        "replace" => {
            let (Some(from), Some(to)) = (c.arg_string(0)?, c.arg_string(1)?) else {
                return Ok(Some(vec![]));
            };
            if from.is_empty() {
                // Inserts `to` between every character, as the specification says.
                let mut out = to.clone();
                for ch in s.chars() {
                    out.push(ch);
                    out.push_str(&to);
                }
                string(out)
            } else {
                string(s.replace(&from, &to))
            }
        }
        "matches" | "matchesFull" => {
            let Some(p) = c.arg_string(0)? else {
                return Ok(Some(vec![]));
            };
            boolean(regex(c, &p, c.name == "matchesFull")?.is_match(&s))
        }
        "replaceMatches" => {
            let (Some(p), Some(to)) = (c.arg_string(0)?, c.arg_string(1)?) else {
                return Ok(Some(vec![]));
            };
            if p.is_empty() {
                return string(s).map(Some);
            }
            // FHIRPath substitutions are `$1`; regex wants `${1}` to stay unambiguous.
            let to = regex::Regex::new(r"\$(\d+)")
                .map(|re| re.replace_all(&to, "$${$1}").into_owned())
                .unwrap_or(to);
            string(
                regex(c, &p, false)?
                    .replace_all(&s, to.as_str())
                    .into_owned(),
            )
        }
        "length" => one(Value::Integer(s.chars().count() as i64)),
        "toChars" => Ok(s
            .chars()
            .map(|ch| Item::Value(Value::String(ch.to_string())))
            .collect()),
        "trim" => string(s.trim().to_string()),
        "split" => {
            let Some(sep) = c.arg_string(0)? else {
                return Ok(Some(vec![]));
            };
            if sep.is_empty() {
                return Ok(Some(
                    s.chars()
                        .map(|ch| Item::Value(Value::String(ch.to_string())))
                        .collect(),
                ));
            }
            Ok(s.split(sep.as_str())
                .map(|p| Item::Value(Value::String(p.to_string())))
                .collect())
        }
        "encode" | "decode" => {
            let Some(format) = c.arg_string(0)? else {
                return Ok(Some(vec![]));
            };
            let b64 = base64::engine::general_purpose::STANDARD;
            let url = base64::engine::general_purpose::URL_SAFE;
            if c.name == "encode" {
                string(match format.as_str() {
                    "base64" => b64.encode(s.as_bytes()),
                    "urlbase64" => url.encode(s.as_bytes()),
                    "hex" => s.bytes().map(|b| format!("{b:02x}")).collect(),
                    _ => return Err(c.err(format!("unknown encoding {format}"))),
                })
            } else {
                let bytes = match format.as_str() {
                    "base64" => b64.decode(s.as_bytes()).ok(),
                    "urlbase64" => url.decode(s.as_bytes()).ok(),
                    "hex" => decode_hex(&s),
                    _ => return Err(c.err(format!("unknown encoding {format}"))),
                };
                match bytes.and_then(|b| String::from_utf8(b).ok()) {
                    Some(text) => string(text),
                    None => Ok(vec![]),
                }
            }
        }
        "escape" | "unescape" => {
            let Some(format) = c.arg_string(0)? else {
                return Ok(Some(vec![]));
            };
            let out = match (c.name, format.as_str()) {
                ("escape", "html") => s
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
                    .replace('"', "&quot;")
                    .replace('\'', "&#39;"),
                ("escape", "json") => {
                    let j = serde_json::Value::String(s.clone()).to_string();
                    j[1..j.len() - 1].to_string()
                }
                ("unescape", "html") => s
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&#39;", "'")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
                ("unescape", "json") => unescape_json(&s),
                _ => return Err(c.err(format!("unknown escape format {format}"))),
            };
            string(out)
        }
        _ => return Ok(None),
    };
    r.map(Some)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Undoes JSON string escapes; anything that is not a known escape stays as written.
fn unescape_json(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(c) => out.push(c),
                    None => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_unescape() {
        assert_eq!(unescape_json(r#"\"1<2\""#), "\"1<2\"");
        assert_eq!(unescape_json(r"a\nb\u0041\\"), "a\nbA\\");
        assert_eq!(unescape_json(r"\uZZZZ"), r"\uZZZZ");
    }

    #[test]
    fn hex() {
        assert_eq!(decode_hex("7465"), Some(b"te".to_vec()));
        assert_eq!(decode_hex("746"), None);
        assert_eq!(decode_hex("zz"), None);
    }
}
