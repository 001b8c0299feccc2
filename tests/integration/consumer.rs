//! Consumer-side suites: the harness plays the provider and checks what the consumer
//! under test sends, whether a command triggers it or a person does.

use std::path::PathBuf;

use crate::support::Project;

const FEATURE: &str = r#"Feature: Retrieving a structured record

  @req:C-CALL
  Scenario: The consumer calls the structured record operation
    When the consumer is asked to "retrieve the record of {patient_nhs_number}"
    Then the counterpart "provider" receives a request within 10 seconds
    And the received request is a POST to a path matching "/Patient/\$gpc\.getstructuredrecord$"

  @req:C-HEADERS
  Scenario: The consumer sends the trace header and asks for FHIR JSON
    When the consumer is asked to "retrieve the record of {patient_nhs_number}"
    Then the counterpart "provider" receives a request within 10 seconds
    And the received request header "Ssp-TraceID" is present
    And the received request header "Accept" matches "^application/fhir\+json"

  @req:C-BODY
  Scenario: The consumer names the patient by NHS number
    When the consumer is asked to "retrieve the record of {patient_nhs_number}"
    Then the counterpart "provider" receives a request within 10 seconds
    And the checks that follow read the received request body
    And the FHIRPath "parameter.where(name = 'patientNHSNumber').value.value" evaluates to "{patient_nhs_number}"
"#;

fn consumer_project() -> Project {
    let project = Project::new(&["C-CALL", "C-HEADERS", "C-BODY"]);
    let manifest = project.path().join("suites/t/suite.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "default = true\n",
        "default = true\ncounterparts = [\"provider\"]\n\n[inputs.patient_nhs_number]\ndefault = \"9000000009\"\n\n[inputs.consumer_command]\ndefault = \"\"\n",
    );
    std::fs::write(&manifest, text).unwrap();
    project.feature("consumer.feature", FEATURE);
    project.file(
        "mocks/provider/mappings/structured.json",
        r#"{"request": {"method": "POST", "urlPath": "/Patient/$gpc.getstructuredrecord"},
            "response": {"status": 200, "headers": {"Content-Type": "application/fhir+json"},
                         "jsonBody": {"resourceType": "Bundle", "type": "collection"}}}"#,
    );
    project
}

fn consumer(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/consumers")
        .join(name)
        .display()
        .to_string()
}

fn requirement_statuses(run: &crate::support::Run) -> Vec<(String, String)> {
    crate::view::View::new(&run.report()).requirement_statuses()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_correct_consumer_passes_and_a_faulty_one_fails_where_it_is_wrong() {
    let project = consumer_project();
    let good = format!("consumer_command={}", consumer("good-consumer.sh"));
    let run = project.run(&["run", "--input", &good]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        requirement_statuses(&run)
            .iter()
            .all(|(_, s)| s == "passed"),
        "{:?}",
        requirement_statuses(&run)
    );
    // What the consumer sent is evidence in the report.
    let report = run.report();
    let received = report["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["request"]["method"] == "POST")
        .count();
    assert_eq!(received, 3);

    let bad = format!("consumer_command={}", consumer("bad-consumer.sh"));
    let run = project.run(&["run", "--input", &bad]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let statuses = requirement_statuses(&run);
    assert_eq!(
        statuses,
        vec![
            ("C-CALL".to_owned(), "passed".to_owned()),
            ("C-HEADERS".to_owned(), "failed".to_owned()),
            ("C-BODY".to_owned(), "failed".to_owned()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_command_the_scenario_waits_for_a_person_to_act() {
    let project = consumer_project();
    // Only the call scenario; the "person" is this test, acting once the counterpart is up.
    let dir = project.path().to_path_buf();
    let reports = dir.join("reports");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
        .args([
            "run",
            "--tags",
            "@req:C-CALL",
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
    let output = tokio::task::spawn_blocking(move || {
        use std::io::{BufRead, BufReader};
        let mut child = child;
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let mut url = None;
        let mut seen = Vec::new();
        while let Some(Ok(line)) = lines.next() {
            if let Some(rest) = line.strip_prefix("counterpart `provider` listening at ") {
                url = Some(rest.to_owned());
            }
            if line.starts_with("waiting for the consumer under test") {
                let url = url
                    .clone()
                    .expect("the counterpart's address is printed first");
                std::process::Command::new("curl")
                    .args([
                        "-sS",
                        "-o",
                        "/dev/null",
                        "-X",
                        "POST",
                        &format!("{url}/Patient/$gpc.getstructuredrecord"),
                    ])
                    .status()
                    .unwrap();
            }
            seen.push(line);
        }
        (child.wait().unwrap(), seen.join("\n"))
    })
    .await
    .unwrap();
    assert_eq!(output.0.code(), Some(0), "{}", output.1);
}

/// Runs the shipped `gp-connect-consumer` suite with a consumer command and more inputs.
async fn gp_connect_consumer(command: &str, more: &[&str]) -> (i32, Vec<(String, String)>, String) {
    let command = format!("consumer_command={command}");
    let mut args = vec!["--suite", "gp-connect-consumer", "--input", &command];
    for input in more {
        args.extend(["--input", input]);
    }
    let outcome = crate::shipped::run_shipped(None, &args).await;
    let statuses = outcome.view().requirement_statuses();
    (outcome.code, statuses, outcome.stderr)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gp_connect_consumer_suite_passes_a_correct_consumer_and_fails_a_faulty_one() {
    let (code, statuses, stderr) = gp_connect_consumer(&consumer("gpconnect-good.sh"), &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(statuses.iter().all(|(_, s)| s == "passed"), "{statuses:?}");

    // GP Connect 1.6 makes every clinical-area parameter optional: a consumer that names
    // only the patient (with a conf/N confidentiality scope and no Accept header) fails
    // nothing, and the area scenarios are not applicable to it.
    let patient_only = format!("GPC_PATIENT_ONLY=1 {}", consumer("gpconnect-good.sh"));
    let (code, statuses, stderr) =
        gp_connect_consumer(&patient_only, &["clinical_areas=none"]).await;
    assert_eq!(code, 0, "{stderr}");
    for (id, status) in &statuses {
        let expected = if id == "GPC-CONS-8" {
            "not_applicable"
        } else {
            "passed"
        };
        assert_eq!(status, expected, "{id}: {statuses:?}\n{stderr}");
    }

    let (code, statuses, stderr) = gp_connect_consumer(&consumer("gpconnect-bad.sh"), &[]).await;
    assert_eq!(code, 1, "{stderr}");
    let with = |status: &str| -> Vec<&str> {
        statuses
            .iter()
            .filter(|(_, s)| s == status)
            .map(|(id, _)| id.as_str())
            .collect()
    };
    assert_eq!(
        with("failed"),
        ["GPC-CONS-2", "GPC-CONS-3", "GPC-CONS-5", "GPC-CONS-8"],
        "{stderr}"
    );
    // Its MAY faults are reported, never failed.
    assert_eq!(
        with("informational"),
        ["GPC-CONS-6", "GPC-CONS-7"],
        "{stderr}"
    );
    // The token check names every problem at once.
    assert!(
        stderr.contains("not + 600 s")
            && stderr.contains("patient/*.write")
            && stderr.contains("requesting_practitioner"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_misspelt_clinical_area_is_refused_before_anything_runs() {
    let out = tokio::task::spawn_blocking(|| {
        std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
            .args(["run", "--project", env!("CARGO_MANIFEST_DIR")])
            .args(["--suite", "gp-connect-consumer"])
            .args(["--input", "clinical_areas=allergie,medications"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`allergie` in input `clinical_areas`")
            && stderr.contains("did you mean `allergies`?"),
        "{stderr}"
    );
}
