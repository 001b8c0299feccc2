//! The FHIR package cache (`~/.fhir/packages/<id>#<version>/package/`) and atomic
//! installation of a `.tgz` into it.

use std::path::{Path, PathBuf};

use base64::Engine;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::limits::ArchiveLimits;
use super::manifest::{canonical_id, check_name_field, version_matches, Manifest};
use super::source::{hex, unpack_with};
use super::PackageError;

/// The environment variable that overrides the cache root.
pub const CACHE_ENV: &str = "FHIR_PACKAGE_CACHE";

/// A package cache folder laid out as `<id>#<version>/package/...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageCache {
    root: PathBuf,
    limits: ArchiveLimits,
}

/// A checksum a registry gave for a tarball.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// npm `dist.shasum`: hex sha1.
    Sha1Hex(String),
    /// npm `dist.integrity`: `sha512-<base64>` (or sha256/sha1).
    Integrity(String),
}

impl PackageCache {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        PackageCache {
            root: root.into(),
            limits: ArchiveLimits::default(),
        }
    }

    /// The caps a `.tgz` installed into this cache must keep to.
    pub fn with_limits(mut self, limits: ArchiveLimits) -> Self {
        self.limits = limits;
        self
    }

    pub fn limits(&self) -> &ArchiveLimits {
        &self.limits
    }

    /// Reads a `.tgz` to install, refusing one larger than the size limit unread.
    pub fn read_archive(&self, path: &Path) -> Result<Vec<u8>, PackageError> {
        super::source::read_capped(path, self.limits.max_unpacked_bytes)
    }

    /// `$FHIR_PACKAGE_CACHE` if set, else `$HOME/.fhir/packages`; archive limits from
    /// their environment variables (a malformed one leaves the default; `assure
    /// packages` reports it).
    pub fn from_env() -> Option<Self> {
        let limits = ArchiveLimits::from_env().unwrap_or_default();
        if let Some(root) = std::env::var_os(CACHE_ENV).filter(|v| !v.is_empty()) {
            return Some(PackageCache::new(root).with_limits(limits));
        }
        let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"))?;
        Some(PackageCache::new(Path::new(&home).join(".fhir").join("packages")).with_limits(limits))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of the best cached version of `id` matching `wanted` (exact first,
    /// then the highest that matches a wildcard), or `None`.
    pub fn find(&self, id: &str, wanted: &str) -> Option<PathBuf> {
        let read = std::fs::read_dir(&self.root).ok()?;
        let mut best: Option<(Vec<u64>, PathBuf)> = None;
        for entry in read.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((dir_id, version)) = name.split_once('#') else {
                continue;
            };
            if canonical_id(dir_id, version) != id || !version_matches(wanted, version) {
                continue;
            }
            let path = entry.path();
            if version == wanted {
                return Some(path);
            }
            let key: Vec<u64> = version.split('.').map(|p| p.parse().unwrap_or(0)).collect();
            if best.as_ref().is_none_or(|(k, _)| key > *k) {
                best = Some((key, path));
            }
        }
        best.map(|(_, p)| p)
    }

    /// Installs a package tarball: verifies the checksum, unpacks into a temporary
    /// folder beside the target, then renames it into place, so a failure leaves
    /// nothing behind. Returns the installed folder (an existing one is kept).
    pub fn install_tgz(
        &self,
        bytes: &[u8],
        source_name: &str,
        checksum: Option<&Checksum>,
    ) -> Result<PathBuf, PackageError> {
        if let Some(expected) = checksum {
            verify(bytes, source_name, expected)?;
        }
        let entries = unpack_with(bytes, source_name, &self.limits)?;
        let manifest_bytes = entries
            .iter()
            .find(|(p, _)| p == "package/package.json")
            .map(|(_, b)| b.as_slice())
            .ok_or_else(|| PackageError::Manifest {
                package: source_name.to_string(),
                file: "package/package.json".into(),
                message:
                    "missing: a folder of resources without one installs with `--as id#version`"
                        .into(),
            })?;
        let manifest = Manifest::parse(manifest_bytes, source_name, "package/package.json")?;
        // `Manifest::parse` refused names that are not plain file names.
        let dir_name = format!("{}#{}", manifest.name, manifest.version);
        self.place(&dir_name, &entries, source_name)
    }

    /// Writes a package's files under `<root>/<dir_name>` atomically: into a temporary
    /// folder, then renamed into place, so a failure leaves nothing behind.
    fn place(
        &self,
        dir_name: &str,
        entries: &[(String, Vec<u8>)],
        source_name: &str,
    ) -> Result<PathBuf, PackageError> {
        let target = self.root.join(dir_name);
        if target.join("package").join("package.json").is_file() {
            return Ok(target);
        }
        std::fs::create_dir_all(&self.root).map_err(|e| PackageError::io(&self.root, e))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let temp = self
            .root
            .join(format!(".{dir_name}.tmp-{}-{nanos}", std::process::id()));
        let result = write_all(&temp, entries, source_name).and_then(|()| {
            std::fs::rename(&temp, &target).map_err(|e| PackageError::io(&target, e))
        });
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&temp);
            // Another process may have installed it meanwhile: that is success.
            if target.join("package").join("package.json").is_file() {
                return Ok(target);
            }
            return Err(e);
        }
        Ok(target)
    }
}

fn write_all(
    temp: &Path,
    entries: &[(String, Vec<u8>)],
    source_name: &str,
) -> Result<(), PackageError> {
    for (name, bytes) in entries {
        let rel = Path::new(name);
        let safe = rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !safe {
            return Err(PackageError::CorruptArchive {
                source_name: source_name.to_string(),
                message: format!("entry `{name}` escapes the package folder"),
            });
        }
        let path = temp.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| PackageError::io(dir, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| PackageError::io(&path, e))?;
    }
    Ok(())
}

fn verify(bytes: &[u8], source_name: &str, expected: &Checksum) -> Result<(), PackageError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let (algorithm, want, got): (&'static str, String, String) = match expected {
        Checksum::Sha1Hex(h) => ("sha1", h.to_ascii_lowercase(), hex(&Sha1::digest(bytes))),
        Checksum::Integrity(s) => match s.split_once('-') {
            Some(("sha512", v)) => ("sha512", v.to_string(), b64.encode(Sha512::digest(bytes))),
            Some(("sha256", v)) => ("sha256", v.to_string(), b64.encode(Sha256::digest(bytes))),
            Some(("sha1", v)) => ("sha1", v.to_string(), b64.encode(Sha1::digest(bytes))),
            _ => (
                "integrity",
                s.clone(),
                "an unsupported integrity format".into(),
            ),
        },
    };
    if want == got {
        Ok(())
    } else {
        Err(PackageError::Integrity {
            package: source_name.to_string(),
            algorithm,
            expected: want,
            actual: got,
        })
    }
}

impl PackageCache {
    /// Installs a bare folder of resources (a folder or a `.tgz` without a
    /// `package.json`, such as the STU3 CareConnect and GP Connect assets) as package
    /// `name#version`: the resource files go flat into `package/` (examples into
    /// `package/examples/`), with a synthesized `package.json` whose FHIR version is
    /// the one most resources declare and whose one dependency is that release's core.
    pub fn install_as(
        &self,
        path: &Path,
        name: &str,
        version: &str,
    ) -> Result<PathBuf, PackageError> {
        let source_name = path.display().to_string();
        let manifest_err = |message: String| PackageError::Manifest {
            package: source_name.clone(),
            file: "package.json".into(),
            message,
        };
        for (field, value) in [("name", name), ("version", version)] {
            check_name_field(field, value).map_err(|e| {
                manifest_err(format!(
                    "`{name}#{version}` is not a usable package name and version: {e}"
                ))
            })?;
        }
        let raw = if path.is_dir() {
            super::source::read_folder(path)?
        } else {
            super::source::read_tgz(path, &self.limits)?
        };
        if let Some(m) = &raw.manifest {
            return Err(manifest_err(format!(
                "it has its own package.json ({}#{}): install it without --as",
                m.name, m.version
            )));
        }
        let mut versions = Vec::new();
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut taken = std::collections::BTreeSet::new();
        for (rel, bytes) in raw.files {
            let summary = if rel.to_ascii_lowercase().ends_with(".xml") {
                super::scan::scan_xml(&bytes)
            } else {
                super::scan::scan_json(&bytes)
            };
            let Ok(Some(summary)) = summary else {
                // Not a resource (or unreadable): the loader would only warn about it.
                continue;
            };
            if summary.resource_type == "StructureDefinition" {
                versions.extend(summary.fhir_version.clone());
            }
            let base = rel.rsplit('/').next().unwrap_or(&rel).to_string();
            let example = rel
                .to_ascii_lowercase()
                .split('/')
                .any(|part| part.starts_with("example"));
            let dir = if example {
                "package/examples"
            } else {
                "package"
            };
            // Two folders may hold the same file name: keep both, the later prefixed.
            let mut target = format!("{dir}/{base}");
            if !taken.insert(target.clone()) {
                let folder = rel.rsplit('/').nth(1).unwrap_or("dup");
                target = format!("{dir}/{folder}-{base}");
                taken.insert(target.clone());
            }
            files.push((target, bytes));
        }
        let fhir_version = most_common(versions).ok_or_else(|| {
            manifest_err("no StructureDefinition says which FHIR version it is for".into())
        })?;
        let release = super::FhirRelease::from_version(&fhir_version);
        let (core, core_version) = release
            .core_package()
            .ok_or_else(|| manifest_err(format!("unknown FHIR version `{fhir_version}`")))?;
        let manifest = serde_json::json!({
            "name": name,
            "version": version,
            "description": format!("installed by assure from {source_name} (a folder of resources without package.json)"),
            "fhirVersions": [core_version],
            "dependencies": {core: core_version},
        });
        let text = serde_json::to_vec_pretty(&manifest).map_err(|e| manifest_err(e.to_string()))?;
        files.push(("package/package.json".into(), text));
        self.place(&format!("{name}#{version}"), &files, &source_name)
    }
}

/// The value given most often (ties: the smallest), if any.
fn most_common(values: Vec<String>) -> Option<String> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    let best = counts.values().copied().max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(v, _)| v)
}

#[cfg(test)]
mod install_as_tests {
    use super::*;

    const SD: &str = r#"<StructureDefinition xmlns="http://hl7.org/fhir"><id value="p"/><url value="https://x.org/p"/><fhirVersion value="3.0.1"/></StructureDefinition>"#;

    fn archive(dir: &Path, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, super::super::source::pack_tgz(files).unwrap()).unwrap();
        path
    }

    #[test]
    fn a_folder_of_resources_installs_with_a_synthesized_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        let tgz = archive(
            tmp.path(),
            "assets.tgz",
            &[
                ("assets/StructureDefinitions/p.xml", SD.as_bytes()),
                ("assets/ValueSets/p.xml", SD.as_bytes()),
                (
                    "assets/Examples/e.json",
                    br#"{"resourceType":"Patient","id":"e"}"#,
                ),
                ("assets/README.md", b"not a resource"),
            ],
        );
        let cache = PackageCache::new(tmp.path().join("cache"));
        let folder = cache.install_as(&tgz, "x.assets", "1.0.0").unwrap();
        assert_eq!(folder, tmp.path().join("cache").join("x.assets#1.0.0"));
        let manifest: serde_json::Value = serde_json::from_slice(
            &std::fs::read(folder.join("package").join("package.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(manifest["name"], "x.assets");
        assert_eq!(manifest["fhirVersions"][0], "3.0.1");
        assert_eq!(manifest["dependencies"]["hl7.fhir.r3.core"], "3.0.1");
        assert!(folder.join("package").join("p.xml").is_file());
        // The second p.xml keeps its folder in its name rather than overwrite the first.
        assert!(folder.join("package").join("ValueSets-p.xml").is_file());
        assert!(folder
            .join("package")
            .join("examples")
            .join("e.json")
            .is_file());
        assert_eq!(cache.find("x.assets", "1.0.0"), Some(folder));
    }

    #[test]
    fn packages_with_a_manifest_no_definitions_or_bad_names_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = PackageCache::new(tmp.path().join("cache"));
        let npm = archive(
            tmp.path(),
            "npm.tgz",
            &[
                ("package/package.json", br#"{"name":"a","version":"1"}"#),
                ("package/p.xml", SD.as_bytes()),
            ],
        );
        let err = cache.install_as(&npm, "a", "1").unwrap_err().to_string();
        assert!(err.contains("without --as"), "{err}");
        let bare = archive(
            tmp.path(),
            "bare.tgz",
            &[("x/e.json", br#"{"resourceType":"Patient","id":"e"}"#)],
        );
        let err = cache.install_as(&bare, "b", "1").unwrap_err().to_string();
        assert!(err.contains("no StructureDefinition"), "{err}");
        let ok = archive(tmp.path(), "ok.tgz", &[("x/p.xml", SD.as_bytes())]);
        let err = cache.install_as(&ok, "../c", "1").unwrap_err().to_string();
        assert!(err.contains("not a usable package name"), "{err}");
        assert!(
            !tmp.path().join("cache").exists()
                || std::fs::read_dir(tmp.path().join("cache"))
                    .unwrap()
                    .next()
                    .is_none()
        );
    }
}
