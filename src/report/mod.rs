//! Reports: one model, rendered by independent writers into `reports/<run-id>/`.
//! Each file is written to a temporary name and renamed, so a reader never sees half
//! a report; one writer failing does not stop the others.

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

/// Writes each format into `dir`; returns what was written and what failed.
pub fn write_all(
    report: &Report,
    dir: &Path,
    formats: &[Format],
) -> Vec<(Format, Result<PathBuf, io::Error>)> {
    if let Err(e) = std::fs::create_dir_all(dir) {
        return formats
            .iter()
            .map(|f| (*f, Err(io::Error::new(e.kind(), e.to_string()))))
            .collect();
    }
    formats
        .iter()
        .map(|f| (*f, write_one(report, dir, *f)))
        .collect()
}

fn write_one(report: &Report, dir: &Path, format: Format) -> Result<PathBuf, io::Error> {
    let path = dir.join(format.file_name());
    if format == Format::Pdf {
        return write_pdf(report, dir, &path);
    }
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        format.file_name(),
        std::process::id()
    ));
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut out = io::BufWriter::new(file);
        format.render(report, &mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|()| path)
}

/// Renders the HTML to a hidden file, prints it, and renames the PDF into place.
fn write_pdf(report: &Report, dir: &Path, path: &Path) -> Result<PathBuf, io::Error> {
    // Chromium decides by the extension that the file is HTML and not text.
    let html = dir.join(format!(".report-pdf-{}.tmp.html", std::process::id()));
    let tmp = dir.join(format!(".report.pdf.tmp-{}", std::process::id()));
    let result = (|| {
        let mut out = io::BufWriter::new(std::fs::File::create(&html)?);
        html::write(report, &mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
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
