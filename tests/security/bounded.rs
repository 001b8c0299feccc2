//! Bounded evidence: checks read the whole body, the report keeps the first
//! `--evidence-body-limit` bytes of it, with the size and sha256 of all of it.

use sha2::{Digest as _, Sha256};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{assert_named_outcomes, Project};

const FEATURE: &str = r#"@req:T-1
Feature: big answers
  Scenario: pass: the check reads past the evidence limit
    When I send a GET request to "/Patient/1"
    Then the JSON value at "id" is "1"
  Scenario: pass: again
    When I send a GET request to "/Patient/1"
    Then the JSON value at "id" is "1"
  Scenario: pass: and again
    When I send a GET request to "/Patient/1"
    Then the JSON value at "id" is "1"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn each_body_keeps_a_prefix_and_the_hash_of_the_whole() {
    // The id comes last: a check that saw only the kept prefix could not pass.
    let body = format!(
        r#"{{"resourceType": "Patient", "text": "{}", "id": "1"}}"#,
        "a".repeat(600_000)
    );
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(body.clone(), "application/fhir+json"),
        )
        .mount(&server)
        .await;
    let project = Project::new(&["T-1"]);
    project.feature("big.feature", FEATURE);
    let sha = format!("{:x}", Sha256::digest(body.as_bytes()));
    let uri = server.uri();
    for (limit, kept) in [(Some("10000"), 10_000), (None, 256 * 1024)] {
        let mut args = vec!["run", "--target", uri.as_str()];
        if let Some(l) = limit {
            args.extend(["--evidence-body-limit", l]);
        }
        let run = project.run(&args).await;
        assert_named_outcomes(&run);
        let report = run.report();
        let exchanges = report["exchanges"].as_array().unwrap();
        assert_eq!(exchanges.len(), 4, "metadata and three reads");
        for e in exchanges {
            let b = &e["response"]["body"];
            assert_eq!(b["text"].as_str().unwrap().len(), kept);
            assert_eq!(b["size"], body.len());
            assert_eq!(b["truncated"], true);
            assert_eq!(b["sha256"], sha.as_str());
        }
        let size = std::fs::metadata(run.report_dir.unwrap().join("report.json"))
            .unwrap()
            .len();
        assert!(
            size < 4 * kept as u64 + 100_000,
            "report.json is {size} bytes"
        );
    }
}
