//! The collector: a cucumber `Writer` that turns the run's events into scenario
//! results of the report model. Cucumber says which scenario and step started,
//! passed or stopped; the steps' own records (their outcome, exchanges and time)
//! come through the [`Sink`]. Nothing here knows the world, the steps or the client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cucumber::event::{self, Cucumber, Feature, Rule, Scenario, Step};
use cucumber::gherkin;

use super::model::{Control, ControlRole, ScenarioResult, Status, StepResult};
use crate::diagnostic::display_path;
use crate::evidence::Exchange;
use crate::features;
use crate::outcome::{Sink, StepEnd, StepFailed, StepRecord, Stop};
use crate::progress::Progress;

/// What the collector has gathered so far; shared so that an interrupted run keeps it.
#[derive(Default)]
pub struct Collected {
    /// Finished scenarios by id, with the exchanges they made.
    pub finished: HashMap<String, (ScenarioResult, Vec<Exchange>)>,
    running: HashMap<String, Running>,
}

struct Running {
    started: Instant,
    /// Results of the steps that reported, by line.
    steps: HashMap<usize, StepResult>,
    /// Why the scenario could not go on, when a hook or a bug stopped it.
    broken: Option<String>,
}

pub struct Collector {
    sink: Sink,
    state: Arc<Mutex<Collected>>,
    progress: Option<Arc<dyn Progress>>,
}

impl Collector {
    pub fn new(
        sink: Sink,
        state: Arc<Mutex<Collected>>,
        progress: Option<Arc<dyn Progress>>,
    ) -> Collector {
        Collector {
            sink,
            state,
            progress,
        }
    }

    fn scenario<W>(
        &mut self,
        feature: &gherkin::Feature,
        rule: Option<&gherkin::Rule>,
        scenario: &gherkin::Scenario,
        ev: Scenario<W>,
    ) {
        let key = scenario_key(feature, scenario);
        match ev {
            Scenario::Started => {
                lock(&self.state).running.insert(
                    key,
                    Running {
                        started: Instant::now(),
                        steps: HashMap::new(),
                        broken: None,
                    },
                );
            }
            Scenario::Step(step, ev) | Scenario::Background(step, ev) => {
                let result = self.step(&key, &step, ev);
                if let Some(r) = lock(&self.state).running.get_mut(&key) {
                    r.steps.insert(step.position.line, result);
                }
            }
            Scenario::Hook(kind, event::Hook::Failed(_, info)) => {
                let message = format!(
                    "internal error in the {kind:?} hook (please report it): {}",
                    info_message(&info)
                )
                .to_lowercase();
                if let Some(r) = lock(&self.state).running.get_mut(&key) {
                    r.broken.get_or_insert(message);
                }
            }
            Scenario::Hook(..) | Scenario::Log(_) => {}
            Scenario::Finished => {
                let running = lock(&self.state).running.remove(&key);
                let exchanges = self.sink.take_exchanges(&key);
                let mut result = finish(feature, rule, scenario, running);
                if let Some(c) = result.control.as_mut() {
                    c.first_status = self.sink.take_facts(&key).first_status;
                }
                if let Some(p) = &self.progress {
                    p.finished(&result);
                }
                lock(&self.state).finished.insert(key, (result, exchanges));
            }
        }
    }

    fn step<W>(&self, key: &str, step: &gherkin::Step, ev: Step<W>) -> StepResult {
        let mut out = step_result(step, Status::NotRun);
        let line = step.position.line;
        let end = match ev {
            Step::Started => return out,
            Step::Skipped => {
                out.reason = Some("no step of the vocabulary matches it".into());
                out.status = Status::Error;
                return out;
            }
            Step::Passed(..) => None,
            Step::Failed(_, _, _, event::StepError::Panic(info))
                if info.downcast_ref::<StepFailed>().is_some() =>
            {
                None
            }
            Step::Failed(_, _, _, event::StepError::Panic(info)) => Some(format!(
                "internal error (please report it): {}",
                info_message(&info)
            )),
            Step::Failed(_, _, _, other) => Some(format!("internal error: {other}")),
        };
        if let Some(message) = end {
            // A bug: the step never published its record; what it made is still kept.
            let record = self.sink.take_step(key, line);
            out.exchanges = record.map(|r| r.exchanges).unwrap_or_default();
            out.status = Status::Error;
            out.reason = Some(message);
            return out;
        }
        match self.sink.take_step(key, line) {
            Some(record) => from_record(step, record),
            None => {
                out.status = Status::Error;
                out.reason = Some("internal error: the step finished without a record".into());
                out
            }
        }
    }
}

/// A step's result from the record it published.
fn from_record(step: &gherkin::Step, record: StepRecord) -> StepResult {
    let mut out = step_result(step, Status::Passed);
    out.duration_ms = record.duration_ms;
    out.exchanges = record.exchanges;
    match record.end {
        StepEnd::Passed => {}
        StepEnd::Stopped(Stop::Fail(finding)) => {
            out.status = Status::Failed;
            out.failure = Some(finding);
        }
        StepEnd::Stopped(Stop::NotApplicable(reason)) => {
            out.status = Status::NotApplicable;
            out.reason = Some(reason);
        }
        StepEnd::Stopped(Stop::Inconclusive(reason)) => {
            out.status = Status::Inconclusive;
            out.reason = Some(reason);
        }
        StepEnd::Stopped(Stop::Error(reason)) => {
            out.status = Status::Error;
            out.reason = Some(reason);
        }
    }
    out
}

/// What an interrupted run still knows of a scenario that had not reported its end:
/// the steps that finished (a finding among them stands) and the exchanges made.
/// `None` when it never started.
pub fn salvage(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
    sink: &Sink,
) -> Option<(ScenarioResult, Vec<Exchange>)> {
    let key = scenario_key(feature, scenario);
    let exchanges = sink.take_exchanges(&key);
    let mut result = base_result(feature, rule, scenario);
    let mut any = !exchanges.is_empty();
    let mut stopped = false;
    let mut complete = true;
    for step in scenario_steps(feature, rule, scenario) {
        let out = match sink.take_step(&key, step.position.line) {
            Some(record) if !stopped => {
                any = true;
                from_record(step, record)
            }
            _ if stopped => step_result(step, Status::Skipped),
            _ => {
                complete = false;
                step_result(step, Status::NotRun)
            }
        };
        stopped |= matches!(out.status, Status::Failed | Status::Error);
        result.steps.push(out);
    }
    if !any {
        return None;
    }
    if let Some(c) = result.control.as_mut() {
        c.first_status = sink.take_facts(&key).first_status;
    }
    settle(&mut result);
    if !complete && !stopped {
        result.status = Status::NotRun;
        result.reason = Some("the run was interrupted while this scenario ran".into());
    }
    Some((result, exchanges))
}

impl<W: 'static> cucumber::Writer<W> for Collector {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(
        &mut self,
        ev: cucumber::parser::Result<cucumber::Event<Cucumber<W>>>,
        _: &Self::Cli,
    ) {
        // Features are parsed and checked before the run: parser errors cannot happen.
        let Ok(ev) = ev else { return };
        match ev.into_inner() {
            Cucumber::Feature(feature, Feature::Scenario(scenario, ev)) => {
                self.scenario(&feature, None, &scenario, ev.event);
            }
            Cucumber::Feature(feature, Feature::Rule(rule, Rule::Scenario(scenario, ev))) => {
                self.scenario(&feature, Some(&rule), &scenario, ev.event);
            }
            _ => {}
        }
    }
}

// Events of different scenarios interleave; each carries its scenario, so order
// across scenarios does not matter to the collector.
impl cucumber::writer::Normalized for Collector {}

/// The scenario's result once it finished: each written step in order, those after a
/// stop skipped, and the status the steps add up to.
fn finish(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
    running: Option<Running>,
) -> ScenarioResult {
    let mut result = base_result(feature, rule, scenario);
    let Some(mut running) = running else {
        result.status = Status::Error;
        result.reason = Some("internal error: the scenario finished without starting".into());
        return result;
    };
    result.duration_ms = running.started.elapsed().as_secs_f64() * 1000.0;
    let mut stopped = false;
    for step in scenario_steps(feature, rule, scenario) {
        let out = match running.steps.remove(&step.position.line) {
            Some(out) if !stopped => out,
            _ if stopped => step_result(step, Status::Skipped),
            _ => {
                let mut out = step_result(step, Status::Error);
                out.reason = Some(
                    running
                        .broken
                        .take()
                        .unwrap_or_else(|| "internal error: the step did not run".into()),
                );
                out
            }
        };
        stopped |= matches!(out.status, Status::Failed | Status::Error);
        result.steps.push(out);
    }
    settle(&mut result);
    result
}

/// The scenario's status from its steps: an error, else a failure, else inconclusive,
/// else not applicable, else passed; the reason is that step's.
fn settle(result: &mut ScenarioResult) {
    for status in [
        Status::Error,
        Status::Failed,
        Status::Inconclusive,
        Status::NotApplicable,
    ] {
        if let Some(step) = result.steps.iter().find(|s| s.status == status) {
            result.reason = step.reason.clone();
            result.status = status;
            return;
        }
    }
    result.status = Status::Passed;
}

fn lock(state: &Mutex<Collected>) -> std::sync::MutexGuard<'_, Collected> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

fn info_message(info: &event::Info) -> String {
    if let Some(s) = info.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = info.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with no message".into()
    }
}

/// Outline rows become scenarios at their own lines, so file:line is unique.
pub fn scenario_key(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> String {
    let path = feature
        .path
        .as_deref()
        .map(display_path)
        .unwrap_or_default();
    format!("{path}:{}", scenario.position.line)
}

pub fn scenario_steps<'a>(
    feature: &'a gherkin::Feature,
    rule: Option<&'a gherkin::Rule>,
    scenario: &'a gherkin::Scenario,
) -> Vec<&'a gherkin::Step> {
    feature
        .background
        .iter()
        .chain(rule.and_then(|r| r.background.as_ref()))
        .flat_map(|b| b.steps.iter())
        .chain(scenario.steps.iter())
        .collect()
}

fn step_result(step: &gherkin::Step, status: Status) -> StepResult {
    StepResult {
        keyword: step.keyword.trim().to_owned(),
        text: step.value.clone(),
        line: step.position.line,
        status,
        failure: None,
        reason: None,
        exchanges: Vec::new(),
        duration_ms: 0.0,
        docstring: step.docstring.clone(),
        table: step.table.as_ref().map(|t| t.rows.clone()),
    }
}

fn base_result(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
) -> ScenarioResult {
    let tags: Vec<String> = features::effective_tags(feature, rule, scenario)
        .map(str::to_owned)
        .collect();
    let control = control_of(&tags);
    ScenarioResult {
        id: scenario_key(feature, scenario),
        name: scenario.name.clone(),
        line: scenario.position.line,
        requirements: features::requirement_tags(tags.iter().map(String::as_str)),
        tags,
        status: Status::NotRun,
        reason: None,
        waiver: None,
        control,
        duration_ms: 0.0,
        steps: Vec::new(),
    }
}

/// `@control:<name>` or `@negative:<name>`.
fn control_of(tags: &[String]) -> Option<Control> {
    tags.iter().find_map(|t| {
        let (role, name) = if let Some(n) = t.strip_prefix(features::CONTROL_TAG) {
            (ControlRole::Control, n)
        } else {
            (
                ControlRole::Negative,
                t.strip_prefix(features::NEGATIVE_TAG)?,
            )
        };
        Some(Control {
            name: name.to_owned(),
            role,
            first_status: None,
            own_status: None,
        })
    })
}

/// A scenario decided before the run (not applicable, excluded, not run), with its
/// steps listed as not run.
pub fn unrun(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
    status: Status,
    reason: Option<String>,
) -> ScenarioResult {
    let mut result = base_result(feature, rule, scenario);
    result.status = status;
    result.reason = reason;
    result.steps = scenario_steps(feature, rule, scenario)
        .into_iter()
        .map(|s| step_result(s, Status::NotRun))
        .collect();
    result
}
