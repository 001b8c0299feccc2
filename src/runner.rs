//! The run loop: checks every scenario's steps against the vocabulary, decides which
//! scenarios apply to the target, runs them concurrently with cucumber, and gathers
//! what each did into the report model. Ctrl-C stops the run but keeps the results.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cucumber::gherkin::{self, StepType};
use cucumber::tag::Ext as _;
use futures::future::LocalBoxFuture;
use futures::FutureExt as _;

use crate::capability::{Applicability, Capabilities};
use crate::diagnostic::{closest_of, display_path, Diagnostic};
use crate::evidence::sha256_hex;
use crate::features::{self, LoadedFeature, CAPABILITY_TAG};
use crate::report::collect::{salvage, scenario_key, unrun, Collected, Collector};
use crate::report::model::{
    FeatureResult, Report, RequirementResult, RunInfo, Status, SuiteResult, Target, Tool, Verdict,
    SCHEMA_VERSION,
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
    // Lines are found once per file, and a diagnostic is only built for a problem.
    let lines: Vec<&str> = loaded.source.lines().collect();
    for step in all_steps {
        if !seen.insert((step.position.line, step.value.clone())) {
            continue;
        }
        let found = steps::matching(catalogue, step.ty, &step.value);
        let argument_problem = match found.as_slice() {
            [one] => match steps::check_arguments(one, &step.value) {
                None => continue,
                problem => problem,
            },
            _ => None,
        };
        // Outline rows expand to new texts at the same line: point at the written line.
        let line = step.position.line;
        let written = lines
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or_default();
        let col = written.len() - written.trim_start().len() + 1;
        let width = written.trim().chars().count();
        let mut d = Diagnostic::new(&path, "")
            .at(line, col)
            .width(width)
            .with_source(&loaded.source);
        if found.len() == 1 {
            if let Some((message, offset)) = argument_problem {
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
            // A typo is usually nearer the example (`... is 200`) than the usage
            // (`... is <code>`), so both are compared.
            let same_kind: Vec<(&str, Vec<&str>)> = catalogue
                .iter()
                .filter(|(s, _)| s.kinds.contains(&step.ty))
                .map(|(s, _)| {
                    let example = s
                        .example
                        .split_once(' ')
                        .map_or(s.example, |(_, rest)| rest);
                    (s.usage, vec![example])
                })
                .collect();
            let suggestions = closest_of(&step.value, same_kind);
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
    /// Capabilities the supplier declared it offers (`--capability`): the suites'
    /// other capabilities are not applicable.
    pub declared_capabilities: Vec<String>,
    /// Create missing test data from the suites' seed bodies (`--seed-data`).
    pub seed_data: bool,
}

/// What a scenario is decided to be before anything runs.
enum Decision {
    Run,
    NotApplicable(String),
    Excluded,
    /// Needs an input whose data the target does not have.
    MissingData(String),
    /// Belongs to another shard: absent from this report.
    OtherShard,
}

/// What the run learnt before any scenario: the target's declarations, and what went
/// wrong on the way (warnings, run errors) with the exchanges made.
#[derive(Default)]
struct Gathered {
    capabilities: Option<Capabilities>,
    metadata_exchange: Option<String>,
    exchanges: Vec<crate::evidence::Exchange>,
    errors: Vec<String>,
    warnings: Vec<String>,
}

/// Runs the plan and returns the finished report.
pub async fn run(plan: Plan, settings: RunSettings) -> Report {
    steps::install_panic_hook();
    let started = chrono::Utc::now();
    let clock = Instant::now();
    let mut context = settings.context;
    let mut interrupt = settings.interrupt;
    // A signal before any scenario (during the first /metadata read, or while test
    // data is checked) stops the run too; what was read so far is kept.
    let mut interrupted_early = false;
    let mut gathered = futures::select! {
        g = read_capabilities(&plan, &context).boxed_local().fuse() => g,
        _ = (&mut interrupt).fuse() => {
            interrupted_early = true;
            Gathered::default()
        }
    };
    let setup = if interrupted_early {
        crate::test_data::Setup::default()
    } else {
        let prepare = prepare_data(
            &plan,
            &mut context,
            gathered.capabilities.as_ref(),
            settings.seed_data,
            &settings.shown_inputs,
        )
        .boxed_local();
        futures::select! {
            s = prepare.fuse() => s,
            _ = (&mut interrupt).fuse() => {
                interrupted_early = true;
                crate::test_data::Setup::default()
            }
        }
    };
    gathered.exchanges.extend(setup.exchanges.iter().cloned());
    gathered.warnings.extend(setup.doubts());
    for (input, why) in setup.unusable() {
        gathered.errors.push(format!(
            "setup: {why} (the scenarios that use `{input}` did not run)"
        ));
    }
    let ctx = Arc::new(context);
    load_fhir_definitions(&plan, &ctx).await;
    let decisions = decide(
        &plan,
        &ctx,
        &gathered,
        &settings.declared_capabilities,
        &setup,
    );
    let (mut results, interrupted) = if interrupted_early {
        (HashMap::new(), true)
    } else {
        execute(&plan, &ctx, &decisions, interrupt, settings.progress).await
    };
    let deletes = |t: &str| {
        gathered
            .capabilities
            .as_ref()
            .is_none_or(|c| c.declares(&format!("{t}.delete")).is_ok())
    };
    let created = crate::test_data::clean_up(&ctx, deletes, &mut gathered.exchanges).await;
    let suites = gather(
        &plan,
        &ctx,
        &decisions,
        &mut results,
        interrupted,
        &mut gathered.exchanges,
    );
    let Gathered {
        capabilities,
        metadata_exchange,
        mut exchanges,
        mut errors,
        warnings,
    } = gathered;
    // Whatever else was captured (a scenario cut short) is kept too.
    exchanges.extend(ctx.sink.drain_exchanges().into_iter().map(|(_, e)| e));
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
    } else if !suites.is_empty() && nothing_tested(&suites) {
        // A verdict over no executed check would be a pass on nothing.
        errors.push(
            "no scenario ran to a verdict (every one was not applicable, excluded or not run): nothing was tested".into(),
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
            fail_on_inconclusive: false,
            shard: plan.shard.map(|s| s.to_string()),
        },
        verdict: Verdict::Incomplete,
        summary: Default::default(),
        suites,
        exchanges,
        errors,
        warnings,
        waivers: Vec::new(),
        baseline: None,
        setup: setup.checks,
        created,
    };
    report.finalize();
    report
}

/// Checks (and with `--seed-data`, creates) the server data the inputs name.
async fn prepare_data(
    plan: &Plan,
    context: &mut RunContext,
    capabilities: Option<&Capabilities>,
    seed: bool,
    shown: &BTreeMap<String, String>,
) -> crate::test_data::Setup {
    let suites: Vec<&Suite> = plan.suites.iter().map(|(s, _)| s).collect();
    let mut inputs = std::mem::take(&mut context.inputs);
    let setup =
        crate::test_data::prepare(&suites, context, capabilities, &mut inputs, seed, shown).await;
    context.inputs = inputs;
    setup
}

/// Loads the FHIR packages (and the validator) the scenarios will need on the blocking
/// pool before they start, so that no scenario stalls the executor the others share
/// while a package set is read.
async fn load_fhir_definitions(plan: &Plan, ctx: &Arc<RunContext>) {
    let texts = || {
        plan.suites
            .iter()
            .flat_map(|(_, fs)| fs.iter())
            .flat_map(|f| f.source.lines())
            .map(str::trim_start)
    };
    let validates = texts().any(|l| l.contains(" conforms to "));
    let reads_fhir = validates
        || plan.suites.iter().any(|(s, _)| !s.packages.is_empty())
        || texts().any(|l| {
            ["the FHIRPath ", "every \"", "the test data has "]
                .iter()
                .any(|p| {
                    l.split_once(' ')
                        .is_some_and(|(_, rest)| rest.starts_with(p))
                })
        });
    if !reads_fhir {
        return;
    }
    let ctx = ctx.clone();
    let _ = tokio::task::spawn_blocking(move || {
        if validates {
            ctx.validator();
        } else {
            ctx.fhir();
        }
    })
    .await;
}

/// Whether no scenario of the run passed, failed, erred or was inconclusive.
fn nothing_tested(suites: &[SuiteResult]) -> bool {
    suites
        .iter()
        .flat_map(|s| s.features.iter().flat_map(|f| f.scenarios.iter()))
        .all(|sc| {
            matches!(
                sc.status,
                Status::NotApplicable | Status::NotRun | Status::Skipped
            )
        })
}

/// Reads the target's `/metadata` once (what it declares is provenance even when no
/// scenario depends on it), then the CapabilityStatements the suites name for their
/// capabilities' own endpoints, merged. A consumer suite has no target.
async fn read_capabilities(plan: &Plan, ctx: &RunContext) -> Gathered {
    let mut gathered = Gathered::default();
    if ctx.base_url.is_empty() {
        return gathered;
    }
    let needs_capabilities = plan
        .suites
        .iter()
        .flat_map(|(_, fs)| fs.iter())
        .flat_map(|f| features::all_scenarios(&f.feature))
        .any(|s| s.tags.iter().any(|t| t.starts_with(CAPABILITY_TAG)));
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
    let (caps, exchange) = Capabilities::fetch(ctx, &ctx.base_url, how, None).await;
    gathered.metadata_exchange = exchange.as_ref().map(|e| e.id.clone());
    gathered.exchanges.extend(exchange);
    let mut caps = match caps {
        Ok(c) => c,
        Err(e) => {
            if needs_capabilities {
                gathered.warnings.push(format!(
                    "could not read the target's CapabilityStatement, so capability-tagged scenarios ran anyway: {e}"
                ));
            }
            return gathered;
        }
    };
    let mut seen = vec![ctx.base_url.trim_end_matches('/').to_owned()];
    for (suite, _) in &plan.suites {
        for source in &suite.capability_statements {
            let base = match crate::test_data::expand(&source.base, &ctx.inputs) {
                Ok(base) => resolve(&ctx.base_url, &base),
                Err(e) => {
                    gathered.warnings.push(format!("{}: {e}", suite.id));
                    continue;
                }
            };
            if seen.contains(&base) {
                continue;
            }
            seen.push(base.clone());
            let interaction = source
                .interaction
                .as_deref()
                .and_then(crate::client::gpconnect::interaction);
            let (more, exchange) =
                Capabilities::fetch(ctx, &base, suite.capability_request, interaction).await;
            gathered.exchanges.extend(exchange);
            match more {
                Ok(more) => caps.merge(more),
                Err(e) => caps.unreadable.push(e),
            }
        }
    }
    gathered.capabilities = Some(caps);
    gathered
}

/// An absolute URL as is; a path under the target's base.
fn resolve(base_url: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        return path.trim_end_matches('/').to_owned();
    }
    let base = base_url.trim_end_matches('/');
    let path = path.trim_matches('/');
    if path.is_empty() {
        base.to_owned()
    } else {
        format!("{base}/{path}")
    }
}

/// Which scenarios run, which are not applicable (and why), which are left out.
fn decide(
    plan: &Plan,
    ctx: &RunContext,
    gathered: &Gathered,
    declared: &[String],
    setup: &crate::test_data::Setup,
) -> HashMap<String, Decision> {
    let unusable = setup.unusable();
    let mut decisions = HashMap::new();
    for (suite, loaded) in &plan.suites {
        let applicability = Applicability {
            caps: gathered.capabilities.as_ref(),
            declared_areas: &suite.capabilities,
            offered: offered(suite, ctx, declared),
        };
        for f in loaded {
            for (rule, scenario) in features::scenarios_with_rules(&f.feature) {
                let tags: Vec<&str> =
                    features::effective_tags(&f.feature, rule, scenario).collect();
                let key = scenario_key(&f.feature, scenario);
                let decision = if plan.shard.is_some_and(|sh| !sh.contains(&suite.id, &key)) {
                    Decision::OtherShard
                } else if plan.tags.as_ref().is_some_and(|op| !op.eval(tags.iter())) {
                    Decision::Excluded
                } else if let Some(reason) = applicability.missing(tags.iter().copied()) {
                    Decision::NotApplicable(reason)
                } else if let Some(reason) =
                    missing_data(&f.feature, rule, scenario, &suite.dir, &unusable)
                {
                    Decision::MissingData(reason)
                } else {
                    Decision::Run
                };
                decisions.insert(key, decision);
            }
        }
    }
    decisions
}

/// Why a scenario cannot run: it uses an input whose data the target lacks.
fn missing_data(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
    files_dir: &std::path::Path,
    unusable: &BTreeMap<String, String>,
) -> Option<String> {
    if unusable.is_empty() {
        return None;
    }
    let texts: Vec<String> = crate::report::collect::scenario_steps(feature, rule, scenario)
        .iter()
        .flat_map(|s| {
            std::iter::once(s.value.clone())
                .chain(s.docstring.clone())
                .chain(
                    s.table
                        .iter()
                        .flat_map(|t| t.rows.iter().flatten().cloned()),
                )
        })
        .collect();
    crate::test_data::inputs_used(&texts, files_dir)
        .into_iter()
        .find_map(|name| {
            unusable
                .get(&name)
                .map(|why| format!("needs test data: {why}"))
        })
}

/// The capabilities of `suite` the supplier declared: by `--capability` (those of this
/// suite), else by the suite's capabilities input; `None`: let the target's
/// CapabilityStatements tell.
fn offered(
    suite: &Suite,
    ctx: &RunContext,
    declared: &[String],
) -> Option<(BTreeSet<String>, String)> {
    let mine: BTreeSet<String> = declared
        .iter()
        .filter(|d| suite.capabilities.contains_key(*d))
        .cloned()
        .collect();
    if !mine.is_empty() {
        let how = declared
            .iter()
            .map(|d| format!("--capability {d}"))
            .collect::<Vec<_>>()
            .join(" ");
        return Some((mine, how));
    }
    let input = suite.capabilities_input.as_ref()?;
    let value = ctx.inputs.get(input)?;
    let listed: BTreeSet<String> = value
        .split([',', ' '])
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    (!listed.is_empty()).then(|| (listed, format!("input {input} = {value}")))
}

/// Runs the scenarios decided to run, concurrently, until they finish or the run is
/// interrupted; the collector's results, and whether it was interrupted.
async fn execute(
    plan: &Plan,
    ctx: &Arc<RunContext>,
    decisions: &HashMap<String, Decision>,
    interrupt: LocalBoxFuture<'static, ()>,
    progress: Option<Arc<dyn crate::progress::Progress>>,
) -> (HashMap<String, Finished>, bool) {
    let selected: HashSet<String> = decisions
        .iter()
        .filter(|(_, d)| matches!(d, Decision::Run))
        .map(|(k, _)| k.clone())
        .collect();
    let all_features: Vec<gherkin::Feature> = plan
        .suites
        .iter()
        .flat_map(|(_, fs)| fs.iter().map(|f| f.feature.clone()))
        .collect();
    let results: Arc<Mutex<Collected>> = Arc::default();
    if let Some(p) = &progress {
        p.started(selected.len());
    }
    let interrupted = {
        let collector = Collector::new(ctx.sink.clone(), results.clone(), progress.clone());
        let cucumber = build_cucumber(ctx, plan.concurrency, collector);
        let run = cucumber.filter_run(all_features, move |feature, _, scenario| {
            selected.contains(&scenario_key(feature, scenario))
        });
        futures::pin_mut!(run);
        let mut interrupt = interrupt;
        futures::select! {
            _ = run.fuse() => false,
            _ = (&mut interrupt).fuse() => true,
        }
    };
    if let Some(p) = &progress {
        p.done();
    }
    let finished = std::mem::take(&mut results.lock().unwrap_or_else(|p| p.into_inner()).finished);
    (finished, interrupted)
}

type Finished = (
    crate::report::model::ScenarioResult,
    Vec<crate::evidence::Exchange>,
);

/// Every scenario of every suite in the report's shape: what ran (or what an
/// interruption left of it), and those decided before the run.
fn gather(
    plan: &Plan,
    ctx: &RunContext,
    decisions: &HashMap<String, Decision>,
    results: &mut HashMap<String, Finished>,
    interrupted: bool,
    exchanges: &mut Vec<crate::evidence::Exchange>,
) -> Vec<SuiteResult> {
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
                let finished = results
                    .remove(&key)
                    .or_else(|| salvage(&f.feature, rule, scenario, &ctx.sink));
                let unrun = |status: Status, reason: String| {
                    unrun(&f.feature, rule, scenario, status, Some(reason))
                };
                let result = match (finished, decisions.get(&key)) {
                    (_, Some(Decision::OtherShard)) => continue,
                    (Some((result, ex)), _) => {
                        exchanges.extend(ex);
                        result
                    }
                    (None, Some(Decision::NotApplicable(reason))) => {
                        unrun(Status::NotApplicable, reason.clone())
                    }
                    (None, Some(Decision::MissingData(reason))) => {
                        unrun(Status::NotRun, reason.clone())
                    }
                    (None, Some(Decision::Excluded)) => unrun(
                        Status::NotRun,
                        format!(
                            "excluded by --tags {}",
                            plan.tags_text.as_deref().unwrap_or_default()
                        ),
                    ),
                    (None, _) if interrupted => {
                        unrun(Status::NotRun, "the run was interrupted first".into())
                    }
                    (None, _) => unrun(Status::NotRun, "did not run".into()),
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
        suite_results.push(SuiteResult {
            id: suite.id.clone(),
            version: suite.version.clone(),
            title: suite.title.clone(),
            manifest_sha256: sha256_hex(suite.source.as_bytes()),
            packages: Vec::new(),
            requirements: requirements(suite, &features_out),
            features: features_out,
        });
    }
    suite_results
}

/// The suite's requirement catalogue, each with the scenarios that trace to it;
/// statuses are settled by `Report::finalize`.
fn requirements(suite: &Suite, features: &[FeatureResult]) -> Vec<RequirementResult> {
    suite
        .requirements
        .iter()
        .map(|r| RequirementResult {
            id: r.id.clone(),
            level: r.level,
            text: r.text.clone(),
            source: r.source.clone(),
            quote: r.quote.clone(),
            depends_on: r.depends_on.clone(),
            reason: None,
            status: Status::NotRun,
            evidence: Vec::new(),
            scenarios: features
                .iter()
                .flat_map(|f| f.scenarios.iter())
                .filter(|s| s.requirements.contains(&r.id))
                .map(|s| s.id.clone())
                .collect(),
        })
        .collect()
}

fn build_cucumber(
    ctx: &Arc<RunContext>,
    concurrency: usize,
    collector: Collector,
) -> cucumber::Cucumber<
    AssureWorld,
    PreParsed,
    Vec<gherkin::Feature>,
    impl cucumber::Runner<AssureWorld>,
    Collector,
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
    let runner = runner.before(move |feature, _, scenario, world| {
        world.ctx = Some(before_ctx.clone());
        world.scenario = scenario_key(feature, scenario);
        // Answers an earlier scenario scripted but never used are not this one's.
        for (_, counterpart) in &before_ctx.counterparts {
            counterpart.clear_scripted();
        }
        async {}.boxed_local()
    });
    cucumber::Cucumber::custom(PreParsed, runner, collector).with_default_cli()
}

/// Scenarios tagged `@serial`, and those that wait for requests at a counterpart (a
/// journal cannot tell concurrent scenarios' requests apart), run alone.
fn scenario_type(
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
) -> cucumber::runner::ScenarioType {
    let tagged = features::effective_tags(feature, rule, scenario).any(|t| t == "serial");
    let listens = crate::report::collect::scenario_steps(feature, rule, scenario)
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
