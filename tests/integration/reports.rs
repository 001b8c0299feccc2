//! Reports: valid against the published schema, re-renderable from report.json
//! alone, and stable renderings (snapshots with volatile fields fixed).

use assure::report::model::Report;
use assure::report::Format;

use crate::steps::supplier;
use crate::support::Project;

const FEATURE: &str = r#"Feature: Reading patients
  Background:
    Given the request accepts "application/fhir+json"

  @req:T-1
  Scenario: Read a patient
    When I send a GET request to "/Patient/p1"
    Then the response status is 200
    And the ETag matches the resource version

  @req:T-2
  Scenario: Read the other patient
    When I send a GET request to "/Patient/p2"
    Then the response content type is "application/fhir+json"
    And the response status is 200

  @req:T-2 @capability:Patient.delete
  Scenario: Delete a patient
    When I send a DELETE request to "/Patient/p1"
    Then the response status is 204
"#;

pub fn schema_errors(report: &serde_json::Value) -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/reports/schema/report.schema.json"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

/// Fixes what changes from run to run so renderings can be compared.
fn stabilise(report: &mut Report, base: &str) {
    report.run.id = "RUN-ID".into();
    report.run.started = "2026-01-01T00:00:00.000Z".into();
    report.run.finished = "2026-01-01T00:00:01.000Z".into();
    report.run.duration_ms = 1000.0;
    report.run.command_line = vec!["assure".into(), "run".into()];
    report.run.rerun = "assure run".into();
    report.run.tool.commit = None;
    report.run.os = "test-os".into();
    report.run.target.base_url = "http://target".into();
    for suite in &mut report.suites {
        for f in &mut suite.features {
            f.file = "features/read.feature".into();
            for sc in &mut f.scenarios {
                sc.id = sc
                    .id
                    .rsplit_once(':')
                    .map(|(_, l)| format!("features/read.feature:{l}"))
                    .unwrap();
                sc.duration_ms = 10.0;
                for st in &mut sc.steps {
                    st.duration_ms = 1.0;
                }
            }
        }
        for r in &mut suite.requirements {
            for s in &mut r.scenarios {
                *s = s
                    .rsplit_once(':')
                    .map(|(_, l)| format!("features/read.feature:{l}"))
                    .unwrap();
            }
        }
    }
    for ex in &mut report.exchanges {
        ex.started = "2026-01-01T00:00:00.500Z".into();
        ex.duration_ms = 2.0;
        ex.overhead_us = 100;
        ex.request.url = ex.request.url.replace(base, "http://target");
        if let Some(r) = &mut ex.response {
            r.headers.retain(|(k, _)| k != "date");
            if let Some(t) = &mut r.body.text {
                *t = t.replace(base, "http://target");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn report_json_matches_its_schema_and_renders_stably() {
    let server = supplier().await;
    let project = Project::new(&["T-1", "T-2"]);
    project.feature("read.feature", FEATURE);
    let run = project.run(&["run", "--target", &server.uri()]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.report();
    let errors = schema_errors(&json);
    assert!(errors.is_empty(), "{errors:#?}");

    // The schema rejects what is not a report.
    let mut broken = json.clone();
    broken["verdict"] = "maybe".into();
    broken["summary"]["scenarios"]["passed"] = (-1).into();
    assert_eq!(schema_errors(&broken).len(), 2);

    let mut report: Report = serde_json::from_value(json).unwrap();
    stabilise(&mut report, &server.uri());
    let render = |f: Format| {
        let mut out = Vec::new();
        f.render(&report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    insta::assert_snapshot!("summary_md", render(Format::Md));
    insta::assert_snapshot!("junit_xml", render(Format::Junit));
    insta::assert_snapshot!("report_html", render(Format::Html));
    insta::assert_snapshot!("messages_ndjson", render(Format::Messages));
    // Re-rendering report.json gives back the same JSON.
    let again: Report = serde_json::from_str(&render(Format::Json)).unwrap();
    assert_eq!(again, report);
}
