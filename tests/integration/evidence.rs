//! Evidence: secrets never reach a report; hostile responses fail their step with a
//! clear message while the run goes on.

use base64::Engine as _;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{assert_named_outcomes, Project};

const CANARY: &str = "tok-CANARY-5ecret";

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_input_appears_in_no_report_file_in_any_encoding() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(200)
                // A careless server echoing the token back in its body.
                .set_body_raw(
                    format!(r#"{{"resourceType": "Basic", "id": "x", "note": "{CANARY}"}}"#),
                    "application/fhir+json",
                )
                .insert_header("Set-Cookie", format!("session={CANARY}")),
        )
        .mount(&server)
        .await;
    let project = Project::new(&["T-1"]);
    project.feature(
        "secret.feature",
        r#"Feature: secrets
  @req:T-1
  Scenario: pass: token sent in header, query and body
    Given the request header "Authorization" is "Bearer {token}"
    And the request header "X-Api-Key" is "{token}"
    And the request query parameter "access_token" is "{token}"
    And the request query parameter "other" is "{token}"
    And the request body is:
      """
      {"secret": "{token}"}
      """
    When I send a POST request to "/anything"
    Then the response status is 200
    And the JSON value at "note" is "{token}"
"#,
    );
    let key = project.path().join("key.hex");
    std::fs::write(&key, "11".repeat(32)).unwrap();
    let run = project
        .run(&[
            "run",
            "--target",
            &server.uri(),
            "--format",
            "html,json,junit,md,messages",
            "--sign-key",
            &key.display().to_string(),
            // A secret literally on the command line is redacted from it too.
            "--input",
            &format!("token={CANARY}"),
        ])
        .await;
    assert_named_outcomes(&run);
    let encodings = [
        CANARY.to_owned(),
        base64::engine::general_purpose::STANDARD.encode(CANARY),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(CANARY),
        CANARY.replace('-', "%2D"),
        // JSON-escaped, as a JSON string inside JSON would carry it.
        serde_json::to_string(&serde_json::to_string(CANARY).unwrap()).unwrap(),
        CANARY
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect(),
    ];
    let dir = run.report_dir.clone().unwrap();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        files.push(path.file_name().unwrap().to_string_lossy().into_owned());
        for e in &encodings {
            assert!(
                !text.contains(e.as_str()),
                "{} contains the secret as `{e}`",
                path.display()
            );
        }
    }
    files.sort();
    assert_eq!(
        files,
        [
            "junit.xml",
            "manifest.json",
            "manifest.sig",
            "messages.ndjson",
            "report.html",
            "report.json",
            "summary.md"
        ]
    );
    assert!(!run.stderr.contains(CANARY));
    // The redaction did happen where the secret was.
    let report = std::fs::read_to_string(dir.join("report.json")).unwrap();
    assert!(report.contains("Bearer [REDACTED]"));
    assert!(report.contains("access_token=[REDACTED]"));
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_malformed_binary_and_slow_responses_fail_their_step_only() {
    let server = MockServer::start().await;
    let mount = |p: &'static str, r: ResponseTemplate| {
        Mock::given(method("GET")).and(path(p)).respond_with(r)
    };
    mount(
        "/big",
        ResponseTemplate::new(200).set_body_string("x".repeat(50_000)),
    )
    .mount(&server)
    .await;
    mount(
        "/malformed",
        ResponseTemplate::new(200).set_body_string("{\"resourceType\": \"Patient\",\n \"id\": }"),
    )
    .mount(&server)
    .await;
    mount(
        "/binary",
        ResponseTemplate::new(200).set_body_bytes(vec![0xff, 0xfe, 0x00, 0x7b]),
    )
    .mount(&server)
    .await;
    mount(
        "/slow",
        ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(4)),
    )
    .mount(&server)
    .await;
    mount("/ok", ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let project = Project::new(&["T-1"]);
    project.feature(
        "hostile.feature",
        r#"@req:T-1
Feature: hostile responses
  Scenario: error: over the body limit
    When I send a GET request to "/big"
  Scenario: fail: malformed JSON
    When I send a GET request to "/malformed"
    Then the response status is 200
    And the JSON value at "id" exists
  Scenario: fail: not UTF-8
    When I send a GET request to "/binary"
    Then the JSON value at "id" exists
  Scenario: error: hangs past the timeout
    When I send a GET request to "/slow"
  Scenario: pass: the run goes on
    When I send a GET request to "/ok"
    Then the response status is 200
"#,
    );
    let run = project
        .run(&[
            "run",
            "--target",
            &server.uri(),
            "--max-body",
            "10000",
            "--timeout",
            "1",
        ])
        .await;
    assert_named_outcomes(&run);
    assert_eq!(run.code, 1);
    let report = run.report();
    let messages: Vec<String> = report["suites"][0]["features"][0]["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| {
            s["steps"].as_array().unwrap().iter().find_map(|st| {
                st["failure"]["message"]
                    .as_str()
                    .or(st["reason"].as_str().filter(|_| st["status"] == "error"))
                    .map(str::to_owned)
            })
        })
        .collect();
    assert!(
        messages[0].contains("larger than the 10000 byte limit"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("not JSON") && messages[1].contains("2:8"),
        "{messages:?}"
    );
    assert!(messages[2].contains("not UTF-8"), "{messages:?}");
    assert!(messages[3].contains("within 1.0 s"), "{messages:?}");
    // The oversized body is cut in the evidence, and the binary one kept as base64.
    let exchanges = report["exchanges"].as_array().unwrap();
    let big = exchanges
        .iter()
        .find(|e| e["request"]["url"].as_str().unwrap().ends_with("/big"))
        .unwrap();
    assert_eq!(big["response"]["body"]["truncated"], true);
    assert!(big["response"]["body"]["size"].as_u64().unwrap() <= 10_001);
    let binary = exchanges
        .iter()
        .find(|e| e["request"]["url"].as_str().unwrap().ends_with("/binary"))
        .unwrap();
    assert_eq!(binary["response"]["body"]["base64"], "//4Aew==");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_target_makes_the_run_incomplete() {
    let project = Project::new(&["T-1"]);
    project.feature(
        "a.feature",
        "@req:T-1\nFeature: a\n  Scenario: error: x\n    When I send a GET request to \"/x\"\n",
    );
    // Port 9 (discard) on loopback: nothing listens there.
    let run = project
        .run(&["run", "--target", "http://127.0.0.1:9"])
        .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.report()["verdict"], "incomplete");
    assert!(run.stderr.contains("never answered"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_still_writes_the_report_marked_interrupted() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_millis(700)))
        .mount(&server)
        .await;
    let project = Project::new(&["T-1"]);
    let mut feature = String::from("@req:T-1\nFeature: slow\n");
    for i in 0..6 {
        feature.push_str(&format!("  Scenario: s{i}\n    When I send a GET request to \"/{i}\"\n    Then the response status is 200\n"));
    }
    project.feature("slow.feature", &feature);
    let dir = project.path().to_path_buf();
    let reports = dir.join("reports");
    let uri = server.uri();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
        .args([
            "run",
            "--target",
            &uri,
            "--concurrency",
            "1",
            "--input",
            "token=abcd1234",
            "--report-dir",
        ])
        .arg(&reports)
        .arg("--project")
        .arg(&dir)
        .current_dir(&dir)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the first scenario is done and the second is under way (one at a
    // time), however slow the machine: not after a fixed delay.
    let started = std::time::Instant::now();
    let second = |reqs: Vec<wiremock::Request>| reqs.iter().any(|r| r.url.path() == "/1");
    while !second(server.received_requests().await.unwrap()) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(600),
            "the run never reached its second scenario"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let (code, stderr) = tokio::task::spawn_blocking(move || {
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap();
    assert_eq!(code, Some(130), "{stderr}");
    let run_dir = std::fs::read_dir(project.path().join("reports"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["run"]["interrupted"], true);
    assert_eq!(report["verdict"], "incomplete");
    let passed = report["summary"]["scenarios"]["passed"].as_u64().unwrap();
    let not_run = report["summary"]["scenarios"]["not_run"].as_u64().unwrap();
    assert!(
        passed >= 1 && not_run >= 1,
        "passed {passed}, not run {not_run}"
    );
    assert!(run_dir.join("report.html").is_file() && run_dir.join("junit.xml").is_file());
}
