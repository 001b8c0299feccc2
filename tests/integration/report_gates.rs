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
    let errors = crate::reports::schema_errors(&report);
    assert!(errors.is_empty(), "{errors:#?}");
    let md = std::fs::read_to_string(run.report_dir.as_ref().unwrap().join("summary.md")).unwrap();
    assert!(
        md.contains("fix ships in release 4.2") && md.contains("unused"),
        "{md}"
    );
    assert!(md.contains("## Waived failures"), "{md}");
    // JUnit: the waived failure is a skipped test case that says why, counted as such.
    let junit =
        std::fs::read_to_string(run.report_dir.as_ref().unwrap().join("junit.xml")).unwrap();
    assert!(
        junit.contains(r#"tests="3" failures="1" errors="0" skipped="1""#),
        "{junit}"
    );
    assert!(
        junit.contains("<skipped message=\"waived: waived by W1: fix ships in release 4.2"),
        "{junit}"
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
    let errors = crate::reports::schema_errors(&run.report());
    assert!(errors.is_empty(), "{errors:#?}");
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
        &text.replacen("\"schema_version\": 3", "\"schema_version\": 1", 1),
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

#[tokio::test(flavor = "multi_thread")]
async fn fail_on_should_gates_should_failures_and_progress_is_plain_lines_in_a_pipe() {
    let supplier = server(200, 500, 200).await;
    let project = Project::new(&["T-1", "T-3"]);
    let manifest = project.path().join("suites/t/suite.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str("[[requirements]]\nid = \"T-2\"\nlevel = \"SHOULD\"\ntext = \"should\"\nsource = \"test\"\n");
    std::fs::write(&manifest, text).unwrap();
    project.feature("three.feature", THREE);
    let run = project.run(&["run", "--target", &supplier.uri()]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(status_of(&run, "scenario b"), "failed");
    assert_eq!(run.report()["run"]["fail_on"], "must");
    let run = project
        .run(&["run", "--target", &supplier.uri(), "--fail-on", "should"])
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.report()["verdict"], "failed");
    // stderr is a pipe here: one plain line per scenario, no terminal control codes.
    let progress: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(progress.len(), 3, "{}", run.stderr);
    assert!(progress[2].starts_with("[3/3] 1 failure"), "{}", run.stderr);
    assert!(!run.stderr.contains('\x1b'));
    // Against a baseline where b passed, its SHOULD failure is a regression only
    // when the gate includes SHOULD.
    let good = server(200, 200, 200).await;
    let base = project.run(&["run", "--target", &good.uri()]).await;
    let base = base.report_dir.unwrap().join("report.json");
    let base = base.display().to_string();
    let lenient = ["run", "--target", &supplier.uri(), "--baseline", &base];
    let run_lenient = project.run(&lenient).await;
    assert_eq!(run_lenient.code, 0, "{}", run_lenient.stderr);
    assert_eq!(
        run_lenient.report()["baseline"]["regressions"],
        serde_json::json!([])
    );
    let strict = project
        .run(&[&lenient[..], &["--fail-on", "should"]].concat())
        .await;
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    // The rerun line repeats the gate.
    let rerun = run.report()["run"]["rerun"].as_str().unwrap().to_owned();
    assert!(
        rerun.starts_with("assure run --target http://127.0.0.1:"),
        "{rerun}"
    );
    assert!(rerun.contains("--fail-on should"), "{rerun}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cucumber_messages_hold_together() {
    let supplier = server(200, 500, 200).await;
    let project = Project::new(&["T-1", "T-2", "T-3"]);
    project.feature("three.feature", THREE);
    let run = project
        .run(&[
            "run",
            "--target",
            &supplier.uri(),
            "--format",
            "json,messages",
        ])
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let text = std::fs::read_to_string(run.report_dir.unwrap().join("messages.ndjson")).unwrap();
    let envelopes: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let kind = |e: &serde_json::Value| e.as_object().unwrap().keys().next().unwrap().clone();
    let kinds: Vec<String> = envelopes.iter().map(kind).collect();
    assert_eq!(kinds[0], "meta");
    assert_eq!(kinds.last().unwrap(), "testRunFinished");
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!(count("pickle"), 3);
    assert_eq!(count("testCase"), 3);
    assert_eq!(count("testCaseStarted"), 3);
    assert_eq!(count("testCaseFinished"), 3);
    assert_eq!(count("testStepFinished"), 6);
    // Two distinct step texts per scenario, three scenarios, "the response status is 200" shared.
    assert_eq!(count("stepDefinition"), 4);
    let position = |k: &str| kinds.iter().position(|x| x == k).unwrap();
    assert!(position("testRunStarted") < position("testCase"));
    assert!(position("pickle") < position("testRunStarted"));
    // Every reference points at something defined earlier.
    let mut ids = std::collections::HashSet::new();
    for e in &envelopes {
        let k = kind(e);
        let body = &e[&k];
        for field in ["pickleId", "testCaseId", "testCaseStartedId", "testStepId"] {
            if let Some(id) = body[field].as_str() {
                assert!(ids.contains(id), "{k}.{field} = {id} is not defined before");
            }
        }
        if let Some(id) = body["id"].as_str() {
            ids.insert(id.to_owned());
        }
        for step in body["testSteps"].as_array().into_iter().flatten() {
            assert!(ids.contains(step["pickleStepId"].as_str().unwrap()));
            // Every step is defined: an empty list would read as an undefined step.
            let defs = step["stepDefinitionIds"].as_array().unwrap();
            assert_eq!(defs.len(), 1);
            assert!(ids.contains(defs[0].as_str().unwrap()));
            ids.insert(step["id"].as_str().unwrap().to_owned());
        }
        for step in body["steps"].as_array().into_iter().flatten() {
            ids.insert(step["id"].as_str().unwrap().to_owned());
        }
    }
    let failed: Vec<&serde_json::Value> = envelopes
        .iter()
        .filter_map(|e| e.get("testStepFinished"))
        .filter(|f| f["testStepResult"]["status"] == "FAILED")
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["testStepResult"]["message"]
        .as_str()
        .unwrap()
        .contains("500"));
    assert_eq!(
        envelopes.last().unwrap()["testRunFinished"]["success"],
        false
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_progress_redraws_one_line() {
    let supplier = server(200, 500, 200).await;
    let project = Project::new(&["T-1", "T-2", "T-3"]);
    project.feature("three.feature", THREE);
    // util-linux `script` gives the command a pseudo-terminal.
    let command = format!(
        "{} run --target {} --project {} --report-dir {} --input token=x1234",
        env!("CARGO_BIN_EXE_assure"),
        supplier.uri(),
        project.path().display(),
        project.path().join("reports").display()
    );
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .output()
            .expect("util-linux script")
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("\r\x1b[2K[3/3] 1 failure, "), "{text:?}");
    // Redrawn, not a plain line per scenario (which would name the passing one).
    assert!(!text.contains("features/three.feature:3"), "{text:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_lists_changed_added_and_removed_scenarios() {
    let supplier = server(200, 200, 200).await;
    let project = Project::new(&["T-1", "T-2", "T-3"]);
    project.feature("three.feature", THREE);
    let before = project.run(&["run", "--target", &supplier.uri()]).await;
    assert_eq!(before.code, 0, "{}", before.stderr);
    // c is removed, d added further down, and a tagged out of the next run.
    let (head, _) = THREE.split_once("  @req:T-3").unwrap();
    project.feature(
        "three.feature",
        &format!("{}  @req:T-3\n  Scenario: scenario d\n    When I send a GET request to \"/c\"\n    Then the response status is 200\n", head.replace("@req:T-1", "@req:T-1 @slow") + "\n\n\n"),
    );
    let after = project
        .run(&["run", "--target", &supplier.uri(), "--tags", "not @slow"])
        .await;
    assert_eq!(after.code, 0, "{}", after.stderr);
    let old = before.report_dir.unwrap().display().to_string();
    let new = after.report_dir.unwrap().display().to_string();
    let diff = project.run(&["report", "diff", &old, &new]).await;
    assert_eq!(diff.code, 0, "{}", diff.stderr);
    let out = &diff.stdout;
    assert!(
        out.contains("new failures (0)") && out.contains("fixed (0)"),
        "{out}"
    );
    assert!(
        out.contains(
            "changed status (1):\n  t  features/three.feature:3  scenario a: passed -> not run"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "new scenarios (1):\n  t  features/three.feature:16  scenario d: absent -> passed"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "removed scenarios (1):\n  t  features/three.feature:13  scenario c: passed -> absent"
        ),
        "{out}"
    );
}
