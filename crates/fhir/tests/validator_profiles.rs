//! Profiles from anywhere: a StructureDefinition loaded from a folder, a `.tgz` or the
//! package cache, in XML or JSON, with or without a snapshot, is found by its URL and
//! applied; a folder that names no FHIR version is read in the release beside it.

use std::path::Path;
use std::sync::Arc;

use assure_fhir::outcome::Issue;
use assure_fhir::package::{pack_tgz, FhirRelease, PackageCache};
use assure_fhir::validate::{Validator, ValidatorOptions};
use assure_fhir::{parse_json, LoadOptions, PackageSet, PackageSource};

const CORE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fhir-packages/hl7.fhir.r4.core-4.0.1.tgz"
);

/// Differential only, XML, no `fhirVersion`: `Patient.gender` is required and the
/// marital status must be present too (a profile invariant).
const XML_PROFILE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<StructureDefinition xmlns="http://hl7.org/fhir">
  <url value="http://example.org/fhir/StructureDefinition/gendered-patient"/>
  <name value="GenderedPatient"/>
  <status value="draft"/>
  <kind value="resource"/>
  <abstract value="false"/>
  <type value="Patient"/>
  <baseDefinition value="http://hl7.org/fhir/StructureDefinition/Patient"/>
  <derivation value="constraint"/>
  <differential>
    <element id="Patient">
      <path value="Patient"/>
      <constraint>
        <key value="gp-1"/>
        <severity value="error"/>
        <human value="marital status is stated"/>
        <expression value="maritalStatus.exists()"/>
      </constraint>
    </element>
    <element id="Patient.gender">
      <path value="Patient.gender"/>
      <min value="1"/>
    </element>
  </differential>
</StructureDefinition>"#;

const GOOD: &str = r#"{"resourceType":"Patient","gender":"female",
  "maritalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M"}]}}"#;
const BAD: &str = r#"{"resourceType":"Patient"}"#;

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn validator(sources: &[PackageSource], cache: Option<&Path>) -> Validator {
    let options = LoadOptions {
        cache: cache.map(PackageCache::new),
        allow_missing_dependencies: true,
    };
    let set = PackageSet::load(sources, &options).expect("load the packages");
    Validator::new(Arc::new(set), ValidatorOptions::default())
}

fn errors(v: &Validator, json: &str, profile: &str) -> Vec<Issue> {
    let node = parse_json(json).expect("test JSON");
    v.validate(&node, &[profile])
        .into_iter()
        .filter(|i| i.severity.is_error())
        .collect()
}

/// The profile's rules apply: the bad instance breaks both, the good one neither.
fn applies(v: &Validator, url: &str) {
    assert!(v.plan(url).is_some(), "{url} is found");
    let bad = errors(v, BAD, url);
    assert!(
        bad.iter().any(|i| i.message.contains("Patient.gender")),
        "{bad:#?}"
    );
    assert!(bad.iter().any(|i| i.message.contains("gp-1")), "{bad:#?}");
    assert!(bad.iter().all(|i| i.profile.as_deref() == Some(url)));
    let good = errors(v, GOOD, url);
    assert!(good.is_empty(), "{good:#?}");
}

#[test]
fn a_differential_only_xml_profile_in_a_folder_without_fhir_version() {
    let dir = temp_dir();
    std::fs::write(dir.path().join("gendered.xml"), XML_PROFILE).expect("write");
    let v = validator(&[Path::new(CORE).into(), dir.path().into()], None);
    assert_eq!(v.release(), FhirRelease::R4);
    applies(
        &v,
        "http://example.org/fhir/StructureDefinition/gendered-patient",
    );
    // The folder is read in the release of the core beside it.
    let folder = &v.packages().packages()[1];
    assert_eq!(folder.release, FhirRelease::R4);
}

#[test]
fn a_folder_that_redefines_a_type_does_not_hide_the_core_package() {
    // A specialization without fhirVersion, as some servers publish their profiles.
    let dir = temp_dir();
    std::fs::write(
        dir.path().join("practitioner.json"),
        r#"{"resourceType":"StructureDefinition","url":"http://example.org/fhir/StructureDefinition/P",
            "name":"P","status":"active","kind":"resource","abstract":false,"type":"Practitioner",
            "baseDefinition":"http://hl7.org/fhir/StructureDefinition/Practitioner",
            "derivation":"specialization","differential":{"element":[{"id":"Practitioner","path":"Practitioner"}]}}"#,
    )
    .expect("write");
    let v = validator(&[Path::new(CORE).into(), dir.path().into()], None);
    assert_eq!(v.release(), FhirRelease::R4);
    assert!(v.plan("Resource").is_some());
    assert!(v.plan("Patient").is_some());
}

#[test]
fn a_json_profile_with_a_snapshot_from_a_tgz_and_from_the_cache() {
    // The snapshot of the XML profile, generated here, shipped as JSON in a package.
    let dir = temp_dir();
    std::fs::write(dir.path().join("gendered.xml"), XML_PROFILE).expect("write");
    let source = validator(&[Path::new(CORE).into(), dir.path().into()], None);
    let url = "http://example.org/fhir/StructureDefinition/gendered-patient";
    let snapshot = source.packages().snapshot(url).expect("snapshot");
    let mut sd = snapshot.structure_definition().to_value();
    sd["url"] = "http://example.org/fhir/StructureDefinition/gendered-patient-2".into();
    sd["fhirVersion"] = "4.0.1".into();
    assert!(sd["snapshot"]["element"]
        .as_array()
        .is_some_and(|e| e.len() > 10));
    let sd = sd.to_string();
    let manifest = r#"{"name":"example.gendered","version":"1.0.0","fhirVersions":["4.0.1"],
        "dependencies":{"hl7.fhir.r4.core":"4.0.1"}}"#;
    let tgz = pack_tgz(&[
        ("package/package.json", manifest.as_bytes()),
        ("package/StructureDefinition-g.json", sd.as_bytes()),
    ])
    .expect("pack");
    let url2 = "http://example.org/fhir/StructureDefinition/gendered-patient-2";

    let tgz_path = dir.path().join("example.gendered-1.0.0.tgz");
    std::fs::write(&tgz_path, &tgz).expect("write tgz");
    applies(
        &validator(&[Path::new(CORE).into(), tgz_path.into()], None),
        url2,
    );

    let cache = temp_dir();
    let pc = PackageCache::new(cache.path());
    pc.install_tgz(&tgz, "example.gendered", None)
        .expect("install");
    let core = std::fs::read(CORE).expect("core");
    pc.install_tgz(&core, "core", None).expect("install core");
    let spec = PackageSource::parse("example.gendered#1.0.0").expect("spec");
    applies(&validator(&[spec], Some(cache.path())), url2);
}

#[test]
fn a_folder_for_a_release_whose_core_is_not_loaded_is_read_in_the_loaded_one() {
    // An extension published for R5 (context `CanonicalResource`), used on R4.
    let dir = temp_dir();
    std::fs::write(
        dir.path().join("ext.json"),
        r#"{"resourceType":"StructureDefinition","url":"http://example.org/fhir/StructureDefinition/flag",
            "name":"Flag","status":"draft","fhirVersion":"5.0.0","kind":"complex-type","abstract":false,
            "context":[{"type":"element","expression":"Element"}],"type":"Extension",
            "baseDefinition":"http://hl7.org/fhir/StructureDefinition/Extension","derivation":"constraint",
            "differential":{"element":[
              {"id":"Extension.url","path":"Extension.url","fixedUri":"http://example.org/fhir/StructureDefinition/flag"},
              {"id":"Extension.value[x]","path":"Extension.value[x]","min":1,"type":[{"code":"boolean"}]}]}}"#,
    )
    .expect("write");
    let v = validator(&[Path::new(CORE).into(), dir.path().into()], None);
    assert_eq!(v.release(), FhirRelease::R4);
    assert!(v
        .packages()
        .warnings()
        .iter()
        .any(|w| w.contains("whose core is not loaded")));
    let url = "http://example.org/fhir/StructureDefinition/flag";
    assert!(v.plan(url).is_some());
    let ext = |value: &str| {
        format!(r#"{{"resourceType":"Patient","extension":[{{"url":"{url}",{value}}}]}}"#)
    };
    let node = parse_json(&ext(r#""valueBoolean":true"#)).expect("JSON");
    assert!(v
        .validate(&node, &[])
        .iter()
        .all(|i| !i.severity.is_error()));
    let node = parse_json(&ext(r#""valueString":"x""#)).expect("JSON");
    assert!(v.validate(&node, &[]).iter().any(|i| i.severity.is_error()));
}
