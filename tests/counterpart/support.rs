//! Starting the shipped stub sets and talking to them.

use std::path::PathBuf;

use assure::counterpart::{Counterpart, StubSet};
use serde_json::Value;

pub fn mocks() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks")
}

pub async fn start(set: &str) -> Counterpart {
    let set = StubSet::load_named(&mocks(), set).unwrap_or_else(|d| panic!("{d}"));
    Counterpart::start(&set, None).await.unwrap()
}

/// One answer: status, headers (lower-case names) and the body as JSON (or Null).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the FHIR JSON content type and returns the body.
    pub fn fhir(&self) -> &Value {
        assert_eq!(
            self.header("content-type"),
            Some("application/fhir+json; charset=utf-8"),
            "every FHIR body is application/fhir+json"
        );
        &self.body
    }

    pub fn link(&self, relation: &str) -> Option<&str> {
        self.body["link"]
            .as_array()?
            .iter()
            .find(|l| l["relation"] == relation)
            .and_then(|l| l["url"].as_str())
    }

    /// Asserts an OperationOutcome with one error issue of `code`, in exactly the media
    /// type the FHIR providers write.
    pub fn outcome(&self, status: u16, code: &str) {
        self.fhir();
        self.error_issue(status, code);
    }

    /// The same, in any FHIR JSON media type (GP Connect writes no space before the
    /// charset).
    pub fn error_issue(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/fhir+json")),
            "{:?}",
            self.header("content-type")
        );
        assert_eq!(self.body["resourceType"], "OperationOutcome");
        assert_eq!(self.body["issue"][0]["severity"], "error");
        assert_eq!(self.body["issue"][0]["code"], code);
    }
}

pub async fn send(
    server: &Counterpart,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Answer {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client.request(method, format!("{}{url}", server.base_url()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(body) = body {
        req = req.body(body.to_owned());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

pub async fn get(server: &Counterpart, url: &str) -> Answer {
    send(server, "GET", url, &[], None).await
}

/// Asserts every mapping of the set answered at least one request of the journal: a
/// mapping nothing reaches is dead weight or a matcher that never matches.
pub fn assert_every_mapping_answered(s: &Counterpart) {
    let answered: std::collections::BTreeSet<usize> =
        s.journal().iter().filter_map(|e| e.mapping).collect();
    let dead: Vec<String> = s
        .set()
        .mappings
        .iter()
        .enumerate()
        .filter(|(i, _)| !answered.contains(i))
        .map(|(_, m)| m.label())
        .collect();
    assert!(dead.is_empty(), "mappings nothing reached: {dead:#?}");
}
