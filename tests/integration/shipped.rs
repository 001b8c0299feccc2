//! Runs of the project's own suites against stub sets, and the proof that a broken
//! stub set's seeded defects each fail exactly the requirements they name, read from
//! one run's report.

use std::collections::{BTreeMap, BTreeSet};

use assure::counterpart::template::Template;
use assure::counterpart::{Counterpart, Mapping, StubSet};

use crate::support::package_cache;
use crate::view::{is_failure, Scenario, View};

/// What a run of the shipped suites produced.
pub struct Outcome {
    pub code: i32,
    pub stderr: String,
    pub report: serde_json::Value,
    /// Requirements, over every suite, that neither passed nor were not applicable.
    pub failed_requirements: BTreeSet<String>,
    pub scenarios: u64,
}

impl Outcome {
    pub fn view(&self) -> View<'_> {
        View::new(&self.report)
    }
}

/// Runs the binary on the project's own suites (`--project` the checkout) with `args`,
/// against `target` when one is given, with the seeded package cache; reads the report.
pub async fn run_shipped(target: Option<&StubSet>, args: &[&str]) -> Outcome {
    let server = match target {
        Some(set) => Some(
            Counterpart::start(set, None)
                .await
                .expect("counterpart starts"),
        ),
        None => None,
    };
    let out = tempfile::tempdir().unwrap();
    let mut full: Vec<String> = vec![
        "run".into(),
        "--project".into(),
        env!("CARGO_MANIFEST_DIR").into(),
    ];
    if let Some(server) = &server {
        full.extend(["--target".into(), server.base_url().into()]);
    }
    full.extend([
        "--format".into(),
        "json".into(),
        "--report-dir".into(),
        out.path().display().to_string(),
    ]);
    // What these runs prove does not depend on the machine's speed: a loaded machine
    // (2 shared cores, a debug build serving large bodies) must not turn into errors.
    if !args.contains(&"--timeout") {
        full.extend(["--timeout".into(), "600".into()]);
    }
    full.extend(args.iter().map(|a| a.to_string()));
    let cache = package_cache();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_assure"))
            .args(&full)
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
    let view = View::new(&report);
    let failed_requirements = view.failed_requirements();
    let scenarios = view.scenario_total();
    Outcome {
        code: output.status.code().unwrap_or(-1),
        stderr,
        failed_requirements,
        scenarios,
        report,
    }
}

pub fn defect_of(m: &Mapping) -> Option<&str> {
    m.metadata.get("defect").and_then(|d| d.as_str())
}

/// The seeded defects of a stub set and the requirements each names.
pub fn seeded_defects(set: &StubSet) -> BTreeMap<String, BTreeSet<String>> {
    let mut defects: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in &set.mappings {
        if let Some(d) = defect_of(m) {
            let reqs = m.metadata["requirements"]
                .as_array()
                .unwrap_or_else(|| panic!("defect {d} lists no requirements"))
                .iter()
                .map(|r| r.as_str().unwrap().to_owned());
            defects.entry(d.to_owned()).or_default().extend(reqs);
        }
    }
    defects
}

/// The response header that says which seeded defect answered an exchange.
const DEFECT_HEADER: &str = "X-Seeded-Defect";

/// `set` with every answer of a defect mapping marked with the defect's name, so the
/// report's evidence tells which defect answered which exchange.
fn marked(set: &StubSet) -> StubSet {
    let mut set = set.clone();
    for m in &mut set.mappings {
        if let Some(defect) = defect_of(m).map(str::to_owned) {
            m.response
                .headers
                .push((DEFECT_HEADER.into(), vec![Template::literal(defect)]));
        }
    }
    set
}

/// The defects a failed scenario failed on: those that answered the exchanges its
/// failing step looked at (the step's own, else the latest before it); when no defect
/// answered those, every defect that answered the scenario (an earlier answer may
/// have set up the failure).
fn culprits(view: &View, scenario: &Scenario) -> BTreeSet<String> {
    let answered = |exchanges: &[String]| -> BTreeSet<String> {
        exchanges
            .iter()
            .filter_map(|id| view.response_header(id, DEFECT_HEADER))
            .collect()
    };
    let failing = scenario
        .steps
        .iter()
        .position(|st| is_failure(&st.status))
        .unwrap_or(scenario.steps.len().saturating_sub(1));
    let looked_at = scenario.steps[..=failing.min(scenario.steps.len().saturating_sub(1))]
        .iter()
        .rev()
        .find(|st| !st.exchanges.is_empty())
        .map(|st| answered(&st.exchanges))
        .unwrap_or_default();
    if !looked_at.is_empty() {
        return looked_at;
    }
    let all: Vec<String> = scenario
        .steps
        .iter()
        .flat_map(|st| st.exchanges.iter().cloned())
        .collect();
    answered(&all)
}

/// One run of `args` against `broken`, each answer of a seeded defect marked.
pub async fn run_defects(broken: &StubSet, args: &[&str]) -> Outcome {
    run_shipped(Some(&marked(broken)), args).await
}

/// Proves, from one run against `broken` (at least `at_least` seeded defects; see
/// [`run_defects`]), that each failed scenario failed on a defect that names each of
/// its requirements, that each defect fails every requirement it names, and that the
/// run fails (exit 1) on exactly their union.
pub fn assert_each_defect_fails_only_its_requirements(
    broken: &StubSet,
    outcome: &Outcome,
    at_least: usize,
) {
    let defects = seeded_defects(broken);
    assert!(
        defects.len() >= at_least,
        "only {} seeded defects",
        defects.len()
    );
    let view = outcome.view();
    let mut wrong = Vec::new();
    let mut proven: BTreeSet<(String, String)> = BTreeSet::new();
    for scenario in view.scenarios() {
        if !is_failure(&scenario.status) {
            continue;
        }
        let culprits = culprits(&view, &scenario);
        if culprits.is_empty() {
            wrong.push(format!(
                "scenario {} ({}) failed, but no seeded defect answered it",
                scenario.id, scenario.name
            ));
        }
        let named: BTreeSet<&String> = culprits.iter().flat_map(|d| &defects[d]).collect();
        for req in &scenario.requirements {
            if !named.contains(req) {
                wrong.push(format!(
                    "scenario {} ({}) fails {req}, which its defects {culprits:?} do not name",
                    scenario.id, scenario.name
                ));
            }
            for d in &culprits {
                proven.insert((d.clone(), req.clone()));
            }
        }
    }
    for (defect, reqs) in &defects {
        for req in reqs {
            if !proven.contains(&(defect.clone(), req.clone())) {
                wrong.push(format!(
                    "defect `{defect}` failed no scenario of {req}, which it names"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{}\nstderr:\n{}",
        wrong.join("\n"),
        outcome.stderr
    );
    let all: BTreeSet<String> = defects.values().flatten().cloned().collect();
    assert_eq!(outcome.failed_requirements, all, "{}", outcome.stderr);
    // Every MUST failure fails the run; SHOULD-only defects are reported but not gating.
    assert_eq!(outcome.code, 1, "{}", outcome.stderr);
}
