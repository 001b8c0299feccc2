//! Snapshot generation on small profiles made in the test (in FHIR XML, so errors
//! can point at lines): slicing, re-slicing, choice renaming, contentReference,
//! fixed values, and a clear error for each kind of invalid differential.

use assure_fhir::package::{LoadOptions, PackageSet};
use assure_fhir::snapshot::{Max, SnapshotError, SnapshotProblem};

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

fn profile(name: &str, base: &str, elements: &str) -> String {
    format!(
        r#"<StructureDefinition xmlns="http://hl7.org/fhir">
  <url value="http://example.org/StructureDefinition/{name}"/>
  <name value="{name}"/>
  <status value="draft"/>
  <fhirVersion value="4.0.1"/>
  <kind value="resource"/>
  <abstract value="false"/>
  <type value="{base}"/>
  <baseDefinition value="http://hl7.org/fhir/StructureDefinition/{base}"/>
  <derivation value="constraint"/>
  <differential>
{elements}
  </differential>
</StructureDefinition>"#
    )
}

fn load(profiles: &[(&str, String)]) -> PackageSet {
    let manifest = r#"{"name":"example.profiles","version":"0.1.0","fhirVersions":["4.0.1"],"dependencies":{"hl7.fhir.r4.core":"4.0.1"}}"#;
    let mut files = vec![("package/package.json".to_string(), manifest.to_string())];
    for (name, text) in profiles {
        files.push((
            format!("package/StructureDefinition-{name}.xml"),
            text.clone(),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let bytes = tgz(&refs);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.profiles.tgz");
    std::fs::write(&path, bytes).unwrap();
    let core = assure_testdata::path("fhir-packages/hl7.fhir.r4.core-4.0.1.tgz");
    PackageSet::load(&[path, core], &LoadOptions::default()).unwrap()
}

const GOOD: &str = r#"    <element id="Patient.identifier">
      <path value="Patient.identifier"/>
      <slicing><discriminator><type value="value"/><path value="system"/></discriminator><rules value="open"/></slicing>
      <min value="1"/>
    </element>
    <element id="Patient.identifier:nhsNumber">
      <path value="Patient.identifier"/>
      <sliceName value="nhsNumber"/>
      <max value="1"/>
    </element>
    <element id="Patient.identifier:nhsNumber.system">
      <path value="Patient.identifier.system"/>
      <min value="1"/>
      <fixedUri value="https://fhir.nhs.uk/Id/nhs-number"/>
    </element>
    <element id="Patient.identifier:nhsNumber/old">
      <path value="Patient.identifier"/>
      <sliceName value="nhsNumber/old"/>
    </element>
    <element id="Patient.deceasedBoolean">
      <path value="Patient.deceasedBoolean"/>
      <type><code value="boolean"/></type>
    </element>
    <element id="Patient.contact.name.family">
      <path value="Patient.contact.name.family"/>
      <min value="1"/>
    </element>"#;

#[test]
fn slices_reslices_choices_and_datatypes() {
    let set = load(&[("good", profile("good", "Patient", GOOD))]);
    let s = set
        .snapshot("http://example.org/StructureDefinition/good")
        .unwrap();
    assert!(s.generated);
    let ids: Vec<&str> = s
        .elements
        .iter()
        .map(|e| e.id.as_str())
        .filter(|i| i.starts_with("Patient.identifier"))
        .collect();
    let slice_at = ids
        .iter()
        .position(|i| *i == "Patient.identifier:nhsNumber")
        .unwrap();
    let reslice_at = ids
        .iter()
        .position(|i| *i == "Patient.identifier:nhsNumber/old")
        .unwrap();
    assert!(slice_at > 0 && reslice_at > slice_at, "{ids:?}");
    let identifier = s.element("Patient.identifier").unwrap();
    assert_eq!(identifier.min, 1);
    assert!(identifier.slicing.is_some());
    let slice = s.element("Patient.identifier:nhsNumber").unwrap();
    assert_eq!(
        (slice.slice_name.as_deref(), slice.max),
        (Some("nhsNumber"), Max::Count(1))
    );
    assert!(slice.slicing.is_none());
    let system = s.element("Patient.identifier:nhsNumber.system").unwrap();
    assert_eq!(system.path, "Patient.identifier.system");
    assert_eq!(system.min, 1);
    let (name, value) = system.fixed.clone().unwrap();
    assert_eq!(
        (name.as_str(), value.as_str()),
        ("fixedUri", Some("https://fhir.nhs.uk/Id/nhs-number"))
    );
    // Line of the differential element is kept on the snapshot element.
    assert_eq!(system.node.pos.line, 22);
    let deceased = s.element("Patient.deceased[x]:deceasedBoolean").unwrap();
    assert_eq!(
        deceased
            .types
            .iter()
            .map(|t| t.code.as_str())
            .collect::<Vec<_>>(),
        ["boolean"]
    );
    let family = s.element("Patient.contact.name.family").unwrap();
    assert_eq!(family.min, 1);
    // Inherited invariants stay, with their source.
    assert!(family.constraints.iter().any(|c| c.key == "ele-1"));
    // The Node form carries the same list.
    let whole = s.structure_definition();
    let list = whole
        .get("snapshot")
        .and_then(|n| n.get("element"))
        .unwrap();
    assert_eq!(list.items().len(), s.elements.len());
}

#[test]
fn content_reference_is_unfolded() {
    let items = r#"    <element id="Questionnaire.item.item.linkId">
      <path value="Questionnaire.item.item.linkId"/>
      <maxLength value="10"/>
    </element>"#;
    let set = load(&[("q", profile("q", "Questionnaire", items))]);
    let s = set
        .snapshot("http://example.org/StructureDefinition/q")
        .unwrap();
    let link = s.element("Questionnaire.item.item.linkId").unwrap();
    assert_eq!(link.path, "Questionnaire.item.item.linkId");
    assert!(link.node.get("maxLength").is_some());
}

#[test]
fn content_reference_unfolds_the_base_definition_not_the_constrained_one() {
    let items = r#"    <element id="Questionnaire.item.linkId">
      <path value="Questionnaire.item.linkId"/>
      <maxLength value="10"/>
    </element>
    <element id="Questionnaire.item.item.text">
      <path value="Questionnaire.item.item.text"/>
      <maxLength value="5"/>
    </element>"#;
    let set = load(&[("q2", profile("q2", "Questionnaire", items))]);
    let s = set
        .snapshot("http://example.org/StructureDefinition/q2")
        .unwrap();
    let outer = s.element("Questionnaire.item.linkId").unwrap();
    assert!(outer.node.get("maxLength").is_some());
    // The nested item is the base's item: the constraint on the outer one stays there.
    let inner = s.element("Questionnaire.item.item.linkId").unwrap();
    assert!(inner.node.get("maxLength").is_none(), "{:?}", inner.node);
    let text = s.element("Questionnaire.item.item.text").unwrap();
    assert!(text.node.get("maxLength").is_some());
}

fn error_of(elements: &str) -> SnapshotError {
    let set = load(&[("bad", profile("bad", "Patient", elements))]);
    set.snapshot("http://example.org/StructureDefinition/bad")
        .unwrap_err()
}

#[test]
fn invalid_differentials_are_located() {
    let unknown = error_of("    <element id=\"Patient.nickname\">\n      <path value=\"Patient.nickname\"/>\n    </element>");
    assert_eq!(
        unknown.problem(),
        Some(&SnapshotProblem::UnknownPath),
        "{unknown}"
    );
    let text = unknown.to_string();
    assert!(
        text.contains("StructureDefinition-bad.xml:12:") && text.contains("example.profiles#0.1.0"),
        "{text}"
    );
    assert!(text.contains("Patient.nickname"), "{text}");

    let wider = error_of("    <element id=\"Patient.gender\">\n      <path value=\"Patient.gender\"/>\n      <max value=\"*\"/>\n    </element>");
    assert_eq!(
        wider.problem(),
        Some(&SnapshotProblem::CardinalityWidened),
        "{wider}"
    );

    let loosened = error_of("    <element id=\"Patient.active\">\n      <path value=\"Patient.active\"/>\n      <min value=\"2\"/>\n    </element>");
    assert_eq!(
        loosened.problem(),
        Some(&SnapshotProblem::Invalid),
        "{loosened}"
    );

    let typed = error_of("    <element id=\"Patient.birthDate\">\n      <path value=\"Patient.birthDate\"/>\n      <type><code value=\"string\"/></type>\n    </element>");
    assert_eq!(
        typed.problem(),
        Some(&SnapshotProblem::TypeNotInBase),
        "{typed}"
    );
    assert!(typed.to_string().contains("string"), "{typed}");

    let set = load(&[]);
    let missing = set
        .snapshot("http://example.org/StructureDefinition/nothing")
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("http://example.org/StructureDefinition/nothing"),
        "{missing}"
    );
}
