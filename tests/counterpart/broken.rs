//! `mocks/broken-provider`: the same probes go to the reference and to the broken
//! provider; exactly the probes a defect names answer differently, and the journal
//! says which defect mapping answered them.

use regex::Regex;
use serde_json::Value;

use super::support::{send, start, Answer};

const JSON: (&str, &str) = ("Content-Type", "application/fhir+json");
const STRICT: (&str, &str) = ("Prefer", "handling=strict");
const PATIENT: &str = r#"{"resourceType": "Patient", "name": [{"family": "Khan"}]}"#;

/// A request, and the defect that should change its answer (if any).
type Probe = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    Option<&'static str>,
    Option<&'static str>,
);

const PROBES: &[Probe] = &[
    ("GET", "/metadata", &[], None, Some("wrong-fhir-version")),
    ("GET", "/Patient/9000000009", &[], None, None),
    (
        "GET",
        "/Patient/9000000017",
        &[],
        None,
        Some("wrong-content-type"),
    ),
    (
        "GET",
        "/Patient/9000000025",
        &[],
        None,
        Some("missing-etag"),
    ),
    (
        "GET",
        "/Patient/9000000033",
        &[],
        None,
        Some("unknown-returns-410"),
    ),
    (
        "GET",
        "/Patient/9000000017",
        &[("Accept", "text/csv")],
        None,
        None,
    ),
    ("GET", "/Patient/9000000009/_history/1", &[], None, None),
    ("GET", "/Patient/9000000009/_history/3", &[], None, None),
    ("GET", "/Patient/9000000009/_history", &[], None, None),
    (
        "GET",
        "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009",
        &[],
        None,
        Some("nonconforming-patient"),
    ),
    (
        "GET",
        "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000017",
        &[],
        None,
        None,
    ),
    (
        "GET",
        "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000033",
        &[],
        None,
        None,
    ),
    (
        "GET",
        "/Patient?family=Smith",
        &[],
        None,
        Some("missing-self-link"),
    ),
    (
        "GET",
        "/Patient?family=Nobody",
        &[],
        None,
        Some("missing-self-link"),
    ),
    ("GET", "/Patient?birthdate=1985-02-14", &[], None, None),
    ("GET", "/Patient?_count=1", &[], None, None),
    ("GET", "/Patient?_count=1&_page=2", &[], None, None),
    ("GET", "/Patient", &[], None, None),
    ("GET", "/Patient?foo=bar", &[], None, None),
    (
        "GET",
        "/Patient?foo=bar",
        &[STRICT],
        None,
        Some("strict-ignored"),
    ),
    (
        "GET",
        "/Patient?birthdate=1985-02-14",
        &[STRICT],
        None,
        None,
    ),
    (
        "POST",
        "/Patient",
        &[JSON],
        Some(PATIENT),
        Some("create-no-location"),
    ),
    (
        "POST",
        "/Patient",
        &[JSON, ("If-None-Exist", "identifier=9000000009")],
        Some(PATIENT),
        None,
    ),
    (
        "POST",
        "/Patient",
        &[("Content-Type", "text/plain")],
        Some(PATIENT),
        None,
    ),
    (
        "POST",
        "/Patient",
        &[JSON],
        Some(r#"{"resourceType": "Group"}"#),
        Some("error-without-outcome"),
    ),
    (
        "POST",
        "/Patient",
        &[JSON],
        Some(r#"{"resourceType": "Patient", "name": ["#),
        Some("malformed-json-500"),
    ),
    ("DELETE", "/Patient/9000000009", &[], None, None),
    (
        "POST",
        "/Patient",
        &[JSON],
        Some(r#"{"resourceType": "Patient", "assureUnknownElement": 1}"#),
        Some("unknown-element-kept"),
    ),
    (
        "GET",
        "/Patient/unknown-element",
        &[],
        None,
        Some("unknown-element-kept"),
    ),
    ("POST", "/Patient", &[JSON], Some(UPDATE_VERSION), None),
    ("GET", "/Patient/update-version", &[], None, None),
    (
        "PUT",
        "/Patient/update-version",
        &[JSON],
        Some(UPDATED_VERSION),
        None,
    ),
    (
        "GET",
        "/Patient/update-version",
        &[],
        None,
        Some("update-keeps-version"),
    ),
    ("POST", "/Patient", &[JSON], Some(DELETE), None),
    ("DELETE", "/Patient/delete-me", &[], None, None),
    (
        "GET",
        "/Patient/delete-me",
        &[],
        None,
        Some("deleted-still-readable"),
    ),
];

/// Bodies of the resources the suite creates and comes back to.
const UPDATE_VERSION: &str =
    r#"{"resourceType": "Patient", "name": [{"family": "Assure", "given": ["UpdateVersion"]}]}"#;
const UPDATED_VERSION: &str = r#"{"resourceType": "Patient", "id": "update-version", "name": [{"family": "Assure-Updated", "given": ["UpdateVersion"]}]}"#;
const DELETE: &str =
    r#"{"resourceType": "Patient", "name": [{"family": "Assure", "given": ["Delete"]}]}"#;

/// What a check could look at, with per-request values (ids, times, ports) masked.
fn observable(a: &Answer, base: &str) -> String {
    let uuid = Regex::new("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let mut body = a.body.clone();
    strip_times(&mut body);
    let text = format!(
        "{} ct={:?} etag={:?} location={:?} last-modified={} {}",
        a.status,
        a.header("content-type"),
        a.header("etag"),
        a.header("location"),
        a.header("last-modified").is_some(),
        body
    );
    uuid.replace_all(&text.replace(base, "{base}"), "<uuid>")
        .into_owned()
}

fn strip_times(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("lastUpdated");
            map.values_mut().for_each(strip_times);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_times),
        _ => {}
    }
}

#[tokio::test]
async fn each_defect_changes_only_the_requests_it_names() {
    let reference = start("reference-provider").await;
    let broken = start("broken-provider").await;
    let mut seen = std::collections::BTreeSet::new();
    for (i, (method, url, headers, body, defect)) in PROBES.iter().enumerate() {
        let good = send(&reference, method, url, headers, *body).await;
        let bad = send(&broken, method, url, headers, *body).await;
        let (good, bad) = (
            observable(&good, reference.base_url()),
            observable(&bad, broken.base_url()),
        );
        let entry = broken.journal().pop().unwrap();
        let answered_by = broken
            .mapping(&entry)
            .and_then(|m| m.metadata["defect"].as_str());
        assert_eq!(
            answered_by, *defect,
            "probe {i}: {method} {url} {headers:?}"
        );
        match defect {
            Some(d) => {
                assert_ne!(good, bad, "probe {i}: {d} should change {method} {url}");
                seen.insert(*d);
            }
            None => assert_eq!(good, bad, "probe {i}: {method} {url} should be unaffected"),
        }
    }
    let declared: std::collections::BTreeSet<&str> = broken
        .set()
        .mappings
        .iter()
        .filter_map(|m| m.metadata["defect"].as_str())
        .collect();
    assert_eq!(seen, declared, "every seeded defect is probed");
}

#[tokio::test]
async fn defects_are_what_they_say() {
    let s = start("broken-provider").await;
    let get = |url: &'static str| send(&s, "GET", url, &[], None);
    assert_eq!(get("/metadata").await.body["fhirVersion"], "3.0.1");
    assert_eq!(
        get("/Patient/9000000017").await.header("content-type"),
        Some("application/json")
    );
    let a = get("/Patient/9000000025").await;
    assert_eq!((a.status, a.header("etag")), (200, None));
    let a = get("/Patient/9000000033").await;
    assert_eq!(
        (a.status, &a.body["issue"][0]["code"]),
        (410, &"deleted".into())
    );
    assert_eq!(get("/Patient?family=Smith").await.link("self"), None);
    assert_eq!(
        send(&s, "GET", "/Patient?foo=bar", &[STRICT], None)
            .await
            .status,
        200
    );
    let a = send(&s, "POST", "/Patient", &[JSON], Some(PATIENT)).await;
    assert_eq!((a.status, a.header("location")), (201, None));
    let a = send(&s, "POST", "/Patient", &[JSON], Some("{\"resourceType\": ")).await;
    assert_eq!(a.status, 500);
    let a = send(
        &s,
        "POST",
        "/Patient",
        &[JSON],
        Some(r#"{"resourceType": "Group"}"#),
    )
    .await;
    assert_eq!((a.status, &a.body), (400, &serde_json::Value::Null));
    let unknown = r#"{"resourceType": "Patient", "assureUnknownElement": 1}"#;
    assert_eq!(
        send(&s, "POST", "/Patient", &[JSON], Some(unknown))
            .await
            .status,
        201
    );
    assert!(get("/Patient/unknown-element").await.body["assureUnknownElement"].is_string());
    send(&s, "POST", "/Patient", &[JSON], Some(UPDATE_VERSION)).await;
    let a = send(
        &s,
        "PUT",
        "/Patient/update-version",
        &[JSON],
        Some(UPDATED_VERSION),
    )
    .await;
    assert_eq!(a.status, 200);
    let a = get("/Patient/update-version").await;
    assert_eq!(
        (&a.body["meta"]["versionId"], &a.body["name"][0]["family"]),
        (&"1".into(), &"Assure-Updated".into())
    );
    send(&s, "POST", "/Patient", &[JSON], Some(DELETE)).await;
    assert_eq!(
        send(&s, "DELETE", "/Patient/delete-me", &[], None)
            .await
            .status,
        204
    );
    assert_eq!(get("/Patient/delete-me").await.status, 200);
    for m in s
        .set()
        .mappings
        .iter()
        .filter(|m| m.metadata.get("defect").is_some())
    {
        let reqs = m.metadata["requirements"].as_array().map_or(0, Vec::len);
        assert!(
            reqs > 0 && m.metadata["description"].is_string(),
            "{}",
            m.label()
        );
    }
}
