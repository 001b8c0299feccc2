//! GP Connect: the steps put the JWT and Spine headers on the wire as the specification
//! shapes them, the error check passes and fails as it should, the reference GP Connect
//! provider passes `gp-connect-foundations`, and each seeded defect of the broken one
//! fails exactly the requirements it names.

use std::path::Path;

use assure::client::gpconnect::decode_unsigned;
use assure::counterpart::StubSet;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::shipped::{
    assert_each_defect_fails_only_its_requirements, defect_of, run_defects, run_shipped,
    seeded_defects,
};
use crate::support::{assert_named_outcomes, Project};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const PROFILE: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1";
const SPINE: &str = "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1";

fn outcome(profile: Option<&str>, system: &str, code: &str) -> Value {
    let mut oo = json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid",
        "details": {"coding": [{"system": system, "code": code}]}}]});
    if let Some(p) = profile {
        oo["meta"] = json!({"profile": [p]});
    }
    oo
}

async fn supplier() -> MockServer {
    let server = MockServer::start().await;
    let answers = [
        ("/ok", 200, json!({"resourceType": "Patient", "id": "2"})),
        ("/error", 400, outcome(Some(PROFILE), SPINE, "BAD_REQUEST")),
        ("/no-profile", 400, outcome(None, SPINE, "BAD_REQUEST")),
        (
            "/other-system",
            400,
            outcome(Some(PROFILE), "http://example.org/codes", "BAD_REQUEST"),
        ),
        ("/not-outcome", 400, json!({"resourceType": "Bundle"})),
    ];
    for (p, status, body) in answers {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_raw(body.to_string(), "application/fhir+json"),
            )
            .mount(&server)
            .await;
    }
    server
}

const FEATURE: &str = r#"
@req:T-1
Feature: GP Connect steps

  Background:
    Given the variable "gpc_consumer_asid" is "200000000359"
    And the variable "gpc_provider_asid" is "918999198738"
    And the variable "gpc_consumer_ods" is "GPC001"
    And the variable "gpc_practitioner_sds_user_id" is "G13579135"
    And the variable "gpc_practitioner_role_profile_id" is "111111111"

  Scenario: pass: a well-formed GP Connect request
    Given the request is a GP Connect "patient read" request
    When I send a GET request to "/ok"
    Then the response status is 200

  Scenario: pass: a mutated GP Connect request
    Given the request is a GP Connect "organization read" request
    And the JWT claim "reason_for_request" is removed
    And the JWT claim "requested_scope" is "patient/*.write"
    And the JWT claim "requesting_device" is {"resourceType": "Device", "model": "{patient_id}"}
    And the JWT expires 301 seconds after it was issued
    And the Spine header "Ssp-TraceID" is removed
    And the Spine header "Ssp-From" is "X-{patient_id}"
    When I send a GET request to "/ok?mutated"
    Then the response status is 200

  Scenario: pass: a GP Connect error
    Given the request is a GP Connect "metadata" request
    When I send a GET request to "/error"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

  Scenario: fail: another Spine error code
    When I send a GET request to "/error"
    Then the response is a GP Connect error with code "INVALID_NHS_NUMBER" and status 400

  Scenario: fail: another status
    When I send a GET request to "/error"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 404

  Scenario: fail: no GP Connect profile
    When I send a GET request to "/no-profile"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

  Scenario: fail: the code from another system
    When I send a GET request to "/other-system"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

  Scenario: fail: not an OperationOutcome
    When I send a GET request to "/not-outcome"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

  Scenario: error: an unknown interaction
    Given the request is a GP Connect "patient serch" request

  Scenario: error: a mutation before any GP Connect request
    Given the JWT claim "iss" is removed

  Scenario: error: a claim value that is not JSON
    Given the request is a GP Connect "metadata" request
    And the JWT claim "iss" is {not json
"#;

fn header<'a>(req: &'a wiremock::Request, name: &str) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

fn claims_of(req: &wiremock::Request) -> serde_json::Map<String, Value> {
    let auth = header(req, "Authorization").expect("an Authorization header");
    let token = auth.strip_prefix("Bearer ").expect("a bearer token");
    let (head, claims) = decode_unsigned(token).expect("the token decodes");
    assert_eq!(head["alg"], "none");
    assert!(
        token.ends_with('.'),
        "an unsigned JWT ends with an empty signature"
    );
    claims
}

#[tokio::test(flavor = "multi_thread")]
async fn gp_connect_steps_pass_fail_and_reach_the_wire() {
    let server = supplier().await;
    let project = Project::new(&["T-1"]);
    project.feature("gpconnect.feature", FEATURE);
    let run = project.run(&["run", "--target", &server.uri()]).await;
    assert_named_outcomes(&run);
    assert_eq!(run.code, 1, "{}", run.stderr);

    let received = server.received_requests().await.unwrap();
    let plain = received
        .iter()
        .find(|r| r.url.path() == "/ok" && r.url.query().is_none())
        .expect("the well-formed request");
    let claims = claims_of(plain);
    let now = chrono::Utc::now().timestamp();
    let iat = claims["iat"].as_i64().unwrap();
    assert!(
        (now - 120..=now).contains(&iat),
        "iat {iat} is not the time of sending"
    );
    assert_eq!(claims["exp"].as_i64(), Some(iat + 300));
    assert_eq!(claims["aud"], server.uri().as_str());
    assert_eq!(claims["requested_scope"], "patient/*.read");
    assert_eq!(claims["reason_for_request"], "directcare");
    assert_eq!(claims["sub"], claims["requesting_practitioner"]["id"]);
    assert_eq!(
        claims["requesting_practitioner"]["identifier"][0]["value"],
        "G13579135"
    );
    assert_eq!(
        claims["requesting_organization"]["identifier"][0]["value"],
        "GPC001"
    );
    assert_eq!(
        header(plain, "Ssp-InteractionID"),
        Some("urn:nhs:names:services:gpconnect:fhir:rest:read:patient-1")
    );
    assert_eq!(header(plain, "Ssp-From"), Some("200000000359"));
    assert_eq!(header(plain, "Ssp-To"), Some("918999198738"));
    assert_eq!(header(plain, "Accept"), Some("application/fhir+json"));
    let trace = header(plain, "Ssp-TraceID").expect("a trace id");
    assert!(uuid::Uuid::parse_str(trace).is_ok(), "{trace}");

    let mutated = received
        .iter()
        .find(|r| r.url.query() == Some("mutated"))
        .expect("the mutated request");
    let claims = claims_of(mutated);
    assert!(!claims.contains_key("reason_for_request"));
    assert_eq!(claims["requested_scope"], "patient/*.write");
    assert_eq!(claims["requesting_device"]["model"], "p1");
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["exp"].as_i64(), Some(iat + 301));
    assert_eq!(header(mutated, "Ssp-TraceID"), None);
    assert_eq!(header(mutated, "Ssp-From"), Some("X-p1"));
    assert_eq!(
        header(mutated, "Ssp-InteractionID"),
        Some("urn:nhs:names:services:gpconnect:fhir:rest:read:organization-1")
    );
}

const FOUNDATIONS: &[&str] = &["--suite", "gp-connect-foundations"];

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_gp_connect_provider_passes_the_foundations_suite() {
    let set = StubSet::load_named(&Path::new(ROOT).join("mocks"), "gpconnect-provider").unwrap();
    let outcome = run_shipped(Some(&set), FOUNDATIONS).await;
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    assert!(
        outcome.failed_requirements.is_empty(),
        "{:?}",
        outcome.failed_requirements
    );
    assert!(outcome.scenarios >= 100, "{} scenarios", outcome.scenarios);
}

/// Requirements only the provider suite has (the capability areas, register a
/// patient, XML, validation).
const PROVIDER_ONLY: [&str; 6] = [
    "GPC-ARS-",
    "GPC-APPT-",
    "GPC-DOC-",
    "GPC-REG-",
    "GPC-XML-",
    "GPC-VAL-",
];

/// Defects of a capability endpoint whose requirements the foundations share (the
/// foundations suite sends no structured record with a body).
const PROVIDER_DEFECTS: [&str; 1] = ["scope-ignored-with-body"];

/// The broken provider with only the defects that break a requirement of the
/// provider capabilities (`provider`), or only those that break foundations ones.
fn broken_subset(provider: bool) -> StubSet {
    let mut broken =
        StubSet::load_named(&Path::new(ROOT).join("mocks"), "gpconnect-provider-broken").unwrap();
    let capability: std::collections::BTreeSet<String> = seeded_defects(&broken)
        .into_iter()
        .filter(|(name, reqs)| {
            PROVIDER_DEFECTS.contains(&name.as_str())
                || reqs
                    .iter()
                    .any(|r| PROVIDER_ONLY.iter().any(|p| r.starts_with(p)))
        })
        .map(|(name, _)| name)
        .collect();
    broken
        .mappings
        .retain(|m| defect_of(m).is_none_or(|d| capability.contains(d) == provider));
    broken
}

#[tokio::test(flavor = "multi_thread")]
async fn each_gp_connect_defect_fails_its_requirements_and_only_those() {
    let broken = broken_subset(false);
    let outcome = run_defects(&broken, FOUNDATIONS).await;
    assert_each_defect_fails_only_its_requirements(&broken, &outcome, 10);
}

const PROVIDER: &[&str] = &["--suite", "gp-connect-provider"];

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_gp_connect_provider_passes_the_provider_suite() {
    let set = StubSet::load_named(&Path::new(ROOT).join("mocks"), "gpconnect-provider").unwrap();
    let outcome = run_shipped(Some(&set), PROVIDER).await;
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    assert!(
        outcome.failed_requirements.is_empty(),
        "{:?}",
        outcome.failed_requirements
    );
    assert!(outcome.scenarios >= 300, "{} scenarios", outcome.scenarios);
}

/// The provider that offers only Access Record Structured (every other endpoint 404, a
/// CapabilityStatement naming only `gpc.getstructuredrecord`) answers every Structured
/// scenario as the full provider does: the overlay hides the other capabilities only.
#[tokio::test(flavor = "multi_thread")]
async fn the_structured_only_provider_passes_the_structured_scenarios() {
    let set = StubSet::load_named(
        &Path::new(ROOT).join("mocks"),
        "gpconnect-provider-structured-only",
    )
    .unwrap();
    let outcome = run_shipped(
        Some(&set),
        &["--suite", "gp-connect-provider", "--tags", "@structured"],
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    let failed = outcome.report["summary"]["scenarios"]["failed"]
        .as_u64()
        .unwrap_or_default();
    assert_eq!(failed, 0, "{}", outcome.stderr);
    let passed = outcome.report["summary"]["scenarios"]["passed"]
        .as_u64()
        .unwrap_or_default();
    assert!(passed >= 90, "{passed} Structured scenarios passed");
}

/// Each defect seeded in the capability areas (structured record, appointments,
/// register a patient, documents, XML, validation) fails exactly its requirements of
/// the provider suite.
#[tokio::test(flavor = "multi_thread")]
async fn each_capability_defect_fails_its_requirements_and_only_those() {
    let broken = broken_subset(true);
    let outcome = run_defects(&broken, PROVIDER).await;
    assert_each_defect_fails_only_its_requirements(&broken, &outcome, 18);
}

/// A provider that, like a real GP Connect one, answers only requests carrying the
/// JWT and the Spine headers of the metadata interaction.
async fn header_checking_provider() -> MockServer {
    use wiremock::matchers::{header, header_regex};
    let server = MockServer::start().await;
    let statement = json!({"resourceType": "CapabilityStatement", "fhirVersion": "3.0.1",
        "software": {"name": "strict provider", "version": "2.0"}});
    Mock::given(method("GET"))
        .and(path("/metadata"))
        .and(header(
            "Ssp-InteractionID",
            "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1",
        ))
        .and(header("Ssp-From", "200000000359"))
        .and(header("Ssp-To", "918999198738"))
        .and(header_regex("Ssp-TraceID", "^[0-9a-f-]{36}$"))
        .and(header_regex("Authorization", r"^Bearer [\w-]+\.[\w-]+\.$"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(statement.to_string(), "application/fhir+json"),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            outcome(Some(PROFILE), SPINE, "BAD_REQUEST").to_string(),
            "application/fhir+json",
        ))
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gp_connect_suite_reads_metadata_as_the_gp_connect_metadata_interaction() {
    let server = header_checking_provider().await;
    let manifest = |how: &str| {
        format!(
            "[suite]\nid = \"t\"\nversion = \"0.1.0\"\ntitle = \"T\"\nfeatures = [\"../../features/*.feature\"]\ndefault = true\n{how}\n\n[inputs.token]\nsecret = true\n[inputs.gpc_consumer_asid]\ndefault = \"200000000359\"\n[inputs.gpc_provider_asid]\ndefault = \"918999198738\"\n[inputs.gpc_consumer_ods]\ndefault = \"GPC001\"\n[inputs.gpc_practitioner_sds_user_id]\ndefault = \"G13579135\"\n[inputs.gpc_practitioner_role_profile_id]\ndefault = \"111111111\"\n\n[[requirements]]\nid = \"T-1\"\nlevel = \"MUST\"\ntext = \"t\"\nsource = \"test\"\n"
        )
    };
    let project = Project::new(&[]);
    project.feature(
        "m.feature",
        "@req:T-1\nFeature: m\n  Scenario: pass: metadata\n    Given the request is a GP Connect \"metadata\" request\n    When I send a GET request to \"/metadata\"\n    Then the response status is 200\n",
    );
    let software = |run: &crate::support::Run| run.report()["run"]["target"]["software"].clone();

    project.file(
        "suites/t/suite.toml",
        &manifest("capability_request = \"gp-connect\""),
    );
    let run = project.run(&["run", "--target", &server.uri()]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(software(&run), "strict provider 2.0", "{}", run.stderr);

    // A plain FHIR read of /metadata is refused by such a provider.
    project.file("suites/t/suite.toml", &manifest(""));
    let run = project.run(&["run", "--target", &server.uri()]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(software(&run), Value::Null);
}
