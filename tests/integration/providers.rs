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
    report: serde_json::Value,
}

async fn run_against(set: &StubSet) -> Outcome {
    run_with(set, &[]).await
}

async fn run_with(set: &StubSet, extra: &[String]) -> Outcome {
    let server = Counterpart::start(set, None)
        .await
        .expect("counterpart starts");
    let out = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec![
        "run".into(),
        "--project".into(),
        ROOT.into(),
        "--target".into(),
        server.base_url().into(),
        "--format".into(),
        "json".into(),
        "--report-dir".into(),
        out.path().display().to_string(),
        "--suite".into(),
        "fhir-r4-rest".into(),
        "--suite".into(),
        "uk-core-r4".into(),
    ];
    args.extend(extra.iter().cloned());
    let cache = crate::support::package_cache();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
            .args(&args)
            .env("FHIR_PACKAGE_CACHE", cache)
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
    let failed_requirements = report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["requirements"].as_array().unwrap().iter())
        .filter(|r| r["status"] != "passed" && r["status"] != "not_applicable")
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let failed_scenarios = report["summary"]["scenarios"]["failed"].as_u64().unwrap() as usize;
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stderr,
        failed_requirements,
        failed_scenarios,
        report,
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
    assert!(defects.len() >= 9, "only {} seeded defects", defects.len());
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

#[tokio::test(flavor = "multi_thread")]
async fn a_waived_defect_is_waived_and_the_diff_names_exactly_the_defects() {
    use assure::report::model::{Report, Status};
    let mocks = Path::new(ROOT).join("mocks");
    let reference = run_against(&StubSet::load_named(&mocks, "reference-provider").unwrap()).await;
    let broken = StubSet::load_named(&mocks, "broken-provider").unwrap();
    let waivers = tempfile::tempdir().unwrap();
    let file = waivers.path().join("waivers.toml");
    std::fs::write(
        &file,
        "[[waiver]]\nrequirement = \"R4-CREATE-1\"\njustification = \"Location arrives in release 2.1\"\naccepted_by = \"Onboarding assessor\"\nexpires = 2099-12-31\n",
    )
    .unwrap();
    let waived = run_with(&broken, &["--waivers".into(), file.display().to_string()]).await;
    assert_eq!(
        waived.code, 1,
        "the other defects still fail: {}",
        waived.stderr
    );
    let reqs = waived.report["suites"][0]["requirements"]
        .as_array()
        .unwrap();
    let status = |id: &str| {
        reqs.iter()
            .find(|r| r["id"] == id)
            .and_then(|r| r["status"].as_str())
    };
    assert_eq!(status("R4-CREATE-1"), Some("waived"));
    assert_eq!(status("R4-READ-4"), Some("failed"));

    // From the reference run to the broken run, the diff names exactly the seeded defects.
    let old: Report = serde_json::from_value(reference.report).unwrap();
    let new: Report = serde_json::from_value(run_against(&broken).await.report).unwrap();
    let diff = assure::report::diff::diff(&old, &new);
    let failing: BTreeSet<String> = new
        .scenarios()
        .filter(|(_, _, s)| s.status == Status::Failed)
        .map(|(_, _, s)| s.id.clone())
        .collect();
    let new_failures: BTreeSet<String> = diff.new_failures.iter().map(|c| c.id.clone()).collect();
    assert_eq!(new_failures, failing);
    assert_eq!(new_failures.len(), 10, "{new_failures:?}");
    assert!(diff.fixed.is_empty() && diff.added.is_empty() && diff.removed.is_empty());
}
