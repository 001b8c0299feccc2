//! A target that misbehaves at the transport: each fault ends the run in exit 1 or 3
//! with a complete, sealed, parseable report whose findings name the cause. (Peak
//! memory under each fault is measured by bench/chaos.py, not here.)

use super::hostile::{self, Fault};
use crate::support::Project;

const FEATURE: &str = r#"Feature: against a hostile target
  @req:T-1
  Scenario: read a patient
    When I send a GET request to "/Patient/1"
    Then the response status is 200
    And the JSON value at "id" exists

  @req:T-1
  Scenario: search patients
    When I send a GET request to "/Patient?name=x"
    Then the response status is 200
    And the JSON value at "resourceType" is "Bundle"
"#;

/// Runs against `fault`; checks the report is whole; returns every finding's words.
async fn run_against(fault: Fault) -> (i32, String) {
    let target = hostile::start(fault).await;
    let project = Project::new(&["T-1"]);
    project.feature("hostile.feature", FEATURE);
    let run = project
        .run(&[
            "run",
            "--target",
            &target.url,
            "--timeout",
            "2",
            "--max-body",
            "1000000",
            "--format",
            "html,json,junit,md,messages",
        ])
        .await;
    assert!(
        run.code == 1 || run.code == 3,
        "{fault:?}: exit {}\n{}",
        run.code,
        run.stderr
    );
    let dir = run.report_dir.clone().expect("a report");
    let report = run.report();
    assert_eq!(report["summary"]["scenarios"]["total"], 2, "{fault:?}");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    assert!(
        read("report.html").trim_end().ends_with("</html>"),
        "{fault:?}"
    );
    assert!(
        read("junit.xml").trim_end().ends_with("</testsuites>"),
        "{fault:?}"
    );
    assert!(read("summary.md").contains("T-1"), "{fault:?}");
    for line in read("messages.ndjson").lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("NDJSON");
    }
    // Sealed: the manifest matches every file.
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
        .args(["report", "verify"])
        .arg(&dir)
        .args(["--run-id", report["run"]["id"].as_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(4), "{fault:?}: {verify:?}");
    let mut words = String::new();
    for e in report["exchanges"].as_array().unwrap() {
        words.push_str(e["error"].as_str().unwrap_or_default());
        words.push('\n');
    }
    for suite in report["suites"].as_array().unwrap() {
        for feature in suite["features"].as_array().unwrap() {
            for sc in feature["scenarios"].as_array().unwrap() {
                assert!(
                    sc["status"] == "failed" || sc["status"] == "error",
                    "{fault:?}: {sc}"
                );
                for step in sc["steps"].as_array().unwrap() {
                    for part in ["message", "expected", "actual"] {
                        words.push_str(step["failure"][part].as_str().unwrap_or_default());
                        words.push('\n');
                    }
                }
            }
        }
    }
    (run.code, words)
}

#[tokio::test(flavor = "multi_thread")]
async fn each_transport_fault_ends_in_a_whole_report_that_names_it() {
    let cases = [
        (Fault::Reset, 3, "Connection reset by peer"),
        (Fault::Hang, 3, "within 2.0 s (the --timeout limit)"),
        (Fault::SlowDrip, 3, "within 2.0 s (the --timeout limit)"),
        (
            Fault::Huge(500 * 1024 * 1024),
            1,
            "larger than the 1000000 byte limit",
        ),
        (Fault::Truncated, 3, "could not be read"),
        (Fault::HugeHeaders, 3, "the request failed"),
        (Fault::Html500, 1, "500"),
        (Fault::BadUtf8, 1, "not UTF-8"),
        (Fault::RedirectLoop, 1, "302"),
    ];
    let runs = futures::future::join_all(cases.iter().map(|(f, _, _)| run_against(*f))).await;
    for ((fault, code, words), (got, found)) in cases.iter().zip(runs) {
        assert_eq!(got, *code, "{fault:?}:\n{found}");
        assert!(found.contains(words), "{fault:?}: no `{words}` in\n{found}");
    }
}
