//! The instance model: a JSON-shaped tree that remembers where each value came from.
//!
//! FHIR JSON and FHIR XML both read into [`Node`], so the FHIRPath engine and the
//! validator see one shape and can point at `line:col` in either source. Numbers keep
//! their lexical form, because FHIR decimals carry precision (`1.0` is not `1.00`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// A member name. Shared: a big file repeats a few hundred names millions of times,
/// and the reader keeps one copy of each.
pub type Name = Arc<str>;

/// A 1-based position in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// One value of the tree and where it starts in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    /// The number exactly as written, so decimal precision survives.
    Number(Box<str>),
    String(Box<str>),
    Array(Vec<Node>),
    /// Members in source order; duplicate names are rejected by the parser.
    Object(Vec<(Name, Node)>),
}

impl Node {
    pub fn new(kind: Kind, pos: Pos) -> Self {
        Node { kind, pos }
    }

    /// The member `name` of an object, or `None` for anything else.
    pub fn get(&self, name: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Object(members) => members.iter().find(|(k, _)| &**k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn members(&self) -> &[(Name, Node)] {
        match &self.kind {
            Kind::Object(members) => members,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.kind {
            Kind::Array(items) => items,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            Kind::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self.kind, Kind::Object(_))
    }

    pub fn is_array(&self) -> bool {
        matches!(self.kind, Kind::Array(_))
    }

    /// `resourceType` of a resource object.
    pub fn resource_type(&self) -> Option<&str> {
        self.get("resourceType").and_then(Node::as_str)
    }

    /// Follows a `/`-separated JSON Pointer (RFC 6901).
    pub fn pointer(&self, pointer: &str) -> Option<&Node> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        let mut node = self;
        for raw in rest.split('/') {
            let token = raw.replace("~1", "/").replace("~0", "~");
            node = match &node.kind {
                Kind::Object(_) => node.get(&token)?,
                Kind::Array(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Converts to `serde_json::Value`, losing positions. Numbers that serde_json
    /// cannot hold exactly stay as their lexical form via arbitrary precision parsing.
    pub fn to_value(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Number(n) => {
                serde_json::from_str(n).unwrap_or_else(|_| Value::String(n.to_string()))
            }
            Kind::String(s) => Value::String(s.to_string()),
            Kind::Array(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            Kind::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// Builds a tree from a `serde_json::Value`; every position is `pos`.
    pub fn from_value(value: &serde_json::Value, pos: Pos) -> Node {
        use serde_json::Value;
        let kind = match value {
            Value::Null => Kind::Null,
            Value::Bool(b) => Kind::Bool(*b),
            Value::Number(n) => Kind::Number(n.to_string().into()),
            Value::String(s) => Kind::String(s.as_str().into()),
            Value::Array(items) => {
                Kind::Array(items.iter().map(|v| Node::from_value(v, pos)).collect())
            }
            Value::Object(map) => Kind::Object(
                map.iter()
                    .map(|(k, v)| (k.as_str().into(), Node::from_value(v, pos)))
                    .collect(),
            ),
        };
        Node { kind, pos }
    }
}

/// Why a JSON text could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at {pos}")]
pub struct JsonError {
    pub message: String,
    pub pos: Pos,
}

/// Limits that keep hostile input from exhausting the stack.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions {
    pub max_depth: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions { max_depth: 512 }
    }
}

/// Parses JSON text (RFC 8259) into a [`Node`] tree with positions.
pub fn parse_json(text: &str) -> Result<Node, JsonError> {
    parse_json_with(text, ParseOptions::default())
}

pub fn parse_json_with(text: &str, options: ParseOptions) -> Result<Node, JsonError> {
    let mut parser = Parser {
        text,
        src: text.as_bytes(),
        at: 0,
        line: 1,
        line_start: 0,
        col_cache: Default::default(),
        options,
        names: NameMap::default(),
    };
    if parser.src.starts_with(b"\xEF\xBB\xBF") {
        parser.at = 3;
        parser.line_start = 3;
    }
    parser.skip_ws();
    let node = parser.value(0)?;
    parser.skip_ws();
    if parser.at < parser.src.len() {
        return Err(parser.error("unexpected text after the JSON value"));
    }
    Ok(node)
}

struct Parser<'a> {
    /// The source, already known to be UTF-8: strings are sliced from it, not
    /// checked again.
    text: &'a str,
    src: &'a [u8],
    at: usize,
    line: u32,
    line_start: usize,
    col_cache: std::cell::Cell<(usize, u32)>,
    options: ParseOptions,
    names: NameMap,
}

type NameMap = HashMap<Box<str>, Name, foldhash::fast::RandomState>;

/// The offset of the first byte that ends a plain string: `"`, `\\` or a control
/// character. Eight bytes at a time: definitions are mostly long prose strings.
fn string_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let w = u64::from_le_bytes(chunk.try_into().ok()?);
        let quote = w ^ (ONES * u64::from(b'"'));
        let slash = w ^ (ONES * u64::from(b'\\'));
        // A byte below 0x20, or equal to zero after the xor, sets its high bit here;
        // a borrow can only flag bytes above the first true one, so the lowest is exact.
        let hit = (quote.wrapping_sub(ONES) & !quote
            | slash.wrapping_sub(ONES) & !slash
            | w.wrapping_sub(ONES * 0x20) & !w)
            & HIGH;
        if hit != 0 {
            return Some(at + (hit.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| at + i)
}

impl<'a> Parser<'a> {
    /// The string at the cursor when it has no escapes, borrowed from the source;
    /// `None`, with nothing consumed, otherwise.
    fn plain_string(&mut self) -> Option<&'a str> {
        let src: &'a [u8] = self.src;
        let start = self.at + 1;
        let rest = src.get(start..)?;
        let end = string_end(rest)?;
        if rest[end] != b'"' {
            return None;
        }
        // Both ends are at ASCII bytes, so on character boundaries.
        let text: &'a str = self.text.get(start..start + end)?;
        self.at = start + end + 1;
        Some(text)
    }

    /// One shared allocation per distinct member name in a document.
    fn intern(&mut self, name: &str) -> Name {
        if let Some(shared) = self.names.get(name) {
            return shared.clone();
        }
        let shared: Name = name.into();
        self.names.insert(name.into(), shared.clone());
        shared
    }

    /// Columns count characters, not bytes, so a caret lines up under the text. The
    /// count resumes from the last position asked for, which keeps one long line linear.
    fn pos(&self) -> Pos {
        let (mut from, mut chars) = self.col_cache.get();
        if from < self.line_start || from > self.at {
            (from, chars) = (self.line_start, 0);
        }
        chars += self.src[from..self.at]
            .iter()
            .filter(|b| (**b & 0xC0) != 0x80)
            .count() as u32;
        self.col_cache.set((self.at, chars));
        Pos {
            line: self.line,
            col: chars + 1,
        }
    }

    fn error(&self, message: impl Into<String>) -> JsonError {
        JsonError {
            message: message.into(),
            pos: self.pos(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' => self.at += 1,
                b'\n' => {
                    self.at += 1;
                    self.line += 1;
                    self.line_start = self.at;
                }
                _ => break,
            }
        }
    }

    fn expect_literal(&mut self, word: &str, kind: Kind) -> Result<Node, JsonError> {
        let pos = self.pos();
        if self.src[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(Node { kind, pos })
        } else {
            Err(self.error(format!("expected a JSON value (did you mean `{word}`?)")))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, JsonError> {
        if depth > self.options.max_depth {
            return Err(self.error(format!(
                "JSON nested deeper than {} levels",
                self.options.max_depth
            )));
        }
        match self.peek() {
            None => Err(self.error("unexpected end of input, expected a JSON value")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => {
                let pos = self.pos();
                let s: Box<str> = match self.plain_string() {
                    Some(plain) => plain.into(),
                    None => self.string()?.into(),
                };
                Ok(Node {
                    kind: Kind::String(s),
                    pos,
                })
            }
            Some(b't') => self.expect_literal("true", Kind::Bool(true)),
            Some(b'f') => self.expect_literal("false", Kind::Bool(false)),
            Some(b'n') => self.expect_literal("null", Kind::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a JSON value")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Node, JsonError> {
        let pos = self.pos();
        self.at += 1;
        let mut members: Vec<(Name, Node)> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Node {
                kind: Kind::Object(members),
                pos,
            });
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a member name in double quotes"));
            }
            let name_pos = self.pos();
            let name = match self.plain_string() {
                Some(plain) => self.intern(plain),
                None => {
                    let escaped = self.string()?;
                    self.intern(&escaped)
                }
            };
            // Names are interned: the same name is the same allocation.
            if members.iter().any(|(k, _)| Arc::ptr_eq(k, &name)) {
                return Err(JsonError {
                    message: format!("duplicate member name \"{name}\""),
                    pos: name_pos,
                });
            }
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:` after the member name"));
            }
            self.at += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            members.push((name, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    // Growth leaves up to half of a vector unused; a big file has
                    // millions of them.
                    members.shrink_to_fit();
                    return Ok(Node {
                        kind: Kind::Object(members),
                        pos,
                    });
                }
                _ => return Err(self.error("expected `,` or `}` in object")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Node, JsonError> {
        let pos = self.pos();
        self.at += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Node {
                kind: Kind::Array(items),
                pos,
            });
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    items.shrink_to_fit();
                    return Ok(Node {
                        kind: Kind::Array(items),
                        pos,
                    });
                }
                _ => return Err(self.error("expected `,` or `]` in array")),
            }
        }
    }

    fn number(&mut self) -> Result<Node, JsonError> {
        let pos = self.pos();
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("expected a digit after the decimal point"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("expected a digit in the exponent"));
            }
            self.digits();
        }
        let text = std::str::from_utf8(&self.src[start..self.at]).unwrap_or_default();
        Ok(Node {
            kind: Kind::Number(text.into()),
            pos,
        })
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let start = self.at;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.at += 1;
            }
            let chunk = std::str::from_utf8(&self.src[start..self.at])
                .map_err(|_| self.error("string is not valid UTF-8"))?;
            out.push_str(chunk);
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let escaped = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.at += 1;
                            let c = self.unicode_escape()?;
                            out.push(c);
                            continue;
                        }
                        _ => return Err(self.error("invalid escape sequence in string")),
                    };
                    self.at += 1;
                    out.push(escaped);
                }
                Some(_) => return Err(self.error("control character in string (escape it)")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .src
            .get(self.at..self.at + 4)
            .ok_or_else(|| self.error("truncated \\u escape"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.error("invalid \\u escape"))?;
        let value = u32::from_str_radix(text, 16).map_err(|_| self.error("invalid \\u escape"))?;
        self.at += 4;
        Ok(value)
    }

    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) {
            if self.src[self.at..].starts_with(b"\\u") {
                self.at += 2;
                let second = self.hex4()?;
                if (0xDC00..0xE000).contains(&second) {
                    let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                    return char::from_u32(c).ok_or_else(|| self.error("invalid surrogate pair"));
                }
            }
            return Err(self.error("unpaired surrogate in \\u escape"));
        }
        char::from_u32(first).ok_or_else(|| self.error("unpaired surrogate in \\u escape"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_and_lexical_numbers() {
        let node = parse_json("{\n  \"a\": [1.50, true],\n  \"b\": \"x\"\n}").unwrap();
        assert_eq!(node.pos, Pos { line: 1, col: 1 });
        let a = node.get("a").unwrap();
        assert_eq!(a.pos, Pos { line: 2, col: 8 });
        assert_eq!(a.items()[0].kind, Kind::Number("1.50".into()));
        assert_eq!(node.get("b").unwrap().pos, Pos { line: 3, col: 8 });
    }

    #[test]
    fn rejects_bad_input_with_position() {
        let err = parse_json("{\"a\": 1,\n \"a\": 2}").unwrap_err();
        assert_eq!(err.pos, Pos { line: 2, col: 2 });
        assert!(err.message.contains("duplicate"));
        // The same name spelled with an escape is the same name.
        let err = parse_json(r#"{"ab": 1, "a\u0062": 2}"#).unwrap_err();
        assert!(
            err.message.contains("duplicate member name \"ab\""),
            "{}",
            err.message
        );
        assert!(parse_json(r#"{"ab": 1, "a\u0063": 2}"#).is_ok());
        assert!(parse_json("[1, 2").is_err());
        assert!(parse_json("{\"a\" 1}").is_err());
        assert!(parse_json("01").is_err());
        assert!(parse_json("\"\\x\"").is_err());
        assert!(parse_json("[] x").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        let err = parse_json(&text).unwrap_err();
        assert!(err.message.contains("nested deeper"));
    }

    #[test]
    fn escapes_and_pointer() {
        let node = parse_json(r#"{"a/b": {"c": ["\u00e9\ud83d\ude00"]}}"#).unwrap();
        assert_eq!(
            node.pointer("/a~1b/c/0").and_then(Node::as_str),
            Some("é😀")
        );
        assert!(node.pointer("/nope").is_none());
    }

    #[test]
    fn string_end_finds_the_first_quote_backslash_or_control_byte() {
        let naive = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        // Every byte value at every offset of a 20-byte run, after text that has
        // bytes just above each stop (0x20, '#', ']') and multi-byte characters.
        let before = "a #]\u{e9}\u{1f600}xyz".as_bytes();
        for stop in 0..=255u8 {
            for at in 0..20 {
                let mut bytes = before.iter().cycle().take(at).copied().collect::<Vec<u8>>();
                bytes.push(stop);
                bytes.extend_from_slice(b"tail\"");
                assert_eq!(string_end(&bytes), naive(&bytes), "byte {stop:#x} at {at}");
            }
        }
        assert_eq!(string_end(b"no end in sight"), None);
    }

    #[test]
    fn value_round_trip() {
        let node = parse_json(r#"{"x": [1, 2.5, null, "s", false]}"#).unwrap();
        let value = node.to_value();
        assert_eq!(value, serde_json::json!({"x": [1, 2.5, null, "s", false]}));
        assert_eq!(Node::from_value(&value, Pos::default()).to_value(), value);
    }
}
