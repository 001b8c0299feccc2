//! `mocks/minimal-provider`: the least FHIR R4 allows. No versions, no body on create
//! unless asked, a relative Location, 404 once deleted, errors without an
//! OperationOutcome where R4 does not ask for one, and a query parser that refuses a
//! raw `|` as strict HTTP stacks do.

use std::io::{Read, Write};

use super::support::{assert_every_mapping_answered, get, send, start};

const JSON: (&str, &str) = ("Content-Type", "application/fhir+json");
const PATIENT: &str = r#"{"resourceType": "Patient", "name": [{"family": "Khan"}]}"#;

/// Sends a request line exactly as given (no client encodes it) and returns the status.
fn raw_status(base: &str, target: &str) -> u16 {
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/fhir+json\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {answer}"))
}

#[tokio::test]
async fn a_raw_pipe_in_the_query_is_refused_and_an_encoded_one_read() {
    let s = start("minimal-provider").await;
    let base = s.base_url().to_owned();
    let raw = "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009";
    let encoded = "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C9000000009";
    let statuses =
        tokio::task::spawn_blocking(move || (raw_status(&base, raw), raw_status(&base, encoded)))
            .await
            .unwrap();
    assert_eq!(statuses, (400, 200));
    let found = get(&s, encoded).await;
    assert_eq!(found.body["entry"][0]["resource"]["id"], "9000000009");
    assert!(found.body.get("total").is_none(), "total is optional");
    assert!(found.body["entry"][0].get("search").is_none());
}

#[tokio::test]
async fn nothing_is_versioned() {
    let s = start("minimal-provider").await;
    let cs = get(&s, "/metadata").await.body;
    let patient = &cs["rest"][0]["resource"][0];
    assert_eq!(patient["versioning"], "no-version");
    assert_eq!(patient["conditionalCreate"], false);
    let interactions: Vec<&str> = patient["interaction"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["code"].as_str())
        .collect();
    assert_eq!(
        interactions,
        ["read", "update", "delete", "search-type", "create"]
    );
    for id in ["9000000009", "9000000017", "9000000025"] {
        let a = get(&s, &format!("/Patient/{id}")).await;
        assert_eq!((a.status, a.header("etag")), (200, None));
        assert_eq!(a.header("content-type"), Some("application/fhir+json"));
        assert!(a.header("last-modified").is_some());
        assert!(a.body["meta"].get("versionId").is_none());
        assert!(a.body["meta"]["lastUpdated"].is_string());
    }
    // Accept and _format are disregarded: it answers in the one format it has.
    let csv = send(
        &s,
        "GET",
        "/Patient/9000000009",
        &[("Accept", "text/csv")],
        None,
    )
    .await;
    assert_eq!(
        (csv.status, csv.header("content-type")),
        (200, Some("application/fhir+json"))
    );
}

#[tokio::test]
async fn creates_answer_no_body_unless_asked() {
    let s = start("minimal-provider").await;
    let a = send(&s, "POST", "/Patient", &[JSON], Some(PATIENT)).await;
    let location = a.header("location").unwrap().to_owned();
    assert_eq!((a.status, a.body.is_null()), (201, true));
    assert!(
        location.starts_with("Patient/") && !location.contains("_history"),
        "{location}"
    );
    let asked = send(
        &s,
        "POST",
        "/Patient",
        &[JSON, ("Prefer", "return=representation")],
        Some(PATIENT),
    )
    .await;
    assert_eq!(asked.status, 201);
    assert_eq!(
        Some(format!("Patient/{}", asked.body["id"].as_str().unwrap()).as_str()),
        asked.header("location")
    );
    assert!(asked.body["meta"].get("versionId").is_none());
    // Errors R4 does not ask an OperationOutcome for come without a body.
    let cond = send(
        &s,
        "POST",
        "/Patient",
        &[JSON, ("If-None-Exist", "identifier=9000000009")],
        Some(PATIENT),
    )
    .await;
    assert_eq!((cond.status, cond.body.is_null()), (400, true));
    let text = send(
        &s,
        "POST",
        "/Patient",
        &[("Content-Type", "text/plain")],
        Some(PATIENT),
    )
    .await;
    assert_eq!((text.status, text.body.is_null()), (415, true));
    // Those the suite holds to the SHOULD carry one.
    let group = send(
        &s,
        "POST",
        "/Patient",
        &[JSON],
        Some(r#"{"resourceType": "Group"}"#),
    )
    .await;
    assert_eq!(
        (group.status, &group.body["resourceType"]),
        (400, &"OperationOutcome".into())
    );
    let unknown = get(&s, "/Patient/nope").await;
    assert_eq!(
        (unknown.status, &unknown.body["resourceType"]),
        (404, &"OperationOutcome".into())
    );
}

#[tokio::test]
async fn a_deleted_patient_is_unknown_and_an_update_shows() {
    let s = start("minimal-provider").await;
    let body = |given: &str, id: &str| {
        format!(
            r#"{{"resourceType": "Patient", {id}"name": [{{"family": "Assure", "given": ["{given}"]}}]}}"#
        )
    };
    let a = send(&s, "POST", "/Patient", &[JSON], Some(&body("Delete", ""))).await;
    assert_eq!(
        (a.status, a.header("location")),
        (201, Some("Patient/delete-me"))
    );
    assert_eq!(get(&s, "/Patient/delete-me").await.status, 200);
    assert_eq!(
        send(&s, "DELETE", "/Patient/delete-me", &[], None)
            .await
            .status,
        204
    );
    assert_eq!(get(&s, "/Patient/delete-me").await.status, 404);

    send(
        &s,
        "POST",
        "/Patient",
        &[JSON],
        Some(&body("UpdateContent", "")),
    )
    .await;
    let put = body("UpdateContent", r#""id": "update-content", "#);
    let a = send(&s, "PUT", "/Patient/update-content", &[JSON], Some(&put)).await;
    assert_eq!((a.status, a.body.is_null()), (200, true));
    assert!(a.header("last-modified").is_some());
    let read = get(&s, "/Patient/update-content").await;
    assert_eq!(read.body["name"][0]["family"], "Assure-Updated");
    assert!(read.body["meta"].get("versionId").is_none());
}

/// Method, URL, headers, body.
type Probe = (
    &'static str,
    String,
    Vec<(&'static str, &'static str)>,
    Option<String>,
);

/// No mapping is dead (shadowed by another's priority): each answers some request.
#[tokio::test]
async fn every_mapping_answers_something() {
    let s = start("minimal-provider").await;
    let base = s.base_url().to_owned();
    let raw = tokio::task::spawn_blocking(move || raw_status(&base, "/Patient?a=b|c"))
        .await
        .unwrap();
    assert_eq!(raw, 400);
    let strict = ("Prefer", "handling=strict");
    let mut probes: Vec<Probe> = vec![
        (
            "POST",
            "/Patient".into(),
            vec![JSON, ("If-None-Exist", "x=1")],
            Some(PATIENT.into()),
        ),
        ("POST", "/Patient".into(), vec![], Some(PATIENT.into())),
        (
            "POST",
            "/Patient".into(),
            vec![("Content-Type", "text/plain")],
            Some(PATIENT.into()),
        ),
        ("GET", "/Patient?foo=bar".into(), vec![strict], None),
        (
            "POST",
            "/Patient".into(),
            vec![JSON, ("Prefer", "return=representation")],
            Some(PATIENT.into()),
        ),
        ("POST", "/Patient".into(), vec![JSON], Some(PATIENT.into())),
        ("POST", "/Patient".into(), vec![JSON], Some("[]".into())),
        ("GET", "/metadata".into(), vec![], None),
        ("GET", "/Patient?_count=5".into(), vec![], None),
        ("GET", "/Patient?_count=0".into(), vec![], None),
        ("GET", "/Patient".into(), vec![], None),
        ("GET", "/Patient?_count=1&_page=9".into(), vec![], None),
        ("GET", "/Patient/nope".into(), vec![], None),
        ("DELETE", "/Patient/9000000009".into(), vec![], None),
        ("DELETE", "/Patient/gone".into(), vec![], None),
        ("PATCH", "/Patient/9000000009".into(), vec![], None),
        ("GET", "/Practitioner".into(), vec![], None),
    ];
    for param in ["_id", "identifier", "family"] {
        probes.push(("GET", format!("/Patient?{param}=zzz"), vec![], None));
    }
    for (id, family) in [
        ("9000000009", "Smith"),
        ("9000000017", "Jones"),
        ("9000000025", "Patel"),
    ] {
        probes.push(("GET", format!("/Patient/{id}"), vec![], None));
        probes.push(("GET", format!("/Patient?_id={id}"), vec![], None));
        probes.push(("GET", format!("/Patient?identifier={id}"), vec![], None));
        probes.push(("GET", format!("/Patient?family={family}"), vec![], None));
    }
    for (count, pages) in [(1, 3), (2, 2)] {
        probes.push(("GET", format!("/Patient?_count={count}"), vec![], None));
        for page in 1..=pages {
            probes.push((
                "GET",
                format!("/Patient?_count={count}&_page={page}"),
                vec![],
                None,
            ));
        }
    }
    for (given, id) in [
        ("ReadBack", "read-back"),
        ("UnknownElement", "unknown-element"),
        ("UpdateStatus", "update-status"),
        ("UpdateVersion", "update-version"),
        ("UpdateContent", "update-content"),
        ("Delete", "delete-me"),
    ] {
        let create =
            format!(r#"{{"resourceType": "Patient", "name": [{{"given": ["{given}"]}}]}}"#);
        let update = format!(r#"{{"resourceType": "Patient", "id": "{id}"}}"#);
        probes.push(("POST", "/Patient".into(), vec![JSON], Some(create)));
        probes.push(("GET", format!("/Patient/{id}"), vec![], None));
        probes.push(("PUT", format!("/Patient/{id}"), vec![JSON], Some(update)));
        probes.push(("GET", format!("/Patient/{id}"), vec![], None));
        probes.push(("DELETE", format!("/Patient/{id}"), vec![], None));
    }
    for (method, url, headers, body) in &probes {
        send(&s, method, url, headers, body.as_deref()).await;
    }
    assert_every_mapping_answered(&s);
}
