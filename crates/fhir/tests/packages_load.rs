//! Loading packages made in the test: dependencies, loops, conflicts, the cache,
//! atomic installs and the errors for each kind of bad input.

use assure_fhir::package::{Checksum, LoadOptions, PackageCache, PackageError, PackageSet};
use sha1::Digest;

fn tgz(files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, text.as_bytes())
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

fn package(name: &str, version: &str, deps: &str, resources: &[(&str, &str)]) -> Vec<u8> {
    let manifest = format!(
        r#"{{"name":"{name}","version":"{version}","fhirVersions":["4.0.1"],"dependencies":{{{deps}}}}}"#
    );
    let mut files = vec![("package/package.json".to_string(), manifest)];
    for (file, text) in resources {
        files.push((format!("package/{file}"), text.to_string()));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    tgz(&refs)
}

const VS: &str = r#"{"resourceType":"ValueSet","id":"v","url":"http://example.org/ValueSet/colours","version":"1.0.0"}"#;

#[test]
fn self_dependency_does_not_loop() {
    let a = package(
        "hl7.fhir.core",
        "3.0.1",
        r#""hl7.fhir.core":"3.0.1""#,
        &[("ValueSet-v.json", VS)],
    );
    let set = PackageSet::from_tgz_bytes(&[("core.tgz", &a)], &LoadOptions::default()).unwrap();
    assert_eq!(set.packages().len(), 1);
    assert_eq!(set.packages()[0].id, "hl7.fhir.r3.core");
}

#[test]
fn missing_dependency_is_named_or_warned() {
    let a = package(
        "a.pkg",
        "1.0.0",
        r#""b.pkg":"2.0.0""#,
        &[("ValueSet-v.json", VS)],
    );
    let err = PackageSet::from_tgz_bytes(&[("a.tgz", &a)], &LoadOptions::default()).unwrap_err();
    assert!(
        matches!(err, PackageError::MissingDependency { .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("b.pkg#2.0.0") && text.contains("a.pkg#1.0.0"),
        "{text}"
    );
    let lenient = LoadOptions {
        allow_missing_dependencies: true,
        ..Default::default()
    };
    let set = PackageSet::from_tgz_bytes(&[("a.tgz", &a)], &lenient).unwrap();
    assert!(set.warnings().iter().any(|w| w.contains("b.pkg#2.0.0")));
}

#[test]
fn conflicting_versions_are_an_error() {
    let a = package("a.pkg", "1.0.0", r#""b.pkg":"2.0.0""#, &[]);
    let b = package("b.pkg", "3.0.0", "", &[]);
    let err = PackageSet::from_tgz_bytes(&[("a.tgz", &a), ("b.tgz", &b)], &LoadOptions::default())
        .unwrap_err();
    assert!(
        matches!(err, PackageError::ConflictingVersions { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("2.0.0") && err.to_string().contains("3.0.0"));
    let b2 = package("b.pkg", "2.0.0", "", &[]);
    let ok = PackageSet::from_tgz_bytes(&[("a.tgz", &a), ("b.tgz", &b2)], &LoadOptions::default());
    assert_eq!(ok.unwrap().packages().len(), 2);
}

#[test]
fn resolve_by_canonical_and_suggest() {
    let a = package("a.pkg", "1.0.0", "", &[("ValueSet-v.json", VS)]);
    let set = PackageSet::from_tgz_bytes(&[("a.tgz", &a)], &LoadOptions::default()).unwrap();
    let vs = set
        .resolve("http://example.org/ValueSet/colours|1.0.0")
        .unwrap();
    assert_eq!(vs.file(), "package/ValueSet-v.json");
    assert_eq!(
        vs.node().unwrap().get("id").and_then(|n| n.as_str()),
        Some("v")
    );
    assert!(set
        .resolve("http://example.org/ValueSet/colours|2.0.0")
        .is_none());
    let err = set
        .require("http://example.org/ValueSet/colour")
        .unwrap_err();
    assert!(matches!(err, PackageError::UnknownCanonical { .. }));
    assert!(
        err.to_string()
            .contains("did you mean http://example.org/ValueSet/colours"),
        "{err}"
    );
}

#[test]
fn malformed_resource_names_package_file_and_line() {
    let a = package(
        "a.pkg",
        "1.0.0",
        "",
        &[(
            "ValueSet-bad.json",
            "{\"resourceType\":\"ValueSet\",\n\"url\": }",
        )],
    );
    let err = PackageSet::from_tgz_bytes(&[("a.tgz", &a)], &LoadOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("ValueSet-bad.json") && text.contains("a.tgz") && text.contains("2:"),
        "{text}"
    );
    // What the cheap scan lets through is caught when the resource is first used.
    let bad = r#"{"resourceType":"ValueSet","url":"http://x/vs",
"compose": [1,,2]}"#;
    let a = package("a.pkg", "1.0.0", "", &[("ValueSet-bad.json", bad)]);
    let set = PackageSet::from_tgz_bytes(&[("a.tgz", &a)], &LoadOptions::default()).unwrap();
    let err = set.resolve("http://x/vs").unwrap().node().unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("ValueSet-bad.json") && text.contains("a.pkg#1.0.0") && text.contains("2:"),
        "{text}"
    );
}

#[test]
fn cache_install_is_atomic_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let cache = PackageCache::new(dir.path());
    let b = package("b.pkg", "2.0.0", "", &[("ValueSet-v.json", VS)]);
    // A wrong checksum installs nothing.
    let wrong = Checksum::Sha1Hex("00".repeat(20));
    let err = cache.install_tgz(&b, "b.tgz", Some(&wrong)).unwrap_err();
    assert!(matches!(err, PackageError::Integrity { .. }), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path())
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
    // A corrupt archive installs nothing either.
    let mut corrupt = b.clone();
    corrupt.truncate(corrupt.len() / 2);
    assert!(cache.install_tgz(&corrupt, "b.tgz", None).is_err());
    assert_eq!(
        std::fs::read_dir(dir.path())
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
    // The right one lands as `<id>#<version>/package/`.
    let sha1 = sha1::Sha1::digest(&b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect::<String>();
    let path = cache
        .install_tgz(&b, "b.tgz", Some(&Checksum::Sha1Hex(sha1)))
        .unwrap();
    assert!(path.ends_with("b.pkg#2.0.0"));
    assert!(path.join("package/ValueSet-v.json").is_file());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(leftovers.len(), 1);

    // Dependencies and `id#version` specs come from the cache.
    let a = package("a.pkg", "1.0.0", r#""b.pkg":"2.0.x""#, &[]);
    let options = LoadOptions {
        cache: Some(cache.clone()),
        ..Default::default()
    };
    let set = PackageSet::from_tgz_bytes(&[("a.tgz", &a)], &options).unwrap();
    assert_eq!(set.packages()[1].id, "b.pkg");
    assert!(!set.packages()[1].requested);
    assert!(set.resolve("http://example.org/ValueSet/colours").is_some());
    let by_spec = PackageSet::load(&["b.pkg#2.0.0".parse_spec()], &options).unwrap();
    assert_eq!(by_spec.packages()[0].version, "2.0.0");
    let err = PackageSet::load(&["c.pkg#1.0.0".parse_spec()], &options).unwrap_err();
    assert!(matches!(err, PackageError::NotInCache { .. }), "{err}");
}

trait ParseSpec {
    fn parse_spec(&self) -> assure_fhir::package::PackageSource;
}

impl ParseSpec for str {
    fn parse_spec(&self) -> assure_fhir::package::PackageSource {
        assure_fhir::package::PackageSource::parse(self).unwrap()
    }
}

#[test]
fn corrupt_tgz_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.tgz");
    std::fs::write(&path, b"\x1f\x8b\x08\x00garbage").unwrap();
    let err = PackageSet::load(&[path], &LoadOptions::default()).unwrap_err();
    assert!(matches!(err, PackageError::CorruptArchive { .. }), "{err}");
    assert!(err.to_string().contains("broken.tgz"));
}

#[test]
fn folders_npm_and_bare() {
    let dir = tempfile::tempdir().unwrap();
    // npm layout on disk, as the cache holds it.
    let npm = dir.path().join("a.pkg#1.0.0");
    std::fs::create_dir_all(npm.join("package/examples")).unwrap();
    std::fs::write(
        npm.join("package/package.json"),
        r#"{"name":"a.pkg","version":"1.0.0","fhirVersions":["4.0.1"]}"#,
    )
    .unwrap();
    std::fs::write(npm.join("package/ValueSet-v.json"), VS).unwrap();
    std::fs::write(
        npm.join("package/examples/ValueSet-x.json"),
        VS.replace("colours", "ignored"),
    )
    .unwrap();
    let set = PackageSet::load(&[npm], &LoadOptions::default()).unwrap();
    assert_eq!(set.packages()[0].name, "a.pkg");
    assert!(set.resolve("http://example.org/ValueSet/colours").is_some());
    assert!(set.resolve("http://example.org/ValueSet/ignored").is_none());

    // A bare folder of XML resources: named after the folder, STU3 from the resources,
    // and so depending on STU3 core.
    let bare = dir.path().join("my-assets");
    std::fs::create_dir_all(bare.join("ValueSets")).unwrap();
    let xml = r#"<ValueSet xmlns="http://hl7.org/fhir"><url value="http://example.org/vs"/><fhirVersion value="3.0.2"/></ValueSet>"#;
    std::fs::write(bare.join("ValueSets/ValueSet-a.xml"), xml).unwrap();
    let err = PackageSet::load(std::slice::from_ref(&bare), &LoadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("hl7.fhir.r3.core"), "{err}");
    let lenient = LoadOptions {
        allow_missing_dependencies: true,
        ..Default::default()
    };
    let set = PackageSet::load(&[bare], &lenient).unwrap();
    let info = &set.packages()[0];
    assert_eq!(
        (info.name.as_str(), info.fhir_version.as_str()),
        ("my-assets", "3.0.2")
    );
    assert_eq!(info.release, assure_fhir::package::FhirRelease::Stu3);
    assert_eq!(info.sha256.len(), 64);
    assert_eq!(
        set.resolve("http://example.org/vs").unwrap().file(),
        "ValueSets/ValueSet-a.xml"
    );

    // XML that is not FHIR in a folder is skipped with a warning naming it.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(
        other.join("pom.xml"),
        "<project xmlns=\"http://maven.apache.org/POM/4.0.0\"/>",
    )
    .unwrap();
    std::fs::write(other.join("ValueSet-a.xml"), xml).unwrap();
    let set = PackageSet::load(&[other], &lenient).unwrap();
    assert!(
        set.warnings()
            .iter()
            .any(|w| w.contains("pom.xml") && w.contains("not a FHIR resource")),
        "{:?}",
        set.warnings()
    );
    // An empty folder is an error, not an empty package.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let err = PackageSet::load(&[empty], &LoadOptions::default()).unwrap_err();
    assert!(matches!(err, PackageError::Empty { .. }), "{err}");
}

#[test]
fn stu3_core_answers_to_both_names_in_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = PackageCache::new(dir.path());
    let core = package(
        "hl7.fhir.core",
        "3.0.1",
        r#""hl7.fhir.core":"3.0.1""#,
        &[("ValueSet-v.json", VS)],
    );
    let path = cache.install_tgz(&core, "core.tgz", None).unwrap();
    assert!(path.ends_with("hl7.fhir.core#3.0.1"));
    let options = LoadOptions {
        cache: Some(cache),
        ..Default::default()
    };
    // A package that names the later id finds the core under its old name.
    let uk = package("uk.stu3", "1.0.0", r#""hl7.fhir.r3.core":"3.0.1""#, &[]);
    let set = PackageSet::from_tgz_bytes(&[("uk.tgz", &uk)], &options).unwrap();
    let ids: Vec<&str> = set.packages().iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["uk.stu3", "hl7.fhir.r3.core"]);
    let by_spec = PackageSet::load(&["hl7.fhir.r3.core#3.0.1".parse_spec()], &options).unwrap();
    assert_eq!(by_spec.packages()[0].name, "hl7.fhir.core");
}
