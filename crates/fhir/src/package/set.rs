//! [`PackageSet`]: packages loaded with their dependencies, indexed by canonical URL
//! and by type name, resources parsed lazily.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::cache::PackageCache;
use super::cached::{read_cached, read_source, Had, Pending};
use super::contents::Contents;
use super::entry::{Entry, ResourceRef};
use super::manifest::{canonical_id, is_core_id, version_matches};
use super::{FhirRelease, PackageError};

/// One loaded package, as reports list it.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageInfo {
    /// The id dependencies are resolved by (`hl7.fhir.core` 3.x is `hl7.fhir.r3.core`).
    pub id: String,
    /// The name as the package gives it (or the folder name).
    pub name: String,
    pub version: String,
    /// Hex sha256 of the `.tgz`, or of the folder's files.
    pub sha256: String,
    pub fhir_version: String,
    pub release: FhirRelease,
    /// Where it was read from.
    pub source: PathBuf,
    pub dependencies: Vec<(String, String)>,
    /// Whether the user named it (false: pulled in as a dependency).
    pub requested: bool,
    /// Whether its package index was used, made, or could not be saved.
    pub index: IndexUse,
}

/// What became of a package's index (see `package::index`) in this load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexUse {
    /// A `.tgz` or a folder named by path: read and scanned, not indexed.
    None,
    /// Read from the index; the package's files were not read.
    Read,
    /// Read and scanned, and the index (re)written; the string says why.
    Written(String),
    /// Read and scanned; the index could not be written (the first string says why
    /// it was needed, the second what went wrong).
    Unsaved(String, String),
}

/// Something the user names: a `.tgz` file, a folder, or `id#version` from the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageSource {
    Path(PathBuf),
    Spec { id: String, version: String },
}

impl PackageSource {
    /// `id#version` is a spec unless a file of that name exists; anything else a path.
    pub fn parse(text: &str) -> Result<PackageSource, PackageError> {
        let path = Path::new(text);
        if path.exists() {
            return Ok(PackageSource::Path(path.to_path_buf()));
        }
        match text.split_once('#') {
            Some((id, version)) if !id.is_empty() && !version.is_empty() && !id.contains('/') => {
                Ok(PackageSource::Spec {
                    id: id.to_string(),
                    version: version.to_string(),
                })
            }
            _ if text.ends_with(".tgz") || text.contains('/') => {
                Ok(PackageSource::Path(path.to_path_buf()))
            }
            _ => Err(PackageError::InvalidSpec {
                spec: text.to_string(),
            }),
        }
    }
}

impl From<&Path> for PackageSource {
    fn from(p: &Path) -> Self {
        PackageSource::Path(p.to_path_buf())
    }
}

impl From<PathBuf> for PackageSource {
    fn from(p: PathBuf) -> Self {
        PackageSource::Path(p)
    }
}

/// How [`PackageSet::load`] finds dependencies.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Where `id#version` specs and dependencies are looked up; `None`: nowhere.
    pub cache: Option<PackageCache>,
    /// Record a dependency that cannot be found as a warning instead of failing.
    pub allow_missing_dependencies: bool,
}

impl LoadOptions {
    /// The caps a `.tgz` must keep to: the cache's (see [`PackageCache::with_limits`]),
    /// else the defaults.
    pub fn limits(&self) -> super::ArchiveLimits {
        self.cache.as_ref().map(|c| *c.limits()).unwrap_or_default()
    }
}

/// Compiled XML type tables, per release and type name (`None`: not defined).
pub(crate) type TypeCache = HashMap<(FhirRelease, String), Option<Arc<crate::xml::TypeInfo>>>;

/// Conformance resources of a set of packages. `Send + Sync`; share it with `Arc`.
#[derive(Debug)]
pub struct PackageSet {
    pub(crate) packages: Vec<PackageInfo>,
    pub(crate) entries: Vec<Entry>,
    pub(crate) by_url: HashMap<String, Vec<usize>>,
    pub(crate) by_type: HashMap<(FhirRelease, String), usize>,
    pub(crate) warnings: Vec<String>,
    /// Packages read from a folder of resources without a manifest.
    bare_folders: Vec<usize>,
    pub(crate) type_cache: Mutex<TypeCache>,
    pub(crate) snapshot_cache: Mutex<HashMap<usize, Arc<crate::snapshot::Snapshot>>>,
    /// Per package: its entries and its FHIRPath type model (see `models.rs`).
    pub(crate) models: Vec<super::models::PackageModel>,
    pub(crate) merged_models: Mutex<super::models::Merged>,
}

impl PackageSet {
    /// Loads the packages named, then their dependencies (transitively) from the cache.
    /// Packages found in the cache are read through their index (made on first use).
    pub fn load<S: Into<PackageSource> + Clone>(
        sources: &[S],
        options: &LoadOptions,
    ) -> Result<PackageSet, PackageError> {
        let mut read = Vec::new();
        for source in sources {
            read.push(read_source(&source.clone().into(), options)?);
        }
        let mut set = PackageSet::empty();
        let mut pending = Vec::new();
        for (contents, had) in read {
            set.add(contents, true, had, &mut pending)?;
        }
        set.resolve_dependencies(options, &mut pending)?;
        set.adopt_release();
        set.build_type_index();
        set.write_indexes(pending);
        Ok(set)
    }

    fn empty() -> PackageSet {
        PackageSet {
            packages: Vec::new(),
            entries: Vec::new(),
            by_url: HashMap::new(),
            by_type: HashMap::new(),
            warnings: Vec::new(),
            bare_folders: Vec::new(),
            type_cache: Mutex::new(HashMap::new()),
            snapshot_cache: Mutex::new(HashMap::new()),
            models: Vec::new(),
            merged_models: Mutex::new(HashMap::new()),
        }
    }

    /// Loads from in-memory archives (for tests and for packages fetched elsewhere).
    pub fn from_tgz_bytes(
        archives: &[(&str, &[u8])],
        options: &LoadOptions,
    ) -> Result<PackageSet, PackageError> {
        let mut set = PackageSet::empty();
        let mut pending = Vec::new();
        for (name, bytes) in archives {
            let raw =
                super::source::read_tgz_bytes(bytes, name, Path::new(name), &options.limits())?;
            set.add(Contents::scan(raw)?, true, Had::Scanned, &mut pending)?;
        }
        set.resolve_dependencies(options, &mut pending)?;
        set.adopt_release();
        set.build_type_index();
        set.write_indexes(pending);
        Ok(set)
    }

    /// A folder of resources that names no FHIR version (no manifest, no
    /// `fhirVersion`), or a release whose core is not loaded, is read in the release
    /// of the core package loaded beside it, when there is one; otherwise its
    /// definitions would sit in a release of their own, unusable, and hide the core.
    fn adopt_release(&mut self) {
        let cores: Vec<FhirRelease> = self
            .packages
            .iter()
            .filter(|p| is_core_id(&p.id))
            .map(|p| p.release)
            .collect();
        let release = match cores.as_slice() {
            [] => {
                let mut known = self
                    .packages
                    .iter()
                    .map(|p| p.release)
                    .filter(|r| *r != FhirRelease::Unknown);
                let Some(release) = known.next() else { return };
                if known.any(|r| r != release) {
                    return;
                }
                release
            }
            [one] => *one,
            _ => return,
        };
        let adopting: Vec<usize> = (0..self.packages.len())
            .filter(|&i| {
                let p = &self.packages[i];
                p.release == FhirRelease::Unknown
                    || (!cores.is_empty()
                        && !cores.contains(&p.release)
                        && self.bare_folders.contains(&i))
            })
            .collect();
        for &i in &adopting {
            let p = &self.packages[i];
            if p.release != FhirRelease::Unknown {
                self.warnings.push(format!(
                    "{}: its definitions are for FHIR {}, whose core is not loaded; read as {release:?}",
                    p.source.display(),
                    p.fhir_version
                ));
            }
        }
        for &i in &adopting {
            self.packages[i].release = release;
        }
        for e in &mut self.entries {
            if adopting.contains(&e.package) {
                e.release = release;
            }
        }
    }

    /// Adds one package; a second version of a loaded id is a conflict.
    fn add(
        &mut self,
        contents: Contents,
        requested: bool,
        had: Had,
        pending: &mut Vec<Pending>,
    ) -> Result<(), PackageError> {
        let (name, version, dependencies, mut fhir_version) = match &contents.manifest {
            Some(m) => (
                m.name.clone(),
                m.version.clone(),
                m.dependencies.clone(),
                m.fhir_versions.first().cloned(),
            ),
            None => (
                contents.folder_name.clone(),
                "0.0.0".to_string(),
                Vec::new(),
                None,
            ),
        };
        let id = canonical_id(&name, &version);
        if fhir_version.is_none() && is_core_id(&id) {
            fhir_version = Some(version.clone());
        }
        if fhir_version.is_none() {
            fhir_version = dependencies
                .iter()
                .find(|(d, _)| is_core_id(&canonical_id(d, "")) || d == "hl7.fhir.core")
                .map(|(_, v)| v.clone());
        }
        let fhir_version = fhir_version
            .or_else(|| contents.declared_fhir_version.clone())
            .unwrap_or_default();
        let release = FhirRelease::from_version(&fhir_version);
        let mut dependencies = dependencies;
        if contents.manifest.is_none() {
            // A bare folder of resources builds on its release's core.
            if let Some((core, core_version)) = release.core_package() {
                dependencies.push((core.to_string(), core_version.to_string()));
            }
        }
        if let Some(other) = self.packages.iter().find(|p| p.id == id) {
            if other.version == version {
                return Ok(());
            }
            return Err(PackageError::ConflictingVersions {
                id,
                package: contents.source_name,
                wanted: version,
                loaded: other.version.clone(),
            });
        }
        let package = self.packages.len();
        if contents.manifest.is_none() {
            self.bare_folders.push(package);
        }
        for w in &contents.warnings {
            self.warnings.push(format!("{}: {w}", contents.source_name));
        }
        let (index_use, persisted, trees) = match had {
            Had::Scanned => (IndexUse::None, None, None),
            Had::Indexed(model, trees) => (IndexUse::Read, Some(model), Some(trees)),
            Had::ToIndex(meta, why) => {
                pending.push(Pending {
                    package,
                    folder: contents.location.clone(),
                    meta,
                });
                (IndexUse::Written(why), None, None)
            }
        };
        self.packages.push(PackageInfo {
            id,
            name,
            version,
            sha256: contents.sha256,
            fhir_version,
            release,
            source: contents.location,
            dependencies,
            requested,
            index: index_use,
        });
        let first = self.entries.len();
        for item in contents.items {
            let index = self.entries.len();
            if let Some(url) = &item.summary.url {
                self.by_url.entry(url.clone()).or_default().push(index);
            }
            self.entries.push(Entry {
                summary: item.summary,
                package,
                file: item.file,
                format: item.format,
                release,
                content: item.content,
                parsed: OnceLock::new(),
            });
        }
        self.models.push(super::models::PackageModel::new(
            first..self.entries.len(),
            persisted,
            trees,
        ));
        Ok(())
    }

    /// Walks every package's dependencies, loading missing ones from the cache. Ids
    /// already loaded are not loaded again, which also ends self-references.
    fn resolve_dependencies(
        &mut self,
        options: &LoadOptions,
        pending: &mut Vec<Pending>,
    ) -> Result<(), PackageError> {
        let mut at = 0;
        while at < self.packages.len() {
            let package = self.packages[at].clone();
            at += 1;
            for (dep, wanted) in &package.dependencies {
                let dep_id = canonical_id(dep, wanted);
                if dep_id == package.id {
                    continue;
                }
                if let Some(loaded) = self.packages.iter().find(|p| p.id == dep_id) {
                    let same_core_release =
                        is_core_id(&dep_id) && loaded.release == FhirRelease::from_version(wanted);
                    if version_matches(wanted, &loaded.version) || same_core_release {
                        continue;
                    }
                    return Err(PackageError::ConflictingVersions {
                        id: dep_id,
                        package: format!("{}#{}", package.name, package.version),
                        wanted: wanted.clone(),
                        loaded: loaded.version.clone(),
                    });
                }
                let found = options.cache.as_ref().and_then(|c| c.find(&dep_id, wanted));
                match found {
                    Some(path) => {
                        let (contents, had) = read_cached(&path)?;
                        self.add(contents, false, had, pending)?;
                    }
                    None if options.allow_missing_dependencies => self.warnings.push(format!(
                        "{}#{} depends on {dep}#{wanted}, which is not loaded",
                        package.name, package.version
                    )),
                    None => {
                        return Err(PackageError::MissingDependency {
                            package: format!("{}#{}", package.name, package.version),
                            dependency: dep.clone(),
                            version: wanted.clone(),
                            reason: match &options.cache {
                                Some(c) => format!(
                                    "not loaded and not in the package cache at {}",
                                    c.root().display()
                                ),
                                None => "not loaded and no package cache to look in".into(),
                            },
                        })
                    }
                }
            }
        }
        Ok(())
    }

    /// Type name -> the definition of that type (a specialization, or a root such as
    /// `Element`), per release. The first package to define a type wins.
    fn build_type_index(&mut self) {
        self.by_type.clear();
        for (i, e) in self.entries.iter().enumerate() {
            let s = &e.summary;
            if s.resource_type != "StructureDefinition" {
                continue;
            }
            let is_base =
                s.derivation.as_deref() == Some("specialization") || s.base_definition.is_none();
            let Some(t) = &s.type_ else { continue };
            if !is_base || s.kind.as_deref() == Some("logical") {
                continue;
            }
            self.by_type.entry((e.release, t.clone())).or_insert(i);
        }
    }

    /// Every package loaded, in load order (named ones first, then dependencies).
    pub fn packages(&self) -> &[PackageInfo] {
        &self.packages
    }

    /// Things worth telling the user that did not stop loading.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The releases that have a type definition loaded, newest first (an unknown
    /// release last).
    pub fn releases(&self) -> Vec<FhirRelease> {
        let mut r: Vec<FhirRelease> = self.by_type.keys().map(|k| k.0).collect();
        r.sort_by_key(|r| (*r != FhirRelease::Unknown, *r));
        r.dedup();
        r.reverse();
        r
    }

    /// How many resources have been parsed so far (indexing parses none).
    pub fn parsed_resources(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.parsed.get().is_some())
            .count()
    }

    /// Every indexed resource.
    pub fn resources(&self) -> impl Iterator<Item = ResourceRef<'_>> {
        (0..self.entries.len()).map(move |index| ResourceRef { set: self, index })
    }
}
