//! `mocks/gpconnect-provider` answers the test patients a consumer or a provider run
//! brings (any 10-digit NHS number), keeps the suites' own special patients as they are,
//! and says which is which when it answers 404.

use assure::client::gpconnect::{interaction, request_headers, Consumer};
use assure::counterpart::Counterpart;
use serde_json::{json, Value};

use super::support::{send, start, Answer};

const OTHER: &str = "9434765919";
const NHS: &str = "https://fhir.nhs.uk/Id/nhs-number";

/// A request for the GP Connect interaction `name` with the headers assure's own client
/// sends: a fresh unsigned token with every claim, and the Spine headers.
async fn call(s: &Counterpart, method: &str, url: &str, name: &str, body: Option<&str>) -> Answer {
    let who = Consumer::from_inputs(s.base_url(), |input| {
        let value = match input {
            "gpc_consumer_asid" => "200000000359",
            "gpc_provider_asid" => "918999198993",
            "gpc_consumer_ods" => "A11111",
            "gpc_practitioner_sds_user_id" => "G13579135",
            "gpc_practitioner_role_profile_id" => "111111111",
            _ => return None,
        };
        Some(value.to_owned())
    })
    .unwrap();
    let mut headers = request_headers(interaction(name).unwrap(), &who);
    headers.push(("Accept".into(), "application/fhir+json".into()));
    headers.push(("Content-Type".into(), "application/fhir+json".into()));
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    send(s, method, url, &headers, body).await
}

async fn structured(s: &Counterpart, nhs: &str, areas: &[&str]) -> Answer {
    let mut parameter = vec![json!({"name": "patientNHSNumber",
        "valueIdentifier": {"system": NHS, "value": nhs}})];
    parameter.extend(areas.iter().map(|a| json!({ "name": a })));
    let body = json!({"resourceType": "Parameters", "parameter": parameter}).to_string();
    call(
        s,
        "POST",
        "/Patient/$gpc.getstructuredrecord",
        "structured record",
        Some(&body),
    )
    .await
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
    let found = call(&s, "GET", &url, "patient search", None).await;
    assert_eq!(found.status, 200);
    assert_eq!(found.body["total"], 1);
    assert_eq!(found.body["entry"][0]["resource"]["id"], OTHER);
    assert_eq!(nhs_numbers(&found.body), [OTHER]);
    let read = call(
        &s,
        "GET",
        &format!("/Patient/{OTHER}"),
        "patient read",
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
    not_found.error_issue(404, "not-found");
    assert_eq!(spine_code(&not_found), "PATIENT_NOT_FOUND");
    let why = not_found.body["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(
        why.contains("any 10-digit NHS number") && why.contains("9690937294 (not on record)"),
        "{why}"
    );

    let dissent = structured(&s, "9690937324", &["includeMedication"]).await;
    dissent.error_issue(403, "forbidden");
    assert_eq!(spine_code(&dissent), "NO_PATIENT_CONSENT");
    let invalid = structured(&s, "94347659", &["includeMedication"]).await;
    invalid.error_issue(400, "value");
    assert_eq!(spine_code(&invalid), "INVALID_NHS_NUMBER");
    let unknown = structured(&s, OTHER, &["includeEverything"]).await;
    unknown.error_issue(422, "invalid");
    assert_eq!(spine_code(&unknown), "INVALID_PARAMETER");
    let garbage = call(
        &s,
        "POST",
        "/Patient/$gpc.getstructuredrecord",
        "structured record",
        Some("not json"),
    )
    .await;
    garbage.error_issue(400, "invalid");

    let url = format!("/Patient?identifier={NHS}%7C9690937294");
    let none = call(&s, "GET", &url, "patient search", None).await;
    assert_eq!(none.status, 200);
    assert_eq!(none.body["total"], 0);
    let gone = call(&s, "GET", "/Patient/9690937294", "patient read", None).await;
    gone.error_issue(404, "not-found");
    let why = gone.body["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(why.contains("Patient/N"), "{why}");
}
