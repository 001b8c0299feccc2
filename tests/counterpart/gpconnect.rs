//! `mocks/gpconnect-provider` answers the test patients a consumer or a provider run
//! brings (any 10-digit NHS number), keeps the suites' own special patients as they are,
//! and says which is which when it answers 404.

use base64::Engine;
use serde_json::{json, Value};

use super::support::{send, start, Answer};

const OTHER: &str = "9434765919";
const NHS: &str = "https://fhir.nhs.uk/Id/nhs-number";

/// An unsigned GP Connect access token with every claim, issued now, as a consumer sends it.
fn token(scope: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"iss": "https://consumer.example.nhs.uk", "sub": "1",
        "aud": "https://provider.example.nhs.uk", "exp": now + 300, "iat": now,
        "reason_for_request": "directcare", "requested_scope": scope,
        "requesting_device": {"resourceType": "Device"},
        "requesting_organization": {"resourceType": "Organization"},
        "requesting_practitioner": {"resourceType": "Practitioner", "id": "1"}});
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "Bearer {}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims)
    )
}

async fn call(
    s: &assure::counterpart::Counterpart,
    method: &str,
    url: &str,
    interaction: &str,
    body: Option<&str>,
) -> Answer {
    let auth = token(if interaction.contains("organization") {
        "organization/*.read"
    } else {
        "patient/*.read"
    });
    let interaction = format!("urn:nhs:names:services:gpconnect:{interaction}");
    let headers = [
        ("Ssp-TraceID", "5a0a6c4e-0b1a-4d3c-9a4e-1f2b3c4d5e6f"),
        ("Ssp-From", "200000000359"),
        ("Ssp-To", "918999198993"),
        ("Ssp-InteractionID", interaction.as_str()),
        ("Authorization", auth.as_str()),
        ("Accept", "application/fhir+json"),
        ("Content-Type", "application/fhir+json"),
    ];
    send(s, method, url, &headers, body).await
}

async fn structured(s: &assure::counterpart::Counterpart, nhs: &str, areas: &[&str]) -> Answer {
    let mut parameter = vec![json!({"name": "patientNHSNumber",
        "valueIdentifier": {"system": NHS, "value": nhs}})];
    parameter.extend(areas.iter().map(|a| json!({ "name": a })));
    let body = json!({"resourceType": "Parameters", "parameter": parameter}).to_string();
    call(
        s,
        "POST",
        "/Patient/$gpc.getstructuredrecord",
        "fhir:operation:gpc.getstructuredrecord-1",
        Some(&body),
    )
    .await
}

/// An OperationOutcome with one error issue of `code` (GP Connect writes its media type
/// without a space before the charset).
fn error(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert!(a
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/fhir+json")));
    assert_eq!(a.body["resourceType"], "OperationOutcome");
    assert_eq!(a.body["issue"][0]["severity"], "error");
    assert_eq!(a.body["issue"][0]["code"], code);
}

fn of_type<'a>(bundle: &'a Value, rtype: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .map(|e| e.iter().map(|e| &e["resource"]).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r["resourceType"] == rtype)
        .collect()
}

fn nhs_numbers(bundle: &Value) -> Vec<&str> {
    of_type(bundle, "Patient")
        .iter()
        .flat_map(|p| p["identifier"].as_array().into_iter().flatten())
        .filter(|i| i["system"] == NHS)
        .filter_map(|i| i["value"].as_str())
        .collect()
}

fn list_codes(bundle: &Value) -> Vec<&str> {
    of_type(bundle, "List")
        .iter()
        .filter_map(|l| l["code"]["coding"][0]["code"].as_str())
        .collect()
}

#[tokio::test]
async fn any_nhs_number_is_a_patient_with_the_reference_record() {
    let s = start("gpconnect-provider").await;

    let meds = structured(&s, OTHER, &["includeMedication"]).await;
    assert_eq!(meds.status, 200, "{}", meds.body);
    assert_eq!(nhs_numbers(&meds.body), [OTHER]);
    assert!(!of_type(&meds.body, "MedicationStatement").is_empty());
    // The same request for the registered patient: the same record, its own number.
    let registered = structured(&s, "9690937286", &["includeMedication"]).await;
    assert_eq!(nhs_numbers(&registered.body), ["9690937286"]);
    assert_eq!(list_codes(&meds.body), list_codes(&registered.body));

    // Several areas: the first of them in the specification's order.
    let two = structured(&s, OTHER, &["includeProblems", "includeAllergies"]).await;
    assert_eq!(two.status, 200);
    assert!(!of_type(&two.body, "AllergyIntolerance").is_empty());
    assert!(of_type(&two.body, "Condition").is_empty());

    // Every clinical-area parameter is optional: the patient, their practice and GP.
    let only = structured(&s, OTHER, &[]).await;
    assert_eq!(only.status, 200);
    assert_eq!(nhs_numbers(&only.body), [OTHER]);
    assert!(of_type(&only.body, "List").is_empty());

    // Find a patient finds them, at the id their NHS number is, and reads them there.
    let url = format!("/Patient?identifier={NHS}%7C{OTHER}");
    let found = call(&s, "GET", &url, "fhir:rest:search:patient-1", None).await;
    assert_eq!(found.status, 200);
    assert_eq!(found.body["total"], 1);
    assert_eq!(found.body["entry"][0]["resource"]["id"], OTHER);
    assert_eq!(nhs_numbers(&found.body), [OTHER]);
    let read = call(
        &s,
        "GET",
        &format!("/Patient/{OTHER}"),
        "fhir:rest:read:patient-1",
        None,
    )
    .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["identifier"][0]["value"], OTHER);
}

#[tokio::test]
async fn the_suites_own_patients_keep_their_answers_and_a_404_says_why() {
    let s = start("gpconnect-provider").await;
    let spine_code = |a: &Answer| {
        a.body["issue"][0]["details"]["coding"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    let not_found = structured(&s, "9690937294", &["includeMedication"]).await;
    error(&not_found, 404, "not-found");
    assert_eq!(spine_code(&not_found), "PATIENT_NOT_FOUND");
    let why = not_found.body["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(
        why.contains("any 10-digit NHS number") && why.contains("9690937294 (not on record)"),
        "{why}"
    );

    let dissent = structured(&s, "9690937324", &["includeMedication"]).await;
    error(&dissent, 403, "forbidden");
    assert_eq!(spine_code(&dissent), "NO_PATIENT_CONSENT");
    let invalid = structured(&s, "94347659", &["includeMedication"]).await;
    error(&invalid, 400, "value");
    assert_eq!(spine_code(&invalid), "INVALID_NHS_NUMBER");
    let unknown = structured(&s, OTHER, &["includeEverything"]).await;
    error(&unknown, 422, "invalid");
    assert_eq!(spine_code(&unknown), "INVALID_PARAMETER");
    let garbage = call(
        &s,
        "POST",
        "/Patient/$gpc.getstructuredrecord",
        "fhir:operation:gpc.getstructuredrecord-1",
        Some("not json"),
    )
    .await;
    error(&garbage, 400, "invalid");

    let url = format!("/Patient?identifier={NHS}%7C9690937294");
    let none = call(&s, "GET", &url, "fhir:rest:search:patient-1", None).await;
    assert_eq!(none.status, 200);
    assert_eq!(none.body["total"], 0);
    let gone = call(
        &s,
        "GET",
        "/Patient/9690937294",
        "fhir:rest:read:patient-1",
        None,
    )
    .await;
    error(&gone, 404, "not-found");
    let why = gone.body["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(why.contains("Patient/N"), "{why}");
}
