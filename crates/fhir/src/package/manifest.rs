//! `package.json` manifests, package ids and FHIR releases.

use super::PackageError;

/// The FHIR release a package is written for; every 3.0.x is STU3, every 4.0.x R4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FhirRelease {
    Dstu2,
    Stu3,
    R4,
    R4B,
    R5,
    Unknown,
}

impl FhirRelease {
    pub fn from_version(version: &str) -> FhirRelease {
        let mut parts = version.trim().split('.');
        match (parts.next(), parts.next()) {
            (Some("1"), Some("0")) => FhirRelease::Dstu2,
            (Some("3"), Some("0")) => FhirRelease::Stu3,
            (Some("4"), Some("0")) => FhirRelease::R4,
            (Some("4"), Some("3")) => FhirRelease::R4B,
            (Some("5"), _) => FhirRelease::R5,
            _ => FhirRelease::Unknown,
        }
    }

    /// The id and version of this release's core package.
    pub fn core_package(self) -> Option<(&'static str, &'static str)> {
        match self {
            FhirRelease::Dstu2 => Some(("hl7.fhir.r2.core", "1.0.2")),
            FhirRelease::Stu3 => Some(("hl7.fhir.r3.core", "3.0.1")),
            FhirRelease::R4 => Some(("hl7.fhir.r4.core", "4.0.1")),
            FhirRelease::R4B => Some(("hl7.fhir.r4b.core", "4.3.0")),
            FhirRelease::R5 => Some(("hl7.fhir.r5.core", "5.0.0")),
            FhirRelease::Unknown => None,
        }
    }
}

/// The id a package is known by for dependency resolution: lowercase, and the old
/// name `hl7.fhir.core` mapped to the per-release core id it was later published as.
pub fn canonical_id(name: &str, version: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower == "hl7.fhir.core" {
        if let Some((id, _)) = FhirRelease::from_version(version).core_package() {
            return id.to_string();
        }
    }
    lower
}

/// Whether the package id names a FHIR core package.
pub fn is_core_id(id: &str) -> bool {
    id == "hl7.fhir.core" || (id.starts_with("hl7.fhir.r") && id.ends_with(".core"))
}

/// What a `package.json` says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub canonical: Option<String>,
    pub fhir_versions: Vec<String>,
    pub dependencies: Vec<(String, String)>,
}

impl Manifest {
    pub fn parse(bytes: &[u8], package: &str, file: &str) -> Result<Manifest, PackageError> {
        let err = |message: String| PackageError::Manifest {
            package: package.to_string(),
            file: file.to_string(),
            message,
        };
        let text = std::str::from_utf8(bytes).map_err(|_| err("not UTF-8".into()))?;
        let node = crate::model::parse_json(text).map_err(|e| err(e.to_string()))?;
        let text_of = |key: &str| node.get(key).and_then(|n| n.as_str()).map(str::to_string);
        let name = text_of("name").ok_or_else(|| err("no `name`".into()))?;
        let version = text_of("version").ok_or_else(|| err("no `version`".into()))?;
        check_name_field("name", &name).map_err(err)?;
        check_name_field("version", &version).map_err(err)?;
        let mut fhir_versions: Vec<String> = Vec::new();
        for key in ["fhirVersions", "fhir-version-list"] {
            for item in node.get(key).map(|n| n.items()).unwrap_or_default() {
                if let Some(v) = item.as_str() {
                    fhir_versions.push(v.to_string());
                }
            }
        }
        let mut dependencies = Vec::new();
        if let Some(deps) = node.get("dependencies") {
            for (id, v) in deps.members() {
                let v = v
                    .as_str()
                    .ok_or_else(|| err(format!("dependency {id} has no version string")))?;
                dependencies.push((id.to_string(), v.to_string()));
            }
        }
        Ok(Manifest {
            name,
            version,
            canonical: text_of("canonical"),
            fhir_versions,
            dependencies,
        })
    }
}

/// A package `name` or `version` names a folder of the package cache, so it must be
/// a plain file name: a letter or digit first, then letters, digits, `.`, `-`, `_` or
/// `+` (no empty value, no `.` or `..`, no separators). `Err` names the field.
pub fn check_name_field(field: &str, value: &str) -> Result<(), String> {
    let ok_first = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let ok_rest = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'));
    if ok_first && ok_rest && value.len() <= 200 {
        return Ok(());
    }
    let shown: String = value
        .chars()
        .flat_map(char::escape_default)
        .take(80)
        .collect();
    Err(format!(
        "`{field}` is \"{shown}\": a package {field} must start with a letter or digit and \
         hold only letters, digits, `.`, `-`, `_` and `+` (at most 200)"
    ))
}

/// Whether `version` satisfies the dependency range `wanted` (exact, `x` wildcards,
/// or `current`/`latest`/`*`, which any version satisfies).
pub fn version_matches(wanted: &str, version: &str) -> bool {
    let wanted = wanted.trim();
    if matches!(wanted, "" | "*" | "latest" | "current" | "dev") || wanted == version {
        return true;
    }
    let mut w = wanted.split('.');
    let mut v = version.split('.');
    loop {
        match (w.next(), v.next()) {
            (None, None) => return true,
            (Some("x" | "*"), _) => return true,
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_releases() {
        assert_eq!(canonical_id("hl7.fhir.core", "3.0.1"), "hl7.fhir.r3.core");
        assert_eq!(canonical_id("UK.Core.r4", "1.2.0"), "uk.core.r4");
        assert_eq!(FhirRelease::from_version("3.0.2"), FhirRelease::Stu3);
        assert_eq!(FhirRelease::from_version("4.0.1"), FhirRelease::R4);
        assert_eq!(FhirRelease::from_version("x"), FhirRelease::Unknown);
        assert!(version_matches("4.0.x", "4.0.1"));
        assert!(version_matches("4.0.1", "4.0.1"));
        assert!(!version_matches("4.0.1", "4.0.0"));
        assert!(!version_matches("4.0", "4.0.1"));
    }

    #[test]
    fn manifest_errors_name_the_file() {
        let m = Manifest::parse(
            br#"{"name":"a","version":"1","dependencies":{"b":"2"},"fhirVersions":["4.0.1"]}"#,
            "a",
            "package/package.json",
        )
        .unwrap();
        assert_eq!(m.dependencies, vec![("b".to_string(), "2".to_string())]);
        let err = Manifest::parse(br#"{"version":"1"}"#, "pkg.tgz", "package/package.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("package/package.json") && err.contains("name"),
            "{err}"
        );
        for (json, field) in [
            (r#"{"name":"a","version":""}"#, "`version`"),
            (r#"{"name":"a","version":".."}"#, "`version`"),
            (r#"{"name":".","version":"1"}"#, "`name`"),
            (r#"{"name":"../../etc","version":"1"}"#, "`name`"),
            (r#"{"name":"a","version":"1/../../x"}"#, "`version`"),
            (r#"{"name":"a\u001b[31m","version":"1"}"#, "`name`"),
        ] {
            let err = Manifest::parse(json.as_bytes(), "p.tgz", "package/package.json")
                .unwrap_err()
                .to_string();
            assert!(err.contains(field), "{json}: {err}");
            assert!(!err.contains('\u{1b}'), "control bytes printed raw: {err}");
        }
        for ok in [
            "hl7.fhir.r4.core#4.0.1",
            "UK.Core.r4#0.0.18-dev",
            "x_y#1.0.0+build.1",
        ] {
            let (name, version) = ok.split_once('#').unwrap();
            let json = format!(r#"{{"name":"{name}","version":"{version}"}}"#);
            assert!(
                Manifest::parse(json.as_bytes(), "p", "package.json").is_ok(),
                "{ok}"
            );
        }
    }
}
