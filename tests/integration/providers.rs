//! The bundled providers: the reference provider passes the default suites, and each
//! seeded defect of the broken provider fails exactly the requirements it names.

use std::collections::BTreeSet;
use std::path::Path;

use assure::counterpart::StubSet;

use crate::support::{assert_each_defect_fails_only_its_requirements, run_shipped, Outcome};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const SUITES: &[&str] = &["--suite", "fhir-r4-rest", "--suite", "uk-core-r4"];

async fn run_against(set: &StubSet) -> Outcome {
    run_with(set, &[]).await
}

async fn run_with(set: &StubSet, extra: &[&str]) -> Outcome {
    let args: Vec<&str> = SUITES.iter().chain(extra).copied().collect();
    run_shipped(Some(set), &args).await
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
    assert_each_defect_fails_only_its_requirements(&broken, SUITES, 12).await;
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
    let waivers_path = file.display().to_string();
    let waived = run_with(&broken, &["--waivers", &waivers_path]).await;
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
    assert_eq!(new_failures.len(), 14, "{new_failures:?}");
    assert!(diff.fixed.is_empty() && diff.added.is_empty() && diff.removed.is_empty());
}
