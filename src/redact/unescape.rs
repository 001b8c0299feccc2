//! One level of the escapes a secret can hide behind in text, undone with a map back
//! to the original bytes: percent-encoding (`%2F`, any case, any subset of characters),
//! JSON string escapes (`\u002f`, `\/`) and HTML/XML character references (`&#x2f;`,
//! `&amp;`). Encoders escape different characters; decoding catches every mix.

/// Text decoded one level, and for each decoded byte the original span it came from.
pub struct Decoded {
    pub bytes: Vec<u8>,
    pub from: Vec<(u32, u32)>,
}

impl Decoded {
    /// The original span of decoded bytes `start..end`.
    pub fn original(&self, start: usize, end: usize) -> (usize, usize) {
        (self.from[start].0 as usize, self.from[end - 1].1 as usize)
    }
}

/// Whether `data` may hold anything [`decode`] would undo.
pub fn has_escapes(data: &[u8]) -> bool {
    data.iter().any(|b| matches!(b, b'%' | b'\\' | b'&'))
}

fn hex_value(digits: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(digits).ok()?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// A JSON `\uXXXX` (with its low surrogate when it is a high one): the character and
/// how many bytes it took.
fn json_unicode(rest: &[u8]) -> Option<(char, usize)> {
    let unit = |at: usize| rest.get(at..at + 4).and_then(hex_value);
    let first = unit(2)?;
    if (0xd800..0xdc00).contains(&first) && rest.get(6..8) == Some(b"\\u") {
        let second = unit(8)?;
        let c = char::decode_utf16([first as u16, second as u16])
            .next()?
            .ok()?;
        return Some((c, 12));
    }
    char::from_u32(first).map(|c| (c, 6))
}

fn html_reference(rest: &[u8]) -> Option<(char, usize)> {
    let end = rest.iter().take(12).position(|&b| b == b';')?;
    let name = &rest[1..end];
    let c = match name {
        b"amp" => '&',
        b"lt" => '<',
        b"gt" => '>',
        b"quot" => '"',
        b"apos" => '\'',
        _ => {
            let value = match name {
                [b'#', b'x' | b'X', hex @ ..] => hex_value(hex)?,
                [b'#', dec @ ..] => std::str::from_utf8(dec).ok()?.parse().ok()?,
                _ => return None,
            };
            char::from_u32(value)?
        }
    };
    Some((c, end + 1))
}

/// The escape starting `rest`, if any: its bytes when decoded and its length.
fn escape_at(rest: &[u8]) -> Option<(Vec<u8>, usize)> {
    let as_bytes = |c: char| c.to_string().into_bytes();
    match rest[0] {
        b'%' => {
            let value = rest.get(1..3).and_then(hex_value)?;
            Some((vec![value as u8], 3))
        }
        b'\\' => match rest.get(1)? {
            b'u' => json_unicode(rest).map(|(c, n)| (as_bytes(c), n)),
            &c @ (b'/' | b'"' | b'\\' | b'\'') => Some((vec![c], 2)),
            _ => None,
        },
        b'&' => html_reference(rest).map(|(c, n)| (as_bytes(c), n)),
        _ => None,
    }
}

/// `data` with one level of escapes undone; `offset` is added to every position.
pub fn decode(data: &[u8], offset: usize) -> Decoded {
    let mut bytes = Vec::with_capacity(data.len());
    let mut from = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        let at = (offset + i) as u32;
        match escape_at(&data[i..]) {
            Some((decoded, used)) => {
                let end = (offset + i + used) as u32;
                for b in decoded {
                    bytes.push(b);
                    from.push((at, end));
                }
                i += used;
            }
            None => {
                bytes.push(data[i]);
                from.push((at, at + 1));
                i += 1;
            }
        }
    }
    Decoded { bytes, from }
}

/// Decodes what was decoded before, keeping the map to the first text.
pub fn decode_again(first: &Decoded) -> Decoded {
    let mut second = decode(&first.bytes, 0);
    for span in &mut second.from {
        let (s, e) = (span.0 as usize, span.1 as usize);
        *span = (first.from[s].0, first.from[e - 1].1);
    }
    second
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_mix_and_maps_back() {
        let text = b"a%2fb\\u0063\\/&#x64;&amp;e\\ud83d\\ude00 %zz \\q &bogus;";
        let d = decode(text, 10);
        assert_eq!(
            String::from_utf8(d.bytes.clone()).unwrap(),
            "a/bc/d&e\u{1f600} %zz \\q &bogus;"
        );
        // `c` came from `\u0063`, bytes 5..11 of the text.
        let c = d.bytes.iter().position(|&b| b == b'c').unwrap();
        assert_eq!(d.original(c, c + 1), (15, 21));
        // Two levels: JSON inside JSON.
        let nested = decode(b"x\\\\u0041y", 0);
        let again = decode_again(&nested);
        assert_eq!(again.bytes, b"xAy");
        assert_eq!(again.original(1, 2), (1, 8));
    }
}
