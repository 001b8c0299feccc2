//! `mocks/reference-provider`: every line of the contract the `fhir-r4-rest` suite
//! relies on, checked over HTTP.

use serde_json::Value;

use super::support::{assert_every_mapping_answered, get, send, start};

const NHS: &str = "https://fhir.nhs.uk/Id/nhs-number";
const PATIENTS: [&str; 3] = ["9000000009", "9000000017", "9000000025"];

fn nhs_number_is_valid(n: &str) -> bool {
    let d: Vec<u32> = n.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 10 {
        return false;
    }
    let sum: u32 = d[..9].iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    let check = (11 - sum % 11) % 11;
    check != 10 && check == d[9]
}

#[tokio::test]
async fn capability_statement() {
    let s = start("reference-provider").await;
    let a = get(&s, "/metadata").await;
    assert_eq!(a.status, 200);
    let cs = a.fhir();
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(
        (cs["status"].as_str(), cs["kind"].as_str()),
        (Some("active"), Some("instance"))
    );
    assert_eq!(cs["fhirVersion"], "4.0.1");
    assert_eq!(
        cs["format"],
        serde_json::json!(["application/fhir+json", "json"])
    );
    assert!(cs["software"]["name"].is_string() && cs["software"]["version"].is_string());
    assert_eq!(cs["implementation"]["url"], s.base_url());
    let rest = &cs["rest"][0];
    assert_eq!(rest["mode"], "server");
    let patient = &rest["resource"][0];
    assert_eq!(patient["type"], "Patient");
    let interactions: Vec<&str> = patient["interaction"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["code"].as_str())
        .collect();
    assert_eq!(
        interactions,
        [
            "read",
            "vread",
            "update",
            "delete",
            "history-instance",
            "search-type",
            "create"
        ]
    );
    assert_eq!(
        (
            patient["versioning"].as_str(),
            patient["readHistory"].as_bool()
        ),
        (Some("versioned"), Some(true))
    );
    assert_eq!(patient["conditionalCreate"], true);
    let params: Vec<&str> = patient["searchParam"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(params, ["_id", "identifier", "family", "birthdate"]);
    assert_eq!(
        rest["searchParam"][0]["name"], "_count",
        "R4 lists control parameters too"
    );
}

#[tokio::test]
async fn reads_with_etag_and_last_modified() {
    let s = start("reference-provider").await;
    for id in PATIENTS {
        assert!(nhs_number_is_valid(id), "{id}");
        let a = get(&s, &format!("/Patient/{id}")).await;
        assert_eq!(a.status, 200);
        let p = a.fhir();
        assert_eq!(
            (p["resourceType"].as_str(), p["id"].as_str()),
            (Some("Patient"), Some(id))
        );
        assert_eq!(p["identifier"][0]["system"], NHS);
        assert_eq!(p["identifier"][0]["value"], id);
        assert!(p["identifier"][0]["extension"][0]["url"]
            .as_str()
            .unwrap()
            .ends_with("NHSNumberVerificationStatus"));
        assert!(p["meta"]["profile"][0]
            .as_str()
            .unwrap()
            .ends_with("/UKCore-Patient"));
        assert!(
            p["address"][0]["postalCode"].is_string()
                && p["birthDate"].is_string()
                && p["gender"].is_string()
        );
        let version = p["meta"]["versionId"].as_str().unwrap();
        assert_eq!(a.header("etag"), Some(format!("W/\"{version}\"").as_str()));
        let updated =
            chrono::DateTime::parse_from_rfc3339(p["meta"]["lastUpdated"].as_str().unwrap())
                .unwrap();
        let modified =
            chrono::DateTime::parse_from_rfc2822(a.header("last-modified").unwrap()).unwrap();
        assert_eq!(updated, modified, "Last-Modified matches meta.lastUpdated");
    }
    assert_eq!(
        get(&s, "/Patient/9000000009").await.body["meta"]["versionId"],
        "2"
    );
}

#[tokio::test]
async fn versions_and_history() {
    let s = start("reference-provider").await;
    for v in ["1", "2"] {
        let a = get(&s, &format!("/Patient/9000000009/_history/{v}")).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.fhir()["meta"]["versionId"], v);
        assert_eq!(a.header("etag"), Some(format!("W/\"{v}\"").as_str()));
    }
    get(&s, "/Patient/9000000009/_history/3")
        .await
        .outcome(404, "not-found");
    let a = get(&s, "/Patient/9000000009/_history").await;
    let b = a.fhir();
    assert_eq!(
        (
            b["resourceType"].as_str(),
            b["type"].as_str(),
            b["total"].as_u64()
        ),
        (Some("Bundle"), Some("history"), Some(2))
    );
    let versions: Vec<&str> = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["resource"]["meta"]["versionId"].as_str())
        .collect();
    assert_eq!(versions, ["2", "1"]);
    assert_eq!(
        b["entry"][0]["fullUrl"],
        format!("{}/Patient/9000000009", s.base_url())
    );
}

#[tokio::test]
async fn unknown_patients_are_not_found() {
    let s = start("reference-provider").await;
    for id in ["9000000033", "nope", "9000000009x"] {
        get(&s, &format!("/Patient/{id}"))
            .await
            .outcome(404, "not-found");
    }
    get(&s, "/Observation/1").await.outcome(404, "not-found");
    // The test patients are kept: a delete is refused for that resource, an update by
    // a business rule; anything else unknown is already gone.
    let a = send(&s, "DELETE", "/Patient/9000000009", &[], None).await;
    a.outcome(409, "business-rule");
    let json = ("Content-Type", "application/fhir+json");
    let same = r#"{"resourceType": "Patient", "id": "9000000009"}"#;
    send(&s, "PUT", "/Patient/9000000009", &[json], Some(same))
        .await
        .outcome(422, "business-rule");
    // No id, or another id, in the body: 400, as R4 says.
    send(&s, "PUT", "/Patient/9000000009", &[json], Some("{}"))
        .await
        .outcome(400, "invalid");
    send(&s, "PUT", "/Patient/new-one", &[json], Some(same))
        .await
        .outcome(405, "not-supported");
    assert_eq!(
        send(&s, "DELETE", "/Patient/nope", &[], None).await.status,
        204
    );
    send(&s, "PATCH", "/Patient/9000000009", &[], Some("[]"))
        .await
        .outcome(405, "not-supported");
}

/// An update of a test patient, with its own id.
fn kept_body(id: &str) -> &'static str {
    match id {
        "9000000009" => r#"{"resourceType": "Patient", "id": "9000000009"}"#,
        "9000000017" => r#"{"resourceType": "Patient", "id": "9000000017"}"#,
        _ => r#"{"resourceType": "Patient", "id": "9000000025"}"#,
    }
}

/// A body the suite sends to create a resource it comes back to, marked by its given name.
fn flow_body(given: &str, id: Option<&str>) -> String {
    let id = id.map(|i| format!(r#""id": "{i}", "#)).unwrap_or_default();
    format!(
        r#"{{"resourceType": "Patient", {id}"name": [{{"use": "official", "family": "Assure", "given": ["{given}"]}}], "gender": "unknown", "birthDate": "1990-01-01"}}"#
    )
}

#[tokio::test]
async fn created_resources_read_back_update_and_delete() {
    let s = start("reference-provider").await;
    let json = ("Content-Type", "application/fhir+json");
    let base = s.base_url().to_owned();
    // Not there until created.
    get(&s, "/Patient/read-back")
        .await
        .outcome(404, "not-found");
    let a = send(
        &s,
        "POST",
        "/Patient",
        &[json],
        Some(&flow_body("ReadBack", None)),
    )
    .await;
    assert_eq!(a.status, 201);
    assert_eq!(
        a.header("location"),
        Some(format!("{base}/Patient/read-back/_history/1").as_str())
    );
    let read = get(&s, "/Patient/read-back").await;
    assert_eq!((read.status, read.header("etag")), (200, Some("W/\"1\"")));
    assert_eq!(read.fhir()["name"][0]["given"][0], "ReadBack");
    assert_eq!(read.body["birthDate"], "1990-01-01");

    for (given, id) in [
        ("UpdateStatus", "update-status"),
        ("UpdateVersion", "update-version"),
        ("UpdateContent", "update-content"),
    ] {
        let body = flow_body(given, None);
        assert_eq!(
            send(&s, "POST", "/Patient", &[json], Some(&body))
                .await
                .status,
            201
        );
        assert_eq!(
            get(&s, &format!("/Patient/{id}")).await.body["meta"]["versionId"],
            "1"
        );
        // The id in the body must be the one of the URL.
        let other = flow_body(given, Some("someone-else"));
        send(&s, "PUT", &format!("/Patient/{id}"), &[json], Some(&other))
            .await
            .outcome(400, "invalid");
        let put = send(
            &s,
            "PUT",
            &format!("/Patient/{id}"),
            &[json],
            Some(&flow_body(given, Some(id))),
        )
        .await;
        assert_eq!((put.status, put.header("etag")), (200, Some("W/\"2\"")));
        assert!(put.header("last-modified").is_some());
        let after = get(&s, &format!("/Patient/{id}")).await;
        assert_eq!(after.fhir()["meta"]["versionId"], "2");
        assert_eq!(after.body["name"][0]["family"], "Assure-Updated");
        assert_eq!(after.body["gender"], "other");
    }

    assert_eq!(
        send(
            &s,
            "POST",
            "/Patient",
            &[json],
            Some(&flow_body("Delete", None))
        )
        .await
        .status,
        201
    );
    assert_eq!(get(&s, "/Patient/delete-me").await.status, 200);
    assert_eq!(
        send(&s, "DELETE", "/Patient/delete-me", &[], None)
            .await
            .status,
        204
    );
    get(&s, "/Patient/delete-me").await.outcome(410, "deleted");
    assert_eq!(
        send(&s, "DELETE", "/Patient/delete-me", &[], None)
            .await
            .status,
        204,
        "deleting again changes nothing"
    );
    get(&s, "/Patient/delete-me").await.outcome(410, "deleted");

    let unknown = r#"{"resourceType": "Patient", "assureUnknownElement": "x"}"#;
    send(&s, "POST", "/Patient", &[json], Some(unknown))
        .await
        .outcome(400, "structure");
    send(
        &s,
        "POST",
        "/Patient",
        &[json],
        Some("{\"resourceType\": \"Patient\", \"name\": ["),
    )
    .await
    .outcome(400, "invalid");
}

fn ids(bundle: &Value) -> Vec<&str> {
    bundle["entry"].as_array().map_or(Vec::new(), |e| {
        e.iter()
            .filter_map(|e| e["resource"]["id"].as_str())
            .collect()
    })
}

fn assert_searchset(bundle: &Value, base: &str, expected: &[&str]) {
    assert_eq!(
        (bundle["resourceType"].as_str(), bundle["type"].as_str()),
        (Some("Bundle"), Some("searchset"))
    );
    for e in bundle["entry"].as_array().into_iter().flatten() {
        let id = e["resource"]["id"].as_str().unwrap();
        assert_eq!(e["fullUrl"], format!("{base}/Patient/{id}"));
        assert_eq!(e["search"]["mode"], "match");
    }
    assert_eq!(ids(bundle), expected);
    if expected.is_empty() {
        assert!(bundle.get("entry").is_none());
    }
}

#[tokio::test]
async fn searches_by_identifier_family_and_birthdate() {
    let s = start("reference-provider").await;
    let base = s.base_url();
    for id in PATIENTS {
        let a = get(&s, &format!("/Patient?identifier={NHS}|{id}")).await;
        assert_searchset(a.fhir(), base, &[id]);
        assert_eq!(a.body["total"], 1);
        assert_eq!(
            a.link("self"),
            Some(format!("{base}/Patient?identifier={NHS}|{id}").as_str())
        );
    }
    let encoded = get(
        &s,
        "/Patient?identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C9000000017",
    )
    .await;
    assert_eq!(ids(&encoded.body), ["9000000017"]);
    let none = get(&s, &format!("/Patient?identifier={NHS}|9000000033")).await;
    assert_searchset(none.fhir(), base, &[]);
    assert_eq!(none.body["total"], 0);
    assert!(none.link("self").unwrap().contains("9000000033"));

    let a = get(&s, "/Patient?family=Smith").await;
    assert_searchset(a.fhir(), base, &["9000000009"]);
    assert_eq!(
        a.link("self"),
        Some(format!("{base}/Patient?family=Smith").as_str())
    );
    assert_eq!(
        ids(&get(&s, "/Patient?family=jon").await.body),
        ["9000000017"],
        "string search: case-insensitive prefix"
    );
    assert_eq!(get(&s, "/Patient?family=Nobody").await.body["total"], 0);
    assert_eq!(
        ids(&get(&s, "/Patient?birthdate=2001-07-22").await.body),
        ["9000000025"]
    );
    assert_eq!(
        get(&s, "/Patient?birthdate=1900-01-01").await.body["total"],
        0
    );

    let all = get(&s, "/Patient").await;
    assert_searchset(all.fhir(), base, &PATIENTS);
    assert_eq!(all.body["total"], 3);
}

#[tokio::test]
async fn pages_follow_next_and_previous() {
    let s = start("reference-provider").await;
    let base = s.base_url();
    let p1 = get(&s, "/Patient?_count=1").await;
    assert_eq!(
        (p1.body["total"].as_u64(), ids(p1.fhir()).len()),
        (Some(3), 1)
    );
    assert_eq!(
        p1.link("self"),
        Some(format!("{base}/Patient?_count=1").as_str())
    );
    assert_eq!(
        p1.link("next"),
        Some(format!("{base}/Patient?_count=1&_page=2").as_str())
    );
    assert_eq!(p1.link("previous"), None);
    let p2 = get(&s, p1.link("next").unwrap().trim_start_matches(base)).await;
    assert_eq!(
        p2.link("previous"),
        Some(format!("{base}/Patient?_count=1&_page=1").as_str())
    );
    let p3 = get(&s, p2.link("next").unwrap().trim_start_matches(base)).await;
    assert_eq!(
        (p3.link("next"), p3.link("previous").is_some()),
        (None, true)
    );
    let seen: Vec<String> = [&p1, &p2, &p3]
        .iter()
        .flat_map(|p| ids(&p.body))
        .map(str::to_owned)
        .collect();
    assert_eq!(seen, PATIENTS);
    assert_eq!(
        ids(&get(&s, "/Patient?_count=2&_page=2").await.body),
        ["9000000025"]
    );
    assert_eq!(ids(&get(&s, "/Patient?_count=50").await.body).len(), 3);
    get(&s, "/Patient?_count=many")
        .await
        .outcome(400, "invalid");
}

#[tokio::test]
async fn content_negotiation() {
    let s = start("reference-provider").await;
    for url in [
        "/Patient/9000000009?_format=json",
        "/Patient/9000000009?_format=application/fhir+json",
        "/Patient/9000000009?_format=application%2Ffhir%2Bjson",
    ] {
        assert_eq!(get(&s, url).await.fhir()["id"], "9000000009", "{url}");
    }
    for accept in [
        Some("application/fhir+json"),
        Some("application/json"),
        None,
    ] {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
        let a = send(&s, "GET", "/Patient/9000000009", &headers, None).await;
        assert_eq!(a.status, 200, "{accept:?}");
        a.fhir();
    }
    for accept in ["text/csv", "application/fhir+xml"] {
        send(
            &s,
            "GET",
            "/Patient/9000000009",
            &[("Accept", accept)],
            None,
        )
        .await
        .outcome(406, "not-supported");
    }
    get(&s, "/Patient/9000000009?_format=xml")
        .await
        .outcome(406, "not-supported");
}

#[tokio::test]
async fn unknown_search_parameters() {
    let s = start("reference-provider").await;
    let strict = [("Prefer", "handling=strict")];
    send(&s, "GET", "/Patient?foo=bar", &strict, None)
        .await
        .outcome(400, "not-supported");
    send(&s, "GET", "/Patient?family=Smith&foo=bar", &strict, None)
        .await
        .outcome(400, "not-supported");
    assert_eq!(
        send(&s, "GET", "/Patient?family=Smith", &strict, None)
            .await
            .status,
        200,
        "known parameters pass strict"
    );
    let lenient = get(&s, "/Patient?foo=bar").await;
    assert_searchset(lenient.fhir(), s.base_url(), &PATIENTS);
    assert!(!lenient.link("self").unwrap().contains("foo"));
    let lenient = send(
        &s,
        "GET",
        "/Patient?family=Smith&foo=bar",
        &[("Prefer", "handling=lenient")],
        None,
    )
    .await;
    assert_eq!(
        lenient.link("self"),
        Some(format!("{}/Patient?family=Smith", s.base_url()).as_str())
    );
}

const NEW_PATIENT: &str = r#"{"resourceType": "Patient", "id": "client-chosen",
  "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000041"}],
  "name": [{"family": "Khan", "given": ["Sara"]}], "gender": "female", "birthDate": "1990-01-01"}"#;

#[tokio::test]
async fn creates_and_conditional_creates() {
    let s = start("reference-provider").await;
    let json = ("Content-Type", "application/fhir+json");
    let a = send(&s, "POST", "/Patient", &[json], Some(NEW_PATIENT)).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let p = a.fhir();
    let id = p["id"].as_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "a server-assigned id, not the client's: {id}"
    );
    assert_eq!(
        a.header("location"),
        Some(format!("{}/Patient/{id}/_history/1", s.base_url()).as_str())
    );
    assert_eq!(
        (a.header("etag"), p["meta"]["versionId"].as_str()),
        (Some("W/\"1\""), Some("1"))
    );
    assert_eq!(
        p["name"][0]["family"], "Khan",
        "the stored resource is what was sent"
    );
    assert!(
        chrono::DateTime::parse_from_rfc3339(p["meta"]["lastUpdated"].as_str().unwrap()).is_ok()
    );
    let again = send(&s, "POST", "/Patient", &[json], Some(NEW_PATIENT)).await;
    assert_ne!(again.body["id"], p["id"], "each create gets a new id");

    let exists = (
        "If-None-Exist",
        "identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009",
    );
    let a = send(&s, "POST", "/Patient", &[json, exists], Some(NEW_PATIENT)).await;
    assert_eq!(a.status, 200);
    assert_eq!(
        (a.fhir()["id"].as_str(), a.header("location")),
        (Some("9000000009"), None)
    );
    let encoded = (
        "If-None-Exist",
        "identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C9000000025",
    );
    let a = send(&s, "POST", "/Patient", &[json, encoded], Some(NEW_PATIENT)).await;
    assert_eq!((a.status, a.body["id"].as_str()), (200, Some("9000000025")));
    let absent = (
        "If-None-Exist",
        "identifier=https://fhir.nhs.uk/Id/nhs-number|9000000033",
    );
    assert_eq!(
        send(&s, "POST", "/Patient", &[json, absent], Some(NEW_PATIENT))
            .await
            .status,
        201
    );

    send(
        &s,
        "POST",
        "/Patient",
        &[("Content-Type", "text/plain")],
        Some(NEW_PATIENT),
    )
    .await
    .outcome(415, "not-supported");
    let observation = r#"{"resourceType": "Observation", "status": "final"}"#;
    send(&s, "POST", "/Patient", &[json], Some(observation))
        .await
        .outcome(400, "invalid");
    send(&s, "POST", "/Patient", &[json], Some("not json"))
        .await
        .outcome(400, "invalid");
}

/// Method, URL, headers, body.
type Probe = (
    &'static str,
    String,
    Vec<(&'static str, &'static str)>,
    Option<&'static str>,
);

/// No mapping is dead (shadowed by another's priority): each answers some request.
#[tokio::test]
async fn every_mapping_answers_something() {
    let s = start("reference-provider").await;
    let json = ("Content-Type", "application/fhir+json");
    let mut probes: Vec<Probe> = vec![
        (
            "GET",
            "/Patient/9000000009".into(),
            vec![("Accept", "text/csv")],
            None,
        ),
        ("GET", "/metadata?_format=xml".into(), vec![], None),
        ("POST", "/Patient".into(), vec![], Some(NEW_PATIENT)),
        (
            "POST",
            "/Patient".into(),
            vec![("Content-Type", "text/plain")],
            Some(NEW_PATIENT),
        ),
        (
            "GET",
            "/Patient?foo=bar".into(),
            vec![("Prefer", "handling=strict")],
            None,
        ),
        ("POST", "/Patient".into(), vec![json], Some(NEW_PATIENT)),
        ("GET", "/metadata".into(), vec![], None),
        ("GET", "/Patient/9000000009/_history/1".into(), vec![], None),
        ("GET", "/Patient/9000000009/_history/2".into(), vec![], None),
        ("POST", "/Patient".into(), vec![json], Some("[]")),
        ("GET", "/Patient?_count=x".into(), vec![], None),
        ("GET", "/Patient?identifier=0".into(), vec![], None),
        ("GET", "/Patient?family=Zed".into(), vec![], None),
        ("GET", "/Patient?birthdate=1900-01-01".into(), vec![], None),
        ("GET", "/Patient?_count=9&_page=9".into(), vec![], None),
        ("GET", "/Patient?_count=0".into(), vec![], None),
        ("GET", "/Patient?_count=5".into(), vec![], None),
        ("GET", "/Patient?_count=5&_page=1".into(), vec![], None),
        ("GET", "/Patient".into(), vec![], None),
        ("GET", "/Patient/0".into(), vec![], None),
        ("DELETE", "/Patient/9000000009".into(), vec![], None),
        ("DELETE", "/Patient/gone".into(), vec![], None),
        ("PUT", "/Patient/9000000009".into(), vec![json], Some("{}")),
        (
            "PUT",
            "/Patient/9000000009".into(),
            vec![json],
            Some(r#"{"resourceType": "Patient", "id": "9000000009"}"#),
        ),
        ("PUT", "/Patient/other".into(), vec![json], Some("{}")),
        ("PATCH", "/Patient/9000000009".into(), vec![], None),
        ("GET", "/Patient?_id=0".into(), vec![], None),
        (
            "POST",
            "/Patient".into(),
            vec![json],
            Some(r#"{"resourceType": "Patient", "assureUnknownElement": 1}"#),
        ),
        ("POST", "/metadata".into(), vec![], None),
        ("GET", "/Practitioner".into(), vec![], None),
    ];
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
    let patients = [
        ("9000000009", "Smith", "1985-02-14"),
        ("9000000017", "Jones", "1972-11-03"),
        ("9000000025", "Patel", "2001-07-22"),
    ];
    for (id, family, born) in patients {
        let if_none_exist = if id.ends_with('9') {
            "identifier=9000000009"
        } else if id.ends_with('7') {
            "identifier=9000000017"
        } else {
            "identifier=9000000025"
        };
        probes.push((
            "POST",
            "/Patient".into(),
            vec![json, ("If-None-Exist", if_none_exist)],
            Some(NEW_PATIENT),
        ));
        probes.push(("GET", format!("/Patient/{id}"), vec![], None));
        probes.push(("GET", format!("/Patient/{id}/_history"), vec![], None));
        probes.push(("GET", format!("/Patient/{id}/_history/1"), vec![], None));
        probes.push(("GET", format!("/Patient?identifier={id}"), vec![], None));
        probes.push(("GET", format!("/Patient?_id={id}"), vec![], None));
        probes.push((
            "PUT",
            format!("/Patient/{id}"),
            vec![json],
            Some(kept_body(id)),
        ));
        probes.push(("GET", format!("/Patient?family={family}"), vec![], None));
        probes.push(("GET", format!("/Patient?birthdate={born}"), vec![], None));
    }
    for (method, url, headers, body) in &probes {
        send(&s, method, url, headers, *body).await;
    }
    // The resources the suite creates and comes back to, through every state.
    for (given, id) in [
        ("ReadBack", "read-back"),
        ("UpdateStatus", "update-status"),
        ("UpdateVersion", "update-version"),
        ("UpdateContent", "update-content"),
        ("Delete", "delete-me"),
    ] {
        send(
            &s,
            "POST",
            "/Patient",
            &[json],
            Some(&flow_body(given, None)),
        )
        .await;
        get(&s, &format!("/Patient/{id}")).await;
        let put = flow_body(given, Some(id));
        send(&s, "PUT", &format!("/Patient/{id}"), &[json], Some(&put)).await;
        send(&s, "PUT", &format!("/Patient/{id}"), &[json], Some(&put)).await;
        get(&s, &format!("/Patient/{id}")).await;
        send(&s, "DELETE", &format!("/Patient/{id}"), &[], None).await;
        get(&s, &format!("/Patient/{id}")).await;
        send(&s, "DELETE", &format!("/Patient/{id}"), &[], None).await;
    }
    assert_every_mapping_answered(&s);
}
