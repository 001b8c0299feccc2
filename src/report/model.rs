//! The report model: one structure that every writer renders and that `report.json`
//! serialises, so a report can be re-rendered from `report.json` alone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::evidence::Exchange;
use crate::outcome::Finding;
use crate::suite::Level;

/// Bumped when the JSON shape changes incompatibly.
pub const SCHEMA_VERSION: u32 = 3;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema_version: u32,
    pub run: RunInfo,
    pub verdict: Verdict,
    pub summary: Summary,
    pub suites: Vec<SuiteResult>,
    /// Every exchange with the target, redacted, referenced by id from steps.
    pub exchanges: Vec<Exchange>,
    /// Problems that kept the run from completing (not findings): the verdict is
    /// then `incomplete`.
    pub errors: Vec<String>,
    /// Problems worth a reader's attention that did not stop the run.
    pub warnings: Vec<String>,
    /// The waivers given with `--waivers`, and what became of each.
    pub waivers: Vec<WaiverResult>,
    /// The comparison with `--baseline`, when one was given.
    pub baseline: Option<BaselineResult>,
    /// The inputs that name server data, as checked before scenarios ran.
    #[serde(default)]
    pub setup: Vec<crate::test_data::InputCheck>,
    /// What the run created on the target: deleted, or left behind and why.
    #[serde(default)]
    pub created: Vec<crate::test_data::Created>,
}

/// What `--fail-on` gates on: failures of MUST requirements (the default), of SHOULD
/// ones too, or also any warning.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    Serialize,
    Deserialize,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum FailOn {
    #[default]
    Must,
    Should,
    Warning,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WaiverState {
    /// Matched at least one failure, which is reported as waived.
    Applied,
    /// Matched nothing: a warning, so stale waivers get cleaned up.
    Unused,
    /// Past its date: it waives nothing and fails the gate.
    Expired,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WaiverResult {
    /// `W<n>`, by position in the waivers file.
    pub id: String,
    /// What it matches: `requirement T-1`, `scenario f.feature:12`, `message /re/`.
    pub matches: String,
    pub justification: String,
    pub accepted_by: String,
    /// `YYYY-MM-DD`; the waiver holds through that day.
    pub expires: String,
    pub state: WaiverState,
    /// Scenario ids it waived.
    pub scenarios: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BaselineResult {
    /// The baseline report's run id.
    pub run_id: String,
    /// Scenarios failing now that did not fail in the baseline (or were not in it).
    pub regressions: Vec<String>,
    /// Scenarios failing in the baseline that pass now.
    pub fixed: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunInfo {
    pub id: String,
    pub tool: Tool,
    pub started: String,
    pub finished: String,
    pub duration_ms: f64,
    pub target: Target,
    pub command_line: Vec<String>,
    /// A shell command line that reruns the same thing (same suites, target, inputs
    /// by name, tags and gates).
    pub rerun: String,
    pub os: String,
    /// Inputs as used, secret ones masked.
    pub inputs: BTreeMap<String, String>,
    pub tags: Option<String>,
    pub concurrency: usize,
    pub interrupted: bool,
    pub fail_on: FailOn,
    /// Whether inconclusive results of gated requirements fail the run too
    /// (`--fail-on inconclusive`).
    #[serde(default)]
    pub fail_on_inconclusive: bool,
    /// `K/N` when this report holds one shard of the scenarios.
    pub shard: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
    /// The source commit the binary was built from, when the build knew it.
    pub commit: Option<String>,
}

impl Tool {
    pub fn current() -> Tool {
        Tool {
            name: "assure".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            // Set by whoever builds (action.yml, CI); GITHUB_SHA would name the
            // repository running the workflow, not this tool's source.
            commit: option_env!("ASSURE_BUILD_COMMIT")
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Target {
    pub base_url: String,
    /// The stub set that played the target, when it was an embedded counterpart.
    pub counterpart: Option<String>,
    /// What `/metadata` declared: `software.name` and `software.version`.
    pub software: Option<String>,
    pub fhir_version: Option<String>,
    /// The exchange that fetched `/metadata` for provenance, whatever it returned.
    pub metadata_exchange: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every required (MUST) requirement that ran passed.
    Passed,
    /// At least one conformance failure.
    Failed,
    /// The run did not complete: interrupted, or the target could not be reached.
    Incomplete,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Passed,
    Failed,
    /// The harness could not run the scenario to a verdict (a bug, or no response).
    Error,
    /// The check could not be made: data absent, a profile not loaded, a negative
    /// test's request rejected for another reason. Neither a pass nor a failure.
    Inconclusive,
    /// The target does not declare the capability the scenario needs.
    NotApplicable,
    /// Not executed: filtered out, or the run was interrupted first.
    NotRun,
    Skipped,
    /// Failed, but an accepted, unexpired waiver covers it. Never counted as passed.
    Waived,
    /// A check of a MAY requirement the target does not meet: the spec lets it, so
    /// it is reported for information and never counted as a failure.
    Informational,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Error => "error",
            Status::Inconclusive => "inconclusive",
            Status::NotApplicable => "not applicable",
            Status::NotRun => "not run",
            Status::Skipped => "skipped",
            Status::Waived => "waived",
            Status::Informational => "informational",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub error: usize,
    #[serde(default)]
    pub inconclusive: usize,
    pub not_applicable: usize,
    pub not_run: usize,
    pub waived: usize,
    #[serde(default)]
    pub informational: usize,
}

impl Counts {
    pub fn add(&mut self, status: Status) {
        self.total += 1;
        match status {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Error => self.error += 1,
            Status::Inconclusive => self.inconclusive += 1,
            Status::NotApplicable => self.not_applicable += 1,
            Status::NotRun | Status::Skipped => self.not_run += 1,
            Status::Waived => self.waived += 1,
            Status::Informational => self.informational += 1,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub scenarios: Counts,
    pub requirements: Counts,
    pub steps: Counts,
    pub exchanges: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SuiteResult {
    pub id: String,
    pub version: String,
    pub title: String,
    /// sha256 of the manifest and of each feature file, so a reader can tell
    /// exactly which scenarios ran.
    pub manifest_sha256: String,
    /// FHIR packages the suite used (filled in once the package loader lands).
    pub packages: Vec<PackageRef>,
    pub requirements: Vec<RequirementResult>,
    pub features: Vec<FeatureResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PackageRef {
    pub id: String,
    pub version: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RequirementResult {
    pub id: String,
    pub level: Level,
    pub text: String,
    pub source: String,
    /// The sentence of the source that states it (its verb sets the level).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub quote: String,
    /// Requirements whose failure makes this one "not run" instead of failing twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    pub status: Status,
    /// Why it is not applicable, inconclusive or not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Scenario ids that trace to it.
    pub scenarios: Vec<String>,
    /// Ids of the exchanges those scenarios made: the evidence behind the status.
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeatureResult {
    pub name: String,
    pub file: String,
    pub sha256: String,
    pub scenarios: Vec<ScenarioResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScenarioResult {
    /// `<feature file>:<line>`, stable across runs of the same files.
    pub id: String,
    pub name: String,
    pub line: usize,
    pub tags: Vec<String>,
    pub requirements: Vec<String>,
    pub status: Status,
    /// Why it was not applicable or not run.
    pub reason: Option<String>,
    /// The waiver (`W<n>`) that covers its failure, when waived.
    pub waiver: Option<String>,
    /// For a negative test (`@negative:<name>`) and its control (`@control:<name>`):
    /// a negative only proves its cause when its control, the same request without
    /// the defect, was accepted in the same run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<Control>,
    pub duration_ms: f64,
    pub steps: Vec<StepResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Control {
    pub name: String,
    pub role: ControlRole,
    /// The status of the scenario's first response from the target.
    pub first_status: Option<u16>,
    /// A negative's own outcome before its control was considered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_status: Option<Status>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ControlRole {
    Control,
    Negative,
}

impl Control {
    /// Whether the target accepted the scenario's request (a 2xx answer).
    pub fn accepted(&self) -> bool {
        self.first_status.is_some_and(|s| (200..300).contains(&s))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepResult {
    pub keyword: String,
    pub text: String,
    pub line: usize,
    pub status: Status,
    /// The finding, when the step failed.
    pub failure: Option<Finding>,
    /// Why the step was not applicable, inconclusive, an error or not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub exchanges: Vec<String>,
    pub duration_ms: f64,
    pub docstring: Option<String>,
    pub table: Option<Vec<Vec<String>>>,
}

impl Report {
    /// Recomputes requirement statuses, counts and the verdict from the scenarios,
    /// the waivers and the `--fail-on` gate.
    pub fn finalize(&mut self) {
        let mut summary = Summary {
            exchanges: self.exchanges.len(),
            ..Summary::default()
        };
        let gate = self.gate();
        let mut gated_failure = false;
        for suite in &mut self.suites {
            resolve_controls(suite);
            suppress_dependents(suite);
            informational_may(suite);
            let scenarios: BTreeMap<&str, &ScenarioResult> = suite
                .features
                .iter()
                .flat_map(|f| f.scenarios.iter())
                .map(|s| (s.id.as_str(), s))
                .collect();
            for req in &mut suite.requirements {
                let mine: Vec<&ScenarioResult> = req
                    .scenarios
                    .iter()
                    .filter_map(|id| scenarios.get(id.as_str()).copied())
                    .collect();
                req.evidence = mine
                    .iter()
                    .flat_map(|s| s.steps.iter().flat_map(|st| st.exchanges.iter().cloned()))
                    .collect();
                let statuses: Vec<Status> = mine.iter().map(|s| s.status).collect();
                req.status = requirement_status(&statuses);
                req.reason = match req.status {
                    Status::Passed | Status::Failed | Status::Waived | Status::Informational => {
                        None
                    }
                    status => mine
                        .iter()
                        .filter(|s| s.status == status)
                        .find_map(|s| s.reason.clone()),
                };
                summary.requirements.add(req.status);
            }
            let levels: BTreeMap<&str, Level> = suite
                .requirements
                .iter()
                .map(|r| (r.id.as_str(), r.level))
                .collect();
            for scenario in suite.features.iter().flat_map(|f| f.scenarios.iter()) {
                summary.scenarios.add(scenario.status);
                for step in &scenario.steps {
                    summary.steps.add(step.status);
                }
                gated_failure |= gate.fails(scenario, &levels);
            }
        }
        gated_failure |= self.waivers.iter().any(|w| w.state == WaiverState::Expired);
        // An unused waiver is a warning too: it may hide the next regression.
        let warned = !self.warnings.is_empty()
            || self.waivers.iter().any(|w| w.state == WaiverState::Unused);
        gated_failure |= gate.level == FailOn::Warning && warned;
        self.summary = summary;
        self.verdict = if self.run.interrupted || !self.errors.is_empty() {
            Verdict::Incomplete
        } else if gated_failure {
            Verdict::Failed
        } else {
            Verdict::Passed
        };
    }

    fn gate(&self) -> Gate {
        Gate {
            level: self.run.fail_on,
            inconclusive: self.run.fail_on_inconclusive,
        }
    }

    pub fn scenarios(
        &self,
    ) -> impl Iterator<Item = (&SuiteResult, &FeatureResult, &ScenarioResult)> {
        self.suites.iter().flat_map(|s| {
            s.features
                .iter()
                .flat_map(move |f| f.scenarios.iter().map(move |sc| (s, f, sc)))
        })
    }

    /// Whether the scenario's current status fails the run's gate (`--fail-on`):
    /// errors always do, failures (and, when asked, inconclusive results) by the level
    /// of their requirements.
    pub fn fails_gate(&self, scenario_id: &str) -> bool {
        let gate = self.gate();
        self.scenarios()
            .filter(|(_, _, sc)| sc.id == scenario_id)
            .any(|(suite, _, sc)| {
                let levels: BTreeMap<&str, Level> = suite
                    .requirements
                    .iter()
                    .map(|r| (r.id.as_str(), r.level))
                    .collect();
                gate.fails(sc, &levels)
            })
    }

    pub fn exchange(&self, id: &str) -> Option<&Exchange> {
        self.exchanges.iter().find(|e| e.id == id)
    }
}

/// What `--fail-on` asked for.
#[derive(Debug, Clone, Copy)]
struct Gate {
    level: FailOn,
    inconclusive: bool,
}

impl Gate {
    fn fails(self, scenario: &ScenarioResult, levels: &BTreeMap<&str, Level>) -> bool {
        match scenario.status {
            // The harness could not reach a verdict: never a pass, whatever the level.
            Status::Error => true,
            Status::Failed => scenario_gates(&scenario.requirements, levels, self.level),
            Status::Inconclusive if self.inconclusive => {
                scenario_gates(&scenario.requirements, levels, self.level)
            }
            _ => false,
        }
    }
}

/// A negative test that was rejected (as it should, or with another error) proves its
/// cause only if its control, the same request without the defect, was accepted: else
/// the rejection may have had another reason, and the negative is inconclusive. A
/// negative whose defective request was accepted fails whatever the control did.
fn resolve_controls(suite: &mut SuiteResult) {
    let controls: Vec<(String, bool, String, Option<u16>)> = suite
        .features
        .iter()
        .flat_map(|f| f.scenarios.iter())
        .filter_map(|s| {
            let c = s
                .control
                .as_ref()
                .filter(|c| c.role == ControlRole::Control)?;
            let ran = !matches!(
                s.status,
                Status::Error | Status::NotRun | Status::NotApplicable
            );
            Some((
                c.name.clone(),
                ran && c.accepted(),
                s.id.clone(),
                c.first_status,
            ))
        })
        .collect();
    for scenario in suite
        .features
        .iter_mut()
        .flat_map(|f| f.scenarios.iter_mut())
    {
        let Some(control) = scenario.control.as_mut() else {
            continue;
        };
        if control.role != ControlRole::Negative {
            continue;
        }
        let own = *control.own_status.get_or_insert(scenario.status);
        if !matches!(own, Status::Passed | Status::Failed) || control.accepted() {
            continue;
        }
        let mine: Vec<_> = controls.iter().filter(|c| c.0 == control.name).collect();
        if mine.iter().any(|c| c.1) {
            scenario.status = own;
            if own == Status::Passed {
                scenario.reason = None;
            }
            continue;
        }
        scenario.status = Status::Inconclusive;
        scenario.reason = Some(match mine.first() {
            None => format!(
                "its control `{}` (the same request without the defect) did not run in this run, so the rejection may have had another cause",
                control.name
            ),
            Some((_, _, id, status)) => format!(
                "its control {id} (the same request without the defect) was not accepted ({}), so the rejection may have had another cause",
                status.map_or_else(|| "no response".to_owned(), |s| format!("status {s}"))
            ),
        });
    }
}

/// A scenario whose every requirement depends on a requirement that failed, and which
/// itself failed on a check that failed there too (the same step text), is "not run"
/// rather than failed again: its finding would count the same defect twice. A failure on
/// a check of its own still stands.
fn suppress_dependents(suite: &mut SuiteResult) {
    // Requirement -> the checks its failed scenarios failed on.
    let mut failed_checks: BTreeMap<String, Vec<FailedOn>> = BTreeMap::new();
    for s in suite.features.iter().flat_map(|f| f.scenarios.iter()) {
        if s.status != Status::Failed {
            continue;
        }
        let Some(on) = failed_on(s) else {
            continue;
        };
        for r in &s.requirements {
            failed_checks.entry(r.clone()).or_default().push(on.clone());
        }
    }
    let depends: BTreeMap<&str, &[String]> = suite
        .requirements
        .iter()
        .map(|r| (r.id.as_str(), r.depends_on.as_slice()))
        .collect();
    for scenario in suite
        .features
        .iter_mut()
        .flat_map(|f| f.scenarios.iter_mut())
    {
        if !matches!(scenario.status, Status::Failed | Status::Inconclusive) {
            continue;
        }
        let Some(on) = failed_on(scenario) else {
            continue;
        };
        let cause = |req: &String| -> Option<String> {
            depends.get(req.as_str())?.iter().find_map(|d| {
                failed_checks
                    .get(d)
                    .filter(|checks| checks.iter().any(|c| c.same(&on)))
                    .map(|_| d.clone())
            })
        };
        let causes: Option<Vec<String>> = scenario.requirements.iter().map(cause).collect();
        let Some(mut causes) = causes.filter(|c| !c.is_empty()) else {
            continue;
        };
        causes.dedup();
        scenario.reason = Some(format!(
            "not run: depends on {}, which failed the same check (`{}`)",
            causes.join(", "),
            on.check.as_deref().unwrap_or(&on.step)
        ));
        scenario.status = Status::NotRun;
    }
}

/// Where a failed or inconclusive scenario stopped: its step's text, and the shared
/// check its finding names, if any.
#[derive(Clone)]
struct FailedOn {
    step: String,
    check: Option<String>,
}

impl FailedOn {
    /// The same step, or the same shared check made by another step.
    fn same(&self, other: &FailedOn) -> bool {
        self.step == other.step || (self.check.is_some() && self.check == other.check)
    }
}

fn failed_on(s: &ScenarioResult) -> Option<FailedOn> {
    let st = s
        .steps
        .iter()
        .find(|st| matches!(st.status, Status::Failed | Status::Inconclusive))?;
    Some(FailedOn {
        step: st.text.clone(),
        check: st.failure.as_ref().and_then(|f| f.check.clone()),
    })
}

/// Whether a failed scenario fails the gate: one that traces to no requirement still
/// counts as required; MAY requirements never gate.
fn scenario_gates(reqs: &[String], levels: &BTreeMap<&str, Level>, gate: FailOn) -> bool {
    if reqs.is_empty() {
        return true;
    }
    reqs.iter().any(|r| match levels.get(r.as_str()) {
        Some(Level::Must) | None => true,
        Some(Level::Should) => gate >= FailOn::Should,
        Some(Level::May) => false,
    })
}

/// A requirement fails if any of its scenarios failed; passes only if every scenario
/// that ran passed; is inconclusive when one could not be decided; is not applicable
/// only if all of them were.
/// A failed scenario that traces only to MAY requirements is informational: the verb
/// lets the target do what it did.
fn informational_may(suite: &mut SuiteResult) {
    let levels: BTreeMap<String, Level> = suite
        .requirements
        .iter()
        .map(|r| (r.id.clone(), r.level))
        .collect();
    for scenario in suite
        .features
        .iter_mut()
        .flat_map(|f| f.scenarios.iter_mut())
    {
        let only_may = !scenario.requirements.is_empty()
            && scenario
                .requirements
                .iter()
                .all(|r| levels.get(r) == Some(&Level::May));
        if scenario.status == Status::Failed && only_may {
            scenario.status = Status::Informational;
        }
    }
}

fn requirement_status(statuses: &[Status]) -> Status {
    let any = |s: Status| statuses.contains(&s);
    if any(Status::Failed) {
        Status::Failed
    } else if any(Status::Error) {
        Status::Error
    } else if any(Status::Waived) {
        Status::Waived
    } else if any(Status::Informational) {
        Status::Informational
    } else if any(Status::Inconclusive) {
        Status::Inconclusive
    } else if any(Status::Passed) && !any(Status::NotRun) && !any(Status::Skipped) {
        Status::Passed
    } else if !statuses.is_empty() && statuses.iter().all(|s| *s == Status::NotApplicable) {
        Status::NotApplicable
    } else {
        Status::NotRun
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_status_never_claims_unrun_passes() {
        use Status::*;
        assert_eq!(requirement_status(&[Passed, Passed]), Passed);
        assert_eq!(requirement_status(&[Passed, Failed]), Failed);
        assert_eq!(requirement_status(&[Passed, NotRun]), NotRun);
        assert_eq!(requirement_status(&[NotApplicable]), NotApplicable);
        assert_eq!(requirement_status(&[Passed, NotApplicable]), Passed);
        assert_eq!(requirement_status(&[]), NotRun);
        assert_eq!(requirement_status(&[Error, Passed]), Error);
        assert_eq!(requirement_status(&[Waived, Passed]), Waived);
        assert_eq!(requirement_status(&[Waived, Failed]), Failed);
        assert_eq!(requirement_status(&[Passed, Inconclusive]), Inconclusive);
        assert_eq!(requirement_status(&[Inconclusive, Failed]), Failed);
        assert_eq!(
            requirement_status(&[NotApplicable, Inconclusive]),
            Inconclusive
        );
    }

    fn scenario(id: &str, status: Status, control: Option<(ControlRole, u16)>) -> ScenarioResult {
        let step = |text: &str| StepResult {
            keyword: "Then".into(),
            text: text.into(),
            line: 2,
            status,
            failure: None,
            reason: None,
            exchanges: vec![],
            duration_ms: 0.0,
            docstring: None,
            table: None,
        };
        ScenarioResult {
            id: id.into(),
            name: id.into(),
            line: 1,
            tags: vec![],
            requirements: vec![id.to_uppercase()],
            status,
            reason: None,
            waiver: None,
            control: control.map(|(role, status)| Control {
                name: "read".into(),
                role,
                first_status: Some(status),
                own_status: None,
            }),
            duration_ms: 0.0,
            // `own-...` scenarios fail on a check of their own; others on a shared one.
            steps: vec![step(if id.starts_with("own") {
                "the Bundle has a \"self\" link"
            } else {
                "the response status is 200"
            })],
        }
    }

    fn suite(scenarios: Vec<ScenarioResult>, depends: &[(&str, &str)]) -> SuiteResult {
        let requirements = scenarios
            .iter()
            .map(|s| RequirementResult {
                id: s.requirements[0].clone(),
                level: Level::Must,
                text: String::new(),
                source: String::new(),
                quote: String::new(),
                depends_on: depends
                    .iter()
                    .filter(|(r, _)| *r == s.requirements[0])
                    .map(|(_, d)| d.to_string())
                    .collect(),
                status: Status::NotRun,
                reason: None,
                scenarios: vec![s.id.clone()],
                evidence: vec![],
            })
            .collect();
        SuiteResult {
            id: "s".into(),
            version: "1".into(),
            title: "S".into(),
            manifest_sha256: String::new(),
            packages: vec![],
            requirements,
            features: vec![FeatureResult {
                name: "f".into(),
                file: "f".into(),
                sha256: String::new(),
                scenarios,
            }],
        }
    }

    fn status_of(s: &SuiteResult, id: &str) -> Status {
        s.features[0]
            .scenarios
            .iter()
            .find(|x| x.id == id)
            .unwrap()
            .status
    }

    #[test]
    fn a_negative_proves_its_cause_only_when_its_control_was_accepted() {
        use ControlRole::*;
        // Control accepted: the negative's own outcomes stand.
        let mut ok = suite(
            vec![
                scenario("c", Status::Passed, Some((Control, 200))),
                scenario("n1", Status::Passed, Some((Negative, 404))),
                scenario("n2", Status::Failed, Some((Negative, 400))),
            ],
            &[],
        );
        resolve_controls(&mut ok);
        assert_eq!(status_of(&ok, "n1"), Status::Passed);
        assert_eq!(status_of(&ok, "n2"), Status::Failed);
        // Control rejected: a rejection proves nothing; an acceptance still fails.
        let mut bad = suite(
            vec![
                scenario("c", Status::Failed, Some((Control, 401))),
                scenario("n1", Status::Passed, Some((Negative, 404))),
                scenario("n2", Status::Failed, Some((Negative, 400))),
                scenario("n3", Status::Failed, Some((Negative, 200))),
            ],
            &[],
        );
        resolve_controls(&mut bad);
        assert_eq!(status_of(&bad, "n1"), Status::Inconclusive);
        assert_eq!(status_of(&bad, "n2"), Status::Inconclusive);
        assert_eq!(status_of(&bad, "n3"), Status::Failed);
        let reason = bad.features[0].scenarios[1].reason.clone().unwrap();
        assert!(reason.contains("status 401"), "{reason}");
        // Settling twice (a merge re-finalises) starts from the negative's own outcome.
        bad.features[0].scenarios[0].status = Status::Passed;
        bad.features[0].scenarios[0]
            .control
            .as_mut()
            .unwrap()
            .first_status = Some(200);
        resolve_controls(&mut bad);
        assert_eq!(status_of(&bad, "n1"), Status::Passed);
        // No control at all: inconclusive, saying so.
        let mut alone = suite(
            vec![scenario("n1", Status::Passed, Some((Negative, 404)))],
            &[],
        );
        resolve_controls(&mut alone);
        assert_eq!(status_of(&alone, "n1"), Status::Inconclusive);
    }

    #[test]
    fn a_failure_that_rests_on_a_failed_requirement_is_not_counted_twice() {
        let mut s = suite(
            vec![
                scenario("create", Status::Failed, None),
                scenario("readback", Status::Failed, None),
                scenario("other", Status::Failed, None),
                scenario("own-link", Status::Failed, None),
            ],
            &[("READBACK", "CREATE"), ("OWN-LINK", "CREATE")],
        );
        suppress_dependents(&mut s);
        let st: Vec<Status> = s.features[0].scenarios.iter().map(|x| x.status).collect();
        // The same failing check is not counted twice; a check of its own still fails.
        assert_eq!(
            st,
            [
                Status::Failed,
                Status::NotRun,
                Status::Failed,
                Status::Failed
            ]
        );
        let reason = s.features[0].scenarios[1].reason.clone().unwrap();
        assert!(reason.contains("depends on CREATE"), "{reason}");
        // The dependency passing leaves the dependent's failure alone.
        let mut s = suite(
            vec![
                scenario("create", Status::Passed, None),
                scenario("readback", Status::Failed, None),
            ],
            &[("READBACK", "CREATE")],
        );
        suppress_dependents(&mut s);
        assert_eq!(s.features[0].scenarios[1].status, Status::Failed);
    }

    #[test]
    fn a_may_the_target_does_not_meet_is_informational_never_failed() {
        let mut s = suite(
            vec![
                scenario("may", Status::Failed, None),
                scenario("must", Status::Failed, None),
            ],
            &[],
        );
        s.requirements[0].level = Level::May;
        informational_may(&mut s);
        let st: Vec<Status> = s.features[0].scenarios.iter().map(|x| x.status).collect();
        assert_eq!(st, [Status::Informational, Status::Failed]);
        assert_eq!(
            requirement_status(&[Status::Informational, Status::Passed]),
            Status::Informational
        );
        assert_eq!(
            requirement_status(&[Status::Informational, Status::Failed]),
            Status::Failed
        );
    }

    #[test]
    fn a_shared_check_failed_in_another_step_is_not_counted_twice() {
        let failing = |id: &str, text: &str, check: Option<&str>| {
            let mut sc = scenario(id, Status::Failed, None);
            sc.steps[0].text = text.into();
            sc.steps[0].failure = Some(check.map_or_else(
                || Finding::new(crate::outcome::FindingKind::Header, "x"),
                |c| Finding::new(crate::outcome::FindingKind::Header, "x").check(c),
            ));
            sc
        };
        let mut s = suite(
            vec![
                failing(
                    "create",
                    "the created resource can be read back",
                    Some("created-identity"),
                ),
                failing(
                    "update",
                    "I capture the id of the created resource",
                    Some("created-identity"),
                ),
                failing("delete", "I capture the id of the created resource", None),
            ],
            &[("UPDATE", "CREATE"), ("DELETE", "CREATE")],
        );
        suppress_dependents(&mut s);
        let st: Vec<Status> = s.features[0].scenarios.iter().map(|x| x.status).collect();
        // Same check, other step: not counted again; no shared check, other step: fails.
        assert_eq!(st, [Status::Failed, Status::NotRun, Status::Failed]);
    }
}
