//! The inputs of `assure validate`, read as a stream of units (a whole file, or one
//! NDJSON line) so that memory follows the largest unit, never the sum of the inputs.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use assure_fhir::outcome::{Issue, IssueCode, Severity};

/// Where instances come from.
#[derive(Debug, Clone)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "-".into(),
            Source::File(p) => p.display().to_string(),
        }
    }

    /// NDJSON holds one resource per line; it is read a line at a time.
    fn is_ndjson(&self) -> bool {
        matches!(self, Source::File(p) if p.extension().is_some_and(|e| e == "ndjson"))
    }
}

/// One piece of work: the text of one resource and where it sits in its file.
#[derive(Debug)]
pub struct Unit {
    /// Index of the file in the list of sources.
    pub file: usize,
    pub body: Body,
    /// The file's line the text starts on (1 for a whole file).
    pub first_line: u32,
    /// Findings about the bytes themselves (encoding), with file positions.
    pub notes: Vec<Issue>,
}

#[derive(Debug)]
pub enum Body {
    /// Text to parse as one resource (JSON or XML).
    Resource(String),
    /// A file with nothing to validate (an NDJSON file of blank lines).
    Nothing,
    /// The file could not be read (it vanished, or permissions): the reason.
    Unreadable(String),
}

impl Unit {
    /// Bytes held, for the pipeline's memory budget.
    pub fn size(&self) -> u64 {
        match &self.body {
            Body::Resource(t) => t.len() as u64,
            _ => 0,
        }
    }
}

/// Expands folders (recursively, sorted; `.json`, `.xml`, `.ndjson`). A name that
/// does not exist is an error before anything is validated.
pub fn expand(names: &[String]) -> Result<Vec<Source>, String> {
    let mut out = Vec::new();
    for name in names {
        if name == "-" {
            out.push(Source::Stdin);
            continue;
        }
        let path = Path::new(name);
        if path.is_dir() {
            let mut files = Vec::new();
            collect_dir(path, &mut files).map_err(|e| format!("failed to read {name}: {e}"))?;
            out.extend(files.into_iter().map(Source::File));
        } else if path.exists() {
            out.push(Source::File(path.to_path_buf()));
        } else {
            return Err(format!("failed to read {name}: no such file or folder"));
        }
    }
    Ok(out)
}

fn collect_dir(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect_dir(&p, out)?;
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("json" | "xml" | "ndjson")
        ) {
            out.push(p);
        }
    }
    Ok(())
}

/// Reads every source in order and hands each unit to `emit`. `admit(bytes)` is
/// called before a unit of about that size is read, and may block until the
/// pipeline has room for it.
pub fn read_units(sources: &[Source], admit: &dyn Fn(u64), emit: &mut dyn FnMut(Unit)) {
    for (file, source) in sources.iter().enumerate() {
        let unreadable = |e: std::io::Error| Unit {
            file,
            body: Body::Unreadable(format!("failed to read {}: {e}", source.name())),
            first_line: 1,
            notes: Vec::new(),
        };
        if source.is_ndjson() {
            let Source::File(path) = source else { continue };
            match std::fs::File::open(path) {
                Ok(f) => ndjson_units(file, BufReader::new(f), admit, emit),
                Err(e) => {
                    admit(0);
                    emit(unreadable(e));
                }
            }
            continue;
        }
        let bytes = match source {
            Source::Stdin => {
                admit(0);
                let mut bytes = Vec::new();
                std::io::stdin().read_to_end(&mut bytes).map(|_| bytes)
            }
            Source::File(path) => {
                admit(std::fs::metadata(path).map_or(0, |m| m.len()));
                std::fs::read(path)
            }
        };
        match bytes {
            Ok(bytes) => {
                let (text, notes) = decode(bytes, 1);
                emit(Unit {
                    file,
                    body: Body::Resource(text),
                    first_line: 1,
                    notes,
                });
            }
            Err(e) => emit(unreadable(e)),
        }
    }
}

/// One unit per non-blank line; a file of blank lines still yields one (empty) unit
/// so that it is reported.
fn ndjson_units(
    file: usize,
    mut reader: impl BufRead,
    admit: &dyn Fn(u64),
    emit: &mut dyn FnMut(Unit),
) {
    let mut line_no = 0u32;
    let mut any = false;
    loop {
        let mut buf = Vec::new();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                admit(0);
                emit(Unit {
                    file,
                    body: Body::Unreadable(format!("failed to read line {}: {e}", line_no + 1)),
                    first_line: line_no + 1,
                    notes: Vec::new(),
                });
                return;
            }
        }
        line_no += 1;
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        any = true;
        admit(buf.len() as u64);
        let (text, notes) = decode(buf, line_no);
        emit(Unit {
            file,
            body: Body::Resource(text),
            first_line: line_no,
            notes,
        });
    }
    if !any {
        admit(0);
        emit(Unit {
            file,
            body: Body::Nothing,
            first_line: 1,
            notes: Vec::new(),
        });
    }
}

/// FHIR text is UTF-8. Other bytes are an error at the first bad byte's line:col; the
/// rest is read with replacement characters so that it is still checked.
fn decode(bytes: Vec<u8>, first_line: u32) -> (String, Vec<Issue>) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, Vec::new()),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let valid = &bytes[..at];
            let newlines = valid.iter().filter(|b| **b == b'\n').count() as u32;
            let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            let col = valid[line_start..]
                .iter()
                .filter(|b| (**b & 0xC0) != 0x80)
                .count() as u32
                + 1;
            let mut note = Issue::new(
                Severity::Error,
                IssueCode::Structure,
                format!(
                    "the text is not valid UTF-8 (byte 0x{:02X} at offset {at}): FHIR requires UTF-8; read on with replacement characters",
                    bytes[at]
                ),
            );
            note.line = first_line + newlines;
            note.col = col;
            (String::from_utf8_lossy(&bytes).into_owned(), vec![note])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(text: &[u8]) -> Vec<Unit> {
        let mut out = Vec::new();
        ndjson_units(0, text, &|_| {}, &mut |u| out.push(u));
        out
    }

    #[test]
    fn ndjson_lines_keep_their_line_numbers() {
        let got = units(b"{\"a\":1}\r\n\n  \n{\"b\":2}");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].first_line, 1);
        assert_eq!(got[1].first_line, 4);
        assert!(matches!(&got[1].body, Body::Resource(t) if t == "{\"b\":2}"));
        let blank = units(b"\n\n");
        assert!(matches!(blank[0].body, Body::Nothing));
    }

    #[test]
    fn bad_utf8_is_an_error_at_its_position() {
        let (text, notes) = decode(b"{\n  \"a\": \"M\xfcller\"}".to_vec(), 7);
        assert!(text.contains('\u{FFFD}'));
        assert_eq!((notes[0].line, notes[0].col), (8, 10));
        assert!(notes[0].severity.is_error());
        assert!(notes[0].message.contains("0xFC"), "{}", notes[0].message);
    }
}
