//! How a step ends, as data: passed, failed with a finding, not applicable, inconclusive,
//! or a harness error. Steps produce these; the report collector consumes them. This
//! module depends on nothing in steps, world, client or report, so both sides can.
//!
//! The kinds keep apart what an assessor must never confuse:
//! - **failed**: the target did something the cited sentence forbids (a [`Finding`]);
//! - **not applicable**: the check has nothing to look at on this target (an empty set,
//!   a capability it does not declare);
//! - **inconclusive**: the check could not be made (a profile not loaded, test data
//!   absent, a negative test's request rejected for another reason);
//! - **harness error**: the run itself went wrong (no response, a bad scenario).

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::evidence::Exchange;

/// What kind of check a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The HTTP status code.
    Status,
    /// A response header.
    Header,
    /// The response body: its format, resource type or a value in it.
    #[default]
    Body,
    /// Profile validation of the body (see `issues`).
    Conformance,
    /// What the target did across several exchanges (a version that did not change, a
    /// duplicate created).
    Behaviour,
    /// A request the system under test sent to a counterpart.
    Request,
    /// How long the target took.
    Timing,
}

impl FindingKind {
    pub fn label(self) -> &'static str {
        match self {
            FindingKind::Status => "status",
            FindingKind::Header => "header",
            FindingKind::Body => "body",
            FindingKind::Conformance => "conformance",
            FindingKind::Behaviour => "behaviour",
            FindingKind::Request => "request",
            FindingKind::Timing => "timing",
        }
    }
}

/// Where in the captured evidence a finding points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EvidenceSpan {
    /// The exchange the finding is about.
    pub exchange: Option<String>,
    /// A path into its response body (`entry[0].resource.id`), when the check had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A finding: the target did something the scenario says it must not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    #[serde(default)]
    pub kind: FindingKind,
    pub message: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceSpan>,
    /// Profile validation issues behind the finding, each pointing into the captured
    /// response of its `exchange`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<ValidationIssue>,
    /// Names a check several steps make alike (`created-identity`), so a dependent
    /// requirement that failed it is not counted again whichever step it failed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
}

impl Finding {
    pub fn new(kind: FindingKind, message: impl Into<String>) -> Self {
        Finding {
            kind,
            message: message.into(),
            expected: None,
            actual: None,
            evidence: None,
            issues: Vec::new(),
            check: None,
        }
    }

    /// Names the shared check this finding comes from.
    #[must_use]
    pub fn check(mut self, name: impl Into<String>) -> Self {
        self.check = Some(name.into());
        self
    }

    #[must_use]
    pub fn expected(mut self, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self.actual = Some(actual.into());
        self
    }

    /// Points the finding at a path in the response body.
    #[must_use]
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.evidence.get_or_insert_with(Default::default).path = Some(path.into());
        self
    }
}

/// One issue a profile check found, located in the captured response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationIssue {
    /// fatal, error, warning or information.
    pub severity: String,
    pub code: String,
    pub message: String,
    /// FHIRPath-style location: `Patient.identifier[0].system`.
    pub expression: Option<String>,
    pub line: Option<u32>,
    pub col: Option<u32>,
    pub profile: Option<String>,
    pub element: Option<String>,
    /// The exchange whose response body the line and column are in.
    pub exchange: Option<String>,
}

impl std::fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.severity)?;
        if let (Some(line), Some(col)) = (self.line, self.col) {
            write!(f, " at {line}:{col}")?;
        }
        if let Some(e) = &self.expression {
            write!(f, " {e}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(p) = &self.profile {
            write!(f, " ({p})")?;
        }
        Ok(())
    }
}

/// Why a step stopped short of passing.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// The target does not conform.
    Fail(Finding),
    /// There is nothing for the check to look at on this target.
    NotApplicable(String),
    /// The check could not be made; it is neither a pass nor a failure.
    Inconclusive(String),
    /// The harness could not run the step (a scenario mistake, no response at all).
    Error(String),
}

impl Stop {
    pub fn error(message: impl Into<String>) -> Stop {
        Stop::Error(message.into())
    }

    pub fn inconclusive(reason: impl Into<String>) -> Stop {
        Stop::Inconclusive(reason.into())
    }

    pub fn not_applicable(reason: impl Into<String>) -> Stop {
        Stop::NotApplicable(reason.into())
    }

    pub fn message(&self) -> &str {
        match self {
            Stop::Fail(f) => &f.message,
            Stop::NotApplicable(s) | Stop::Inconclusive(s) | Stop::Error(s) => s,
        }
    }
}

impl From<Finding> for Stop {
    fn from(f: Finding) -> Stop {
        Stop::Fail(f)
    }
}

/// The payload a stopping step unwinds with, so that cucumber ends the scenario; the
/// outcome itself travels through the [`Sink`].
#[derive(Debug)]
pub struct StepFailed;

/// What a step returns.
pub type StepResult = Result<(), Stop>;

/// Shorthand for a step that ends in a finding.
pub fn fail<T>(finding: Finding) -> Result<T, Stop> {
    Err(Stop::Fail(finding))
}

/// How a step ended, as the report sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum StepEnd {
    Passed,
    Stopped(Stop),
}

/// What one finished step left behind: its end, the exchanges it made and how long it
/// took. Steps publish these; the report collector reads them.
#[derive(Debug, Clone)]
pub struct StepRecord {
    /// The scenario's id (`<feature file>:<line>`).
    pub scenario: String,
    /// The step's line in its feature file.
    pub line: usize,
    pub end: StepEnd,
    /// Ids of the exchanges this step made or relied on.
    pub exchanges: Vec<String>,
    pub duration_ms: f64,
}

/// What a scenario learnt about its control (the same request without the defect) or,
/// for a negative scenario, about its own request.
#[derive(Debug, Clone, Default)]
pub struct ScenarioFacts {
    /// The status of the first response the scenario had from the target.
    pub first_status: Option<u16>,
}

/// Where steps publish their records and exchanges and the collector picks them up:
/// the one channel between the two sides.
#[derive(Debug, Clone, Default)]
pub struct Sink {
    inner: Arc<Mutex<SinkState>>,
}

#[derive(Debug, Default)]
struct SinkState {
    steps: Vec<StepRecord>,
    exchanges: Vec<(String, Exchange)>,
    facts: Vec<(String, ScenarioFacts)>,
}

impl Sink {
    pub fn step(&self, record: StepRecord) {
        self.lock().steps.push(record);
    }

    /// An exchange made by `scenario` (kept whatever becomes of the scenario).
    pub fn exchange(&self, scenario: &str, exchange: Exchange) {
        self.lock().exchanges.push((scenario.to_owned(), exchange));
    }

    pub fn facts(&self, scenario: &str, facts: ScenarioFacts) {
        self.lock().facts.push((scenario.to_owned(), facts));
    }

    /// The record of `scenario`'s step at `line`, taken out of the sink.
    pub fn take_step(&self, scenario: &str, line: usize) -> Option<StepRecord> {
        let mut state = self.lock();
        let at = state
            .steps
            .iter()
            .position(|r| r.scenario == scenario && r.line == line)?;
        Some(state.steps.remove(at))
    }

    /// Every exchange `scenario` made, taken out of the sink.
    pub fn take_exchanges(&self, scenario: &str) -> Vec<Exchange> {
        let mut state = self.lock();
        let (mine, rest) = std::mem::take(&mut state.exchanges)
            .into_iter()
            .partition(|(s, _)| s == scenario);
        state.exchanges = rest;
        mine.into_iter().map(|(_, e)| e).collect()
    }

    pub fn take_facts(&self, scenario: &str) -> ScenarioFacts {
        let mut state = self.lock();
        let at = state.facts.iter().rposition(|(s, _)| s == scenario);
        at.map(|i| state.facts.remove(i).1).unwrap_or_default()
    }

    /// Everything left: exchanges of scenarios that never reported (an interrupted run).
    pub fn drain_exchanges(&self) -> Vec<(String, Exchange)> {
        std::mem::take(&mut self.lock().exchanges)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SinkState> {
        // A panic while holding the lock loses nothing worth refusing the rest for.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Follows an evidence path, `a.b[0].c` or a JSON Pointer (`/a/b/0/c`), in a body.
pub fn select<'a>(
    root: &'a assure_fhir::model::Node,
    path: &str,
) -> Result<Option<&'a assure_fhir::model::Node>, String> {
    if path.starts_with('/') || path.is_empty() {
        return Ok(root.pointer(path));
    }
    let mut node = root;
    for segment in path.split('.') {
        let (name, indexes) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !name.is_empty() {
            node = match node.get(name) {
                Some(n) => n,
                None => return Ok(None),
            };
        }
        let mut rest = indexes;
        while let Some(open) = rest.strip_prefix('[') {
            let close = open
                .find(']')
                .ok_or_else(|| format!("path `{path}`: unclosed `[`"))?;
            let index: usize = open[..close]
                .parse()
                .map_err(|_| format!("path `{path}`: `{}` is not an index", &open[..close]))?;
            node = match node.items().get(index) {
                Some(n) => n,
                None => return Ok(None),
            };
            rest = &open[close + 1..];
        }
        if !rest.is_empty() {
            return Err(format!("path `{path}`: unexpected `{rest}`"));
        }
    }
    Ok(Some(node))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_converts_into_a_failing_stop_and_keeps_its_parts() {
        let stop: Stop = Finding::new(FindingKind::Status, "unexpected status code")
            .expected("200", "404")
            .at("id")
            .into();
        let Stop::Fail(f) = &stop else {
            panic!("{stop:?}")
        };
        assert_eq!(f.kind, FindingKind::Status);
        assert_eq!(f.actual.as_deref(), Some("404"));
        assert_eq!(f.evidence.as_ref().unwrap().path.as_deref(), Some("id"));
        assert_eq!(stop.message(), "unexpected status code");
    }

    #[test]
    fn the_sink_hands_each_scenario_only_its_own_records() {
        let sink = Sink::default();
        for (scenario, line) in [("a:1", 3), ("b:1", 3), ("a:1", 4)] {
            sink.step(StepRecord {
                scenario: scenario.into(),
                line,
                end: StepEnd::Passed,
                exchanges: vec![],
                duration_ms: 0.0,
            });
        }
        assert!(sink.take_step("a:1", 4).is_some());
        assert!(sink.take_step("a:1", 4).is_none());
        assert_eq!(sink.take_step("b:1", 3).unwrap().scenario, "b:1");
        assert!(sink.take_step("a:1", 3).is_some());
    }
}
