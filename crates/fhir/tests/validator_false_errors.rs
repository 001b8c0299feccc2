//! False errors found by the corpus figures (`validator_corpus`), each fixed and kept
//! here with an instance that must fail beside the one that must pass.

use std::sync::{Arc, OnceLock};

use assure_fhir::validate::{Validator, ValidatorOptions};
use assure_fhir::{parse_json, LoadOptions, PackageSet};

fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| {
        let core = assure_testdata::path("fhir-packages/hl7.fhir.r4.core-4.0.1.tgz");
        let options = LoadOptions {
            cache: None,
            allow_missing_dependencies: true,
        };
        let set = PackageSet::load(&[core], &options).expect("R4 core");
        Validator::new(Arc::new(set), ValidatorOptions::default())
    })
}

fn errors(json: &str) -> Vec<String> {
    let node = parse_json(json).expect("test JSON");
    validator()
        .validate(&node, &[])
        .into_iter()
        .filter(|i| i.severity.is_error())
        .map(|i| format!("{} @ {}", i.message, i.expression))
        .collect()
}

/// FHIR regexes mean XML Schema's `\s` (ASCII whitespace): a no-break space is text
/// (`Bundle-v2-valuesets.json` has designations starting with one).
#[test]
fn no_break_space_is_not_whitespace_in_value_regexes() {
    let ok = errors(
        r#"{"resourceType":"Basic","code":{"text":"x"},"extension":[{"url":"http://example.org/x","valueString":"\u00a0Seul"}]}"#,
    );
    assert!(!ok.iter().any(|e| e.contains("valid string")), "{ok:?}");
    let ok = errors(r#"{"resourceType":"Basic","code":{"coding":[{"code":"a\u00a0b"}]}}"#);
    assert!(ok.is_empty(), "{ok:?}");
    let bad = errors(r#"{"resourceType":"Basic","code":{"coding":[{"code":"a  b"}]}}"#);
    assert!(
        bad.iter().any(|e| e.contains("not a valid code")),
        "{bad:?}"
    );
}

/// A backbone element with a member called `resourceType` is not a resource
/// (`ExampleScenario.instance`): ele-1 counts its children.
#[test]
fn backbone_element_with_a_resource_type_member() {
    let ok = errors(
        r#"{"resourceType":"ExampleScenario","status":"draft","instance":[{"resourceId":"a","resourceType":"Patient","name":"n"}]}"#,
    );
    assert!(ok.is_empty(), "{ok:?}");
    let bad = errors(
        r#"{"resourceType":"ExampleScenario","status":"draft","instance":[{"resourceType":"Patient"}]}"#,
    );
    assert!(
        bad.iter()
            .any(|e| e.contains("resourceId: minimum required")),
        "{bad:?}"
    );
}

/// The 1 MB limit is on strings; narrative is xhtml (`CodeSystem-dicom-dcim.json`).
#[test]
fn one_megabyte_limit_is_for_strings_not_narrative() {
    let big = "x".repeat(1024 * 1024 + 1);
    let ok = errors(&format!(
        r#"{{"resourceType":"Basic","code":{{"text":"x"}},"text":{{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">{big}</div>"}}}}"#
    ));
    assert!(
        !ok.iter().any(|e| e.contains("1 MB")),
        "{:?}",
        ok.iter().map(|e| &e[..80.min(e.len())]).collect::<Vec<_>>()
    );
    let bad = errors(&format!(
        r#"{{"resourceType":"Basic","code":{{"text":"{big}"}}}}"#
    ));
    assert!(
        bad.iter().any(|e| e.contains("maximum of 1 MB")),
        "{} errors",
        bad.len()
    );
}
