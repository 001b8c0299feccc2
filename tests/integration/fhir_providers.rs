//! The minimal FHIR provider (no versioning, no body on create, a query parser that
//! refuses a raw `|`), one suite run read from its report.json: it passes `fhir-r4-rest`,
//! not applicable only where R4 makes it so. (The broken provider's proof is in
//! providers.rs.)

use std::collections::BTreeMap;
use std::path::Path;

use assure::counterpart::StubSet;

use crate::shipped::run_shipped;

#[tokio::test(flavor = "multi_thread")]
async fn the_minimal_provider_passes_and_proves_query_encoding() {
    // Its parser refuses a raw `|` (tests/counterpart/minimal.rs proves it), so the
    // identifier searches pass only if they went out encoded.
    let set = StubSet::load_named(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("mocks"),
        "minimal-provider",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let outcome = run_shipped(Some(&set), &["--suite", "fhir-r4-rest"]).await;
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    assert!(
        outcome.failed_requirements.is_empty(),
        "no failure, nothing undecided: {:?}",
        outcome.failed_requirements
    );
    let statuses: BTreeMap<String, String> =
        outcome.view().requirement_statuses().into_iter().collect();
    // Not applicable exactly where the sentence makes it so: no versioning, no vread or
    // history, no conditional create declared.
    let not_applicable: Vec<&str> = statuses
        .iter()
        .filter(|(_, s)| *s == "not_applicable")
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(
        not_applicable,
        [
            "R4-CREATE-3",
            "R4-HIST-1",
            "R4-READ-2",
            "R4-UPDATE-2",
            "R4-VREAD-1"
        ]
    );
    for passed in [
        "R4-SEARCH-3",
        "R4-SEARCH-4",
        "R4-CREATE-5",
        "R4-DELETE-1",
        "R4-UPDATE-3",
    ] {
        assert_eq!(statuses[passed], "passed", "{passed}");
    }
    // The identifier searches that passed went out with `|` encoded.
    let searches: Vec<&str> = outcome.report["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["request"]["url"].as_str())
        .filter(|u| u.contains("identifier="))
        .collect();
    assert!(!searches.is_empty());
    for url in searches {
        assert!(url.contains("nhs-number%7C") && !url.contains('|'), "{url}");
    }
}
