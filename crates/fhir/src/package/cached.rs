//! Packages of the cache read through their index (see `index.rs`), and the indexes
//! written once a set is whole: a type model of XML definitions needs the set's
//! type tables, so a package's index is written after every package has joined.

use std::path::{Path, PathBuf};

use super::contents::{Content, Contents, Item};
use super::index::{self, ModelState};
use super::manifest::canonical_id;
use super::set::{IndexUse, LoadOptions, PackageSource};
use super::source::{read_folder, read_stamped, read_tgz};
use super::trees::{self, Trees};
use super::{PackageError, PackageSet};

/// A package read from the cache whose index is to be written once the set is whole
/// (a model of XML definitions needs the set's type tables).
pub(crate) struct Pending {
    pub package: usize,
    pub folder: PathBuf,
    pub meta: Box<index::Meta>,
}

/// How a package's contents were had.
pub(crate) enum Had {
    Scanned,
    Indexed(ModelState, Trees),
    /// The index to write, and why the old one was not used.
    ToIndex(Box<index::Meta>, String),
}

impl PackageSet {
    /// Writes the index of each package that was read and scanned from the cache,
    /// with its type model; a failure is recorded, never fatal.
    pub(crate) fn write_indexes(&mut self, pending: Vec<Pending>) {
        for p in pending {
            let why = match &self.packages[p.package].index {
                IndexUse::Written(w) => w.clone(),
                _ => String::new(),
            };
            if p.meta.is_racy() {
                // Its files' times cannot yet tell a later change: index it next time.
                let note = "its files changed less than 2 s ago".to_string();
                self.packages[p.package].index = IndexUse::Unsaved(why, note);
                continue;
            }
            let model = self.package_model_state(p.package);
            let range = self.models[p.package].range.clone();
            let items = self.entries[range.clone()]
                .iter()
                .map(|e| (&e.summary, e.file.as_str(), e.format));
            let mut bytes = index::encode(&p.meta, items, &model);
            // One file, renamed into place: an index and its trees never part.
            bytes.extend(trees::section(
                index::code_key(),
                &self.stored_trees(range.clone()),
            ));
            self.packages[p.package].index = match index::write(&p.folder, &bytes) {
                Ok(()) => IndexUse::Written(why),
                Err(e) => {
                    self.warnings.push(format!(
                        "{}: the package index could not be saved ({e}); start-up stays slow",
                        p.folder.display()
                    ));
                    IndexUse::Unsaved(why, e.to_string())
                }
            };
        }
    }
}

impl PackageSet {
    /// The encoded tree of each definition in `range` that validation reads (by its
    /// place in the package), parsed from its file; one that does not parse is left
    /// out, to fail with its own error when it is used.
    /// Parsed on every core: a package is indexed once, but a core package holds
    /// thousands of definitions.
    fn stored_trees(&self, range: std::ops::Range<usize>) -> Vec<(usize, Vec<u8>)> {
        let first = range.start;
        let kept: Vec<usize> = range
            .filter(|i| trees::KEPT.contains(&self.entries[*i].summary.resource_type.as_str()))
            .collect();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let encode = |part: &[usize]| -> Vec<(usize, Vec<u8>)> {
            part.iter()
                .filter_map(|&i| {
                    let node = self.parse_uncached(i).ok()?;
                    Some((i - first, trees::encode(&node)))
                })
                .collect()
        };
        std::thread::scope(|s| {
            let parts: Vec<_> = kept
                .chunks(kept.len().div_ceil(threads).max(1))
                .map(|part| s.spawn(move || encode(part)))
                .collect();
            parts
                .into_iter()
                .flat_map(|p| p.join().unwrap_or_default())
                .collect()
        })
    }
}

pub(crate) fn read_source(
    source: &PackageSource,
    options: &LoadOptions,
) -> Result<(Contents, Had), PackageError> {
    let scanned = |raw| Ok((Contents::scan(raw)?, Had::Scanned));
    match source {
        PackageSource::Path(p) if p.is_dir() => scanned(read_folder(p)?),
        PackageSource::Path(p) => scanned(read_tgz(p, &options.limits())?),
        PackageSource::Spec { id, version } => {
            let cache = options
                .cache
                .as_ref()
                .ok_or_else(|| PackageError::NotInCache {
                    spec: format!("{id}#{version}"),
                    root: PathBuf::from("(no cache configured)"),
                })?;
            let path = cache
                .find(&canonical_id(id, version), version)
                .ok_or_else(|| PackageError::NotInCache {
                    spec: format!("{id}#{version}"),
                    root: cache.root().to_path_buf(),
                })?;
            read_cached(&path)
        }
    }
}

/// A package folder of the cache: through its index when the index matches the
/// files, else read and scanned (and its index written once the set is whole).
pub(crate) fn read_cached(folder: &Path) -> Result<(Contents, Had), PackageError> {
    let built_at_ns = index::now_ns();
    let stamps = index::stamps(folder)?;
    let stale = match index::read(folder, &stamps).and_then(|mut found| {
        let (file, at) = found.file.take().ok_or("no index yet")?;
        let stored = Trees::open(file, at, index::code_key())
            .map_err(|why| format!("the index is damaged: {why}"))?;
        Ok((found, stored))
    }) {
        Ok((found, stored)) => {
            let location = folder.to_path_buf();
            let meta = found.meta;
            let items = found
                .items
                .into_iter()
                .map(|(summary, file, format)| Item {
                    content: Content::InFolder,
                    summary,
                    file,
                    format,
                })
                .collect();
            let contents = Contents {
                source_name: folder.display().to_string(),
                location,
                folder_name: meta.folder_name,
                manifest: meta.manifest,
                sha256: meta.sha256,
                items,
                warnings: meta.warnings,
                declared_fhir_version: meta.declared_fhir_version,
            };
            return Ok((contents, Had::Indexed(found.model, stored)));
        }
        Err(why) => why,
    };
    let contents = Contents::scan(read_stamped(folder, &stamps)?)?;
    let meta = Box::new(index::Meta {
        built_at_ns,
        stamps,
        folder_name: contents.folder_name.clone(),
        manifest: contents.manifest.clone(),
        sha256: contents.sha256.clone(),
        warnings: contents.warnings.clone(),
        declared_fhir_version: contents.declared_fhir_version.clone(),
    });
    Ok((contents, Had::ToIndex(meta, stale)))
}
