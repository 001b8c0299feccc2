//! The run loop: checks every scenario's steps against the vocabulary, decides which
//! scenarios apply to the target, runs them concurrently with cucumber, and gathers
//! what each did into the report model. Ctrl-C stops the run but keeps the results.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cucumber::gherkin::{self, StepType};
use cucumber::tag::Ext as _;
use futures::future::LocalBoxFuture;
use futures::FutureExt as _;

use crate::capability::Capabilities;
use crate::diagnostic::{closest, display_path, Diagnostic};
use crate::evidence::{sha256_hex, Exchange};
use crate::features::{self, LoadedFeature, CAPABILITY_TAG};
use crate::report::model::{
    FeatureResult, Report, RequirementResult, RunInfo, ScenarioResult, Status, StepResult,
    SuiteResult, Target, Tool, Verdict, SCHEMA_VERSION,
};
use crate::steps::{self, StepDef};
use crate::suite::CapabilityRequest;
use crate::suite::Suite;
use crate::world::{AssureWorld, RunContext};

/// Everything a run needs, already loaded and checked.
pub struct Plan {
    pub suites: Vec<(Suite, Vec<LoadedFeature>)>,
    pub tags: Option<gherkin::tagexpr::TagOperation>,
    pub tags_text: Option<String>,
    pub concurrency: usize,
    /// Only this shard's scenarios run and are reported (`--shard K/N`).
    pub shard: Option<crate::shard::Shard>,
}

/// Loads the features of each suite and checks every step against the vocabulary.
pub fn plan(
    suites: Vec<Suite>,
    tags: Option<&str>,
    concurrency: usize,
) -> Result<Plan, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let tag_op = match tags {
        None => None,
        Some(text) => match text.parse::<gherkin::tagexpr::TagOperation>() {
            Ok(op) => Some(op),
            Err(e) => {
                problems.push(Diagnostic::new(
                    "--tags",
                    format!("invalid tag expression `{text}`: {e}"),
                ));
                None
            }
        },
    };
    let catalogue = steps::compiled();
    let mut loaded = Vec::new();
    for suite in suites {
        match features::load_suite(&suite) {
            Ok(features) => {
                for f in &features {
                    problems.extend(check_steps(f, &catalogue));
                }
                loaded.push((suite, features));
            }
            Err(d) => problems.extend(d),
        }
    }
    if problems.is_empty() {
        Ok(Plan {
            suites: loaded,
            tags: tag_op,
            tags_text: tags.map(str::to_owned),
            concurrency: concurrency.max(1),
            shard: None,
        })
    } else {
        Err(problems)
    }
}

/// Every step must match exactly one step of the vocabulary.
fn check_steps(loaded: &LoadedFeature, catalogue: &[(StepDef, regex::Regex)]) -> Vec<Diagnostic> {
    let feature = &loaded.feature;
    let path = feature.path.clone().unwrap_or_default();
    let mut seen = HashSet::new();
    let mut problems = Vec::new();
    let backgrounds = feature
        .background
        .iter()
        .chain(feature.rules.iter().filter_map(|r| r.background.as_ref()));
    let all_steps = backgrounds
        .flat_map(|b| b.steps.iter())
        .chain(features::all_scenarios(feature).flat_map(|s| s.steps.iter()));
    for step in all_steps {
        let found = steps::matching(catalogue, step.ty, &step.value);
        if !seen.insert((step.position.line, step.value.clone())) {
            continue;
        }
        // Outline rows expand to new texts at the same line: point at the written line.
        let line = step.position.line;
        let written = loaded
            .source
            .lines()
            .nth(line.saturating_sub(1))
            .unwrap_or_default();
        let col = written.len() - written.trim_start().len() + 1;
        let width = written.trim().chars().count();
        let mut d = Diagnostic::new(&path, "")
            .at(line, col)
            .width(width)
            .with_source(&loaded.source);
        if found.len() == 1 {
            if let Some((message, offset)) = steps::check_arguments(found[0], &step.value) {
                // Point into the written line at the offending argument.
                let at = written
                    .find(&step.value)
                    .map_or(col, |i| written[..i].chars().count() + 1);
                d.message = "invalid FHIRPath expression".into();
                d.col = at + offset;
                d.width = 1;
                d.label = message;
                problems.push(d);
            }
            continue;
        }
        if found.is_empty() {
            d.message = format!(
                "no step matches `{} {}`",
                steps::keyword(step.ty),
                step.value
            );
            d.label = "unknown step".into();
            let same_kind: Vec<&str> = catalogue
                .iter()
                .filter(|(s, _)| s.kinds.contains(&step.ty))
                .map(|(s, _)| s.usage)
                .collect();
            let suggestions = closest(&step.value, same_kind.iter().copied());
            for s in &suggestions {
                d = d.help(format!("did you mean `{} {s}`?", steps::keyword(step.ty)));
            }
            let other_kind: Vec<StepType> = [StepType::Given, StepType::When, StepType::Then]
                .into_iter()
                .filter(|t| {
                    *t != step.ty && !steps::matching(catalogue, *t, &step.value).is_empty()
                })
                .collect();
            if let Some(t) = other_kind.first() {
                d = d.help(format!(
                    "this step exists as a `{}` step",
                    steps::keyword(*t)
                ));
            }
        } else {
            d.message = format!("step `{}` matches {} steps", step.value, found.len());
            d.label = "ambiguous step".into();
            for s in found {
                d = d.help(format!("matches `{}`", s.usage));
            }
        }
        problems.push(d);
    }
    problems
}

/// Where scenarios are sent.
pub struct RunTarget {
    pub base_url: String,
    pub counterpart: Option<String>,
}

pub struct RunSettings {
    pub context: RunContext,
    pub target: RunTarget,
    pub command_line: Vec<String>,
    /// Inputs as reports may show them (secrets masked).
    pub shown_inputs: BTreeMap<String, String>,
    /// Stops the run early, as Ctrl-C does; results so far are kept.
    pub interrupt: LocalBoxFuture<'static, ()>,
    /// Told as scenarios finish (live progress).
    pub progress: Option<Arc<dyn crate::progress::Progress>>,
}

type Results = Arc<Mutex<HashMap<String, (ScenarioResult, Vec<Exchange>)>>>;

/// What a scenario is decided to be before anything runs.
enum Decision {
    Run,
    NotApplicable(String),
    Excluded,
    /// Belongs to another shard: absent from this report.
    OtherShard,
}

/// Runs the plan and returns the finished report.
pub async fn run(plan: Plan, settings: RunSettings) -> Report {
    steps::install_panic_hook();
    let started = chrono::Utc::now();
    let clock = Instant::now();
    let ctx = Arc::new(settings.context);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut exchanges = Vec::new();

    let needs_capabilities = plan
        .suites
        .iter()
        .flat_map(|(_, fs)| fs.iter())
        .flat_map(|f| features::all_scenarios(&f.feature))
        .any(|s| s.tags.iter().any(|t| t.starts_with(CAPABILITY_TAG)));
    // Always read /metadata once: what the target declared is provenance, even when
    // no scenario depends on it. Its absence only matters to capability-tagged ones.
    // A consumer suite has no target: the system under test calls the counterparts.
    let mut interrupt = settings.interrupt;
    let mut interrupted = false;
    let (caps, metadata_exchange) = if ctx.base_url.is_empty() {
        (Err("no target".to_owned()), None)
    } else {
        // GP Connect providers reject a request without its JWT and Spine headers.
        let how = if plan
            .suites
            .iter()
            .any(|(s, _)| s.capability_request == CapabilityRequest::GpConnect)
        {
            CapabilityRequest::GpConnect
        } else {
            CapabilityRequest::Fhir
        };
        // A signal during the first read stops the run too.
        let fetch = Capabilities::fetch(&ctx, how).boxed_local();
        let (caps, exchange) = futures::select! {
            r = fetch.fuse() => r,
            _ = (&mut interrupt).fuse() => {
                interrupted = true;
                (Err("the run was interrupted".to_owned()), None)
            }
        };
        let id = exchange.as_ref().map(|e| e.id.clone());
        exchanges.extend(exchange);
        (caps, id)
    };
    let capabilities = match caps {
        Ok(c) => Some(c),
        Err(e) if needs_capabilities => {
            warnings.push(format!(
                "could not read the target's CapabilityStatement, so capability-tagged scenarios ran anyway: {e}"
            ));
            None
        }
        Err(_) => None,
    };

    let mut decisions: HashMap<String, Decision> = HashMap::new();
    let mut all_features = Vec::new();
    for (suite, loaded) in &plan.suites {
        for f in loaded {
            for (rule, scenario) in features::scenarios_with_rules(&f.feature) {
                let tags: Vec<&str> =
                    features::effective_tags(&f.feature, rule, scenario).collect();
                let key = scenario_key(&f.feature, scenario);
                let decision = if plan.shard.is_some_and(|sh| !sh.contains(&suite.id, &key)) {
                    Decision::OtherShard
                } else if plan.tags.as_ref().is_some_and(|op| !op.eval(tags.iter())) {
                    Decision::Excluded
                } else {
                    match capabilities
                        .as_ref()
                        .and_then(|c| c.missing(tags.iter().copied()))
                    {
                        Some(reason) => Decision::NotApplicable(reason),
                        None => Decision::Run,
                    }
                };
                decisions.insert(key, decision);
            }
            all_features.push(f.feature.clone());
        }
    }
    let selected: HashSet<String> = decisions
        .iter()
        .filter(|(_, d)| matches!(d, Decision::Run))
        .map(|(k, _)| k.clone())
        .collect();

    let results: Results = Arc::default();
    if let Some(p) = &settings.progress {
        p.started(selected.len());
    }
    let interrupted = interrupted || {
        let cucumber = build_cucumber(
            &ctx,
            plan.concurrency,
            results.clone(),
            settings.progress.clone(),
        );
        let run = cucumber.filter_run(all_features, move |feature, _, scenario| {
            selected.contains(&scenario_key(feature, scenario))
        });
        futures::pin_mut!(run);
        futures::select! {
            _ = run.fuse() => false,
            _ = (&mut interrupt).fuse() => true,
        }
    };
    if let Some(p) = &settings.progress {
        p.done();
    }

    let mut results = std::mem::take(&mut *results.lock().unwrap_or_else(|p| p.into_inner()));
    let mut suite_results = Vec::new();
    for (suite, loaded) in &plan.suites {
        let mut features_out = Vec::new();
        for f in loaded {
            let file = display_path(
                f.feature
                    .path
                    .as_deref()
                    .unwrap_or_else(|| std::path::Path::new("")),
            );
            let mut scenarios = Vec::new();
            for (rule, scenario) in features::scenarios_with_rules(&f.feature) {
                let key = scenario_key(&f.feature, scenario);
                let result = match (results.remove(&key), decisions.get(&key)) {
                    (_, Some(Decision::OtherShard)) => continue,
                    (Some((result, ex)), _) => {
                        exchanges.extend(ex);
                        result
                    }
                    (None, Some(Decision::NotApplicable(reason))) => unrun(
                        &f.feature,
                        rule,
                        scenario,
                        Status::NotApplicable,
                        Some(reason.clone()),
                    ),
                    (None, Some(Decision::Excluded)) => unrun(
                        &f.feature,
                        rule,
                        scenario,
                        Status::NotRun,
                        Some(format!(
                            "excluded by --tags {}",
                            plan.tags_text.as_deref().unwrap_or_default()
                        )),
                    ),
                    (None, _) => unrun(
                        &f.feature,
                        rule,
                        scenario,
                        Status::NotRun,
                        Some(
                            if interrupted {
                                "the run was interrupted first"
                            } else {
                                "did not run"
                            }
                            .into(),
                        ),
                    ),
                };
                scenarios.push(result);
            }
            features_out.push(FeatureResult {
                name: f.feature.name.clone(),
                file,
                sha256: sha256_hex(f.source.as_bytes()),
                scenarios,
            });
        }
        let requirements = suite
            .requirements
            .iter()
            .map(|r| RequirementResult {
                id: r.id.clone(),
                level: r.level,
                text: r.text.clone(),
                source: r.source.clone(),
                status: Status::NotRun,
                evidence: Vec::new(),
                scenarios: features_out
                    .iter()
                    .flat_map(|f| f.scenarios.iter())
                    .filter(|s| s.requirements.contains(&r.id))
                    .map(|s| s.id.clone())
                    .collect(),
            })
            .collect();
        suite_results.push(SuiteResult {
            id: suite.id.clone(),
            version: suite.version.clone(),
            title: suite.title.clone(),
            manifest_sha256: sha256_hex(suite.source.as_bytes()),
            packages: Vec::new(),
            requirements,
            features: features_out,
        });
    }
    exchanges.sort_by_key(|e| {
        e.id.trim_start_matches("ex-")
            .parse::<u64>()
            .unwrap_or(u64::MAX)
    });
    if !exchanges.is_empty() && exchanges.iter().all(|e| e.response.is_none()) {
        let first = exchanges
            .iter()
            .find_map(|e| e.error.clone())
            .unwrap_or_default();
        errors.push(format!(
            "the target at {} never answered: {first}",
            settings.target.base_url
        ));
    }
    if interrupted {
        errors.push(
            "the run was interrupted; scenarios that had not finished are reported as not run"
                .into(),
        );
    }
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        run: RunInfo {
            id: crate::report::new_run_id(started),
            tool: Tool::current(),
            started: started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            finished: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            duration_ms: clock.elapsed().as_secs_f64() * 1000.0,
            target: Target {
                base_url: settings.target.base_url,
                counterpart: settings.target.counterpart,
                software: capabilities.as_ref().and_then(|c| c.software.clone()),
                fhir_version: capabilities.as_ref().and_then(|c| c.fhir_version.clone()),
                metadata_exchange,
            },
            rerun: crate::report::rerun::command(&settings.command_line),
            command_line: settings.command_line,
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            inputs: settings.shown_inputs,
            tags: plan.tags_text.clone(),
            concurrency: plan.concurrency,
            interrupted,
            fail_on: Default::default(),
            shard: plan.shard.map(|s| s.to_string()),
        },
        verdict: Verdict::Incomplete,
        summary: Default::default(),
        suites: suite_results,
        exchanges,
        errors,
        warnings,
        waivers: Vec::new(),
        baseline: None,
    };
    report.finalize();
    report
}

/// Outline rows become scenarios at their own lines, so file:line is unique.
fn scenario_key(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> String {
    let path = feature
        .path
        .as_deref()
        .map(display_path)
        .unwrap_or_default();
    format!("{path}:{}", scenario.position.line)
}

fn scenario_steps<'a>(
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
    ScenarioResult {
        id: scenario_key(feature, scenario),
        name: scenario.name.clone(),
        line: scenario.position.line,
        requirements: features::requirement_tags(tags.iter().map(String::as_str)),
        tags,
        status: Status::NotRun,
        reason: None,
        waiver: None,
        duration_ms: 0.0,
        steps: Vec::new(),
    }
}

fn unrun(
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

/// Turns what the world recorded into a scenario result.
fn assemble(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
    finished: &cucumber::event::ScenarioFinished,
    world: Option<&mut AssureWorld>,
    duration_ms: f64,
) -> (ScenarioResult, Vec<Exchange>) {
    use cucumber::event::ScenarioFinished as F;
    let mut result = base_result(feature, rule, scenario);
    result.duration_ms = duration_ms;
    let (records, exchanges) = match world {
        Some(w) => (
            std::mem::take(&mut w.records),
            std::mem::take(&mut w.exchanges),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let mut records = records.into_iter().peekable();
    let mut stopped = false;
    for step in scenario_steps(feature, rule, scenario) {
        let mut out = step_result(step, Status::Skipped);
        if stopped {
            result.steps.push(out);
            continue;
        }
        match records.peek() {
            Some(r) if r.line == step.position.line => {
                let r = records.next().expect("peeked");
                out.duration_ms = r.duration_ms;
                out.exchanges = r.exchanges;
                out.status = match &r.failure {
                    None => Status::Passed,
                    // No response at all: the harness could not reach a verdict.
                    Some(_)
                        if out.exchanges.iter().any(|id| {
                            exchanges
                                .iter()
                                .any(|e| &e.id == id && e.response.is_none())
                        }) =>
                    {
                        Status::Error
                    }
                    Some(_) => Status::Failed,
                };
                out.failure = r.failure;
                stopped = out.status != Status::Passed;
            }
            _ => {
                // The step did not finish on its own: a bug in a step or a hook.
                let message = match finished {
                    F::StepFailed(_, _, err) => panic_message(err),
                    F::BeforeHookFailed(info) => {
                        format!("internal error before the scenario: {}", info_message(info))
                    }
                    _ => "the step did not run".into(),
                };
                out.status = Status::Error;
                out.failure = Some(crate::world::Failure::new(format!(
                    "internal error (please report it): {message}"
                )));
                stopped = true;
            }
        }
        result.steps.push(out);
    }
    result.status = if result.steps.iter().any(|s| s.status == Status::Error) {
        Status::Error
    } else if result.steps.iter().any(|s| s.status == Status::Failed) {
        Status::Failed
    } else {
        Status::Passed
    };
    (result, exchanges)
}

fn info_message(info: &cucumber::event::Info) -> String {
    if let Some(s) = info.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = info.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with no message".into()
    }
}

fn panic_message(err: &cucumber::event::StepError) -> String {
    match err {
        cucumber::event::StepError::Panic(info) => info_message(info),
        other => other.to_string(),
    }
}

fn build_cucumber(
    ctx: &Arc<RunContext>,
    concurrency: usize,
    results: Results,
    progress: Option<Arc<dyn crate::progress::Progress>>,
) -> cucumber::Cucumber<
    AssureWorld,
    PreParsed,
    Vec<gherkin::Feature>,
    impl cucumber::Runner<AssureWorld>,
    Quiet,
> {
    let mut runner = cucumber::runner::Basic::<AssureWorld>::default()
        .max_concurrent_scenarios(concurrency)
        .which_scenario(scenario_type);
    for (def, re) in steps::compiled() {
        for kind in def.kinds {
            runner = match kind {
                StepType::Given => runner.given(re.clone(), def.func),
                StepType::When => runner.when(re.clone(), def.func),
                StepType::Then => runner.then(re.clone(), def.func),
            };
        }
    }
    let before_ctx = ctx.clone();
    let starts: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let starts_after = starts.clone();
    let runner = runner
        .before(move |feature, _, scenario, world| {
            world.ctx = Some(before_ctx.clone());
            // Answers an earlier scenario scripted but never used are not this one's.
            for (_, counterpart) in &before_ctx.counterparts {
                counterpart.clear_scripted();
            }
            if let Ok(mut s) = starts.lock() {
                s.insert(scenario_key(feature, scenario), Instant::now());
            }
            async {}.boxed_local()
        })
        .after(move |feature, rule, scenario, finished, world| {
            let key = scenario_key(feature, scenario);
            let elapsed = starts_after
                .lock()
                .ok()
                .and_then(|mut s| s.remove(&key))
                .map_or(0.0, |t| t.elapsed().as_secs_f64() * 1000.0);
            let entry = assemble(feature, rule, scenario, finished, world, elapsed);
            if let Some(p) = &progress {
                p.finished(&entry.0);
            }
            if let Ok(mut r) = results.lock() {
                r.insert(key, entry);
            }
            async {}.boxed_local()
        });
    cucumber::Cucumber::custom(PreParsed, runner, Quiet).with_default_cli()
}

/// Scenarios tagged `@serial`, and those that wait for requests at a counterpart (a
/// journal cannot tell concurrent scenarios' requests apart), run alone.
fn scenario_type(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
) -> cucumber::runner::ScenarioType {
    let tagged = features::effective_tags(feature, rule, scenario).any(|t| t == "serial");
    let listens = scenario_steps(feature, rule, scenario)
        .iter()
        .any(|s| steps::counterpart::listens(&s.value));
    if tagged || listens {
        cucumber::runner::ScenarioType::Serial
    } else {
        cucumber::runner::ScenarioType::Concurrent
    }
}

/// Feeds cucumber the features already parsed and checked by [`plan`].
pub struct PreParsed;

impl cucumber::Parser<Vec<gherkin::Feature>> for PreParsed {
    type Cli = cucumber::cli::Empty;
    type Output =
        futures::stream::Iter<std::vec::IntoIter<cucumber::parser::Result<gherkin::Feature>>>;

    fn parse(self, input: Vec<gherkin::Feature>, _: Self::Cli) -> Self::Output {
        futures::stream::iter(input.into_iter().map(Ok).collect::<Vec<_>>())
    }
}

/// Results are gathered in the after hook; the event stream itself is not needed.
pub struct Quiet;

impl cucumber::Writer<AssureWorld> for Quiet {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(
        &mut self,
        _: cucumber::parser::Result<cucumber::Event<cucumber::event::Cucumber<AssureWorld>>>,
        _: &Self::Cli,
    ) {
    }
}

impl cucumber::writer::Normalized for Quiet {}
