//! Tests for counterparts: each matcher passing and failing, priority, templating,
//! delay, faults, body files, journal and scenarios, against a started counterpart.

use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

/// Writes a stub set under a temp folder: `files` are paths relative to the set.
pub(crate) fn write_set(root: &Path, name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("mappings")).unwrap();
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

async fn start(files: &[(&str, &str)]) -> (tempfile::TempDir, Counterpart) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_set(tmp.path(), "set", files);
    let set = StubSet::load(&dir).unwrap_or_else(|d| panic!("{d}"));
    let server = Counterpart::start(&set, None).await.unwrap();
    (tmp, server)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Sends and returns the status and body; `name: value` headers.
async fn call(
    server: &Counterpart,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client().request(method, format!("{}{url}", server.base_url()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(body) = body {
        req = req.body(body.to_owned());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

async fn get(server: &Counterpart, url: &str) -> u16 {
    call(server, "GET", url, &[], None).await.0
}

const MATCHERS: &str = r#"{"mappings": [
  {"request": {"method": "POST", "url": "/method"}, "response": {"status": 200}},
  {"request": {"url": "/url?a=1"}, "response": {"status": 200}},
  {"request": {"urlPath": "/path"}, "response": {"status": 200}},
  {"request": {"urlPattern": "/pat/[0-9]+\\?x=.*"}, "response": {"status": 200}},
  {"request": {"urlPathPattern": "/pp/(?!secret)[a-z]+"}, "response": {"status": 200}},
  {"request": {"urlPath": "/q", "queryParameters": {
      "eq": {"equalTo": "Smith", "caseInsensitive": true},
      "has": {"contains": "nhs-number|"},
      "re": {"matches": "[0-9]{10}"},
      "not": {"doesNotMatch": "x.*"},
      "gone": {"absent": true}}}, "response": {"status": 200}},
  {"request": {"urlPath": "/h", "headers": {
      "Accept": {"equalTo": "application/fhir+json"},
      "X-Trace": {"matches": "t-[0-9]+"},
      "Authorization": {"absent": true}}}, "response": {"status": 200}},
  {"request": {"method": "POST", "urlPath": "/json", "bodyPatterns": [
      {"equalToJson": {"a": [1, 2], "b": {"c": true}}, "ignoreArrayOrder": true, "ignoreExtraElements": true}]},
   "response": {"status": 200}},
  {"request": {"method": "POST", "urlPath": "/jsonstrict", "bodyPatterns": [
      {"equalToJson": "{\"a\": 1}"}]}, "response": {"status": 200}},
  {"request": {"method": "POST", "urlPath": "/jsonpath", "bodyPatterns": [
      {"matchesJsonPath": "$.identifier[?(@.system == 'https://fhir.nhs.uk/Id/nhs-number')]"},
      {"matchesJsonPath": {"expression": "$.resourceType", "equalTo": "Patient"}}]},
   "response": {"status": 200}},
  {"request": {"method": "POST", "urlPath": "/text", "bodyPatterns": [
      {"contains": "hello"}, {"equalTo": "HELLO world", "caseInsensitive": true}]},
   "response": {"status": 200}}
]}"#;

#[tokio::test]
async fn each_matcher_passes_and_fails() {
    let (_tmp, s) = start(&[("mappings/m.json", MATCHERS)]).await;
    assert_eq!(call(&s, "POST", "/method", &[], None).await.0, 200);
    assert_eq!(get(&s, "/method").await, 404);
    assert_eq!(get(&s, "/url?a=1").await, 200);
    assert_eq!(get(&s, "/url?a=1&b=2").await, 404);
    assert_eq!(get(&s, "/path?any=thing").await, 200);
    assert_eq!(get(&s, "/path/more").await, 404);
    assert_eq!(get(&s, "/pat/12?x=y").await, 200);
    assert_eq!(get(&s, "/pat/ab?x=y").await, 404);
    assert_eq!(get(&s, "/pp/public").await, 200);
    assert_eq!(get(&s, "/pp/secret").await, 404);

    let q = "/q?eq=SMITH&has=https://fhir.nhs.uk/Id/nhs-number%7C9&re=9000000009&not=abc";
    assert_eq!(get(&s, q).await, 200);
    assert_eq!(get(&s, &q.replace("SMITH", "Jones")).await, 404, "equalTo");
    assert_eq!(get(&s, &q.replace("%7C9", "9")).await, 404, "contains");
    assert_eq!(
        get(&s, &q.replace("9000000009", "900")).await,
        404,
        "matches is whole-string"
    );
    assert_eq!(get(&s, &q.replace("abc", "xyz")).await, 404, "doesNotMatch");
    assert_eq!(get(&s, &format!("{q}&gone=1")).await, 404, "absent");
    assert_eq!(
        get(&s, "/q?eq=smith&re=9000000009&not=a").await,
        404,
        "missing `has`"
    );

    let h = [("Accept", "application/fhir+json"), ("X-Trace", "t-42")];
    assert_eq!(call(&s, "GET", "/h", &h, None).await.0, 200);
    assert_eq!(
        call(&s, "GET", "/h", &[h[0], ("X-Trace", "t-x")], None)
            .await
            .0,
        404
    );
    assert_eq!(
        call(&s, "GET", "/h", &[h[0]], None).await.0,
        404,
        "header missing"
    );
    assert_eq!(
        call(
            &s,
            "GET",
            "/h",
            &[h[0], h[1], ("Authorization", "Bearer x")],
            None
        )
        .await
        .0,
        404
    );

    let post = |url: &'static str, body: &'static str| {
        let s = &s;
        async move { call(s, "POST", url, &[], Some(body)).await.0 }
    };
    assert_eq!(
        post("/json", r#"{"b": {"c": true}, "a": [2, 1], "extra": 1}"#).await,
        200
    );
    assert_eq!(
        post("/json", r#"{"a": [2, 1], "b": {"c": false}}"#).await,
        404
    );
    assert_eq!(post("/jsonstrict", r#"{"a": 1.0}"#).await, 200);
    assert_eq!(post("/jsonstrict", r#"{"a": 1, "b": 2}"#).await, 404);
    assert_eq!(post("/jsonstrict", "not json").await, 404);
    let patient = r#"{"resourceType": "Patient", "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number"}]}"#;
    assert_eq!(post("/jsonpath", patient).await, 200);
    assert_eq!(
        post(
            "/jsonpath",
            r#"{"resourceType": "Patient", "identifier": [{"system": "other"}]}"#
        )
        .await,
        404
    );
    assert_eq!(post("/jsonpath", r#"{"resourceType": "Group", "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number"}]}"#).await, 404);
    assert_eq!(post("/text", "hello world").await, 200);
    assert_eq!(
        post("/text", "Hello World").await,
        404,
        "contains is case-sensitive"
    );
}

#[tokio::test]
async fn lower_priority_wins_and_later_overlays_win_ties() {
    let tmp = tempfile::tempdir().unwrap();
    write_set(
        tmp.path(),
        "base",
        &[
            (
                "mappings/a.json",
                r#"{"request": {"urlPath": "/x"}, "response": {"status": 201}}"#,
            ),
            (
                "mappings/b.json",
                r#"{"priority": 1, "request": {"urlPath": "/y"}, "response": {"status": 202}}"#,
            ),
            (
                "mappings/c.json",
                r#"{"priority": 9, "request": {"urlPathPattern": "/y.*"}, "response": {"status": 203}}"#,
            ),
        ],
    );
    let dir = write_set(
        tmp.path(),
        "overlay",
        &[
            ("mock.toml", "description = \"over\"\nextends = \"base\"\n"),
            (
                "mappings/a.json",
                r#"{"request": {"urlPath": "/x"}, "response": {"status": 211}}"#,
            ),
            (
                "mappings/b.json",
                r#"{"priority": 2, "request": {"urlPath": "/y"}, "response": {"status": 212}}"#,
            ),
        ],
    );
    let set = StubSet::load(&dir).unwrap();
    assert_eq!(
        (set.mappings.len(), set.extends.as_deref()),
        (5, Some("base"))
    );
    let layers: Vec<_> = set.layers.iter().filter_map(|p| p.file_name()).collect();
    assert_eq!(layers, ["base", "overlay"]);
    let s = Counterpart::start(&set, None).await.unwrap();
    assert_eq!(get(&s, "/x").await, 211, "tie: the overlay wins");
    assert_eq!(get(&s, "/y").await, 202, "priority 1 beats the overlay's 2");
    assert_eq!(get(&s, "/yz").await, 203);
}

#[tokio::test]
async fn templates_render_from_the_request() {
    let mapping = r#"{"request": {"method": "ANY", "urlPathPattern": "/t/.*"}, "response": {
        "status": 200, "transformers": ["response-template"],
        "headers": {"Location": "{{request.baseUrl}}/Patient/{{request.id}}", "X-Echo": "{{request.headers.X-In}}"},
        "body": "{{request.method}} {{request.path}} {{request.url}} q={{request.query.q}} id={{request.id}} uuid={{randomValue type='UUID'}} now={{now}}"}}"#;
    let (_tmp, s) = start(&[("mappings/t.json", mapping)]).await;
    let res = client()
        .get(format!("{}/t/a?q=x%20y", s.base_url()))
        .header("X-In", "in")
        .send()
        .await
        .unwrap();
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(res.headers()["x-echo"], "in");
    let body = res.text().await.unwrap();
    let id = &s.journal()[0].id;
    assert_eq!(location, format!("{}/Patient/{id}", s.base_url()));
    assert!(
        body.starts_with(&format!("GET /t/a /t/a?q=x%20y q=x y id={id} uuid=")),
        "{body}"
    );
    let now = body.rsplit("now=").next().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(now).is_ok(), "{now}");
}

#[tokio::test]
async fn path_templates_match_and_name_their_parameters() {
    let m = r#"{"request": {"method": "GET", "urlPathTemplate": "/Patient/{id}/_history/{vid}",
        "pathParameters": {"vid": {"matches": "[0-9]+"}}},
      "response": {"status": 200, "body": "{{request.path.id}} v{{request.path.vid}}", "transformers": ["response-template"]}}"#;
    let (_tmp, s) = start(&[("mappings/p.json", m)]).await;
    assert_eq!(
        call(&s, "GET", "/Patient/a%20b/_history/2", &[], None).await,
        (200, "a b v2".to_owned())
    );
    assert_eq!(
        get(&s, "/Patient/a/_history/x").await,
        404,
        "pathParameters"
    );
    assert_eq!(
        get(&s, "/Patient/a/b/_history/2").await,
        404,
        "a parameter is one segment"
    );
    assert_eq!(get(&s, "/Patient/a/_history/2/more").await, 404);
}

#[tokio::test]
async fn untemplated_responses_are_served_verbatim() {
    let mapping = r#"{"request": {"urlPath": "/raw"}, "response": {"status": 200, "body": "{{request.path}}",
        "headers": {"Content-Type": "text/plain"}}}"#;
    let (_tmp, s) = start(&[("mappings/t.json", mapping)]).await;
    assert_eq!(
        call(&s, "GET", "/raw", &[], None).await,
        (200, "{{request.path}}".to_owned())
    );
}

#[tokio::test]
async fn fixed_delay_delays() {
    let m = r#"{"mappings": [{"request": {"urlPath": "/slow"}, "response": {"status": 200, "fixedDelayMilliseconds": 300}},
        {"request": {"urlPath": "/fast"}, "response": {"status": 200}}]}"#;
    let (_tmp, s) = start(&[("mappings/d.json", m)]).await;
    let t = Instant::now();
    assert_eq!(get(&s, "/fast").await, 200);
    assert!(t.elapsed() < Duration::from_millis(300));
    let t = Instant::now();
    assert_eq!(get(&s, "/slow").await, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn each_fault_is_a_transport_error() {
    let faults = Fault::ALL
        .iter()
        .map(|(name, _)| {
            format!(r#"{{"request": {{"urlPath": "/{name}"}}, "response": {{"fault": "{name}"}}}}"#)
        })
        .collect::<Vec<_>>()
        .join(",");
    let set = format!(
        r#"{{"mappings": [{faults}, {{"request": {{"urlPath": "/ok"}}, "response": {{"status": 200, "body": "fine"}}}}]}}"#
    );
    let (_tmp, s) = start(&[("mappings/f.json", &set)]).await;
    for (name, fault) in Fault::ALL {
        let outcome = match client()
            .get(format!("{}/{name}", s.base_url()))
            .send()
            .await
        {
            Ok(res) => res.text().await.map(|_| ()),
            Err(e) => Err(e),
        };
        assert!(
            outcome.is_err(),
            "{name} should fail at the transport level"
        );
        assert_eq!(s.journal().last().unwrap().fault, Some(fault));
    }
    assert_eq!(
        call(&s, "GET", "/ok", &[], None).await,
        (200, "fine".to_owned()),
        "the server survives faults"
    );
}

#[tokio::test]
async fn bodies_come_from_files_json_and_base64() {
    let m = r#"{"mappings": [
      {"request": {"urlPath": "/file"}, "response": {"status": 200, "bodyFileName": "p/patient.json"}},
      {"request": {"urlPath": "/tfile"}, "response": {"status": 200, "bodyFileName": "t.txt", "transformers": ["response-template"]}},
      {"request": {"urlPath": "/json"}, "response": {"status": 200, "jsonBody": {"a": [1]}}},
      {"request": {"urlPath": "/b64"}, "response": {"status": 200, "base64Body": "aGk=", "headers": {"Content-Length": "2"}}}]}"#;
    let (_tmp, s) = start(&[
        ("mappings/b.json", m),
        ("__files/p/patient.json", "{\"resourceType\": \"Patient\"}"),
        ("__files/t.txt", "at {{request.path}}"),
    ])
    .await;
    assert_eq!(
        call(&s, "GET", "/file", &[], None).await.1,
        "{\"resourceType\": \"Patient\"}"
    );
    assert_eq!(call(&s, "GET", "/tfile", &[], None).await.1, "at /tfile");
    let json: serde_json::Value =
        serde_json::from_str(&call(&s, "GET", "/json", &[], None).await.1).unwrap();
    assert_eq!(json, serde_json::json!({"a": [1]}));
    assert_eq!(call(&s, "GET", "/b64", &[], None).await.1, "hi");
}

#[tokio::test]
async fn unmatched_requests_get_wiremocks_404_and_are_journaled() {
    let m = r#"{"name": "only", "metadata": {"k": 1}, "request": {"method": "POST", "urlPath": "/in"}, "response": {"status": 204}}"#;
    let (_tmp, s) = start(&[("mappings/j.json", m)]).await;
    let (status, body) = call(&s, "GET", "/nowhere?x=1", &[], None).await;
    assert_eq!(status, 404);
    // WireMock's report: the closest stub beside the request, differences marked.
    assert!(body.contains("Request was not matched"), "{body}");
    let method_line = format!(
        "{:<59}| {:<52}<<<<< HTTP method does not match",
        "POST", "GET"
    );
    assert!(body.contains(&method_line), "{body}");
    assert!(body.contains("[path] /in"), "{body}");
    assert!(body.contains("| /nowhere?x=1"), "{body}");
    let res = client()
        .post(format!("{}/in", s.base_url()))
        .header("X-Supplier", "acme")
        .body("{\"a\":1}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(
        res.headers().get("content-length").is_none(),
        "no length on a 204"
    );
    let journal = s.journal();
    assert_eq!(journal.len(), 2);
    assert_eq!(
        (
            journal[0].method.as_str(),
            journal[0].url.as_str(),
            journal[0].mapping
        ),
        ("GET", "/nowhere?x=1", None)
    );
    assert_eq!(journal[0].status, Some(404));
    assert_eq!(journal[0].path(), "/nowhere");
    assert_eq!(journal[0].query(), [("x".to_owned(), "1".to_owned())]);
    assert_eq!(
        (
            journal[1].method.as_str(),
            journal[1].mapping,
            journal[1].status
        ),
        ("POST", Some(0), Some(204))
    );
    assert_eq!(journal[1].header("x-supplier"), Some("acme"));
    assert_eq!(journal[1].body_json(), Some(serde_json::json!({"a": 1})));
    let mapping = s.mapping(&journal[1]).unwrap();
    assert_eq!(
        (mapping.label(), &mapping.metadata),
        ("only".to_owned(), &serde_json::json!({"k": 1}))
    );
    assert!(describe(&s, &journal[0]).ends_with(" GET /nowhere?x=1 -> 404 (no mapping matched)"));
    assert!(describe(&s, &journal[1]).ends_with(" POST /in -> 204 (only)"));
    s.clear_journal();
    assert!(s.journal().is_empty());
    let mut live = s.subscribe();
    assert_eq!(get(&s, "/live").await, 404);
    assert_eq!(live.recv().await.unwrap().url, "/live");
}

#[tokio::test]
async fn scenarios_move_between_states() {
    let m = r#"{"mappings": [
      {"scenarioName": "order", "requiredScenarioState": "Started", "newScenarioState": "placed",
       "request": {"method": "POST", "urlPath": "/order"}, "response": {"status": 201}},
      {"scenarioName": "order", "requiredScenarioState": "Started", "request": {"method": "GET", "urlPath": "/order"}, "response": {"status": 404}},
      {"scenarioName": "order", "requiredScenarioState": "placed", "request": {"urlPath": "/order"}, "response": {"status": 200}}]}"#;
    let (_tmp, s) = start(&[("mappings/s.json", m)]).await;
    assert_eq!(get(&s, "/order").await, 404);
    assert_eq!(call(&s, "POST", "/order", &[], None).await.0, 201);
    assert_eq!(get(&s, "/order").await, 200);
    s.reset_scenarios();
    assert_eq!(get(&s, "/order").await, 404);
}

#[tokio::test]
async fn binds_the_address_given_and_reports_a_taken_port() {
    let (_tmp, s) = start(&[(
        "mappings/a.json",
        r#"{"request": {}, "response": {"status": 200}}"#,
    )])
    .await;
    let err = Counterpart::start(s.set(), Some(s.addr()))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, CounterpartError::Bind { .. }), "{err}");
    assert!(
        summary(&s).contains("1 mappings:\n  [5] ANY * -> 200"),
        "{}",
        summary(&s)
    );
    s.shutdown().await;
}

mod diagnostics;

#[tokio::test]
async fn head_requests_get_headers_only() {
    let m = r#"{"request": {"method": "HEAD", "urlPath": "/h"}, "response": {"status": 200, "body": "12345"}}"#;
    let (_tmp, s) = start(&[("mappings/h.json", m)]).await;
    let res = tokio::time::timeout(
        Duration::from_secs(3),
        client().head(format!("{}/h", s.base_url())).send(),
    )
    .await
    .expect("HEAD must not hang")
    .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(get(&s, "/h").await, 404, "the connection is still usable");
}

#[tokio::test]
async fn garbage_requests_get_a_400() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_tmp, s) = start(&[(
        "mappings/a.json",
        r#"{"request": {}, "response": {"status": 200}}"#,
    )])
    .await;
    let mut stream = tokio::net::TcpStream::connect(s.addr()).await.unwrap();
    stream.write_all(b"NOT HTTP AT ALL\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(s.journal().is_empty());
    assert_eq!(get(&s, "/").await, 200);
}

#[tokio::test]
async fn the_admin_api_changes_what_is_served() {
    let a = r#"{"id": "00000000-0000-0000-0000-000000000001", "request": {"urlPath": "/a"}, "response": {"status": 200, "body": "a"}}"#;
    let (_tmp, s) = start(&[("mappings/a.json", a)]).await;
    let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
    let (status, body) = s.admin("GET", "/__admin/mappings", b"");
    assert_eq!(
        (status, json(&body)["meta"]["total"].as_u64()),
        (200, Some(1))
    );
    let created = s.admin(
        "POST",
        "/__admin/mappings",
        br#"{"request": {"urlPath": "/b"}, "response": {"status": 201}}"#,
    );
    assert_eq!(created.0, 201);
    assert_eq!(get(&s, "/b").await, 201);
    let (status, body) = s.admin(
        "POST",
        "/__admin/mappings",
        br#"{"request": {"urlPth": "/c"}}"#,
    );
    assert_eq!(status, 422);
    assert!(body.contains("urlPth"), "{body}");
    let id = "/__admin/mappings/00000000-0000-0000-0000-000000000001";
    assert_eq!(s.admin("DELETE", id, b"").0, 200);
    assert_eq!(get(&s, "/a").await, 404);
    assert_eq!(s.admin("GET", id, b"").0, 404);
    let (_, body) = s.admin(
        "POST",
        "/__admin/requests/count",
        br#"{"method": "GET", "urlPath": "/a"}"#,
    );
    assert_eq!(json(&body)["count"], 1);
    let (_, body) = s.admin("GET", "/__admin/requests/unmatched", b"");
    assert_eq!(json(&body)["requests"][0]["url"], "/a");
    assert_eq!(s.admin("POST", "/__admin/reset", b"").0, 200);
    assert_eq!(get(&s, "/a").await, 200);
    assert_eq!(get(&s, "/b").await, 404);
    assert_eq!(s.admin("GET", "/__admin/nothing-here", b"").0, 404);
}

#[tokio::test]
async fn admin_scenario_states_and_settings() {
    let flow = r#"{"mappings": [
      {"scenarioName": "order", "requiredScenarioState": "Started", "newScenarioState": "placed",
       "request": {"urlPath": "/o"}, "response": {"status": 201}},
      {"scenarioName": "order", "requiredScenarioState": "placed",
       "request": {"urlPath": "/o"}, "response": {"status": 409}}]}"#;
    let (_tmp, s) = start(&[("mappings/f.json", flow)]).await;
    let put = |state: &str| {
        s.admin(
            "PUT",
            "/__admin/scenarios/order/state",
            format!(r#"{{"state": "{state}"}}"#).as_bytes(),
        )
        .0
    };
    assert_eq!(put("placed"), 200);
    assert_eq!(get(&s, "/o").await, 409);
    assert_eq!(put("nonsense"), 400);
    assert_eq!(
        s.admin("PUT", "/__admin/scenarios/none/state", b"{}").0,
        404
    );
    assert_eq!(s.admin("POST", "/__admin/scenarios/reset", b"").0, 200);
    assert_eq!(get(&s, "/o").await, 201);
    assert_eq!(get(&s, "/o").await, 409);
    assert_eq!(
        s.admin("POST", "/__admin/settings", br#"{"fixedDelay": 200}"#)
            .0,
        200
    );
    let started = Instant::now();
    assert_eq!(get(&s, "/nothing").await, 404);
    assert_eq!(s.admin("POST", "/__admin/scenarios/reset", b"").0, 200);
    assert_eq!(get(&s, "/o").await, 201);
    assert!(started.elapsed() >= Duration::from_millis(200));
}
