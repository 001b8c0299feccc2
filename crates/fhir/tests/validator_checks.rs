//! The validator's checks against R4 core and a small test profile: each check kind
//! with an instance that passes beside one that fails.

use std::sync::{Arc, OnceLock};

use assure_fhir::outcome::{Issue, Severity};
use assure_fhir::validate::{Validator, ValidatorOptions};
use assure_fhir::{parse_json, LoadOptions, PackageSet};

const PROFILE: &str = r#"{
  "resourceType": "StructureDefinition",
  "url": "http://example.org/StructureDefinition/test-patient",
  "name": "TestPatient", "status": "draft", "fhirVersion": "4.0.1",
  "kind": "resource", "abstract": false, "type": "Patient",
  "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
  "derivation": "constraint",
  "differential": { "element": [
    { "id": "Patient.identifier", "path": "Patient.identifier",
      "slicing": { "discriminator": [{ "type": "value", "path": "system" }], "rules": "open" } },
    { "id": "Patient.identifier:nhs", "path": "Patient.identifier", "sliceName": "nhs", "min": 1, "max": "1" },
    { "id": "Patient.identifier:nhs.system", "path": "Patient.identifier.system", "min": 1,
      "fixedUri": "https://fhir.nhs.uk/Id/nhs-number" },
    { "id": "Patient.identifier:nhs.value", "path": "Patient.identifier.value", "min": 1 },
    { "id": "Patient.maritalStatus", "path": "Patient.maritalStatus",
      "patternCodeableConcept": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M" }] } },
    { "id": "Patient.name", "path": "Patient.name", "min": 1,
      "constraint": [{ "key": "tp-1", "severity": "error", "human": "a family name", "expression": "family.exists()" }] }
  ]}
}"#;

/// A validator on a core package of the test data and, when given, a folder holding `files`.
fn load_validator(core: &str, folder: &str, files: &[(&str, &str)]) -> Validator {
    let mut sources = vec![assure_testdata::path(&format!("fhir-packages/{core}"))];
    if !files.is_empty() {
        let dir = std::env::temp_dir().join(format!("assure-{folder}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        for (name, text) in files {
            std::fs::write(dir.join(name), text).expect("write a definition");
        }
        sources.push(dir);
    }
    let options = LoadOptions {
        cache: None,
        allow_missing_dependencies: true,
    };
    let set = PackageSet::load(&sources, &options).expect("load the packages");
    Validator::new(Arc::new(set), ValidatorOptions::default())
}

/// A validator on a core package and one constraint profile on `ty`:
/// `http://example.org/StructureDefinition/<name>`, whose differential is `elements`.
fn with_profile(core: &str, name: &str, ty: &str, elements: &str) -> Validator {
    let fhir = if core.contains("3.0.1") {
        "3.0.1"
    } else {
        "4.0.1"
    };
    let profile = format!(
        r#"{{"resourceType":"StructureDefinition","url":"http://example.org/StructureDefinition/{name}",
          "name":"TestProfile","status":"draft","fhirVersion":"{fhir}","kind":"resource","abstract":false,
          "type":"{ty}","baseDefinition":"http://hl7.org/fhir/StructureDefinition/{ty}",
          "derivation":"constraint","differential":{{"element":[{elements}]}}}}"#
    );
    let file = format!("StructureDefinition-{name}.json");
    load_validator(core, &format!("validator-{name}"), &[(&file, &profile)])
}

fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| {
        load_validator(
            "hl7.fhir.r4.core-4.0.1.tgz",
            "validator-test",
            &[("StructureDefinition-test-patient.json", PROFILE)],
        )
    })
}

fn check(json: &str, profiles: &[&str]) -> Vec<Issue> {
    let node = parse_json(json).expect("test JSON");
    validator().validate(&node, profiles)
}

fn errors(json: &str) -> Vec<String> {
    errors_with(json, &[])
}

fn errors_with(json: &str, profiles: &[&str]) -> Vec<String> {
    check(json, profiles)
        .into_iter()
        .filter(|i| i.severity.is_error())
        .map(|i| format!("{} @ {}", i.message, i.expression))
        .collect()
}

/// The errors `v` finds in `json`, as `message @ expression`.
fn errors_by(v: &Validator, json: &str) -> Vec<String> {
    v.validate(&parse_json(json).expect("test JSON"), &[])
        .into_iter()
        .filter(|i| i.severity.is_error())
        .map(|i| format!("{} @ {}", i.message, i.expression))
        .collect()
}

/// `"meta":{"profile":[url]},` when the instance claims the profile, else nothing.
fn claim(claimed: bool, url: &str) -> String {
    if claimed {
        format!(r#""meta":{{"profile":["{url}"]}},"#)
    } else {
        String::new()
    }
}

const TP: &str = "http://example.org/StructureDefinition/test-patient";

#[test]
fn valid_patient_has_no_errors() {
    let e = errors(
        r#"{"resourceType":"Patient","id":"a1","active":true,"gender":"male","birthDate":"1970-01-01","name":[{"family":"Smith","given":["J"]}]}"#,
    );
    assert!(e.is_empty(), "{e:?}");
}

#[test]
fn structure_unknown_elements_and_resource_types() {
    let e = errors(r#"{"resourceType":"Patient","foo":1}"#);
    assert!(
        e.iter().any(|m| m.contains("unknown element `foo`")),
        "{e:?}"
    );
    let e = errors(r#"{"resourceType":"Patinet"}"#);
    assert!(
        e.iter().any(|m| m.contains("unknown resource type")),
        "{e:?}"
    );
}

#[test]
fn structure_arrays_and_primitive_kinds() {
    let e = errors(r#"{"resourceType":"Patient","name":{"family":"x"},"active":"true"}"#);
    assert!(
        e.iter().any(|m| m.contains("`name` must be a JSON array")),
        "{e:?}"
    );
    assert!(
        e.iter().any(|m| m.contains("must be a JSON boolean")),
        "{e:?}"
    );
    let e = errors(r#"{"resourceType":"Patient","name":[],"birthDate":"1970-02-30"}"#);
    assert!(e.iter().any(|m| m.contains("empty array")), "{e:?}");
    assert!(e.iter().any(|m| m.contains("not a valid date")), "{e:?}");
}

#[test]
fn primitive_extension_siblings() {
    let ok = errors(
        r#"{"resourceType":"Patient","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1970-01-01T10:00:00Z"}]}}"#,
    );
    assert!(ok.is_empty(), "{ok:?}");
    let bad = errors(r#"{"resourceType":"Patient","_birthDate":{"foo":1}}"#);
    assert!(
        bad.iter().any(|m| m.contains("unknown element `foo`")),
        "{bad:?}"
    );
}

#[test]
fn cardinality_and_choice_types() {
    let e = errors(
        r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1}}"#,
    );
    assert!(e.is_empty(), "{e:?}");
    let e = errors(
        r#"{"resourceType":"Observation","code":{"text":"x"},"valueHumanName":{"family":"x"}}"#,
    );
    assert!(
        e.iter().any(|m| m.contains("minimum required = 1")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|m| m.contains("type HumanName is not allowed")),
        "{e:?}"
    );
}

#[test]
fn invariants_pass_and_fail() {
    let ok = errors(
        r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"effectivePeriod":{"start":"2020-01-01","end":"2020-02-01"}}"#,
    );
    assert!(ok.is_empty(), "{ok:?}");
    let bad = errors(
        r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"effectivePeriod":{"start":"2020-03-01","end":"2020-02-01"}}"#,
    );
    assert!(bad.iter().any(|m| m.contains("[per-1]")), "{bad:?}");
}

/// txt-1 and txt-2 share one expression, evaluated once: each still reports.
#[test]
fn invariants_sharing_an_expression_each_report() {
    let patient = |div: &str| {
        format!(r#"{{"resourceType":"Patient","text":{{"status":"generated","div":"{div}"}}}}"#)
    };
    let ok = errors(&patient(
        r#"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Peter</p></div>"#,
    ));
    assert!(ok.is_empty(), "{ok:?}");
    let bad = errors(&patient(
        r#"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>x()</script></div>"#,
    ));
    for key in ["[txt-1]", "[txt-2]"] {
        assert_eq!(
            bad.iter().filter(|m| m.contains(key)).count(),
            1,
            "{key}: {bad:?}"
        );
    }
}

#[test]
fn required_bindings_and_code_systems() {
    let bad = errors(r#"{"resourceType":"Patient","gender":"mal"}"#);
    assert!(
        bad.iter().any(|m| m.contains("not in the value set")),
        "{bad:?}"
    );
    let ok = errors(
        r#"{"resourceType":"Patient","maritalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M","display":"Married"}]}}"#,
    );
    assert!(ok.is_empty(), "{ok:?}");
    let bad = errors(
        r#"{"resourceType":"Patient","maritalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M","display":"Single"}]}}"#,
    );
    assert!(bad.iter().any(|m| m.contains("wrong display")), "{bad:?}");
}

#[test]
fn extensions_resolved_unknown_and_misplaced() {
    let ok = errors(
        r#"{"resourceType":"Patient","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthPlace","valueAddress":{"city":"Leeds"}}]}"#,
    );
    assert!(ok.is_empty(), "{ok:?}");
    let bad = errors(
        r#"{"resourceType":"Patient","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthPlace","valueBoolean":true}]}"#,
    );
    assert!(!bad.is_empty(), "wrong value type must fail");
    let misplaced = errors(
        r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthPlace","valueAddress":{"city":"Leeds"}}]}"#,
    );
    assert!(
        misplaced.iter().any(|m| m.contains("not allowed here")),
        "{misplaced:?}"
    );
    let unknown = check(
        r#"{"resourceType":"Patient","extension":[{"url":"http://example.org/x","valueBoolean":true}]}"#,
        &[],
    );
    assert!(unknown
        .iter()
        .any(|i| i.severity == Severity::Warning && i.message.contains("not checked")));
    assert!(!unknown.iter().any(|i| i.severity.is_error()));
    let modifier = errors(
        r#"{"resourceType":"Patient","modifierExtension":[{"url":"https://fhir.example.nhs.uk/x","valueBoolean":true}]}"#,
    );
    assert!(
        !modifier.is_empty(),
        "an unknown modifier cannot be ignored"
    );
    // Example domains (RFC 2606) never publish definitions: not checked, not an error.
    let example = errors(
        r#"{"resourceType":"Patient","modifierExtension":[{"url":"http://example.org/x","valueBoolean":true}]}"#,
    );
    assert!(example.is_empty(), "{example:?}");
    // A complex extension's sub-extensions are the ones its definition names.
    let animal = |sub: &str| {
        errors(&format!(
            r#"{{"resourceType":"Patient","extension":[{{"url":"http://hl7.org/fhir/StructureDefinition/patient-animal","extension":[{{"url":"species","valueCodeableConcept":{{"text":"dog"}}}},{{"url":"{sub}","valueCodeableConcept":{{"text":"x"}}}}]}}]}}"#
        ))
    };
    assert!(animal("breed").is_empty(), "{:?}", animal("breed"));
    let unknown_sub = animal("species-x");
    assert!(
        unknown_sub.iter().any(|m| m.contains("species-x")),
        "{unknown_sub:?}"
    );
}

#[test]
fn references_resolved_in_a_bundle_have_the_named_type() {
    let bundle = |target: &str| {
        format!(
            r#"{{"resourceType":"Bundle","type":"collection","entry":[
            {{"fullUrl":"urn:uuid:54fc3e09-e279-4b74-a8ff-2649ec968642","resource":{{"resourceType":"Patient","generalPractitioner":[{{"reference":"Practitioner/5d9588d8-3cd6-4b32-8fb7-ad13694e069d"}}]}}}},
            {{"fullUrl":"urn:uuid:5d9588d8-3cd6-4b32-8fb7-ad13694e069d","resource":{target}}}]}}"#
        )
    };
    let ok = errors(&bundle(r#"{"resourceType":"Practitioner"}"#));
    assert!(ok.is_empty(), "{ok:?}");
    let bad = errors(&bundle(r#"{"resourceType":"Organization","name":"x"}"#));
    assert!(
        bad.iter()
            .any(|m| m.contains("resolves in the Bundle to a Organization")),
        "{bad:?}"
    );
}

#[test]
fn narrative_links_must_be_followable() {
    let dr = |href: &str| {
        errors(&format!(
            r#"{{"resourceType":"Basic","code":{{"text":"x"}},"text":{{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"{href}\">x</a></div>"}}}}"#
        ))
    };
    assert!(dr("http://example.org/a").is_empty());
    let bad = dr("urn:uuid:7221aa91-d9e1-44fa-8b90-c5a8c7caeade");
    assert!(bad.iter().any(|m| m.contains("cannot follow")), "{bad:?}");
}

#[test]
fn narrative_fragment_links_must_name_something_in_the_resource() {
    let basic = |div: &str, code_id: &str| {
        errors(&format!(
            r#"{{"resourceType":"Basic","code":{{"id":"{code_id}","text":"x"}},"text":{{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">{div}</div>"}}}}"#
        ))
    };
    let anchor = basic(r##"<a name=\"frag\"/><a href=\"#frag\">x</a>"##, "c1");
    assert!(anchor.is_empty(), "{anchor:?}");
    let element = basic(r##"<a href=\"#c1\">x</a>"##, "c1");
    assert!(element.is_empty(), "{element:?}");
    let dangling = basic(r##"<a href=\"#frag\">x</a>"##, "c1");
    assert!(
        dangling
            .iter()
            .any(|m| m.contains("`#frag`, which names nothing")),
        "{dangling:?}"
    );
}

#[test]
fn profile_slicing_fixed_pattern_and_constraints() {
    let good = r#"{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}],
        "maritalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M"}]},"name":[{"family":"Smith"}]}"#;
    let e = errors_with(good, &[TP]);
    assert!(e.is_empty(), "{e:?}");
    let bad = r#"{"resourceType":"Patient","identifier":[{"system":"urn:other","value":"1"}],
        "maritalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"S"}]},"name":[{"given":["J"]}]}"#;
    let e = errors_with(bad, &[TP]);
    assert!(
        e.iter()
            .any(|m| m.contains("slice nhs") && m.contains("minimum required = 1")),
        "{e:?}"
    );
    assert!(
        e.iter().any(|m| m.contains("must match the pattern")),
        "{e:?}"
    );
    assert!(e.iter().any(|m| m.contains("[tp-1]")), "{e:?}");
    // With no identifier at all, the required slice is missing just the same.
    let none = r#"{"resourceType":"Patient","name":[{"family":"Smith"}]}"#;
    let e = errors_with(none, &[TP]);
    assert!(
        e.iter().any(
            |m| m.contains("slice nhs") && m.contains("minimum required = 1, but only found 0")
        ),
        "{e:?}"
    );
    let claimed = bad.replacen('{', &format!(r#"{{"meta":{{"profile":["{TP}"]}},"#), 1);
    assert!(
        !errors(&claimed).is_empty(),
        "meta.profile is validated too"
    );
}

#[test]
fn unknown_profiles_are_warnings_never_silent() {
    let issues = check(
        r#"{"resourceType":"Patient","meta":{"profile":["http://example.org/nope"]}}"#,
        &[],
    );
    assert!(issues
        .iter()
        .any(|i| i.severity == Severity::Warning && i.message.contains("not loaded")));
}

#[test]
fn contained_and_bundle_resources() {
    let e = errors(
        r#"{"resourceType":"Patient","contained":[{"resourceType":"Practitioner","id":"p","foo":1}]}"#,
    );
    assert!(
        e.iter()
            .any(|m| m.contains("unknown element `foo`") && m.contains("contained[0]")),
        "{e:?}"
    );
    let ok = errors(
        r#"{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"http://x.org/Patient/1","resource":{"resourceType":"Patient","id":"1"}}]}"#,
    );
    assert!(ok.is_empty(), "{ok:?}");
    let bad = errors(
        r#"{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"Patient/1","resource":{"resourceType":"Patient","id":"1","gender":"x"}}]}"#,
    );
    assert!(bad.iter().any(|m| m.contains("absolute URL")), "{bad:?}");
    assert!(
        bad.iter().any(|m| m.contains("entry[0].resource.gender")),
        "{bad:?}"
    );
}

#[test]
fn implementation_guide_global_profiles_apply_to_every_resource_of_the_type() {
    let profile = PROFILE
        .replace("test-patient", "global-patient")
        .replace("TestPatient", "GlobalPatient");
    let guide = r#"{"resourceType":"ImplementationGuide","url":"http://example.org/ImplementationGuide/g",
        "name":"G","status":"draft","packageId":"example.global","fhirVersion":["4.0.1"],
        "global":[{"type":"Patient","profile":"http://example.org/StructureDefinition/global-patient"}]}"#;
    let load = |with_guide: bool| {
        let mut files = vec![("StructureDefinition-global.json", profile.as_str())];
        if with_guide {
            files.push(("ImplementationGuide-g.json", guide));
        }
        load_validator(
            "hl7.fhir.r4.core-4.0.1.tgz",
            &format!("validator-global-{with_guide}"),
            &files,
        )
    };
    let patient = parse_json(r#"{"resourceType":"Patient","name":[{"given":["J"]}]}"#).unwrap();
    let count = |v: &Validator| {
        v.validate(&patient, &[])
            .iter()
            .filter(|i| i.severity.is_error())
            .count()
    };
    assert_eq!(count(&load(false)), 0, "no guide: only the base definition");
    assert!(count(&load(true)) > 0, "the guide's global profile applies");
}

#[test]
fn conformance_resources_agree_with_what_they_name() {
    let sp = |ty: &str, base: &str| {
        errors(&format!(
            r#"{{"resourceType":"SearchParameter","url":"http://example.org/SearchParameter/n","name":"N","status":"draft",
            "description":"n","code":"name","base":["{base}"],"type":"{ty}","expression":"{base}.name",
            "derivedFrom":"http://hl7.org/fhir/SearchParameter/Organization-name"}}"#
        ))
    };
    assert!(
        sp("string", "Organization").is_empty(),
        "{:?}",
        sp("string", "Organization")
    );
    assert!(sp("token", "Organization")
        .iter()
        .any(|m| m.contains("differs from the type string")));
    assert!(sp("string", "Patient")
        .iter()
        .any(|m| m.contains("Patient is not a base")));

    let cs = |ty: &str| {
        errors(&format!(
            r#"{{"resourceType":"CapabilityStatement","status":"draft","date":"2024-01-01","kind":"instance","fhirVersion":"4.0.1",
            "format":["json"],"implementation":{{"description":"x"}},"rest":[{{"mode":"server","resource":[{{"type":"AllergyIntolerance",
            "searchParam":[{{"name":"clinical-status","definition":"http://hl7.org/fhir/SearchParameter/AllergyIntolerance-clinical-status","type":"{ty}"}}]}}]}}]}}"#
        ))
    };
    assert!(cs("token").is_empty(), "{:?}", cs("token"));
    assert!(cs("date").iter().any(|m| m.contains("is of type token")));

    let sd = |elements: &str| {
        errors(&format!(
            r#"{{"resourceType":"StructureDefinition","url":"http://example.org/StructureDefinition/o","name":"O","status":"draft",
            "fhirVersion":"4.0.1","kind":"resource","abstract":false,"type":"Observation","derivation":"constraint",
            "baseDefinition":"http://hl7.org/fhir/StructureDefinition/Observation","differential":{{"element":[{elements}]}}}}"#
        ))
    };
    let good = sd(
        r#"{"id":"Observation.valueQuantity","path":"Observation.valueQuantity","type":[{"code":"Quantity","profile":["http://hl7.org/fhir/StructureDefinition/SimpleQuantity"]}]}"#,
    );
    assert!(good.is_empty(), "{good:?}");
    let bad_path = sd(r#"{"id":"Observation.valueQuantity","path":"Observation.valueBla"}"#);
    assert!(
        bad_path.iter().any(|m| m.contains("not an element")),
        "{bad_path:?}"
    );
    let bad_profile = sd(
        r#"{"id":"Observation.valueQuantity","path":"Observation.valueQuantity","type":[{"code":"Quantity","profile":["http://hl7.org/fhir/StructureDefinition/Count"]}]}"#,
    );
    assert!(
        bad_profile
            .iter()
            .any(|m| m.contains("is for the type Count")),
        "{bad_profile:?}"
    );
    // A profile of an extension may not change the url its base fixes.
    let derived = |url: &str| {
        errors(&format!(
            r#"{{"resourceType":"StructureDefinition","url":"http://example.org/StructureDefinition/bp","name":"Bp","status":"draft",
            "fhirVersion":"4.0.1","kind":"complex-type","abstract":false,"type":"Extension","derivation":"constraint",
            "context":[{{"type":"element","expression":"Patient"}}],
            "baseDefinition":"http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
            "differential":{{"element":[{{"id":"Extension.url","path":"Extension.url","fixedUri":"{url}"}}]}}}}"#
        ))
    };
    let same = derived("http://hl7.org/fhir/StructureDefinition/patient-birthPlace");
    assert!(!same.iter().any(|m| m.contains("contradicts")), "{same:?}");
    let changed = derived("http://example.org/StructureDefinition/bp");
    assert!(
        changed.iter().any(|m| m.contains("contradicts the value")),
        "{changed:?}"
    );
}

#[test]
fn stu3_entries_without_an_address_need_no_full_url_outside_documents() {
    let v = load_validator("hl7.fhir.core-3.0.1.tgz", "stu3", &[]);
    let bundle = |kind: &str| {
        parse_json(&format!(
            r#"{{"resourceType":"Bundle","type":"{kind}","entry":[{{"resource":{{"resourceType":"Patient"}}}}]}}"#
        ))
        .unwrap()
    };
    let errors = |kind: &str| -> Vec<String> {
        v.validate(&bundle(kind), &[])
            .into_iter()
            .filter(|i| i.severity.is_error())
            .map(|i| i.message)
            .collect()
    };
    assert!(
        !errors("collection").iter().any(|m| m.contains("fullUrl")),
        "{:?}",
        errors("collection")
    );
    assert!(
        errors("document").iter().any(|m| m.contains("fullUrl")),
        "{:?}",
        errors("document")
    );
    // R4 requires it outside transactions.
    let r4 = check(
        r#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient"}}]}"#,
        &[],
    );
    assert!(r4
        .iter()
        .any(|i| i.severity.is_error() && i.message.contains("fullUrl")));
}

#[test]
fn document_references_resolve_inside_the_document() {
    let doc = |reference: &str| {
        errors(&format!(
            r#"{{"resourceType":"Bundle","type":"document","identifier":{{"system":"urn:ietf:rfc:3986","value":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"}},"timestamp":"2024-01-01T00:00:00Z","entry":[
            {{"fullUrl":"http://x.org/fhir/Composition/c","resource":{{"resourceType":"Composition","id":"c","status":"final","type":{{"text":"t"}},"date":"2024-01-01","title":"t",
              "author":[{{"display":"a"}}],"subject":{{"reference":"{reference}"}}}}}},
            {{"fullUrl":"http://x.org/fhir/Patient/1","resource":{{"resourceType":"Patient","id":"1","meta":{{"versionId":"2"}}}}}}]}}"#
        ))
    };
    let ok = doc("Patient/1");
    assert!(!ok.iter().any(|m| m.contains("document Bundle")), "{ok:?}");
    let versioned = doc("Patient/1/_history/2");
    assert!(
        !versioned.iter().any(|m| m.contains("document Bundle")),
        "{versioned:?}"
    );
    let missing = doc("Patient/2");
    assert!(
        missing
            .iter()
            .any(|m| m.contains("cannot find `Patient/2`")),
        "{missing:?}"
    );
    let wrong_version = doc("Patient/1/_history/3");
    assert!(
        wrong_version.iter().any(|m| m.contains("cannot find")),
        "{wrong_version:?}"
    );
}

#[test]
fn an_extension_a_claimed_profile_declares_on_an_element_is_allowed_there() {
    // The profile names patient-birthPlace (context: Patient) on Observation.code.coding,
    // as the CareConnect-GPC profiles name Extension-coding-sctdescid on codings.
    let v = with_profile(
        "hl7.fhir.r4.core-4.0.1.tgz",
        "coded-observation",
        "Observation",
        r#"{"id":"Observation.code.coding.extension:place","path":"Observation.code.coding.extension",
         "sliceName":"place","type":[{"code":"Extension",
         "profile":["http://hl7.org/fhir/StructureDefinition/patient-birthPlace"]}]},
        {"id":"Observation.value[x]:valueQuantity","path":"Observation.value[x]","sliceName":"valueQuantity",
         "type":[{"code":"Quantity"}]},
        {"id":"Observation.value[x]:valueQuantity.extension:place","path":"Observation.value[x].extension",
         "sliceName":"place","type":[{"code":"Extension",
         "profile":["http://hl7.org/fhir/StructureDefinition/patient-birthPlace"]}]}"#,
    );
    let observation = |claimed: bool, element: &str| {
        let meta = claim(
            claimed,
            "http://example.org/StructureDefinition/coded-observation",
        );
        let coding = r#"{"coding":[{"system":"http://loinc.org","code":"8302-2","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthPlace","valueAddress":{"city":"Leeds"}}]}]}"#;
        let (code, category) = if element == "code" {
            (coding.to_string(), String::new())
        } else {
            (
                r#"{"text":"height"}"#.to_string(),
                format!(r#""category":[{coding}],"#),
            )
        };
        let json = format!(
            r#"{{"resourceType":"Observation",{meta}"status":"final",{category}"code":{code}}}"#
        );
        errors_by(&v, &json)
    };
    let declared = observation(true, "code");
    assert!(declared.is_empty(), "{declared:?}");
    let unclaimed = observation(false, "code");
    assert!(
        unclaimed.iter().any(|m| m.contains("not allowed here")),
        "without the profile the extension's own context applies: {unclaimed:?}"
    );
    let elsewhere = observation(true, "category");
    assert!(
        elsewhere.iter().any(|m| m.contains("not allowed here")),
        "the profile declares it on code, not on category: {elsewhere:?}"
    );
    // Declared on the choice `value[x]`, used on `valueQuantity`.
    let value = |claimed: bool| {
        let meta = claim(
            claimed,
            "http://example.org/StructureDefinition/coded-observation",
        );
        errors_by(
            &v,
            &format!(
                r#"{{"resourceType":"Observation",{meta}"status":"final","code":{{"text":"x"}},"valueQuantity":{{"value":1,"extension":[{{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthPlace","valueAddress":{{"city":"Leeds"}}}}]}}}}"#
            ),
        )
    };
    assert!(value(true).is_empty(), "{:?}", value(true));
    assert!(
        value(false).iter().any(|m| m.contains("not allowed here")),
        "{:?}",
        value(false)
    );
}

#[test]
fn a_code_a_claimed_profile_fixes_is_not_blamed_on_the_instance() {
    // The profile patterns a category code that the loaded code system lacks, as
    // CareConnect-GPC-ProblemHeader-Condition-1 fixes `problem-list-item`.
    let v = with_profile(
        "hl7.fhir.r4.core-4.0.1.tgz",
        "listed-observation",
        "Observation",
        r#"{"id":"Observation.category","path":"Observation.category","min":1,"max":"1",
         "patternCodeableConcept":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"problem-list-item"}]}}"#,
    );
    let errors = |claimed: bool, code: &str| {
        let meta = claim(
            claimed,
            "http://example.org/StructureDefinition/listed-observation",
        );
        let json = format!(
            r#"{{"resourceType":"Observation",{meta}"status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"{code}"}}]}}],"code":{{"text":"x"}}}}"#
        );
        errors_by(&v, &json)
    };
    let declared = errors(true, "problem-list-item");
    assert!(declared.is_empty(), "{declared:?}");
    let unclaimed = errors(false, "problem-list-item");
    assert!(
        unclaimed.iter().any(|m| m.contains("unknown code")),
        "without the profile the code system applies: {unclaimed:?}"
    );
    let other = errors(true, "not-a-category");
    assert!(
        other.iter().any(|m| m.contains("unknown code")),
        "only the code the profile fixes is excused: {other:?}"
    );
}

#[test]
fn an_stu3_profile_narrowing_a_repeating_element_keeps_it_an_array() {
    // STU3 core snapshots carry no `base` on a type's own elements.
    let v = with_profile(
        "hl7.fhir.core-3.0.1.tgz",
        "one-category",
        "Condition",
        r#"{"id":"Condition.category","path":"Condition.category","min":1,"max":"1"}"#,
    );
    let errors = |category: &str| {
        let json = format!(
            r#"{{"resourceType":"Condition","meta":{{"profile":["http://example.org/StructureDefinition/one-category"]}},{category}"subject":{{"reference":"Patient/1"}}}}"#
        );
        errors_by(&v, &json)
    };
    let array = errors(r#""category":[{"text":"problem"}],"#);
    assert!(array.is_empty(), "{array:?}");
    let single = errors(r#""category":{"text":"problem"},"#);
    assert!(
        single.iter().any(|m| m.contains("array")),
        "a repeating element is an array in JSON: {single:?}"
    );
    let missing = errors("");
    assert!(
        missing.iter().any(|m| m.contains("minimum required")),
        "{missing:?}"
    );
}

#[test]
fn extensions_a_profile_unfolds_relative_sub_extension_urls_and_open_references() {
    // CareConnect-GPC-ProblemHeader-Condition-1 unfolds RelatedProblemHeader, whose
    // definition is not published, with sub-extensions `type` and `target`.
    let v = with_profile(
        "hl7.fhir.core-3.0.1.tgz",
        "related-condition",
        "Condition",
        r#"{"id":"Condition.extension","path":"Condition.extension",
         "slicing":{"discriminator":[{"type":"value","path":"url"}],"rules":"open"}},
        {"id":"Condition.extension:related","path":"Condition.extension","sliceName":"related",
         "type":[{"code":"Extension","profile":"https://example.nhs.uk/StructureDefinition/related"}]},
        {"id":"Condition.extension:related.url","path":"Condition.extension.url",
         "fixedUri":"https://example.nhs.uk/StructureDefinition/related"},
        {"id":"Condition.extension:related.value[x]","path":"Condition.extension.value[x]",
         "type":[{"code":"code"},{"code":"Reference"}]},
        {"id":"Condition.extension:patient","path":"Condition.extension","sliceName":"patient"},
        {"id":"Condition.extension:patient.url","path":"Condition.extension.url",
         "fixedUri":"https://example.nhs.uk/StructureDefinition/patient"},
        {"id":"Condition.extension:patient.value[x]","path":"Condition.extension.value[x]",
         "type":[{"code":"Reference","targetProfile":"http://hl7.org/fhir/StructureDefinition/Patient"}]},
        {"id":"Condition.extension:any","path":"Condition.extension","sliceName":"any"},
        {"id":"Condition.extension:any.url","path":"Condition.extension.url",
         "fixedUri":"https://example.nhs.uk/StructureDefinition/any"},
        {"id":"Condition.extension:any.value[x]","path":"Condition.extension.value[x]",
         "type":[{"code":"Reference"},
                 {"code":"Reference","targetProfile":"http://hl7.org/fhir/StructureDefinition/Patient"}]}"#,
    );
    let errors = |url: &str| {
        let json = format!(
            r#"{{"resourceType":"Condition","meta":{{"profile":["http://example.org/StructureDefinition/related-condition"]}},"extension":[{{"url":"https://example.nhs.uk/StructureDefinition/related","extension":[{{"url":"{url}","valueCode":"parent"}}]}}],"subject":{{"reference":"Patient/1"}}}}"#
        );
        errors_by(&v, &json)
    };
    let relative = errors("type");
    assert!(relative.is_empty(), "{relative:?}");
    // A Reference type that names no target admits any resource beside ones that do.
    let reference = |slice: &str| {
        let json = format!(
            r#"{{"resourceType":"Condition","meta":{{"profile":["http://example.org/StructureDefinition/related-condition"]}},"extension":[{{"url":"https://example.nhs.uk/StructureDefinition/{slice}","valueReference":{{"reference":"Medication/1"}}}}],"subject":{{"reference":"Patient/1"}}}}"#
        );
        errors_by(&v, &json)
    };
    assert!(reference("any").is_empty(), "{:?}", reference("any"));
    assert!(
        reference("patient")
            .iter()
            .any(|m| m.contains("not a valid target")),
        "{:?}",
        reference("patient")
    );
    // At the top level a relative url is still wrong.
    let top = check(
        r#"{"resourceType":"Patient","extension":[{"url":"type","valueCode":"parent"}]}"#,
        &[],
    );
    assert!(
        top.iter()
            .any(|i| i.severity.is_error() && i.message.contains("absolute")),
        "{top:?}"
    );
}
