//! The FHIR providers, one suite run per proof, read from that run's report.json: the
//! minimal provider (no versioning, no body on create, a query parser that refuses a
//! raw `|`) passes `fhir-r4-rest`, not applicable only where R4 makes it so. (The broken
//! provider's proof is in providers.rs.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use assure::counterpart::{Counterpart, StubSet};

use crate::shipped::run_shipped;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn stub_set(name: &str) -> StubSet {
    StubSet::load_named(&Path::new(ROOT).join("mocks"), name).unwrap_or_else(|d| panic!("{d}"))
}

/// Requirement id → status, over every suite of one run's report.
fn requirement_statuses(report: &serde_json::Value) -> BTreeMap<String, String> {
    report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["requirements"].as_array().unwrap().iter())
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The requirements of one run with a given status.
fn with_status(statuses: &BTreeMap<String, String>, status: &str) -> BTreeSet<String> {
    statuses
        .iter()
        .filter(|(_, s)| *s == status)
        .map(|(id, _)| id.clone())
        .collect()
}

/// The URLs the run sent, from the report's exchanges.
fn request_urls(report: &serde_json::Value) -> Vec<String> {
    report["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["request"]["url"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_minimal_provider_passes_and_proves_query_encoding() {
    let set = stub_set("minimal-provider");
    // The server is strict: a raw `|` in a query is refused before FHIR sees it.
    let server = Counterpart::start(&set, None).await.unwrap();
    let url = format!(
        "{}/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009",
        server.base_url()
    );
    let raw = tokio::task::spawn_blocking(move || raw_get_status(&url))
        .await
        .unwrap();
    assert_eq!(raw, 400, "the minimal provider refuses a raw `|`");
    drop(server);

    let outcome = run_shipped(Some(&set), &["--suite", "fhir-r4-rest"]).await;
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    let statuses = requirement_statuses(&outcome.report);
    let other: Vec<_> = statuses
        .iter()
        .filter(|(_, s)| *s != "passed" && *s != "not_applicable")
        .collect();
    assert!(other.is_empty(), "no failure, nothing undecided: {other:?}");
    // Not applicable exactly where the sentence makes it so: no versioning, no vread or
    // history, no conditional create declared.
    assert_eq!(
        with_status(&statuses, "not_applicable"),
        [
            "R4-CREATE-3",
            "R4-HIST-1",
            "R4-READ-2",
            "R4-UPDATE-2",
            "R4-VREAD-1"
        ]
        .map(String::from)
        .into(),
    );
    for passed in [
        "R4-SEARCH-3",
        "R4-SEARCH-4",
        "R4-CREATE-5",
        "R4-DELETE-1",
        "R4-UPDATE-3",
    ] {
        assert_eq!(statuses[passed], "passed", "{passed}");
    }
    // The identifier searches that passed went out with `|` encoded.
    let urls = request_urls(&outcome.report);
    let searches: Vec<_> = urls.iter().filter(|u| u.contains("identifier=")).collect();
    assert!(!searches.is_empty());
    for url in searches {
        assert!(url.contains("nhs-number%7C") && !url.contains('|'), "{url}");
    }
}

/// `GET <url>` with the request target exactly as given (no client re-encodes it).
fn raw_get_status(url: &str) -> u16 {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, target) = rest.split_at(rest.find('/').unwrap());
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
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
