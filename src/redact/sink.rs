//! Redaction of a byte stream: what a report writer renders, or what the process
//! prints. A secret may be split across two writes, so the last bytes are held back
//! until it is known that no secret continues in them.

use std::io::{self, Write};

use super::Redactor;

/// Held bytes are scanned once this many have gathered, so that many small writes
/// do not each rescan what is held.
const SCAN_AT: usize = 64 * 1024;

/// The redaction state of one stream.
#[derive(Default)]
pub struct Stream {
    held: Vec<u8>,
}

impl Stream {
    /// Takes `data`; passes on to `out` what is settled, redacted.
    pub fn push(&mut self, redactor: &Redactor, data: &[u8], out: &mut dyn FnMut(&[u8])) {
        if redactor.is_empty() && self.held.is_empty() {
            out(data);
            return;
        }
        self.held.extend_from_slice(data);
        if self.held.len() >= SCAN_AT + redactor.longest() {
            self.settle(redactor, false, out);
        }
    }

    /// Passes on everything that can be decided now; with `all`, everything held.
    pub fn settle(&mut self, redactor: &Redactor, all: bool, out: &mut dyn FnMut(&[u8])) {
        if self.held.is_empty() {
            return;
        }
        // A secret starting before `safe` lies wholly in what is held: decided.
        let safe = if all {
            self.held.len()
        } else {
            self.held
                .len()
                .saturating_sub(redactor.longest().saturating_sub(1))
        };
        let mut at = 0;
        redactor.for_each_match(&self.held, |start, end| {
            if start >= safe {
                return false;
            }
            out(&self.held[at..start]);
            out(super::MASK.as_bytes());
            at = end;
            true
        });
        if at < safe {
            out(&self.held[at..safe]);
        }
        self.held.drain(..at.max(safe));
    }

    pub fn is_holding(&self) -> bool {
        !self.held.is_empty()
    }
}

/// A writer that redacts everything written through it before it reaches `inner`.
/// Call [`Sink::finish`]: bytes still held are written only then.
pub struct Sink<W: Write> {
    inner: W,
    redactor: Redactor,
    stream: Stream,
    error: Option<io::Error>,
}

impl<W: Write> Sink<W> {
    pub fn new(inner: W, redactor: Redactor) -> Self {
        Sink {
            inner,
            redactor,
            stream: Stream::default(),
            error: None,
        }
    }

    fn pass(&mut self, all: bool, data: &[u8]) -> io::Result<()> {
        let Sink {
            inner,
            redactor,
            stream,
            error,
        } = self;
        let mut out = |piece: &[u8]| {
            if error.is_none() {
                if let Err(e) = inner.write_all(piece) {
                    *error = Some(e);
                }
            }
        };
        if all {
            stream.settle(redactor, true, &mut out);
        } else {
            stream.push(redactor, data, &mut out);
        }
        match error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Writes what is held and returns the inner writer, flushed.
    pub fn finish(mut self) -> io::Result<W> {
        self.pass(true, &[])?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pass(false, buf)?;
        Ok(buf.len())
    }

    /// Flushes the inner writer; held bytes wait for [`Sink::finish`], since a secret
    /// may continue in the next write.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through_sink(redactor: &Redactor, chunks: &[&[u8]]) -> Vec<u8> {
        let mut sink = Sink::new(Vec::new(), redactor.clone());
        for c in chunks {
            sink.write_all(c).unwrap();
        }
        sink.finish().unwrap()
    }

    #[test]
    fn a_secret_split_across_writes_is_still_masked() {
        let r = Redactor::new(["s3cr3t-token"]);
        let text = b"before s3cr3t-token after s3cr3t-token";
        for cut in 0..text.len() {
            let out = through_sink(&r, &[&text[..cut], &text[cut..]]);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "before [REDACTED] after [REDACTED]",
                "cut at {cut}"
            );
        }
        // One byte at a time, and across the scan threshold.
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(
            through_sink(&r, &bytes),
            b"before [REDACTED] after [REDACTED]"
        );
        let mut big = vec![b'x'; SCAN_AT - 3];
        big.extend_from_slice(b"s3cr3t-token");
        let out = through_sink(&r, &[&big[..SCAN_AT], &big[SCAN_AT..]]);
        assert!(out.ends_with(b"x[REDACTED]"));
        assert!(!out.windows(12).any(|w| w == b"s3cr3t-token"));
    }

    #[test]
    fn nothing_is_held_without_secrets() {
        let r = Redactor::default();
        let mut s = Stream::default();
        let mut got = Vec::new();
        s.push(&r, b"plain", &mut |p| got.extend_from_slice(p));
        assert_eq!(got, b"plain");
        assert!(!s.is_holding());
    }
}
