//! Gates on a run: waivers, `--fail-on`, `--baseline`, and `assure report diff`.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Project, Run};

/// A supplier whose `/a`, `/b`, `/c` answer with the given statuses.
pub async fn server(a: u16, b: u16, c: u16) -> MockServer {
    let server = MockServer::start().await;
    for (p, status) in [("/a", a), ("/b", b), ("/c", c)] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(status))
            .mount(&server)
            .await;
    }
    server
}

pub const THREE: &str = r#"Feature: three
  @req:T-1
  Scenario: scenario a
    When I send a GET request to "/a"
    Then the response status is 200

  @req:T-2
  Scenario: scenario b
    When I send a GET request to "/b"
    Then the response status is 200

  @req:T-3
  Scenario: scenario c
    When I send a GET request to "/c"
    Then the response status is 200
"#;

fn status_of(run: &Run, name: &str) -> String {
    run.statuses()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no scenario {name}"))
}

const WAIVE_T1: &str = r#"[[waiver]]
requirement = "T-1"
justification = "fix ships in release 4.2"
accepted_by = "A. Assessor"
expires = 2099-12-31
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_waived_failure_is_reported_waived_and_the_others_still_fail() {
    let supplier = server(500, 500, 200).await;
    let project = Project::new(&["T-1", "T-2", "T-3"]);
    project.feature("three.feature", THREE);
    project.file(
        "waivers.toml",
        &format!("{WAIVE_T1}\n[[waiver]]\nscenario = \"features/nowhere.feature:3\"\njustification = \"x\"\naccepted_by = \"y\"\nexpires = 2099-01-01\n"),
    );
    let run = project
        .run(&[
            "run",
            "--target",
            &supplier.uri(),
            "--waivers",
            "waivers.toml",
        ])
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(status_of(&run, "scenario a"), "waived");
    assert_eq!(status_of(&run, "scenario b"), "failed");
    assert_eq!(status_of(&run, "scenario c"), "passed");
    let report = run.report();
    assert_eq!(report["summary"]["scenarios"]["waived"], 1);
    assert_eq!(report["summary"]["scenarios"]["passed"], 1);
    assert_eq!(report["summary"]["scenarios"]["failed"], 1);
    assert_eq!(report["suites"][0]["requirements"][0]["status"], "waived");
    assert_eq!(report["waivers"][0]["state"], "applied");
    assert_eq!(report["waivers"][1]["state"], "unused");
    let md = std::fs::read_to_string(run.report_dir.as_ref().unwrap().join("summary.md")).unwrap();
    assert!(
        md.contains("fix ships in release 4.2") && md.contains("unused"),
        "{md}"
    );

    // With b fixed, the waived failure alone does not fail the run...
    let fixed = server(500, 200, 200).await;
    project.file("waivers.toml", WAIVE_T1);
    let run = project
        .run(&["run", "--target", &fixed.uri(), "--waivers", "waivers.toml"])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.report()["verdict"], "passed");
    // ...but an unused waiver fails `--fail-on warning`...
    project.file(
        "waivers.toml",
        &format!("{WAIVE_T1}\n[[waiver]]\nrequirement = \"T-3\"\njustification = \"x\"\naccepted_by = \"y\"\nexpires = 2099-01-01\n"),
    );
    let strict = ["run", "--target", &fixed.uri(), "--waivers", "waivers.toml"];
    let run = project.run(&strict).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = project
        .run(&[&strict[..], &["--fail-on", "warning"]].concat())
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    // ...and an expired one waives nothing and fails the gate.
    project.file(
        "waivers.toml",
        &WAIVE_T1.replace("2099-12-31", "2020-01-01"),
    );
    let run = project
        .run(&["run", "--target", &fixed.uri(), "--waivers", "waivers.toml"])
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(status_of(&run, "scenario a"), "failed");
    assert_eq!(run.report()["waivers"][0]["state"], "expired");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_waivers_file_is_diagnosed_and_nothing_runs() {
    let supplier = server(200, 200, 200).await;
    let project = Project::new(&["T-1", "T-2", "T-3"]);
    project.feature("three.feature", THREE);
    project.file(
        "waivers.toml",
        "[[waiver]]\nrequirement = \"T-1\"\njustification = \"j\"\naccepted_by = \"a\"\nexpires = \"next year\"\n",
    );
    let run = project
        .run(&[
            "run",
            "--target",
            &supplier.uri(),
            "--waivers",
            "waivers.toml",
        ])
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.report_dir.is_none());
    assert!(
        run.stderr.contains("waivers.toml:5:11") && run.stderr.contains("^"),
        "{}",
        run.stderr
    );
    assert!(supplier.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_and_baseline_list_exactly_what_changed() {
    let project = Project::new(&["T-1", "T-2", "T-3"]);
    project.feature("three.feature", THREE);
    let good = server(200, 200, 200).await;
    let passing = project.run(&["run", "--target", &good.uri()]).await;
    assert_eq!(passing.code, 0, "{}", passing.stderr);
    let bad = server(200, 500, 200).await;
    let failing = project.run(&["run", "--target", &bad.uri()]).await;
    assert_eq!(failing.code, 1, "{}", failing.stderr);
    let old = passing.report_dir.clone().unwrap();
    let new = failing.report_dir.clone().unwrap();
    let old_json = old.join("report.json").display().to_string();
    let new_json = new.join("report.json").display().to_string();

    let diff = project.run(&["report", "diff", &old_json, &new_json]).await;
    assert_eq!(diff.code, 1, "{}", diff.stderr);
    let b_line = "features/three.feature:8  scenario b: passed -> failed";
    assert!(diff.stdout.contains("new failures (1):"), "{}", diff.stdout);
    assert!(diff.stdout.contains(b_line), "{}", diff.stdout);
    for empty in [
        "fixed (0)",
        "changed status (0)",
        "new scenarios (0)",
        "removed scenarios (0)",
    ] {
        assert!(diff.stdout.contains(empty), "{}", diff.stdout);
    }
    assert_eq!(diff.stdout.matches(" -> ").count(), 1, "{}", diff.stdout);
    let back = project
        .run(&["report", "diff", &new_json, &old_json, "--format", "md"])
        .await;
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert!(back.stdout.contains("## fixed (1)"), "{}", back.stdout);
    assert!(!back.stdout.contains("new failures"), "{}", back.stdout);
    // Run folders work as well as report.json paths; a run equals itself.
    let same = project
        .run(&["report", "diff", &old.display().to_string(), &old_json])
        .await;
    assert_eq!(same.code, 0);
    assert_eq!(same.stdout.matches(" -> ").count(), 0, "{}", same.stdout);

    // --baseline: the regression fails the run; the same failure again does not.
    let run = project
        .run(&["run", "--target", &bad.uri(), "--baseline", &old_json])
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let regressions = run.report()["baseline"]["regressions"].clone();
    assert_eq!(regressions, serde_json::json!(["features/three.feature:8"]));
    let run = project
        .run(&["run", "--target", &bad.uri(), "--baseline", &new_json])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.report()["verdict"], "failed");
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupt_truncated_or_foreign_reports_are_refused_with_exit_2() {
    let project = Project::new(&["T-1", "T-2", "T-3"]);
    project.feature("three.feature", THREE);
    let good = server(200, 200, 200).await;
    let run = project.run(&["run", "--target", &good.uri()]).await;
    let real = run.report_dir.clone().unwrap().join("report.json");
    let text = std::fs::read_to_string(&real).unwrap();
    project.file("truncated.json", &text[..text.len() / 2]);
    project.file("foreign.json", r#"{"resourceType": "Bundle"}"#);
    project.file(
        "old.json",
        &text.replacen("\"schema_version\": 2", "\"schema_version\": 1", 1),
    );
    project.file(
        "bad.json",
        &text.replacen("\"verdict\": \"passed\"", "\"verdict\": 7", 1),
    );
    let real = real.display().to_string();
    for (file, says) in [
        ("truncated.json", "not JSON"),
        ("foreign.json", "not an assure report"),
        ("old.json", "schema version 1"),
        ("bad.json", "not a valid assure report"),
        ("missing.json", "cannot read"),
    ] {
        let path = project.path().join(file).display().to_string();
        let diff = project.run(&["report", "diff", &real, &path]).await;
        assert_eq!(diff.code, 2, "{file}: {}", diff.stderr);
        assert!(diff.stderr.contains(says), "{file}: {}", diff.stderr);
        let base = project
            .run(&["run", "--target", &good.uri(), "--baseline", &path])
            .await;
        assert_eq!(base.code, 2, "{file}: {}", base.stderr);
        assert!(base.report_dir.is_none());
    }
}
