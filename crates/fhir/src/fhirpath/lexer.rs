//! FHIRPath lexer: turns expression text into tokens with byte offsets.

use super::error::{ExprPos, FhirPathError};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A plain identifier or keyword (`and`, `where`, `Patient`).
    Ident(String),
    /// A `` `delimited` `` identifier: never a keyword.
    Delimited(String),
    Str(String),
    Number(String),
    Long(String),
    /// Date, DateTime or Time literal text without the `@`.
    Date(String),
    DateTime(String),
    Time(String),
    /// `%name`, `%'name'` or `` %`name` ``.
    EnvVar(String),
    /// `$this`, `$index`, `$total`.
    Special(String),
    Punct(&'static str),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

const PUNCTS: [&str; 21] = [
    "!=", "!~", "<=", ">=", ".", "[", "]", "(", ")", "{", "}", ",", "+", "-", "*", "/", "&", "|",
    "=", "~", "<",
];

pub fn tokenize(text: &str) -> Result<Vec<Token>, FhirPathError> {
    let mut lx = Lexer {
        text,
        src: text.as_bytes(),
        at: 0,
    };
    let mut out = Vec::new();
    loop {
        lx.skip_trivia()?;
        let start = lx.at;
        let Some(c) = lx.peek() else {
            out.push(Token {
                tok: Tok::Eof,
                start,
                end: start,
            });
            return Ok(out);
        };
        let tok = lx.token(c)?;
        out.push(Token {
            tok,
            start,
            end: lx.at,
        });
    }
}

struct Lexer<'t> {
    text: &'t str,
    src: &'t [u8],
    at: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.at).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.src.get(self.at + n).copied()
    }

    fn err(&self, message: impl Into<String>, at: usize) -> FhirPathError {
        FhirPathError::syntax(message, ExprPos::at(self.text, at))
    }

    fn skip_trivia(&mut self) -> Result<(), FhirPathError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.at += 1,
                Some(b'/') if self.peek_at(1) == Some(b'/') => {
                    while !matches!(self.peek(), None | Some(b'\n')) {
                        self.at += 1;
                    }
                }
                Some(b'/') if self.peek_at(1) == Some(b'*') => {
                    let start = self.at;
                    match self.text[self.at + 2..].find("*/") {
                        Some(i) => self.at += 2 + i + 2,
                        None => return Err(self.err("unterminated comment", start)),
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn token(&mut self, c: u8) -> Result<Tok, FhirPathError> {
        let start = self.at;
        match c {
            b'\'' => Ok(Tok::Str(self.quoted(b'\'')?)),
            b'`' => Ok(Tok::Delimited(self.quoted(b'`')?)),
            b'0'..=b'9' => Ok(self.number()),
            b'@' => self.temporal(),
            b'%' => {
                self.at += 1;
                match self.peek() {
                    Some(b'\'') => Ok(Tok::EnvVar(self.quoted(b'\'')?)),
                    Some(b'`') => Ok(Tok::EnvVar(self.quoted(b'`')?)),
                    // `%"vs-name"`, an older spelling still seen in the wild.
                    Some(b'"') => Ok(Tok::EnvVar(self.quoted(b'"')?)),
                    Some(c) if is_ident_start(c) => Ok(Tok::EnvVar(self.ident().to_string())),
                    _ => Err(self.err("expected a variable name after `%`", start)),
                }
            }
            b'$' => {
                self.at += 1;
                let name = self.ident().to_string();
                match name.as_str() {
                    "this" | "index" | "total" => Ok(Tok::Special(name)),
                    _ => Err(self.err(format!("unknown special variable `${name}`"), start)),
                }
            }
            c if is_ident_start(c) => Ok(Tok::Ident(self.ident().to_string())),
            _ => {
                for p in PUNCTS {
                    if self.src[self.at..].starts_with(p.as_bytes()) {
                        self.at += p.len();
                        return Ok(Tok::Punct(p));
                    }
                }
                if c == b'>' {
                    self.at += 1;
                    return Ok(Tok::Punct(">"));
                }
                let ch = self.text[self.at..].chars().next().unwrap_or('?');
                Err(self.err(format!("unexpected character `{ch}`"), start))
            }
        }
    }

    fn ident(&mut self) -> &str {
        let start = self.at;
        while matches!(self.peek(), Some(c) if is_ident_start(c) || c.is_ascii_digit()) {
            self.at += 1;
        }
        &self.text[start..self.at]
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Tok {
        let start = self.at;
        self.digits();
        if self.peek() == Some(b'.') && matches!(self.peek_at(1), Some(b'0'..=b'9')) {
            self.at += 1;
            self.digits();
        } else if self.peek() == Some(b'L') {
            let text = self.text[start..self.at].to_string();
            self.at += 1;
            return Tok::Long(text);
        }
        Tok::Number(self.text[start..self.at].to_string())
    }

    /// Reads `'...'` or `` `...` `` with FHIRPath escapes; the opening quote is at `at`.
    fn quoted(&mut self, quote: u8) -> Result<String, FhirPathError> {
        let start = self.at;
        self.at += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.text[self.at..].chars().next() else {
                return Err(self.err("unterminated string", start));
            };
            self.at += c.len_utf8();
            if c as u32 == quote as u32 {
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(e) = self.peek() else {
                return Err(self.err("unterminated string", start));
            };
            self.at += 1;
            out.push(match e {
                b'\'' => '\'',
                b'"' => '"',
                b'`' => '`',
                b'\\' => '\\',
                b'/' => '/',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let hex = self
                        .text
                        .get(self.at..self.at + 4)
                        .ok_or_else(|| self.err("truncated \\u escape", self.at))?;
                    let code = u32::from_str_radix(hex, 16)
                        .map_err(|_| self.err("invalid \\u escape", self.at))?;
                    self.at += 4;
                    char::from_u32(code).unwrap_or('\u{fffd}')
                }
                _ => return Err(self.err("invalid escape sequence", self.at - 2)),
            });
        }
    }

    fn expect_digits(&mut self, n: usize) -> bool {
        let ok = (0..n).all(|i| matches!(self.peek_at(i), Some(b'0'..=b'9')));
        if ok {
            self.at += n;
        }
        ok
    }

    fn temporal(&mut self) -> Result<Tok, FhirPathError> {
        let start = self.at;
        self.at += 1;
        if self.peek() == Some(b'T') {
            self.at += 1;
            let body = self.at;
            if !self.time_part() {
                return Err(self.err("malformed time literal", start));
            }
            // A zone on a time literal is lexed so the error can say so precisely.
            self.zone();
            return Ok(Tok::Time(self.text[body..self.at].to_string()));
        }
        let body = self.at;
        if !self.expect_digits(4) {
            return Err(self.err("malformed date literal", start));
        }
        for _ in 0..2 {
            if self.peek() == Some(b'-') && matches!(self.peek_at(1), Some(b'0'..=b'9')) {
                self.at += 1;
                if !self.expect_digits(2) {
                    return Err(self.err("malformed date literal", start));
                }
            } else {
                break;
            }
        }
        if self.peek() != Some(b'T') {
            return Ok(Tok::Date(self.text[body..self.at].to_string()));
        }
        self.at += 1;
        if matches!(self.peek(), Some(b'0'..=b'9')) && !self.time_part() {
            return Err(self.err("malformed date/time literal", start));
        }
        self.zone();
        Ok(Tok::DateTime(self.text[body..self.at].to_string()))
    }

    fn time_part(&mut self) -> bool {
        if !self.expect_digits(2) {
            return false;
        }
        for _ in 0..2 {
            if self.peek() == Some(b':') && matches!(self.peek_at(1), Some(b'0'..=b'9')) {
                self.at += 1;
                if !self.expect_digits(2) {
                    return false;
                }
            } else {
                return true;
            }
        }
        if self.peek() == Some(b'.') && matches!(self.peek_at(1), Some(b'0'..=b'9')) {
            self.at += 1;
            self.digits();
        }
        true
    }

    fn zone(&mut self) {
        match self.peek() {
            Some(b'Z') => self.at += 1,
            Some(b'+' | b'-')
                if (1..3).all(|i| matches!(self.peek_at(i), Some(b'0'..=b'9')))
                    && self.peek_at(3) == Some(b':') =>
            {
                let save = self.at;
                self.at += 4;
                if !self.expect_digits(2) {
                    self.at = save;
                }
            }
            _ => {}
        }
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<Tok> {
        tokenize(text).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn literals_and_punctuation() {
        assert_eq!(
            toks("a.b != 1.5 // c"),
            vec![
                Tok::Ident("a".into()),
                Tok::Punct("."),
                Tok::Ident("b".into()),
                Tok::Punct("!="),
                Tok::Number("1.5".into()),
                Tok::Eof
            ]
        );
        assert_eq!(toks("1.exp()")[0], Tok::Number("1".into()));
        assert_eq!(toks("5L")[0], Tok::Long("5".into()));
        assert_eq!(toks("'a\\'b\\u0041'")[0], Tok::Str("a'bA".into()));
        assert_eq!(toks("%`vs-x`")[0], Tok::EnvVar("vs-x".into()));
        assert_eq!(toks("%\"vs-x\"")[0], Tok::EnvVar("vs-x".into()));
        assert!(tokenize("%\"open").is_err());
        assert_eq!(toks("/* x */ $this")[0], Tok::Special("this".into()));
    }

    #[test]
    fn temporal_literals() {
        assert_eq!(toks("@2014-01")[0], Tok::Date("2014-01".into()));
        assert_eq!(toks("@2014T")[0], Tok::DateTime("2014T".into()));
        assert_eq!(
            toks("@2014-01-01T08:05+08:00.x")[0],
            Tok::DateTime("2014-01-01T08:05+08:00".into())
        );
        assert_eq!(toks("@T10:30:00.000")[0], Tok::Time("10:30:00.000".into()));
        assert_eq!(toks("@2012-04-15-x")[0], Tok::Date("2012-04-15".into()));
    }

    #[test]
    fn errors_have_positions() {
        let e = tokenize("a + 'open").unwrap_err();
        assert_eq!(e.pos.col, 5);
        assert!(tokenize("a # b").is_err());
        assert!(tokenize("$that").is_err());
        assert!(tokenize("@20").is_err());
        assert!(tokenize("/* never closed").is_err());
        assert!(tokenize("'\\q'").is_err());
    }
}
