//! The command line: `assure run`, `suites`, `steps`, `mock`. Each command returns an
//! exit code from [`crate::exit_codes`]; nothing here panics on user input.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use futures::FutureExt as _;

use crate::client::tls::Tls;
use crate::client::{Client, Limits};
use crate::config::{self, Config, InputValue};
use crate::counterpart::{Counterpart, StubSet};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::exit_codes;
use crate::report::{self, Format};
use crate::runner::{self, RunSettings, RunTarget};
use crate::suite::{self, Suite};
use crate::world::RunContext;

#[derive(Parser, Debug)]
#[command(name = "assure", version, about = "Conformance testing for FHIR and GP Connect APIs", long_about = None)]
pub struct Cli {
    /// Folder holding `suites/`, `features/` and `mocks/` [default: the current
    /// folder if it has `suites/`, else the ones this build ships with]
    #[arg(long, global = true, env = "ASSURE_PROJECT")]
    pub project: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the `run` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run conformance suites against a target and write the assurance report.
    Run(RunArgs),
    /// List suites, or show one suite's requirements and inputs.
    Suites {
        #[command(subcommand)]
        command: SuitesCommand,
    },
    /// List the step vocabulary with one line of help and an example each.
    Steps {
        /// Print Markdown (for docs) instead of text.
        #[arg(long)]
        markdown: bool,
    },
    /// Install, list and inspect FHIR packages in the local package cache.
    Packages(crate::packages_cmd::PackagesArgs),
    /// Evaluate a FHIRPath expression on a FHIR resource.
    Fhirpath(crate::fhirpath_cmd::FhirpathArgs),
    /// Compare, verify and merge run reports.
    Report {
        #[command(subcommand)]
        command: crate::report::command::ReportCommand,
    },
    /// Serve a counterpart stub set on loopback until Ctrl-C.
    Mock {
        /// Stub set name (a folder of `mocks/`) or a path to one.
        set: String,
        /// Port to listen on [default: any free port].
        #[arg(long)]
        port: Option<u16>,
        /// Render every response as a template, as WireMock's option of that name
        /// (also `global_response_templating = true` in the set's mock.toml).
        #[arg(long)]
        global_response_templating: bool,
    },
    /// Validate FHIR instances against base definitions and profiles.
    Validate(crate::validate_cmd::ValidateArgs),
}

#[derive(Subcommand, Debug)]
pub enum SuitesCommand {
    /// List every suite.
    List,
    /// Show a suite's features, inputs and requirement catalogue.
    Show { id: String },
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Suite to run (repeatable) [default: the default suites].
    #[arg(long = "suite", value_name = "ID")]
    pub suites: Vec<String>,
    /// Base URL of the system under test [default: the suite's embedded reference counterpart].
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// A suite input, `name=value`, or `name=env:VARIABLE` (repeatable).
    #[arg(long = "input", value_name = "NAME=VALUE")]
    pub inputs: Vec<String>,
    /// Configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only scenarios matching this tag expression, e.g. `@read and not @slow`.
    #[arg(long, value_name = "EXPR")]
    pub tags: Option<String>,
    /// Folder the run's report folder is created in [default: reports].
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Report formats to write.
    #[arg(long, value_delimiter = ',', default_value = "html,json,junit,md")]
    pub format: Vec<Format>,
    /// Scenarios run at once.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Time limit for each exchange, in seconds.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Response body size limit, in bytes.
    #[arg(long, value_name = "BYTES")]
    pub max_body: Option<u64>,
    /// Bytes of each body kept in the report's evidence [default: 262144]; the size
    /// and sha256 of the whole body are kept either way.
    #[arg(long, value_name = "BYTES")]
    pub evidence_body_limit: Option<u64>,
    /// PEM client certificate (chain) presented to the target; may hold the key too.
    #[arg(long, value_name = "FILE")]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of the client certificate (unencrypted).
    #[arg(long, value_name = "FILE")]
    pub client_key: Option<PathBuf>,
    /// PEM CA certificates to trust for the target, beside the built-in roots.
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
    /// Trust only the --ca-bundle certificates, not the built-in roots.
    #[arg(long)]
    pub ca_only: bool,
    /// A capability you offer (repeatable, or comma-separated), e.g. `structured`: the
    /// suites' other capabilities are not applicable [default: what the target's
    /// CapabilityStatements declare]. `assure suites show ID` lists them.
    #[arg(long = "capability", value_name = "NAME", value_delimiter = ',')]
    pub capabilities: Vec<String>,
    /// Create the test data a suite needs (patients...) where the target lacks it and
    /// allows create; what is created is deleted at the end where it allows delete.
    #[arg(long)]
    pub seed_data: bool,
    /// A FHIR R4 terminology server for codes the packages cannot check (SNOMED CT,
    /// dm+d, LOINC...); wins over `[terminology] url` in the configuration.
    #[arg(long = "tx", value_name = "URL")]
    pub tx: Option<String>,
    #[command(flatten)]
    pub report: crate::report::command::RunReportArgs,
}

/// Parses arguments and runs the command; returns the process exit code.
pub async fn main(args: Vec<String>) -> i32 {
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit_codes::BAD_INPUT
            } else {
                exit_codes::OK
            };
        }
    };
    // Credentials in a URL on the command line are secrets before anything is read.
    crate::redact::learn(args.iter().flat_map(|a| crate::redact::url_secrets(a)));
    crate::signals::set_mode(match cli.command {
        Command::Run(_) => crate::signals::Mode::Run,
        Command::Mock { .. } => crate::signals::Mode::Mock,
        _ => crate::signals::Mode::Exit,
    });
    let project = project_dir(cli.project.as_deref());
    crate::diagnostic::set_project_root(&project);
    match cli.command {
        Command::Run(run) => run_command(&project, run, args).await,
        Command::Suites { command } => suites_command(&project, command),
        Command::Steps { markdown } => {
            print!("{}", steps_text(markdown));
            exit_codes::OK
        }
        Command::Mock {
            set,
            port,
            global_response_templating,
        } => mock_command(&project, &set, port, global_response_templating).await,
        Command::Fhirpath(args) => crate::fhirpath_cmd::run(args),
        Command::Packages(args) => crate::packages_cmd::run(args).await,
        Command::Report { command } => crate::report::command::main(command),
        Command::Validate(args) => crate::validate_cmd::run(args),
    }
}

fn project_dir(given: Option<&Path>) -> PathBuf {
    if let Some(p) = given {
        return p.to_path_buf();
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    if cwd.join("suites").is_dir() {
        return cwd;
    }
    match crate::embedded::project_dir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("warning: could not unpack the suites this build ships with: {e}");
            cwd
        }
    }
}

fn report_problems(problems: &Diagnostics) -> i32 {
    eprintln!("{problems}");
    let n = problems.0.len();
    eprintln!(
        "error: {n} problem{} in input files; nothing was run",
        if n == 1 { "" } else { "s" }
    );
    exit_codes::BAD_INPUT
}

async fn run_command(project: &Path, args: RunArgs, command_line: Vec<String>) -> i32 {
    let config_path = args
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("assure.toml"));
    let config = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(c) => c,
            Err(d) => return report_problems(&d.into()),
        },
        None => Config::default(),
    };
    let post = match crate::report::command::PostRun::prepare(&args.report) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let suites_dir = project.join("suites");
    let all = match suite::discover(&suites_dir) {
        Ok(all) => all,
        Err(d) => return report_problems(&d),
    };
    let wanted = if args.suites.is_empty() {
        config.suites.clone()
    } else {
        args.suites.clone()
    };
    let suites = match suite::select(&all, &wanted, &suites_dir) {
        Ok(s) if s.is_empty() => {
            eprintln!("error: no suite selected: no suite is marked default; pass --suite ID (see `assure suites list`)");
            return exit_codes::BAD_INPUT;
        }
        Ok(s) => s,
        Err(d) => return report_problems(&d),
    };
    let inputs = match config::resolve_inputs(&suites, &config, &config_path, &args.inputs) {
        Ok(i) => i,
        Err(d) => return report_problems(&d),
    };
    let mut secrets = inputs.secret_values();
    let mut default_headers = Vec::new();
    if let Some(var) = &config.auth.bearer_token_env {
        match std::env::var(var) {
            Ok(token) => {
                secrets.push(token.clone());
                default_headers.push(("Authorization".to_owned(), format!("Bearer {token}")));
            }
            Err(_) => {
                return report_problems(
                    &Diagnostic::new(
                        &config_path,
                        format!("[auth] bearer_token_env names `{var}`, which is not set"),
                    )
                    .into(),
                )
            }
        }
    }
    for (name, value) in &config.headers {
        match value {
            InputValue::Literal(v) => default_headers.push((name.clone(), v.clone())),
            InputValue::Env { env } => match std::env::var(env) {
                Ok(v) => {
                    secrets.push(v.clone());
                    default_headers.push((name.clone(), v));
                }
                Err(_) => {
                    return report_problems(
                        &Diagnostic::new(
                            &config_path,
                            format!("header `{name}` reads `{env}`, which is not set"),
                        )
                        .into(),
                    )
                }
            },
        }
    }
    let tls_flags = config::TlsFlags {
        client_cert: args.client_cert.clone(),
        client_key: args.client_key.clone(),
        ca_bundle: args.ca_bundle.clone(),
        ca_only: args.ca_only,
    };
    let tls = match Tls::load(&config.tls_options(&config_path, &tls_flags)) {
        Ok(t) => t,
        Err(e) => {
            let origin = e
                .path()
                .map_or_else(|| config_path.clone(), Path::to_path_buf);
            return report_problems(&Diagnostic::new(&origin, e.to_string()).into());
        }
    };
    secrets.extend(tls.secrets().iter().cloned());
    let declared_capabilities = if args.capabilities.is_empty() {
        config.capabilities.offered.clone()
    } else {
        args.capabilities.clone()
    };
    if let Err(d) = check_capabilities(&declared_capabilities, &suites, &config_path) {
        return report_problems(&d.into());
    }
    if let Err(d) = check_capabilities_input(&suites, &inputs.values) {
        return report_problems(&d.into());
    }
    let concurrency = args.concurrency.or(config.concurrency).unwrap_or(8);
    let mut plan = match runner::plan(suites.clone(), args.tags.as_deref(), concurrency) {
        Ok(p) => p,
        Err(d) => return report_problems(&Diagnostics(d)),
    };
    plan.shard = post.shard;

    let limits = Limits {
        timeout: Duration::from_secs(args.timeout.or(config.timeout).unwrap_or(30).max(1)),
        max_body_bytes: args
            .max_body
            .or(config.max_body)
            .unwrap_or(Limits::default().max_body_bytes),
        evidence_body_bytes: args
            .evidence_body_limit
            .or(config.evidence_body_limit)
            .unwrap_or(Limits::default().evidence_body_bytes),
    };
    let target_url = args.target.clone().or(config.target.clone());
    if let Some(url) = &target_url {
        secrets.extend(crate::redact::url_secrets(url));
    }
    secrets.extend(post.secrets());
    // From here on every report file, stdout and stderr know every secret of the run.
    crate::redact::learn(tls.secret_bytes());
    let redactor = crate::redact::learn(&secrets);
    // A secret given literally on the command line must not reach the report.
    let command_line: Vec<String> = command_line.iter().map(|a| redactor.text(a)).collect();
    let client = match Client::new(limits, redactor.clone(), &tls) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: failed to build the HTTP client: {e}");
            return exit_codes::INCOMPLETE;
        }
    };

    let (target, _guard) = match target_url {
        Some(url) => match validate_url(&url) {
            Ok(()) => (
                RunTarget {
                    base_url: url,
                    counterpart: None,
                },
                None,
            ),
            Err(e) => {
                eprintln!("error: --target {e}");
                return exit_codes::BAD_INPUT;
            }
        },
        // A consumer suite: the system under test calls the counterparts; no target.
        None if suites
            .iter()
            .all(|s| s.reference.is_none() && !s.counterparts.is_empty()) =>
        {
            (
                RunTarget {
                    base_url: String::new(),
                    counterpart: None,
                },
                None,
            )
        }
        None => {
            let Some(name) = suites.iter().find_map(|s| s.reference.clone()) else {
                eprintln!("error: no --target given and the selected suites name no reference counterpart to run against");
                return exit_codes::BAD_INPUT;
            };
            let set = match StubSet::load_named(&project.join("mocks"), &name) {
                Ok(set) => set,
                Err(d) => return report_problems(&d),
            };
            match Counterpart::start(&set, None).await {
                Ok(server) => {
                    let base_url = server.base_url().to_owned();
                    eprintln!("no --target given: running against the embedded `{name}` counterpart at {base_url}");
                    (
                        RunTarget {
                            base_url,
                            counterpart: Some(name),
                        },
                        Some(server),
                    )
                }
                Err(e) => {
                    eprintln!("error: failed to {}", error_chain(&e));
                    return exit_codes::INCOMPLETE;
                }
            }
        }
    };

    let terminology =
        match crate::terminology::start(&config.terminology, &config_path, args.tx.as_deref()) {
            Ok(t) => t.map(|t| t as std::sync::Arc<dyn assure_fhir::terminology::Terminology>),
            Err(message) => {
                eprintln!("{message}");
                return exit_codes::BAD_INPUT;
            }
        };
    // A signal while packages install (from a registry) stops that, not the report.
    let prepared = async {
        ensure_packages(&suites).await?;
        start_counterparts(project, &suites).await
    };
    let counterparts = futures::select! {
        c = prepared.boxed_local().fuse() => match c {
            Ok(c) => c,
            Err(code) => return code,
        },
        _ = crate::signals::interrupted().boxed().fuse() => Vec::new(),
    };
    let files_dir = suites
        .first()
        .map(|s| s.dir.clone())
        .unwrap_or_else(|| project.to_path_buf());
    let context = RunContext {
        client,
        base_url: target.base_url.clone(),
        inputs: inputs.values.clone(),
        files_dir,
        exchange_counter: AtomicU64::new(0),
        default_headers,
        packages: suites
            .iter()
            .flat_map(|s| s.packages.iter().cloned())
            .collect(),
        fhir: Default::default(),
        validator: Default::default(),
        terminology,
        counterparts,
        sink: Default::default(),
        ledger: Default::default(),
        run_nhs_number: crate::world::random_nhs_number(),
    };
    // Reports and stderr show the target without its credentials.
    let target = RunTarget {
        base_url: redactor.url(&target.base_url),
        counterpart: target.counterpart,
    };
    let base_dir = args
        .report_dir
        .clone()
        .or(config.report_dir.clone())
        .unwrap_or_else(|| PathBuf::from("reports"));
    let total: usize = plan
        .suites
        .iter()
        .map(|(_, fs)| {
            fs.iter()
                .map(|f| crate::features::all_scenarios(&f.feature).count())
                .sum::<usize>()
        })
        .sum();
    eprintln!(
        "running {total} scenarios from {} against {} ({} at a time)",
        suites
            .iter()
            .map(|s| format!("{} {}", s.id, s.version))
            .collect::<Vec<_>>()
            .join(", "),
        if target.base_url.is_empty() {
            "the consumer under test (no target)"
        } else {
            &target.base_url
        },
        plan.concurrency
    );
    let settings = RunSettings {
        context,
        target,
        command_line,
        shown_inputs: inputs.shown(),
        interrupt: async {
            crate::signals::interrupted().await;
        }
        .boxed_local(),
        progress: Some(std::sync::Arc::new(crate::progress::Stderr::new())),
        declared_capabilities,
        seed_data: args.seed_data,
    };
    let mut report = runner::run(plan, settings).await;
    post.finish(&mut report);
    let mut write_failed = false;
    let dir = match report::create_run_dir(&base_dir, &mut report.run.id) {
        Ok(dir) => dir,
        Err(e) => {
            write_failed = true;
            eprintln!(
                "error: cannot create a run folder in {}: {e}",
                base_dir.display()
            );
            base_dir.join(&report.run.id)
        }
    };
    for (format, result) in report::write_all(&report, &dir, &args.format) {
        match result {
            Ok(path) => eprintln!("wrote {}", crate::diagnostic::display_path(&path)),
            Err(e) => {
                write_failed = true;
                eprintln!(
                    "error: failed to write the {} report in {}: {e}",
                    format.file_name(),
                    dir.display()
                );
            }
        }
    }
    if let Err(e) = post.seal(&dir, &report) {
        write_failed = true;
        eprintln!("error: {e}");
    }
    print_summary(&report);
    if let (true, Some(n)) = (report.run.interrupted, crate::signals::received()) {
        eprintln!(
            "the run was stopped by {}; its report is complete for what ran",
            crate::signals::name(n)
        );
    }
    // The report is sealed: a signal received ends the process now with its code, and
    // one that comes later ends it at once (shutting counterparts down must not
    // outlive a Ctrl-C).
    crate::signals::set_mode(crate::signals::Mode::Exit);
    if write_failed {
        return exit_codes::INCOMPLETE;
    }
    crate::report::command::exit_code(&report)
}

/// The input a suite reads its capabilities from (a consumer's clinical areas) names
/// only capabilities of that suite, or `none`: a misspelt one would quietly make that
/// capability's scenarios not applicable.
fn check_capabilities_input(
    suites: &[Suite],
    inputs: &std::collections::BTreeMap<String, String>,
) -> Result<(), Diagnostic> {
    for suite in suites {
        let Some(input) = &suite.capabilities_input else {
            continue;
        };
        let Some(value) = inputs.get(input) else {
            continue;
        };
        let known: Vec<&str> = suite.capabilities.keys().map(String::as_str).collect();
        for name in value
            .split([',', ' '])
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            if name == "none" || known.contains(&name) {
                continue;
            }
            let mut d = Diagnostic::new(
                format!("--input {input}"),
                format!(
                    "`{name}` in input `{input}` is not a capability of suite `{}` ({}, or `none`)",
                    suite.id,
                    known.join(", ")
                ),
            );
            if let Some(best) = crate::diagnostic::closest(name, known.iter().copied()).first() {
                d = d.help(format!("did you mean `{best}`?"));
            }
            return Err(d);
        }
    }
    Ok(())
}

/// Every declared capability must be one a selected suite knows.
fn check_capabilities(
    declared: &[String],
    suites: &[Suite],
    config_path: &Path,
) -> Result<(), Diagnostic> {
    let known: Vec<&str> = suites
        .iter()
        .flat_map(|s| s.capabilities.keys().map(String::as_str))
        .collect();
    for name in declared {
        if known.contains(&name.as_str()) {
            continue;
        }
        let mut d = Diagnostic::new(
            config_path,
            format!(
                "--capability `{name}` is not a capability of the selected suites ({})",
                if known.is_empty() {
                    "they declare none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        );
        if let Some(best) = crate::diagnostic::closest(name, known.iter().copied()).first() {
            d = d.help(format!("did you mean `{best}`?"));
        }
        return Err(d);
    }
    Ok(())
}

/// Makes sure the FHIR packages the suites validate against are in the package
/// cache, installing missing ones from the registry as every FHIR tool does; a
/// package that cannot be had stops the run before any request (exit 3).
async fn ensure_packages(suites: &[Suite]) -> Result<(), i32> {
    let specs: Vec<(&str, &String)> = suites
        .iter()
        .flat_map(|s| s.packages.iter().map(move |p| (s.id.as_str(), p)))
        .collect();
    if specs.is_empty() {
        return Ok(());
    }
    let Some(cache) = assure_fhir::package::PackageCache::from_env() else {
        eprintln!("error: no FHIR package cache: set $FHIR_PACKAGE_CACHE or $HOME");
        return Err(exit_codes::INCOMPLETE);
    };
    let registry = std::env::var("FHIR_PACKAGE_REGISTRY")
        .unwrap_or_else(|_| crate::packages_cmd::DEFAULT_REGISTRY.to_owned());
    for (suite, spec) in specs {
        let Some((id, version)) = spec.split_once('#') else {
            eprintln!("error: suite `{suite}` names the package `{spec}`, which is not id#version");
            return Err(exit_codes::BAD_INPUT);
        };
        if cache.find(id, version).is_some() {
            continue;
        }
        eprintln!("suite `{suite}` needs {spec}, which is not in the package cache; installing it from {registry}");
        let registries = [crate::registry::Registry::new(
            registry.clone(),
            reqwest::Client::new(),
        )];
        if let Err(e) =
            crate::registry::ensure_installed(&registries, &cache, id, version, false).await
        {
            eprintln!(
                "error: suite `{suite}` needs the FHIR package {spec}: {}\n  = help: install it with `assure packages install {spec}` (from a registry or a .tgz), or, for a folder or .tgz of resources without package.json, `assure packages install <folder-or-tgz> --as {spec}`",
                error_chain(&e)
            );
            return Err(exit_codes::INCOMPLETE);
        }
    }
    Ok(())
}

/// Starts the counterparts the suites name (each once), for the system under test
/// to call; load problems exit 2, a server that cannot start exits 3.
async fn start_counterparts(
    project: &Path,
    suites: &[Suite],
) -> Result<Vec<(String, std::sync::Arc<Counterpart>)>, i32> {
    let mut started: Vec<(String, std::sync::Arc<Counterpart>)> = Vec::new();
    for name in suites.iter().flat_map(|s| s.counterparts.iter()) {
        if started.iter().any(|(n, _)| n == name) {
            continue;
        }
        let set =
            StubSet::load_named(&project.join("mocks"), name).map_err(|d| report_problems(&d))?;
        let server = Counterpart::start(&set, None).await.map_err(|e| {
            eprintln!("error: failed to {}", error_chain(&e));
            exit_codes::INCOMPLETE
        })?;
        eprintln!("counterpart `{name}` listening at {}", server.base_url());
        started.push((name.clone(), std::sync::Arc::new(server)));
    }
    Ok(started)
}

fn validate_url(url: &str) -> Result<(), String> {
    match reqwest::Url::parse(url) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(()),
        Ok(u) => Err(format!(
            "`{url}` must be an http or https URL, not {}",
            u.scheme()
        )),
        Err(e) => Err(format!("`{url}` is not a URL: {e}")),
    }
}

fn print_summary(report: &crate::report::model::Report) {
    use crate::report::model::Status;
    for (_, feature, sc) in report.scenarios() {
        if matches!(sc.status, Status::Failed | Status::Error) {
            eprintln!("{:>8}  {}  {}", sc.status.label(), sc.id, sc.name);
            if let Some(step) = sc
                .steps
                .iter()
                .find(|s| matches!(s.status, Status::Failed | Status::Error))
            {
                if let Some(reason) = &step.reason {
                    eprintln!("          {}:{}: {reason}", feature.file, step.line);
                }
                if let Some(f) = &step.failure {
                    let detail = match (&f.expected, &f.actual) {
                        (Some(e), Some(a)) => format!(" (expected {e}, actual {a})"),
                        _ => String::new(),
                    };
                    // A target's words: shown escaped.
                    eprintln!(
                        "          {}:{}: {}",
                        feature.file,
                        step.line,
                        crate::diagnostic::safe(&format!("{}{detail}", f.message))
                    );
                }
            }
        }
    }
    let s = &report.summary.scenarios;
    let r = &report.summary.requirements;
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    crate::report::command::print_waiver_notes(report);
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    eprintln!(
        "{:?}: {} scenarios: {} passed, {} failed, {} error, {} inconclusive, {} informational, {} waived, {} not applicable, {} not run; requirements: {} passed, {} failed, {} inconclusive, {} informational of {}",
        report.verdict, s.total, s.passed, s.failed, s.error, s.inconclusive, s.informational, s.waived, s.not_applicable, s.not_run, r.passed, r.failed + r.error, r.inconclusive, r.informational, r.total
    );
}

fn suites_command(project: &Path, command: SuitesCommand) -> i32 {
    let suites_dir = project.join("suites");
    let all = match suite::discover(&suites_dir) {
        Ok(all) => all,
        Err(d) => return report_problems(&d),
    };
    match command {
        SuitesCommand::List => {
            for s in &all {
                let default = if s.default { " (default)" } else { "" };
                println!("{:<28} {:<8} {}{default}", s.id, s.version, s.title);
            }
            exit_codes::OK
        }
        SuitesCommand::Show { id } => {
            match suite::select(&all, std::slice::from_ref(&id), &suites_dir) {
                Ok(s) => {
                    print!("{}", describe(&s[0]));
                    exit_codes::OK
                }
                Err(d) => report_problems(&d),
            }
        }
    }
}

fn describe(s: &Suite) -> String {
    let mut out = format!("{} {}: {}\n", s.id, s.version, s.title);
    if !s.description.is_empty() {
        out.push_str(&format!("\n{}\n", s.description.trim()));
    }
    out.push_str("\nfeatures:\n");
    for f in &s.feature_files {
        out.push_str(&format!("  {}\n", crate::diagnostic::display_path(f)));
    }
    if let Some(r) = &s.reference {
        out.push_str(&format!("\nreference counterpart: {r}\n"));
    }
    out.push_str("\ninputs:\n");
    for (name, decl) in &s.inputs {
        let default = decl
            .default
            .as_deref()
            .map(|d| format!(" [default: {d}]"))
            .unwrap_or_default();
        let secret = if decl.secret { " (secret)" } else { "" };
        out.push_str(&format!(
            "  {name}{secret}{default}  {}\n",
            decl.description
        ));
    }
    if !s.capabilities.is_empty() {
        out.push_str("\ncapabilities (--capability NAME; otherwise what the target declares):\n");
        for (name, decl) in &s.capabilities {
            let requires = if decl.requires.is_empty() {
                "always offered unless another is declared".to_owned()
            } else {
                format!(
                    "offered when the CapabilityStatement declares {}",
                    decl.requires.join(", ")
                )
            };
            out.push_str(&format!("  {name:<14} {}: {requires}\n", decl.title));
        }
        if let Some(input) = &s.capabilities_input {
            out.push_str(&format!("  (input `{input}` lists the ones in use)\n"));
        }
    }
    out.push_str(&format!("\nrequirements ({}):\n", s.requirements.len()));
    for r in &s.requirements {
        out.push_str(&format!(
            "  {:<14} {:<6}  {}  [{}]\n",
            r.id, r.level, r.text, r.source
        ));
        if !r.quote.is_empty() {
            out.push_str(&format!("  {:<14} {:<6}  “{}”\n", "", "", r.quote));
        }
        if !r.depends_on.is_empty() {
            out.push_str(&format!(
                "  {:<14} {:<6}  depends on {}\n",
                "",
                "",
                r.depends_on.join(", ")
            ));
        }
    }
    out
}

/// The step vocabulary as text or Markdown.
pub fn steps_text(markdown: bool) -> String {
    let mut out = String::new();
    if markdown {
        out.push_str("# Step reference\n\nGenerated by `assure steps --markdown`. Quoted arguments expand `{variables}` from suite inputs and captures.\n");
    }
    for def in crate::steps::catalogue() {
        let kinds: Vec<&str> = def
            .kinds
            .iter()
            .map(|k| crate::steps::keyword(*k))
            .collect();
        if markdown {
            out.push_str(&format!(
                "\n## `{}`\n\n{} *({})*\n\n```gherkin\n{}\n```\n",
                def.usage,
                def.help,
                kinds.join(", "),
                def.example
            ));
        } else {
            out.push_str(&format!(
                "{} {}\n    {}\n    e.g. {}\n\n",
                kinds.join("/"),
                def.usage,
                def.help,
                def.example.replace('\n', "\n         ")
            ));
        }
    }
    out
}

async fn mock_command(project: &Path, name: &str, port: Option<u16>, templated: bool) -> i32 {
    let as_path = Path::new(name);
    let loaded = if as_path.join("mappings").is_dir() {
        StubSet::load_with(as_path, templated)
    } else {
        StubSet::load_named_with(&project.join("mocks"), name, templated)
    };
    let set = match loaded {
        Ok(set) => set,
        Err(d) => return report_problems(&d),
    };
    let addr = port.map(|p| std::net::SocketAddr::from(([127, 0, 0, 1], p)));
    match crate::counterpart::serve_until_ctrl_c(&set, addr).await {
        Ok(()) => exit_codes::OK,
        Err(e) => {
            eprintln!("error: failed to {}", error_chain(&e));
            exit_codes::INCOMPLETE
        }
    }
}

/// An error and its causes, as one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(&format!(": {s}"));
        source = s.source();
    }
    out
}
