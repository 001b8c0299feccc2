//! [`PackageSet`]: packages loaded with their dependencies, indexed by canonical URL
//! and by type name, resources parsed lazily.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::cache::PackageCache;
use super::entry::{Entry, Format, ResourceRef, INDEXED_TYPES};
use super::manifest::{canonical_id, is_core_id, version_matches};
use super::scan::{scan_json, scan_xml};
use super::source::{read_folder, read_tgz, RawPackage};
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

/// Compiled XML type tables, per release and type name (`None`: not defined).
pub(crate) type TypeCache = HashMap<(FhirRelease, String), Option<Arc<crate::xml::TypeInfo>>>;

/// Conformance resources of a set of packages. `Send + Sync`; share it with `Arc`.
#[derive(Debug)]
pub struct PackageSet {
    pub(crate) packages: Vec<PackageInfo>,
    pub(crate) entries: Vec<Entry>,
    pub(crate) by_url: HashMap<String, Vec<usize>>,
    pub(crate) by_type: HashMap<(FhirRelease, String), usize>,
    warnings: Vec<String>,
    /// Packages read from a folder of resources without a manifest.
    bare_folders: Vec<usize>,
    pub(crate) type_cache: Mutex<TypeCache>,
    pub(crate) snapshot_cache: Mutex<HashMap<usize, Arc<crate::snapshot::Snapshot>>>,
}

impl PackageSet {
    /// Loads the packages named, then their dependencies (transitively) from the cache.
    pub fn load<S: Into<PackageSource> + Clone>(
        sources: &[S],
        options: &LoadOptions,
    ) -> Result<PackageSet, PackageError> {
        let mut raws: Vec<(RawPackage, bool)> = Vec::new();
        for source in sources {
            raws.push((read_source(&source.clone().into(), options)?, true));
        }
        let mut set = PackageSet {
            packages: Vec::new(),
            entries: Vec::new(),
            by_url: HashMap::new(),
            by_type: HashMap::new(),
            warnings: Vec::new(),
            bare_folders: Vec::new(),
            type_cache: Mutex::new(HashMap::new()),
            snapshot_cache: Mutex::new(HashMap::new()),
        };
        for (raw, requested) in raws {
            set.add(raw, requested)?;
        }
        set.resolve_dependencies(options)?;
        set.adopt_release();
        set.build_type_index();
        Ok(set)
    }

    /// Loads from in-memory archives (for tests and for packages fetched elsewhere).
    pub fn from_tgz_bytes(
        archives: &[(&str, &[u8])],
        options: &LoadOptions,
    ) -> Result<PackageSet, PackageError> {
        let mut set = PackageSet::load::<PathBuf>(&[], options)?;
        for (name, bytes) in archives {
            let raw = super::source::read_tgz_bytes(bytes, name, Path::new(name))?;
            set.add(raw, true)?;
        }
        set.resolve_dependencies(options)?;
        set.adopt_release();
        set.build_type_index();
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
    fn add(&mut self, raw: RawPackage, requested: bool) -> Result<(), PackageError> {
        let mut scanned = Vec::new();
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
                    self.warnings.push(format!(
                        "{}: {file} is not a FHIR resource; skipped",
                        raw.source_name
                    ));
                    continue;
                }
                // A broken example does not stop loading: the set only serves
                // conformance resources. A broken one of those is an error.
                Err(e)
                    if e.resource_type
                        .as_deref()
                        .is_some_and(|t| !INDEXED_TYPES.contains(&t)) =>
                {
                    self.warnings.push(format!(
                        "{}: {file}:{}:{}: {} ({} skipped)",
                        raw.source_name,
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
                self.warnings
                    .push(format!("{}: {file}: {w}", raw.source_name));
            }
            scanned.push((summary, file, format, bytes));
        }
        let (name, version, dependencies, mut fhir_version) = match &raw.manifest {
            Some(m) => (
                m.name.clone(),
                m.version.clone(),
                m.dependencies.clone(),
                m.fhir_versions.first().cloned(),
            ),
            None => (
                raw.folder_name.clone(),
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
            .or_else(|| most_common(scanned.iter().filter_map(|s| s.0.fhir_version.clone())))
            .unwrap_or_default();
        let release = FhirRelease::from_version(&fhir_version);
        let mut dependencies = dependencies;
        if raw.manifest.is_none() {
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
                package: raw.source_name,
                wanted: version,
                loaded: other.version.clone(),
            });
        }
        let package = self.packages.len();
        if raw.manifest.is_none() {
            self.bare_folders.push(package);
        }
        self.packages.push(PackageInfo {
            id,
            name,
            version,
            sha256: raw.sha256,
            fhir_version,
            release,
            source: raw.location,
            dependencies,
            requested,
        });
        for (summary, file, format, bytes) in scanned {
            if !INDEXED_TYPES.contains(&summary.resource_type.as_str()) {
                continue;
            }
            let index = self.entries.len();
            if let Some(url) = &summary.url {
                self.by_url.entry(url.clone()).or_default().push(index);
            }
            self.entries.push(Entry {
                summary,
                package,
                file,
                format,
                release,
                bytes: bytes.into_boxed_slice(),
                parsed: OnceLock::new(),
            });
        }
        Ok(())
    }

    /// Walks every package's dependencies, loading missing ones from the cache. Ids
    /// already loaded are not loaded again, which also ends self-references.
    fn resolve_dependencies(&mut self, options: &LoadOptions) -> Result<(), PackageError> {
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
                        let raw = read_folder(&path)?;
                        self.add(raw, false)?;
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

fn read_source(source: &PackageSource, options: &LoadOptions) -> Result<RawPackage, PackageError> {
    match source {
        PackageSource::Path(p) if p.is_dir() => read_folder(p),
        PackageSource::Path(p) => read_tgz(p),
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
            read_folder(&path)
        }
    }
}

fn most_common(values: impl Iterator<Item = String>) -> Option<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(v, _)| v)
}
