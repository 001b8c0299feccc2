//! The bundled providers: the reference provider passes the default suite, and each
//! seeded defect of the broken provider fails exactly the requirements it names.

use std::collections::BTreeSet;
use std::path::Path;

use assure::counterpart::{Counterpart, StubSet};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

struct Outcome {
    code: i32,
    stderr: String,
    failed_requirements: BTreeSet<String>,
    failed_scenarios: usize,
}

async fn run_against(set: &StubSet) -> Outcome {
    let server = Counterpart::start(set, None)
        .await
        .expect("counterpart starts");
    let out = tempfile::tempdir().unwrap();
    let args: Vec<String> = vec![
        "run".into(),
        "--project".into(),
        ROOT.into(),
        "--target".into(),
        server.base_url().into(),
        "--format".into(),
        "json".into(),
        "--report-dir".into(),
        out.path().display().to_string(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let run_dir = std::fs::read_dir(out.path())
        .unwrap()
        .next()
        .unwrap_or_else(|| panic!("no report: {stderr}"))
        .unwrap();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.path().join("report.json")).unwrap())
            .unwrap();
    let failed_requirements = report["suites"][0]["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "passed" && r["status"] != "not_applicable")
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let failed_scenarios = report["summary"]["scenarios"]["failed"].as_u64().unwrap() as usize;
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stderr,
        failed_requirements,
        failed_scenarios,
    }
}

fn defect_of(m: &assure::counterpart::Mapping) -> Option<&str> {
    m.metadata.get("defect").and_then(|d| d.as_str())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_provider_passes_the_default_suite() {
    let set = StubSet::load_named(&Path::new(ROOT).join("mocks"), "reference-provider").unwrap();
    let outcome = run_against(&set).await;
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    assert!(
        outcome.failed_requirements.is_empty(),
        "{:?}",
        outcome.failed_requirements
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_seeded_defect_fails_its_requirements_and_only_those() {
    let broken = StubSet::load_named(&Path::new(ROOT).join("mocks"), "broken-provider").unwrap();
    let mut defects: Vec<(String, BTreeSet<String>)> = Vec::new();
    for m in &broken.mappings {
        if let Some(d) = defect_of(m) {
            let reqs: BTreeSet<String> = m.metadata["requirements"]
                .as_array()
                .unwrap_or_else(|| panic!("defect {d} lists no requirements"))
                .iter()
                .map(|r| r.as_str().unwrap().to_owned())
                .collect();
            match defects.iter_mut().find(|(name, _)| name == d) {
                Some((_, existing)) => existing.extend(reqs),
                None => defects.push((d.to_owned(), reqs)),
            }
        }
    }
    assert!(defects.len() >= 8, "only {} seeded defects", defects.len());
    let mut all = BTreeSet::new();
    for (defect, expected) in &defects {
        let mut only = broken.clone();
        only.mappings
            .retain(|m| defect_of(m).is_none_or(|d| d == defect));
        let outcome = run_against(&only).await;
        assert_eq!(
            &outcome.failed_requirements, expected,
            "defect `{defect}`:\n{}",
            outcome.stderr
        );
        assert!(
            outcome.failed_scenarios >= 1,
            "defect `{defect}` failed no scenario"
        );
        all.extend(expected.iter().cloned());
    }
    let outcome = run_against(&broken).await;
    assert_eq!(outcome.failed_requirements, all, "{}", outcome.stderr);
    // Every MUST failure fails the run; SHOULD-only defects are reported but not gating.
    assert_eq!(outcome.code, 1, "{}", outcome.stderr);
}
