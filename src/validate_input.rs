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

/// The most one document (a file, stdin, one NDJSON line) may hold, by default.
pub const DEFAULT_MAX_INPUT: u64 = 1 << 30;

/// Reads `1GiB`, `512MiB`, `64k`, `1000000`: binary multiples for `k`/`KiB`, `M`/`MiB`,
/// `G`/`GiB`; decimal ones for `KB`, `MB`, `GB`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 1GiB, 512MiB, 64k)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (use k, MiB, GiB, KB, MB, GB)"
            ))
        }
    };
    n.checked_mul(factor)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is not a size greater than 0"))
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
    /// The document was refused (over `--max-input`): the run exits 2.
    pub refused: bool,
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
/// does not exist, that is not a regular file (a FIFO or a device would block or
/// never end: pipe it to `-` instead), or a file over `max_input` (NDJSON: a line
/// over it) is an error before anything is validated.
pub fn expand(names: &[String], max_input: u64) -> Result<Vec<Source>, String> {
    let mut out = Vec::new();
    for name in names {
        if name == "-" {
            out.push(Source::Stdin);
            continue;
        }
        let path = Path::new(name);
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("failed to read {name}: {}", io_reason(&e)))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            collect_dir(path, &mut files).map_err(|e| format!("failed to read {name}: {e}"))?;
            for f in files {
                let meta = std::fs::metadata(&f)
                    .map_err(|e| format!("failed to read {}: {}", f.display(), io_reason(&e)))?;
                out.push(regular(&f, &meta, max_input)?);
            }
        } else {
            out.push(regular(path, &meta, max_input)?);
        }
    }
    Ok(out)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        _ => e.to_string(),
    }
}

/// A regular file within the size limit (NDJSON files are limited per line).
fn regular(path: &Path, meta: &std::fs::Metadata, max_input: u64) -> Result<Source, String> {
    let name = path.display();
    if !meta.is_file() {
        return Err(format!(
            "{name} is {}, not a regular file: it is not read, because it may never end; \
             to validate what it gives, pipe it in: `assure validate - < {name}`",
            file_kind(meta)
        ));
    }
    let source = Source::File(path.to_path_buf());
    if !source.is_ndjson() && meta.len() > max_input {
        return Err(format!(
            "{name} is {} bytes, more than --max-input ({max_input} bytes)",
            meta.len()
        ));
    }
    Ok(source)
}

fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    let _ = meta;
    "not a file"
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

/// Opens a file for reading only if it is (still) a regular file.
fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let f = std::fs::File::open(path)?;
    if f.metadata()?.is_file() {
        Ok(f)
    } else {
        Err(std::io::Error::other("it is no longer a regular file"))
    }
}

/// Reads every source in order and hands each unit to `emit`. `admit(bytes)` is
/// called before a unit of about that size is read, and may block until the
/// pipeline has room for it. No document is read past `max_input` bytes.
pub fn read_units(
    sources: &[Source],
    max_input: u64,
    admit: &dyn Fn(u64),
    emit: &mut dyn FnMut(Unit),
) {
    for (file, source) in sources.iter().enumerate() {
        let unreadable = |e: std::io::Error| Unit {
            file,
            body: Body::Unreadable(format!("failed to read {}: {e}", source.name())),
            first_line: 1,
            notes: Vec::new(),
            refused: false,
        };
        if source.is_ndjson() {
            let Source::File(path) = source else { continue };
            match open_regular(path) {
                Ok(f) => ndjson_units(file, BufReader::new(f), max_input, admit, emit),
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
                read_capped(std::io::stdin().lock(), max_input)
            }
            Source::File(path) => {
                admit(std::fs::metadata(path).map_or(0, |m| m.len().min(max_input)));
                open_regular(path).and_then(|f| read_capped(f, max_input))
            }
        };
        match bytes {
            Ok(Some(bytes)) => {
                let (text, notes) = decode(bytes, 1);
                emit(Unit {
                    file,
                    body: Body::Resource(text),
                    first_line: 1,
                    notes,
                    refused: false,
                });
            }
            Ok(None) => emit(too_large(file, 1, max_input)),
            Err(e) => emit(unreadable(e)),
        }
    }
}

/// All of `reader`, or `None` once it gives more than `max` bytes (reading stops there).
fn read_capped(reader: impl Read, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

fn too_large(file: usize, line: u32, max: u64) -> Unit {
    Unit {
        file,
        body: Body::Unreadable(format!(
            "the document is larger than --max-input ({max} bytes): not read past that, not validated"
        )),
        first_line: line,
        notes: Vec::new(),
        refused: true,
    }
}

/// One line of at most `max` bytes (without the newline) into `buf`; a longer one
/// is skipped to its end without being held. `Ok(None)`: end of input.
fn read_line_capped(
    reader: &mut impl BufRead,
    max: u64,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<bool>> {
    let mut fits = true;
    let mut any = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(any.then_some(fits));
        }
        any = true;
        let (part, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (&chunk[..=i], true),
            None => (chunk, false),
        };
        let n = part.len();
        if fits && (buf.len() + n) as u64 <= max.saturating_add(2) {
            buf.extend_from_slice(part);
        } else {
            fits = false;
            buf.clear();
        }
        reader.consume(n);
        if done {
            return Ok(Some(fits));
        }
    }
}

/// One unit per non-blank line; a file of blank lines still yields one (empty) unit
/// so that it is reported.
fn ndjson_units(
    file: usize,
    mut reader: impl BufRead,
    max_input: u64,
    admit: &dyn Fn(u64),
    emit: &mut dyn FnMut(Unit),
) {
    let mut line_no = 0u32;
    let mut any = false;
    loop {
        let mut buf = Vec::new();
        match read_line_capped(&mut reader, max_input, &mut buf) {
            Ok(None) => break,
            Ok(Some(true)) => {}
            Ok(Some(false)) => {
                line_no += 1;
                any = true;
                admit(0);
                emit(too_large(file, line_no, max_input));
                continue;
            }
            Err(e) => {
                admit(0);
                emit(Unit {
                    file,
                    body: Body::Unreadable(format!("failed to read line {}: {e}", line_no + 1)),
                    first_line: line_no + 1,
                    notes: Vec::new(),
                    refused: false,
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
        if buf.len() as u64 > max_input {
            any = true;
            admit(0);
            emit(too_large(file, line_no, max_input));
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
            refused: false,
        });
    }
    if !any {
        admit(0);
        emit(Unit {
            file,
            body: Body::Nothing,
            first_line: 1,
            notes: Vec::new(),
            refused: false,
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
        ndjson_units(0, text, 1 << 20, &|_| {}, &mut |u| out.push(u));
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
    fn ndjson_lines_over_the_limit_are_refused_and_the_rest_read() {
        let mut out = Vec::new();
        let text = format!("{{\"a\":1}}\n{}\n{{\"b\":2}}\n", "x".repeat(100));
        ndjson_units(0, text.as_bytes(), 50, &|_| {}, &mut |u| out.push(u));
        assert_eq!(out.len(), 3);
        assert!(!out[0].refused && out[1].refused && !out[2].refused);
        assert_eq!(out[1].first_line, 2);
        assert!(matches!(&out[1].body, Body::Unreadable(m) if m.contains("--max-input")));
        assert!(matches!(&out[2].body, Body::Resource(t) if t == "{\"b\":2}"));
        // A long line read in small pieces is not held whole.
        let long = format!("{}\n{{}}", "y".repeat(10_000));
        let mut reader = std::io::BufReader::with_capacity(16, long.as_bytes());
        let mut buf = Vec::new();
        assert_eq!(
            read_line_capped(&mut reader, 64, &mut buf).unwrap(),
            Some(false)
        );
        assert!(buf.capacity() < 1000, "{}", buf.capacity());
        buf.clear();
        assert_eq!(
            read_line_capped(&mut reader, 64, &mut buf).unwrap(),
            Some(true)
        );
        assert_eq!(buf, b"{}");
    }

    #[test]
    fn documents_are_read_up_to_the_limit() {
        assert_eq!(
            read_capped(&b"12345"[..], 5).unwrap(),
            Some(b"12345".to_vec())
        );
        assert_eq!(read_capped(&b"123456"[..], 5).unwrap(), None);
        assert_eq!(read_capped(std::io::repeat(0), 1000).unwrap(), None);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        assert_eq!(parse_size("100"), Ok(100));
        for bad in ["", "0", "GiB", "1 parsec", "-1", "99999999999999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_are_refused_before_reading() {
        let err = expand(&["/dev/zero".to_string()], 1 << 20).unwrap_err();
        assert!(
            err.contains("a device") && err.contains("assure validate -"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("in.json");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let err = expand(&[fifo.display().to_string()], 1 << 20).unwrap_err();
            assert!(err.contains("a FIFO"), "{err}");
            // Found inside a folder too.
            let err = expand(&[dir.path().display().to_string()], 1 << 20).unwrap_err();
            assert!(err.contains("a FIFO"), "{err}");
        }
        let big = dir.path().join("big.json");
        std::fs::write(&big, vec![b' '; 2000]).unwrap();
        let _ = std::fs::remove_file(&fifo);
        let err = expand(&[big.display().to_string()], 1000).unwrap_err();
        assert!(err.contains("more than --max-input"), "{err}");
        assert!(expand(&[big.display().to_string()], 2000).is_ok());
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
