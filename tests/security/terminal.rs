//! Control characters and ANSI escapes from inputs (a feature file, a target's
//! answer) are shown escaped on stderr, never sent raw to the terminal.

use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::Project;

fn assert_no_raw_controls(stream: &str) {
    for (i, c) in stream.chars().enumerate() {
        assert!(
            !(c.is_control() && c != '\n' && c != '\t') && c != '\u{202e}',
            "raw {:?} at character {i}:\n{stream}",
            c
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn escapes_from_a_feature_file_are_shown_escaped() {
    let project = Project::new(&["T-1"]);
    project.feature(
        "evil.feature",
        "@req:T-1\nFeature: evil\n  Scenario: x\n    When I \x1b[2J\x1b]0;pwned\x07sned a GET \u{202e}request\n",
    );
    let run = project
        .run(&["run", "--target", "http://127.0.0.1:9"])
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_no_raw_controls(&run.stderr);
    assert!(run.stderr.contains("\\u{1b}[2J"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn escapes_a_target_answers_are_shown_escaped() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"resourceType": "Patient", "id": "\u001b[2J\u001b]0;pwned\u0007\u009b31m"}"#,
            "application/fhir+json",
        ))
        .mount(&server)
        .await;
    let project = Project::new(&["T-1"]);
    project.feature(
        "a.feature",
        "@req:T-1\nFeature: a\n  Scenario: quoted\n    When I send a GET request to \"/Patient/1\"\n    Then the JSON value at \"id\" is \"1\"\n",
    );
    let run = project.run(&["run", "--target", &server.uri()]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_no_raw_controls(&run.stderr);
    assert!(run.stderr.contains("\\u{1b}]0;pwned"), "{}", run.stderr);
}
