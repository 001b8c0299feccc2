//! Bad input files are diagnosed rustc-style and the run exits 2 before anything runs.

use crate::support::Project;

async fn diagnose(project: &Project) -> String {
    let run = project
        .run(&["run", "--target", "http://127.0.0.1:9"])
        .await;
    assert_eq!(run.code, 2, "stderr:\n{}", run.stderr);
    assert!(
        run.report_dir.is_none(),
        "no report is written for bad input"
    );
    run.stderr
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_feature_file_points_at_the_line() {
    let project = Project::new(&["T-1"]);
    project.feature(
        "broken.feature",
        "Feature: broken\n  @req:T-1\n  Scenario: x\n    Given the request accepts \"application/fhir+json\"\n    this line is not gherkin\n    Then the response status is 200\n",
    );
    insta::assert_snapshot!(diagnose(&project).await, @r"
    error: invalid Gherkin
     --> features/broken.feature:5:5
      |
    5 |     this line is not gherkin
      |     ^^^^^^^^^^^^^^^^^^^^^^^^ this line is not a Gherkin keyword, step, table row or doc string here

    error: 1 problem in input files; nothing was run
    ");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_step_suggests_the_closest_ones() {
    let project = Project::new(&["T-1"]);
    project.feature(
        "typo.feature",
        "Feature: typo\n  @req:T-1\n  Scenario: x\n    When I send a GET request to \"/x\"\n    Then the respons status is 200\n    And the response status is 200\n    When the response status is 200\n",
    );
    insta::assert_snapshot!(diagnose(&project).await, @r"
    error: no step matches `Then the respons status is 200`
     --> features/typo.feature:5:5
      |
    5 |     Then the respons status is 200
      |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ unknown step
      = help: did you mean `Then the response status is <code>`?

    error: no step matches `When the response status is 200`
     --> features/typo.feature:7:5
      |
    7 |     When the response status is 200
      |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ unknown step
      = help: this step exists as a `Then` step

    error: 2 problems in input files; nothing was run
    ");
}

#[tokio::test(flavor = "multi_thread")]
async fn traceability_is_checked_both_ways() {
    let project = Project::new(&["T-1", "T-2"]);
    project.feature(
        "trace.feature",
        "Feature: trace\n  @req:T-1\n  Scenario: a\n    Then the response status is 200\n\n  @req:T-3\n  Scenario: b\n    Then the response status is 200\n",
    );
    let stderr = diagnose(&project).await;
    assert!(
        stderr.contains("tag `@req:T-3` names no requirement of suite `t`"),
        "{stderr}"
    );
    assert!(stderr.contains("features/trace.feature:6:3"), "{stderr}");
    assert!(stderr.contains("did you mean `@req:T-1`?"), "{stderr}");

    let project = Project::new(&["T-1", "T-2"]);
    project.feature(
        "trace.feature",
        "Feature: trace\n  @req:T-1\n  Scenario: a\n    Then the response status is 200\n",
    );
    let stderr = diagnose(&project).await;
    assert!(
        stderr.contains("requirement `T-2` has no scenario"),
        "{stderr}"
    );
    assert!(stderr.contains("suites/t/suite.toml:"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_suite_manifest_and_bad_options_exit_2() {
    let project = Project::new(&["T-1"]);
    project.feature(
        "a.feature",
        "Feature: a\n  @req:T-1\n  Scenario: a\n    Then the response status is 200\n",
    );
    std::fs::write(
        project.path().join("suites/t/suite.toml"),
        "[suite]\nid = \"t\"\nversion = \"1\"\ntitle = \"T\"\nfeatures = [\"../../features/*.feature\"]\ndefautl = true\n",
    )
    .unwrap();
    let stderr = diagnose(&project).await;
    assert!(stderr.contains("suites/t/suite.toml:6:1"), "{stderr}");
    assert!(stderr.contains("unknown field `defautl`"), "{stderr}");

    let project = Project::new(&["T-1"]);
    project.feature(
        "a.feature",
        "Feature: a\n  @req:T-1\n  Scenario: a\n    Then the response status is 200\n",
    );
    let run = project
        .run(&["run", "--suite", "tt", "--target", "http://127.0.0.1:9"])
        .await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("did you mean `t`?"), "{}", run.stderr);
    let run = project
        .run(&[
            "run",
            "--input",
            "patient_idd=1",
            "--target",
            "http://127.0.0.1:9",
        ])
        .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean `patient_id`?"),
        "{}",
        run.stderr
    );
    let run = project.run(&["run", "--target", "ftp://example"]).await;
    assert_eq!(run.code, 2);
    let run = project
        .run(&["run", "--tags", "@a and", "--target", "http://127.0.0.1:9"])
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = project.run(&["run", "--no-such-flag"]).await;
    assert_eq!(run.code, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_fhirpath_expression_is_caught_when_the_suite_loads() {
    let project = Project::new(&["T-1"]);
    project.feature(
        "fp.feature",
        "Feature: fp\n  @req:T-1\n  Scenario: x\n    Then the FHIRPath \"name.where(use = 'official'\" is true\n",
    );
    insta::assert_snapshot!(diagnose(&project).await, @r#"
    error: invalid FHIRPath expression
     --> features/fp.feature:4:51
      |
    4 |     Then the FHIRPath "name.where(use = 'official'" is true
      |                                                   ^ syntax error: expected `)`

    error: 1 problem in input files; nothing was run
    "#);
}
