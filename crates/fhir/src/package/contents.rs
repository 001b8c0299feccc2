//! A package's contents as a [`super::PackageSet`] indexes them: each conformance
//! resource's summary, file and format, and what scanning found worth a warning.
//! Built by scanning a package's files once; kept in the package index so that a
//! later start reads it instead of the files.

use std::collections::HashMap;
use std::path::PathBuf;

use super::entry::{Format, INDEXED_TYPES};
use super::manifest::Manifest;
use super::scan::{scan_json, scan_xml, Summary};
use super::source::RawPackage;
use super::PackageError;

/// Where a resource's bytes are: read already, or in its file (its path relative
/// to the package's folder), read on first use.
#[derive(Debug)]
pub(crate) enum Content {
    Memory(Box<[u8]>),
    InFolder,
}

/// One conformance resource of a package.
#[derive(Debug)]
pub(crate) struct Item {
    pub summary: Summary,
    /// Path relative to the archive or folder the package was read from.
    pub file: String,
    pub format: Format,
    pub content: Content,
}

/// What a package holds, before it joins a set.
#[derive(Debug)]
pub(crate) struct Contents {
    pub source_name: String,
    pub location: PathBuf,
    pub folder_name: String,
    pub manifest: Option<Manifest>,
    pub sha256: String,
    pub items: Vec<Item>,
    /// Warnings, each to be read after `<source name>: `.
    pub warnings: Vec<String>,
    /// The FHIR version most of its resources declare (for a package without one).
    pub declared_fhir_version: Option<String>,
}

impl Contents {
    /// Scans every file's top-level fields. A broken example is a warning (a set only
    /// serves conformance resources); a broken conformance resource is an error.
    pub fn scan(raw: RawPackage) -> Result<Contents, PackageError> {
        let mut items = Vec::new();
        let mut warnings = Vec::new();
        let mut votes: HashMap<String, usize> = HashMap::new();
        for (file, bytes) in raw.files {
            if file.ends_with("package.json")
                || file.ends_with(".index.json")
                || file.ends_with("fhirpkg.lock.json")
            {
                continue;
            }
            let format = if file.to_ascii_lowercase().ends_with(".xml") {
                Format::Xml
            } else {
                Format::Json
            };
            let result = match format {
                Format::Json => scan_json(&bytes),
                Format::Xml => scan_xml(&bytes),
            };
            let summary = match result {
                Ok(Some(s)) => s,
                Ok(None) => {
                    warnings.push(format!("{file} is not a FHIR resource; skipped"));
                    continue;
                }
                Err(e)
                    if e.resource_type
                        .as_deref()
                        .is_some_and(|t| !INDEXED_TYPES.contains(&t)) =>
                {
                    warnings.push(format!(
                        "{file}:{}:{}: {} ({} skipped)",
                        e.pos.line,
                        e.pos.col,
                        e.message,
                        e.resource_type.unwrap_or_default()
                    ));
                    continue;
                }
                Err(e) => {
                    return Err(PackageError::Resource {
                        package: raw.source_name.clone(),
                        file,
                        line: e.pos.line,
                        col: e.pos.col,
                        message: e.message,
                    })
                }
            };
            if let Some(w) = &summary.warning {
                warnings.push(format!("{file}: {w}"));
            }
            if let Some(v) = &summary.fhir_version {
                *votes.entry(v.clone()).or_default() += 1;
            }
            if INDEXED_TYPES.contains(&summary.resource_type.as_str()) {
                items.push(Item {
                    summary,
                    file,
                    format,
                    content: Content::Memory(bytes.into_boxed_slice()),
                });
            }
        }
        Ok(Contents {
            source_name: raw.source_name,
            location: raw.location,
            folder_name: raw.folder_name,
            manifest: raw.manifest,
            sha256: raw.sha256,
            items,
            warnings,
            declared_fhir_version: most_common(votes),
        })
    }
}

/// The value counted most often (ties: the smallest).
fn most_common(counts: HashMap<String, usize>) -> Option<String> {
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(v, _)| v)
}
