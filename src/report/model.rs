//! The report model: one structure that every writer renders and that `report.json`
//! serialises, so a report can be re-rendered from `report.json` alone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::evidence::Exchange;
use crate::suite::Level;
use crate::world::Failure;

/// Bumped when the JSON shape changes incompatibly.
pub const SCHEMA_VERSION: u32 = 2;

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
    /// The target does not declare the capability the scenario needs.
    NotApplicable,
    /// Not executed: filtered out, or the run was interrupted first.
    NotRun,
    Skipped,
    /// Failed, but an accepted, unexpired waiver covers it. Never counted as passed.
    Waived,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Error => "error",
            Status::NotApplicable => "not applicable",
            Status::NotRun => "not run",
            Status::Skipped => "skipped",
            Status::Waived => "waived",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub error: usize,
    pub not_applicable: usize,
    pub not_run: usize,
    pub waived: usize,
}

impl Counts {
    pub fn add(&mut self, status: Status) {
        self.total += 1;
        match status {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Error => self.error += 1,
            Status::NotApplicable => self.not_applicable += 1,
            Status::NotRun | Status::Skipped => self.not_run += 1,
            Status::Waived => self.waived += 1,
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
    pub status: Status,
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
    pub duration_ms: f64,
    pub steps: Vec<StepResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepResult {
    pub keyword: String,
    pub text: String,
    pub line: usize,
    pub status: Status,
    pub failure: Option<Failure>,
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
        let gate = self.run.fail_on;
        let mut gated_failure = false;
        for suite in &mut self.suites {
            let by_id: BTreeMap<&str, Status> = suite
                .features
                .iter()
                .flat_map(|f| f.scenarios.iter())
                .map(|s| (s.id.as_str(), s.status))
                .collect();
            let exchanges_of: BTreeMap<&str, Vec<String>> = suite
                .features
                .iter()
                .flat_map(|f| f.scenarios.iter())
                .map(|s| {
                    let ids = s.steps.iter().flat_map(|st| st.exchanges.iter().cloned());
                    (s.id.as_str(), ids.collect())
                })
                .collect();
            for req in &mut suite.requirements {
                req.evidence = req
                    .scenarios
                    .iter()
                    .filter_map(|id| exchanges_of.get(id.as_str()))
                    .flatten()
                    .cloned()
                    .collect();
                let statuses: Vec<Status> = req
                    .scenarios
                    .iter()
                    .filter_map(|id| by_id.get(id.as_str()).copied())
                    .collect();
                req.status = requirement_status(&statuses);
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
                gated_failure |= match scenario.status {
                    // The harness could not reach a verdict: never a pass, whatever the level.
                    Status::Error => true,
                    Status::Failed => scenario_gates(&scenario.requirements, &levels, gate),
                    _ => false,
                };
            }
        }
        gated_failure |= self.waivers.iter().any(|w| w.state == WaiverState::Expired);
        // An unused waiver is a warning too: it may hide the next regression.
        let warned = !self.warnings.is_empty()
            || self.waivers.iter().any(|w| w.state == WaiverState::Unused);
        gated_failure |= gate == FailOn::Warning && warned;
        self.summary = summary;
        self.verdict = if self.run.interrupted || !self.errors.is_empty() {
            Verdict::Incomplete
        } else if gated_failure {
            Verdict::Failed
        } else {
            Verdict::Passed
        };
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
    /// errors always do, failures by the level of their requirements.
    pub fn fails_gate(&self, scenario_id: &str) -> bool {
        self.scenarios()
            .filter(|(_, _, sc)| sc.id == scenario_id)
            .any(|(suite, _, sc)| match sc.status {
                Status::Error => true,
                Status::Failed => {
                    let levels: BTreeMap<&str, Level> = suite
                        .requirements
                        .iter()
                        .map(|r| (r.id.as_str(), r.level))
                        .collect();
                    scenario_gates(&sc.requirements, &levels, self.run.fail_on)
                }
                _ => false,
            })
    }

    pub fn exchange(&self, id: &str) -> Option<&Exchange> {
        self.exchanges.iter().find(|e| e.id == id)
    }
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
/// that ran passed; is not applicable only if all of them were.
fn requirement_status(statuses: &[Status]) -> Status {
    if statuses.contains(&Status::Failed) {
        Status::Failed
    } else if statuses.contains(&Status::Error) {
        Status::Error
    } else if statuses.contains(&Status::Waived) {
        Status::Waived
    } else if statuses.contains(&Status::Passed) && !statuses.contains(&Status::NotRun) {
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
    }
}
