//! Reports: one model, rendered by independent writers into `reports/<run-id>/`.
//! Each file is written to a temporary name and renamed, so a reader never sees half
//! a report; one writer failing does not stop the others. Every string of the model
//! passes the process's redactor before a writer sees it, and every byte a writer
//! puts out passes it again on its way to the file: no writer can leak a secret.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub mod collect;
pub mod command;
pub mod diff;
pub mod html;
pub mod html_assets;
mod html_evidence;
pub mod junit;
pub mod keys;
pub mod manifest;
pub mod markdown;
pub mod merge;
pub mod messages;
pub mod model;
pub mod pdf;
pub mod provenance;
pub mod rerun;
pub mod waivers;

use crate::redact::sink::Sink;
use model::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Html,
    Json,
    Junit,
    Md,
    /// Cucumber Messages (NDJSON).
    Messages,
    /// The HTML report printed by headless Chromium.
    Pdf,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Json, Format::Html, Format::Junit, Format::Md];

    pub fn file_name(self) -> &'static str {
        match self {
            Format::Html => "report.html",
            Format::Json => "report.json",
            Format::Junit => "junit.xml",
            Format::Md => "summary.md",
            Format::Messages => "messages.ndjson",
            Format::Pdf => "report.pdf",
        }
    }

    pub fn render(self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Format::Html => html::write(report, out),
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, report)?;
                writeln!(out)
            }
            Format::Junit => junit::write(report, out),
            Format::Md => markdown::write(report, out),
            Format::Messages => messages::write(report, out),
            Format::Pdf => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a PDF is printed to a file by write_all, not rendered to a stream",
            )),
        }
    }
}

/// A run id: the start time and 64 random bits, so that no two runs share a folder.
pub fn new_run_id(started: chrono::DateTime<chrono::Utc>) -> String {
    let random = uuid::Uuid::new_v4().as_u64_pair().0;
    format!("{}-{random:016x}", started.format("%Y%m%dT%H%M%SZ"))
}

/// Creates `base/<run id>`, never reusing a folder: when one of that name exists, the
/// run gets a new id (same start time, new random part) and tries again.
pub fn create_run_dir(base: &Path, run_id: &mut String) -> io::Result<PathBuf> {
    std::fs::create_dir_all(base)?;
    let stamp = run_id
        .split_once('-')
        .map_or(run_id.as_str(), |(t, _)| t)
        .to_owned();
    for _ in 0..16 {
        let dir = base.join(run_id.as_str());
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let random = uuid::Uuid::new_v4().as_u64_pair().0;
                *run_id = format!("{stamp}-{random:016x}");
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "every run folder name tried already exists",
    ))
}

/// Writes each format into `dir` (which must exist); returns what was written and
/// what failed.
pub fn write_all(
    report: &Report,
    dir: &Path,
    formats: &[Format],
) -> Vec<(Format, Result<PathBuf, io::Error>)> {
    let redactor = crate::redact::global();
    let scrubbed = scrubbed(report, &redactor);
    if scrubbed.is_none() {
        // A model that does not round-trip through serde is a bug: say so.
        eprintln!("warning: the report model could not be redacted string by string; its files are redacted byte by byte only");
    }
    let report = scrubbed.as_ref().unwrap_or(report);
    formats
        .iter()
        .map(|f| (*f, write_one(report, dir, *f, &redactor)))
        .collect()
}

/// The report with every string of it passed through the redactor, so that what a
/// writer does to a string (pretty-printing a body, cutting it, escaping it) starts
/// from clean text. `None` when that cannot be done; the file sink still redacts.
fn scrubbed(report: &Report, redactor: &crate::redact::Redactor) -> Option<Report> {
    fn walk(v: &mut serde_json::Value, redactor: &crate::redact::Redactor) {
        match v {
            serde_json::Value::String(s) => {
                let clean = redactor.text(s);
                if clean != *s {
                    *s = clean;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| walk(i, redactor)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|i| walk(i, redactor)),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(report).ok()?;
    walk(&mut value, redactor);
    serde_json::from_value(value).ok()
}

/// A file in the run folder, written through the redacting sink.
fn create(
    path: &Path,
    redactor: &crate::redact::Redactor,
) -> io::Result<Sink<io::BufWriter<std::fs::File>>> {
    let file = std::fs::File::create(path)?;
    Ok(Sink::new(io::BufWriter::new(file), redactor.clone()))
}

fn close(sink: Sink<io::BufWriter<std::fs::File>>) -> io::Result<()> {
    let file = sink.finish()?.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

fn write_one(
    report: &Report,
    dir: &Path,
    format: Format,
    redactor: &crate::redact::Redactor,
) -> Result<PathBuf, io::Error> {
    let path = dir.join(format.file_name());
    if format == Format::Pdf {
        return write_pdf(report, dir, &path, redactor);
    }
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        format.file_name(),
        std::process::id()
    ));
    let result = (|| {
        let mut out = create(&tmp, redactor)?;
        format.render(report, &mut out)?;
        close(out)?;
        std::fs::rename(&tmp, &path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|()| path)
}

/// Renders the HTML to a hidden file, prints it, and renames the PDF into place.
fn write_pdf(
    report: &Report,
    dir: &Path,
    path: &Path,
    redactor: &crate::redact::Redactor,
) -> Result<PathBuf, io::Error> {
    // Chromium decides by the extension that the file is HTML and not text.
    let html = dir.join(format!(".report-pdf-{}.tmp.html", std::process::id()));
    let tmp = dir.join(format!(".report.pdf.tmp-{}", std::process::id()));
    let result = (|| {
        let mut out = create(&html, redactor)?;
        html::write(report, &mut out)?;
        close(out)?;
        pdf::print(&html, &tmp)?;
        std::fs::rename(&tmp, path)
    })();
    let _ = std::fs::remove_file(&html);
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|()| path.to_path_buf())
}

/// Reads a `report.json` back, for re-rendering, diffing and merging.
pub fn read_json(path: &Path) -> Result<Report, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{shown} is not JSON (truncated or corrupt?): {e}"))?;
    match value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
    {
        Some(v) if v == u64::from(model::SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "{shown} is an assure report of schema version {v}; this assure reads version {}",
                model::SCHEMA_VERSION
            ))
        }
        None => {
            return Err(format!(
                "{shown} is not an assure report.json (no schema_version)"
            ))
        }
    }
    serde_json::from_value(value)
        .map_err(|e| format!("{shown} is not a valid assure report.json: {e}"))
}
