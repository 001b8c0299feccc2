//! The bundled providers: the reference provider passes the default suites, and each
//! seeded defect of the broken provider fails exactly the requirements it names.

use std::collections::BTreeSet;
use std::path::Path;

use assure::counterpart::StubSet;
use tokio::sync::OnceCell;

use crate::shipped::{
    assert_each_defect_fails_only_its_requirements, run_defects, run_shipped, Outcome,
};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const SUITES: &[&str] = &["--suite", "fhir-r4-rest", "--suite", "uk-core-r4"];

fn set(name: &str) -> StubSet {
    StubSet::load_named(&Path::new(ROOT).join("mocks"), name).unwrap()
}

async fn run_with(set: &StubSet, extra: &[&str]) -> Outcome {
    let args: Vec<&str> = SUITES.iter().chain(extra).copied().collect();
    run_shipped(Some(set), &args).await
}

/// The default suites against the reference provider: one run, read by several tests.
async fn reference() -> &'static Outcome {
    static RUN: OnceCell<Outcome> = OnceCell::const_new();
    RUN.get_or_init(|| async { run_with(&set("reference-provider"), &[]).await })
        .await
}

/// The default suites against the broken provider, its defects' answers marked.
async fn broken() -> &'static Outcome {
    static RUN: OnceCell<Outcome> = OnceCell::const_new();
    RUN.get_or_init(|| async { run_defects(&set("broken-provider"), SUITES).await })
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_provider_passes_the_default_suite() {
    let outcome = reference().await;
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    assert!(
        outcome.failed_requirements.is_empty(),
        "{:?}",
        outcome.failed_requirements
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_seeded_defect_fails_its_requirements_and_only_those() {
    assert_each_defect_fails_only_its_requirements(&set("broken-provider"), broken().await, 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_waived_defect_is_waived_and_the_diff_names_exactly_the_defects() {
    use assure::report::model::{Report, Status};
    let broken_set = set("broken-provider");
    let waivers = tempfile::tempdir().unwrap();
    let file = waivers.path().join("waivers.toml");
    std::fs::write(
        &file,
        "[[waiver]]\nrequirement = \"R4-CREATE-1\"\njustification = \"Location arrives in release 2.1\"\naccepted_by = \"Onboarding assessor\"\nexpires = 2099-12-31\n",
    )
    .unwrap();
    let waivers_path = file.display().to_string();
    let waived = run_with(&broken_set, &["--waivers", &waivers_path]).await;
    assert_eq!(
        waived.code, 1,
        "the other defects still fail: {}",
        waived.stderr
    );
    let statuses = waived.view().requirement_statuses();
    let status = |id: &str| {
        statuses
            .iter()
            .find(|(r, _)| r == id)
            .map(|(_, s)| s.as_str())
    };
    assert_eq!(status("R4-CREATE-1"), Some("waived"));
    assert_eq!(status("R4-READ-4"), Some("failed"));

    // From the reference run to the broken run, the diff names exactly the seeded defects.
    let old: Report = serde_json::from_value(reference().await.report.clone()).unwrap();
    let new: Report = serde_json::from_value(broken().await.report.clone()).unwrap();
    let diff = assure::report::diff::diff(&old, &new);
    let failing: BTreeSet<String> = new
        .scenarios()
        .filter(|(_, _, s)| s.status == Status::Failed)
        .map(|(_, _, s)| s.id.clone())
        .collect();
    let new_failures: BTreeSet<String> = diff.new_failures.iter().map(|c| c.id.clone()).collect();
    assert_eq!(new_failures, failing);
    // The defects on MAY requirements are informational, not failures.
    assert_eq!(new_failures.len(), 12, "{new_failures:?}");
    assert!(diff.fixed.is_empty() && diff.added.is_empty() && diff.removed.is_empty());
}
