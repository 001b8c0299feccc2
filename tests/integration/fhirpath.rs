//! `assure fhirpath`: results with types, JSON for scripts, errors with positions.

use std::process::Command;

fn data(rel: &str) -> String {
    assure_testdata::path(rel).display().to_string()
}

fn fhirpath(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_assure"))
        .arg("fhirpath")
        .args(args)
        .env("FHIR_PACKAGE_CACHE", "/nonexistent-cache")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn evaluates_json_and_xml_with_types() {
    let json = data("corpora/fhirpath/input/json/patient-example.json");
    let xml = data("corpora/fhirpath/input/patient-example.xml");
    let core = data("fhir-packages/hl7.fhir.r4.core-4.0.1.tgz");
    let (code, out, err) = fhirpath(&[
        "name.where(use = 'official').given",
        &json,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        r#"[{"type":"string","value":"Peter"},{"type":"string","value":"James"}]"#
    );
    assert!(err.contains("without types"), "{err}");
    let (code, out, err) = fhirpath(&["birthDate", &xml, "--package", &core]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "FHIR.date: @1974-12-25");
    // Types make unknown paths an error, not an empty result.
    let (code, _, err) = fhirpath(&["name.given.nope", &json, "--package", &core]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("semantic error"), "{err}");
}

#[test]
fn syntax_errors_and_bad_files_exit_2() {
    let json = data("corpora/fhirpath/input/json/patient-example.json");
    let (code, _, err) = fhirpath(&["name.where(", &json]);
    assert_eq!(code, 2);
    assert!(
        err.contains("syntax error") && err.contains("<expression>:1:"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"resourceType\": \"Patient\",\n  \"id\" 1}").unwrap();
    let (code, _, err) = fhirpath(&["id", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.json:2:8"), "{err}");
}
