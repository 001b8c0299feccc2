//! Primitive values: the JSON kind each FHIR primitive type is written as, and its
//! lexical rules (the core definitions' regex, plus checks a regex cannot make).

use crate::model::{Kind, Node};

/// What is wrong with a primitive value, as a message.
pub fn check(type_code: &str, node: &Node, regex: Option<&regex::Regex>) -> Option<String> {
    let text: &str = match (&node.kind, json_kind(type_code)) {
        (Kind::Bool(_), JsonKind::Bool) => return None,
        (Kind::Number(n), JsonKind::Number) => n,
        (Kind::String(s), JsonKind::String) => s,
        (Kind::Object(_) | Kind::Array(_), _) => {
            return Some(format!(
                "a {type_code} must be a primitive value, not an object or array"
            ))
        }
        (Kind::Null, _) => return Some(format!("a {type_code} cannot be null")),
        (_, expected) => {
            return Some(format!(
                "a {type_code} must be a JSON {}",
                match expected {
                    JsonKind::Bool => "boolean",
                    JsonKind::Number => "number",
                    JsonKind::String => "string",
                }
            ))
        }
    };
    if text.is_empty() {
        return Some(format!("a {type_code} cannot be empty"));
    }
    if type_code != "string" && type_code != "markdown" && text.trim() != text {
        return Some(format!("`{text}` has leading or trailing whitespace"));
    }
    if let Some(problem) = semantic(type_code, text) {
        return Some(problem);
    }
    match regex.or_else(|| fallback(type_code)) {
        Some(re) if !re.is_match(text) => {
            Some(format!("`{}` is not a valid {type_code}", clip(text)))
        }
        _ => None,
    }
}

fn clip(text: &str) -> String {
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text.to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonKind {
    Bool,
    Number,
    String,
}

fn json_kind(type_code: &str) -> JsonKind {
    match type_code {
        "boolean" => JsonKind::Bool,
        "integer" | "decimal" | "positiveInt" | "unsignedInt" => JsonKind::Number,
        _ => JsonKind::String,
    }
}

/// Whether a type code names a FHIR primitive type.
pub fn is_primitive(type_code: &str) -> bool {
    type_code
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase())
        && type_code != "xhtml"
}

/// Checks a regex cannot express: integer ranges, real calendar dates, base64.
fn semantic(type_code: &str, text: &str) -> Option<String> {
    match type_code {
        "integer" | "positiveInt" | "unsignedInt" => {
            let n: i64 = match text.parse() {
                Ok(n) => n,
                Err(_) => return Some(format!("`{}` is not a valid {type_code}", clip(text))),
            };
            let min = match type_code {
                "positiveInt" => 1,
                "unsignedInt" => 0,
                _ => i64::from(i32::MIN),
            };
            (n < min || n > i64::from(i32::MAX))
                .then(|| format!("{n} is out of range for {type_code}"))
        }
        "decimal" => (text.contains(['e', 'E']) && text.parse::<f64>().is_err())
            .then(|| format!("`{text}` is not a valid decimal")),
        "date" | "dateTime" | "instant" => check_calendar(text)
            .map(|m| format!("`{}` is not a valid {type_code}: {m}", clip(text))),
        "base64Binary" => base64_len(text)
            .is_none()
            .then(|| "the value is not valid base64".to_string()),
        _ => None,
    }
}

/// The decoded length of padded standard base64, whitespace ignored, or `None` when
/// it is not valid. Decoded a chunk at a time into a fixed buffer: an attachment of
/// megabytes costs no allocation. Padding is only allowed at the very end, so each
/// full chunk before the last decodes on its own as it would within the whole.
pub(crate) fn base64_len(text: &str) -> Option<usize> {
    use base64::Engine as _;
    const CHUNK: usize = 1024;
    let engine = &base64::engine::general_purpose::STANDARD;
    let mut symbols = [0u8; CHUNK];
    let mut decoded = [0u8; CHUNK / 4 * 3];
    let bytes = text.as_bytes();
    // Whitespace (any Unicode whitespace) from `at` on is skipped; `None` for
    // anything else that is not ASCII. Byte by byte: attachments run to megabytes,
    // and reading them as chars cost more than decoding the base64.
    let skip = |at: &mut usize| -> Option<()> {
        while let Some(&b) = bytes.get(*at) {
            if b.is_ascii() {
                if !ascii_space(b) {
                    break;
                }
                *at += 1;
            } else {
                let c = text[*at..].chars().next()?;
                if !c.is_whitespace() {
                    return None;
                }
                *at += c.len_utf8();
            }
        }
        Some(())
    };
    let mut at = 0;
    let mut total = 0;
    skip(&mut at)?;
    loop {
        let mut filled = 0;
        while filled < CHUNK && at < bytes.len() {
            // A run of printable ASCII is copied whole; what ends it is looked at alone.
            let run = &bytes[at..(at + CHUNK - filled).min(bytes.len())];
            let plain = run
                .iter()
                .position(|b| !(0x21..0x7F).contains(b))
                .unwrap_or(run.len());
            symbols[filled..filled + plain].copy_from_slice(&run[..plain]);
            filled += plain;
            at += plain;
            if filled < CHUNK {
                match bytes.get(at) {
                    // A control character or DEL: no base64 symbol.
                    Some(&b) if b.is_ascii() && !ascii_space(b) => return None,
                    Some(_) => skip(&mut at)?,
                    None => {}
                }
            }
        }
        skip(&mut at)?;
        let last = at == bytes.len();
        if !last && symbols[..filled].contains(&b'=') {
            return None;
        }
        total += engine.decode_slice(&symbols[..filled], &mut decoded).ok()?;
        if last {
            return Some(total);
        }
    }
}

/// The ASCII characters `char::is_whitespace` counts (vertical tab among them).
fn ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// A date's month and day must exist (`2019-02-30` is no date).
fn check_calendar(text: &str) -> Option<&'static str> {
    let date = text.split('T').next().unwrap_or(text);
    let parts: Vec<&str> = date.split('-').collect();
    let num = |i: usize| parts.get(i).and_then(|p| p.parse::<u32>().ok());
    let (Some(year), Some(month)) = (num(0), num(1)) else {
        return None;
    };
    if !(1..=12).contains(&month) {
        return Some("no such month");
    }
    if let Some(day) = num(2) {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if day == 0 || day > days {
            return Some("no such day in that month");
        }
    }
    None
}

fn fallback(type_code: &str) -> Option<&'static regex::Regex> {
    use std::sync::OnceLock;
    static TABLE: OnceLock<Vec<(&'static str, regex::Regex)>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let dt = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)";
        let src: Vec<(&str, String)> = vec![
            ("date", format!(r"{dt}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?")),
            ("dateTime", format!(r"{dt}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?")),
            ("instant", format!(r"{dt}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))")),
            ("time", r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?".into()),
            ("decimal", r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?".into()),
            ("integer", r"-?([0]|([1-9][0-9]*))".into()),
            ("positiveInt", r"\+?[1-9][0-9]*".into()),
            ("unsignedInt", r"[0]|([1-9][0-9]*)".into()),
            ("id", r"[A-Za-z0-9\-\.]{1,64}".into()),
            ("oid", r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+".into()),
            ("uuid", r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}".into()),
            ("code", r"[^\s]+(\s[^\s]+)*".into()),
            ("uri", r"\S*".into()),
            ("url", r"\S*".into()),
            ("canonical", r"\S*".into()),
            ("base64Binary", r"(\s*([0-9a-zA-Z\+/=]){4}\s*)+".into()),
        ];
        src.into_iter()
            .filter_map(|(k, v)| fhir_regex(&v).map(|r| (k, r)))
            .collect()
    });
    table.iter().find(|(k, _)| *k == type_code).map(|(_, r)| r)
}

/// A FHIR value regex, anchored. They are written for XML Schema and Java, where
/// `\s` is ASCII whitespace only: a no-break space is not whitespace there.
pub(crate) fn fhir_regex(pattern: &str) -> Option<regex::Regex> {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('s') => out.push_str(r"[\t\n\x0B\f\r ]"),
                Some('S') => out.push_str(r"[^\t\n\x0B\f\r ]"),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            _ => out.push(c),
        }
    }
    regex::Regex::new(&format!("^(?:{out})$")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunked check agrees with decoding the whole text without whitespace, on
    /// texts across chunk edges with padding, whitespace and bad bytes anywhere.
    #[test]
    fn base64_len_agrees_with_decoding_the_whole_text() {
        use base64::Engine as _;
        let whole = |t: &str| {
            let clean: String = t.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(clean.as_bytes())
                .ok()
                .map(|b| b.len())
        };
        let alphabet: Vec<char> =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                .chars()
                .collect();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut valid = 0;
        for round in 0..4000 {
            let bytes = [0, 1, 2, 3, 700, 767, 768, 769, 1535, 1536, 3000][round % 11];
            let data: Vec<u8> = (0..bytes).map(|_| next(256) as u8).collect();
            let mut text: Vec<char> = base64::engine::general_purpose::STANDARD
                .encode(&data)
                .chars()
                .collect();
            // Damage some: a symbol changed, a pad moved in, a byte cut, whitespace.
            match next(6) {
                0 if !text.is_empty() => {
                    let at = next(text.len());
                    text[at] = ['=', '-', '\u{e9}', '\u{1}', '\u{7f}', alphabet[next(64)]][next(6)];
                }
                1 if !text.is_empty() => {
                    text.remove(next(text.len()));
                }
                2 => {
                    for _ in 0..next(40) {
                        let at = next(text.len() + 1);
                        text.insert(at, [' ', '\n', '\t', '\u{a0}'][next(4)]);
                    }
                }
                _ => {}
            }
            let text: String = text.into_iter().collect();
            assert_eq!(base64_len(&text), whole(&text), "{text:?}");
            valid += usize::from(whole(&text).is_some());
        }
        assert!((1000..3900).contains(&valid), "{valid} valid of 4000");
        // Padding that closes a chunk, with more after it, is still padding inside.
        let padded_chunk = format!("{}AA==AAAA", "A".repeat(1020));
        assert_eq!(base64_len(&padded_chunk), None);
        assert_eq!(base64_len(&padded_chunk[..1024]), Some(766));
    }
    use crate::model::Pos;

    fn s(text: &str) -> Node {
        Node::new(Kind::String(text.into()), Pos::default())
    }
    fn n(text: &str) -> Node {
        Node::new(Kind::Number(text.into()), Pos::default())
    }

    #[test]
    fn json_kinds() {
        assert!(check(
            "boolean",
            &Node::new(Kind::Bool(true), Pos::default()),
            None
        )
        .is_none());
        assert!(check("boolean", &s("true"), None).is_some());
        assert!(check("integer", &n("12"), None).is_none());
        assert!(check("integer", &s("12"), None).is_some());
        assert!(check("string", &n("12"), None).is_some());
    }

    #[test]
    fn lexical_rules() {
        assert!(check("date", &s("2019-02-28"), None).is_none());
        assert!(check("date", &s("2019-02-30"), None).is_some());
        assert!(check("dateTime", &s("2019-02-03T10:00:00Z"), None).is_none());
        assert!(check("dateTime", &s("2019-02-03T10:00"), None).is_some());
        assert!(check("integer", &n("2147483648"), None).is_some());
        assert!(check("positiveInt", &n("0"), None).is_some());
        assert!(check("unsignedInt", &n("0"), None).is_none());
        assert!(check("id", &s("a_b"), None).is_some());
        assert!(check("id", &s("a-b.1"), None).is_none());
        assert!(check("string", &s(""), None).is_some());
        assert!(check("code", &s(" x"), None).is_some());
        assert!(check("base64Binary", &s("aGVsbG8="), None).is_none());
        assert!(check("base64Binary", &s("not base64!"), None).is_some());
    }
}
