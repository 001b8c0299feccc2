//! Terminal safety: control characters, ANSI escapes and bidirectional overrides
//! from inputs (feature files, a target's answers, file names) are shown escaped,
//! `\u{1b}`, never sent raw to a terminal or a CI log that would act on them.

use std::borrow::Cow;

/// The one escape sequence the harness itself writes: back to the start of the line
/// and clear it, to redraw the progress line.
const REDRAW: &[u8] = b"\r\x1b[2K";

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi(c)
}

/// `text` with control characters (but newline and tab) and bidirectional
/// overrides written as `\u{..}`.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`escape`] over a byte stream that may split a sequence between two writes.
#[derive(Default)]
pub struct Filter {
    held: Vec<u8>,
}

enum Step {
    /// Pass this many bytes through.
    Pass(usize),
    /// Replace this many bytes by the escape of the character.
    Escape(usize, u32),
    /// Cannot tell yet: more bytes are needed.
    Wait,
}

/// A byte `step` passes alone, whatever follows it.
fn passes(b: u8) -> bool {
    match b {
        b'\n' | b'\t' => true,
        0x00..=0x1f | 0x7f | 0xc2 | 0xe2 => false,
        _ => true,
    }
}

fn step(rest: &[u8], last: bool) -> Step {
    let b = rest[0];
    let wait_or = |s: Step| if last { s } else { Step::Wait };
    match b {
        b'\n' | b'\t' => Step::Pass(1),
        b'\r' => {
            if rest.get(1) == Some(&b'\n') {
                Step::Pass(2)
            } else if rest.starts_with(REDRAW) {
                Step::Pass(REDRAW.len())
            } else if REDRAW.starts_with(rest) {
                wait_or(Step::Escape(1, 0x0d))
            } else {
                Step::Escape(1, 0x0d)
            }
        }
        0x00..=0x1f | 0x7f => Step::Escape(1, u32::from(b)),
        0xc2 => match rest.get(1) {
            Some(&c @ 0x80..=0x9f) => Step::Escape(2, u32::from(c)),
            Some(_) => Step::Pass(1),
            None => wait_or(Step::Pass(1)),
        },
        0xe2 => match (rest.get(1), rest.get(2)) {
            (Some(_), Some(_)) => match std::str::from_utf8(&rest[..3]) {
                Ok(s) => match s.chars().next() {
                    Some(c) if is_bidi(c) => Step::Escape(3, c as u32),
                    _ => Step::Pass(3),
                },
                Err(_) => Step::Pass(1),
            },
            _ => wait_or(Step::Pass(1)),
        },
        _ => Step::Pass(1),
    }
}

impl Filter {
    /// Filters `data` into `out`; bytes that may start an escape wait for the next call.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<u8>) {
        self.held.extend_from_slice(data);
        self.run(false, out);
    }

    pub fn is_holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// Filters everything held, as if nothing more will come.
    pub fn flush(&mut self, out: &mut Vec<u8>) {
        self.run(true, out);
    }

    fn run(&mut self, last: bool, out: &mut Vec<u8>) {
        let mut i = 0;
        let mut plain = 0;
        while i < self.held.len() {
            // Text that can start nothing passes in runs: a run writes megabytes.
            let run = self.held[i..]
                .iter()
                .position(|&b| !passes(b))
                .unwrap_or(self.held.len() - i);
            i += run;
            if i == self.held.len() {
                break;
            }
            match step(&self.held[i..], last) {
                Step::Pass(n) => i += n.min(self.held.len() - i),
                Step::Escape(n, c) => {
                    out.extend_from_slice(&self.held[plain..i]);
                    out.extend_from_slice(format!("\\u{{{c:x}}}").as_bytes());
                    i += n;
                    plain = i;
                }
                Step::Wait => break,
            }
        }
        out.extend_from_slice(&self.held[plain..i]);
        self.held.drain(..i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filtered(chunks: &[&[u8]]) -> String {
        let mut f = Filter::default();
        let mut out = Vec::new();
        for c in chunks {
            f.push(c, &mut out);
        }
        f.flush(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_controls_but_keeps_lines_and_the_redraw() {
        assert_eq!(escape("a\x1b[31mb\tc\n"), "a\\u{1b}[31mb\tc\n");
        assert_eq!(escape("x\u{202e}y\u{9b}z"), "x\\u{202e}y\\u{9b}z");
        assert!(matches!(escape("plain é"), Cow::Borrowed(_)));
        let text = "\r\x1b[2K[1/2] ok\r\nevil\x1b]0;title\x07 \u{9b}2J \u{202e}x \r";
        let want = "\r\x1b[2K[1/2] ok\r\nevil\\u{1b}]0;title\\u{7} \\u{9b}2J \\u{202e}x \\u{d}";
        assert_eq!(filtered(&[text.as_bytes()]), want);
        let bytes = text.as_bytes();
        for cut in 0..bytes.len() {
            assert_eq!(filtered(&[&bytes[..cut], &bytes[cut..]]), want, "cut {cut}");
        }
    }
}
