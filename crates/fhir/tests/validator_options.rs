//! The validator options a user opts into (`assure validate --security-checks`,
//! `--no-html-in-markdown`, `--no-example-urls`, `--check-references`,
//! `--assume-valid-rest-references`, `--allow-extension-domain`, `--bundle-profile`):
//! each one rejects an instance that the default options pass, and passes one that
//! keeps its rule.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use assure_fhir::outcome::Issue;
use assure_fhir::validate::{BundleProfile, Validator, ValidatorOptions};
use assure_fhir::{parse_json, LoadOptions, Node, PackageSet};

const CORE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fhir-packages/hl7.fhir.r4.core-4.0.1.tgz"
);

/// A profile on Patient that links only to Patients that have a gender.
const LINKED: &str = r#"{"resourceType":"StructureDefinition",
  "url":"http://example.org/fhir/StructureDefinition/gendered","name":"Gendered","status":"draft",
  "fhirVersion":"4.0.1","kind":"resource","abstract":false,"type":"Patient",
  "baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient","derivation":"constraint",
  "differential":{"element":[
    {"id":"Patient.gender","path":"Patient.gender","min":1},
    {"id":"Patient.link.other","path":"Patient.link.other","type":[{"code":"Reference",
      "targetProfile":["http://example.org/fhir/StructureDefinition/gendered"]}]}]}}"#;

fn set() -> Arc<PackageSet> {
    static SET: OnceLock<Arc<PackageSet>> = OnceLock::new();
    SET.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("assure-vo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("gendered.json"), LINKED).expect("write");
        let options = LoadOptions {
            cache: None,
            allow_missing_dependencies: true,
        };
        let set = PackageSet::load(&[Path::new(CORE), dir.as_path()], &options).expect("load");
        let _ = std::fs::remove_dir_all(&dir);
        Arc::new(set)
    })
    .clone()
}

fn validator(options: ValidatorOptions) -> Validator {
    Validator::new(set(), options)
}

fn errors_of(v: &Validator, json: &str, profiles: &[&str]) -> Vec<Issue> {
    let node = parse_json(json).expect("test JSON");
    v.validate(&node, profiles)
        .into_iter()
        .filter(|i| i.severity.is_error())
        .collect()
}

/// Errors with the option and without it: the default passes, the option rejects.
fn only_with(options: ValidatorOptions, json: &str) -> Vec<Issue> {
    let plain = errors_of(&validator(ValidatorOptions::default()), json, &[]);
    assert!(plain.is_empty(), "without the option: {plain:#?}");
    errors_of(&validator(options), json, &[])
}

#[test]
fn security_checks_reject_html_in_strings_and_code_in_markdown_and_links() {
    let on = || ValidatorOptions {
        security_checks: true,
        ..Default::default()
    };
    let bad = only_with(
        on(),
        r#"{"resourceType":"Patient","name":[{"text":"Standard <script>x</script>"}]}"#,
    );
    assert!(
        bad.len() == 1 && bad[0].expression == "Patient.name[0].text",
        "{bad:#?}"
    );
    let bad = only_with(
        on(),
        r#"{"resourceType":"Communication","status":"completed",
            "note":[{"text":"see <img src=x onerror=alert(1)>"}]}"#,
    );
    assert!(bad[0].message.contains("onerror"), "{bad:#?}");
    let bad = only_with(
        on(),
        r#"{"resourceType":"DocumentReference","status":"current",
            "content":[{"attachment":{"url":"javascript:alert(1)"}}]}"#,
    );
    assert!(bad[0].message.contains("runs code"), "{bad:#?}");
    // Text that merely compares, markdown emphasis and plain HTML formatting pass.
    let good = errors_of(
        &validator(on()),
        r#"{"resourceType":"Communication","status":"completed",
            "note":[{"text":"*dose* < 5 mg and <b>twice</b> > once"}],
            "payload":[{"contentString":"x < 5 and y > 3"}]}"#,
        &[],
    );
    assert!(good.is_empty(), "{good:#?}");
}

#[test]
fn no_html_in_markdown_rejects_any_tag_in_markdown_only() {
    let on = || ValidatorOptions {
        no_html_in_markdown: true,
        ..Default::default()
    };
    let bad = only_with(
        on(),
        r#"{"resourceType":"Communication","status":"completed","note":[{"text":"a <b>bold</b> word"}]}"#,
    );
    assert!(
        bad.len() == 1 && bad[0].expression == "Communication.note[0].text",
        "{bad:#?}"
    );
    let good = errors_of(
        &validator(on()),
        r#"{"resourceType":"Communication","status":"completed","note":[{"text":"a **bold** word, 3 < 4"}],
            "payload":[{"contentString":"a <b>bold</b> string is not markdown"}]}"#,
        &[],
    );
    assert!(good.is_empty(), "{good:#?}");
}

#[test]
fn no_example_urls_rejects_urls_and_references_under_example_domains() {
    let on = || ValidatorOptions {
        no_example_urls: true,
        ..Default::default()
    };
    let bad = only_with(
        on(),
        r#"{"resourceType":"DocumentReference","status":"current",
            "content":[{"attachment":{"url":"http://repository.example.org/fhir/x"}}],
            "subject":{"reference":"https://example.com/fhir/Patient/1"}}"#,
    );
    assert_eq!(bad.len(), 2, "{bad:#?}");
    let good = errors_of(
        &validator(on()),
        r#"{"resourceType":"DocumentReference","status":"current",
            "content":[{"attachment":{"url":"https://fhir.example-health.org/x"}}],
            "subject":{"reference":"Patient/1"}}"#,
        &[],
    );
    assert!(good.is_empty(), "{good:#?}");
    // Extensions under an example domain have no published definitions: not errors
    // even when unknown extensions are, until example URLs are refused.
    let strict = |no_examples| ValidatorOptions {
        no_example_urls: no_examples,
        unknown_extensions_are_errors: true,
        ..Default::default()
    };
    let json = r#"{"resourceType":"Patient","extension":[{"url":"http://example.org/x","valueBoolean":true}]}"#;
    assert!(errors_of(&validator(strict(false)), json, &[]).is_empty());
    let ext = errors_of(&validator(strict(true)), json, &[]);
    assert_eq!(ext.len(), 2, "{ext:#?}");
    // Other example domains are not exempt: only example.org's are the specification's own.
    let other = json.replace("example.org", "example.com");
    assert_eq!(errors_of(&validator(strict(false)), &other, &[]).len(), 1);
}

const PARAMS: &str = r##"{"resourceType":"Parameters","parameter":[
  {"name":"p","resource":{"resourceType":"Patient","id":"1"}},
  {"name":"c","resource":{"resourceType":"Coverage","id":"c","status":"active",
    "beneficiary":{"reference":"Patient/TARGET"},"payor":[{"reference":"#payer"}],
    "contained":[{"resourceType":"Organization","id":"payer","name":"P"}]}}]}"##;

#[test]
fn check_references_resolves_among_parameters_contained_and_inputs() {
    let on = || ValidatorOptions {
        check_references: true,
        ..Default::default()
    };
    let good = errors_of(&validator(on()), &PARAMS.replace("TARGET", "1"), &[]);
    assert!(good.is_empty(), "{good:#?}");
    let bad = only_with(on(), &PARAMS.replace("TARGET", "2"));
    assert!(
        bad.len() == 1
            && bad[0]
                .message
                .contains("cannot resolve the reference `Patient/2`"),
        "{bad:#?}"
    );
    // dom-3 reports the unreferenced contained resource either way; the option adds
    // the reference that resolves to nothing.
    let dangling = PARAMS.replace("TARGET", "1").replace("#payer", "#nobody");
    let unresolved = |issues: Vec<Issue>| {
        issues
            .iter()
            .filter(|i| i.message.contains("cannot resolve the reference `#nobody`"))
            .count()
    };
    assert_eq!(unresolved(errors_of(&validator(on()), &dangling, &[])), 1);
    let plain = validator(ValidatorOptions::default());
    assert_eq!(unresolved(errors_of(&plain, &dangling, &[])), 0);
    // Another input holds the target.
    let other: Node = parse_json(r#"{"resourceType":"Patient","id":"2"}"#).expect("JSON");
    let with_input = validator(on()).with_resources([Arc::new(other)]);
    let found = errors_of(&with_input, &PARAMS.replace("TARGET", "2"), &[]);
    assert!(found.is_empty(), "{found:#?}");
    // Absolute URLs outside what was given are not checked.
    let elsewhere = PARAMS.replace("Patient/TARGET", "https://other.org/fhir/Patient/9");
    assert!(errors_of(&validator(on()), &elsewhere, &[]).is_empty());
}

#[test]
fn assume_valid_rest_references_takes_unresolved_type_id_references_as_valid() {
    let opts = |assume| ValidatorOptions {
        check_references: true,
        assume_valid_rest_references: assume,
        ..Default::default()
    };
    let json = PARAMS.replace("TARGET", "2");
    assert_eq!(errors_of(&validator(opts(false)), &json, &[]).len(), 1);
    assert!(errors_of(&validator(opts(true)), &json, &[]).is_empty());
    // Local references must still resolve.
    let local = PARAMS.replace("TARGET", "1").replace("#payer", "#nobody");
    let errors = errors_of(&validator(opts(true)), &local, &[]);
    assert!(
        errors.iter().any(|i| i.message.contains("`#nobody`")),
        "{errors:#?}"
    );
}

const GENDERED: &str = "http://example.org/fhir/StructureDefinition/gendered";

/// A Bundle of two Patients; the first links to the second, whose gender is `G`.
fn linked_bundle(gender: &str) -> String {
    format!(
        r#"{{"resourceType":"Bundle","type":"collection","entry":[
      {{"fullUrl":"http://x.org/fhir/Patient/a","resource":{{"resourceType":"Patient","id":"a","gender":"male",
        "link":[{{"other":{{"reference":"Patient/b"}},"type":"seealso"}}]}}}},
      {{"fullUrl":"http://x.org/fhir/Patient/b","resource":{{"resourceType":"Patient","id":"b"{gender},
        "link":[{{"other":{{"reference":"Patient/a"}},"type":"seealso"}}]}}}}]}}"#
    )
}

#[test]
fn reference_targets_are_checked_against_target_profiles_in_a_circle() {
    let rule = |on: bool| ValidatorOptions {
        check_references: on,
        bundle_profiles: vec![BundleProfile::parse(&format!("Patient:0={GENDERED}")).expect("rule")],
        ..Default::default()
    };
    // a -> b -> a: b has a gender, so both conform (the circle is taken as conforming).
    let good = errors_of(
        &validator(rule(true)),
        &linked_bundle(r#","gender":"female""#),
        &[],
    );
    assert!(good.is_empty(), "{good:#?}");
    // b has no gender: the reference from a finds no conforming target.
    let bad = errors_of(&validator(rule(true)), &linked_bundle(""), &[]);
    assert!(
        bad.iter().any(|i| i.message.contains("conforms to none")
            && i.expression == "Bundle.entry[0].resource.link[0].other"),
        "{bad:#?}"
    );
    // Targets inside the Bundle are checked without the option too.
    assert_eq!(
        errors_of(&validator(rule(false)), &linked_bundle(""), &[]).len(),
        1
    );
}

#[test]
fn bundle_profile_validates_the_entries_a_rule_picks() {
    let rule = |r: &str| ValidatorOptions {
        bundle_profiles: vec![BundleProfile::parse(&format!("{r}={GENDERED}")).expect("rule")],
        ..Default::default()
    };
    // No links: only the profile a rule applies can find fault with an entry.
    let bundle = r#"{"resourceType":"Bundle","type":"collection","entry":[
      {"fullUrl":"http://x.org/fhir/Patient/a","resource":{"resourceType":"Patient","id":"a","gender":"male"}},
      {"fullUrl":"http://x.org/fhir/Patient/b","resource":{"resourceType":"Patient","id":"b"}}]}"#;
    assert!(errors_of(&validator(ValidatorOptions::default()), bundle, &[]).is_empty());
    // The first Patient has a gender; the second does not.
    assert!(errors_of(&validator(rule("Patient:0")), bundle, &[]).is_empty());
    let bad = errors_of(&validator(rule("Patient:1")), bundle, &[]);
    assert!(
        bad.len() == 1 && bad[0].expression.starts_with("Bundle.entry[1].resource"),
        "{bad:#?}"
    );
    assert_eq!(errors_of(&validator(rule("Patient")), bundle, &[]).len(), 1);
    assert_eq!(errors_of(&validator(rule("1")), bundle, &[]).len(), 1);
    assert!(errors_of(&validator(rule("Observation")), bundle, &[]).is_empty());
}

#[test]
fn allowed_extension_domains_need_no_definition() {
    let json = r#"{"resourceType":"Patient","extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-x","valueBoolean":true}],
        "modifierExtension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-m","valueBoolean":true}]}"#;
    let strict = |domains: &[&str]| ValidatorOptions {
        unknown_extensions_are_errors: true,
        allowed_extension_domains: domains.iter().map(|d| d.to_string()).collect(),
        ..Default::default()
    };
    assert_eq!(errors_of(&validator(strict(&[])), json, &[]).len(), 2);
    let allowed = errors_of(
        &validator(strict(&["https://fhir.nhs.uk/StructureDefinition"])),
        json,
        &[],
    );
    assert!(allowed.is_empty(), "{allowed:#?}");
    let other = errors_of(
        &validator(strict(&["https://fhir.nhs.uk/Other"])),
        json,
        &[],
    );
    assert_eq!(other.len(), 2, "{other:#?}");
}
