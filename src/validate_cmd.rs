//! `assure validate`: checks FHIR instances (JSON, XML, NDJSON, Bundles) against
//! base definitions and profiles from packages, and prints findings as text, JSON or
//! an OperationOutcome.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::{mpsc, Arc, Condvar, Mutex};

use assure_fhir::model::Pos;
use assure_fhir::outcome::{operation_outcome, Issue, IssueCode, Severity};
use assure_fhir::package::{FhirRelease, LoadOptions, PackageCache, PackageSet, PackageSource};
use assure_fhir::validate::{BundleProfile, Validator, ValidatorOptions};
use clap::{Args, ValueEnum};

use crate::exit_codes;
use crate::validate_input::{self, Body, Source, Unit};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Outcome,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Files or folders to validate (`.json`, `.xml`, `.ndjson`); `-` reads stdin.
    #[arg(required = true, value_name = "FILE")]
    pub inputs: Vec<String>,
    /// Also validate against this profile (canonical URL; repeatable).
    #[arg(long = "profile", value_name = "CANONICAL")]
    pub profiles: Vec<String>,
    /// A package: `id#version` from the cache, a `.tgz`, or a folder (repeatable).
    #[arg(long = "package", value_name = "PACKAGE")]
    pub packages: Vec<String>,
    /// FHIR release of the instances: 4.0 or 3.0 [default: newest loaded].
    #[arg(long, value_name = "VERSION")]
    pub fhir_version: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Report definitions that cannot be found as errors, not warnings.
    #[arg(long)]
    pub strict_definitions: bool,
    /// How to report extensions whose definitions are not loaded.
    #[arg(long, value_enum, default_value = "warning")]
    pub unknown_extensions: UnknownExtensions,
    /// HTML tags in strings, and script, event handlers or URLs that run code in
    /// markdown and narrative, are errors.
    #[arg(long)]
    pub security_checks: bool,
    /// HTML tags in markdown are errors.
    #[arg(long)]
    pub no_html_in_markdown: bool,
    /// URLs and references under example.org, example.com and example.net are errors.
    #[arg(long)]
    pub no_example_urls: bool,
    /// Resolve literal references (contained resources, Bundle entries, Parameters,
    /// the other inputs) and check each target's type and profiles.
    #[arg(long)]
    pub check_references: bool,
    /// With --check-references: a `Type/id` reference that does not resolve is taken
    /// to exist and to be valid.
    #[arg(long)]
    pub assume_valid_rest_references: bool,
    /// Extensions whose url is under this domain (a host, or a URL prefix) need no
    /// definition (repeatable).
    #[arg(long = "allow-extension-domain", value_name = "DOMAIN")]
    pub allow_extension_domains: Vec<String>,
    /// Validate the Bundle entries RULE picks against PROFILE: `Type`, `Type:N` (the
    /// N-th entry of that type, from 0) or `N` (the N-th entry) (repeatable).
    #[arg(long = "bundle-profile", value_name = "RULE=PROFILE")]
    pub bundle_profiles: Vec<String>,
    /// The most any one document may hold (a file, stdin, one NDJSON line): e.g.
    /// 64MiB [default: 1GiB].
    #[arg(long, value_name = "SIZE", value_parser = validate_input::parse_size)]
    pub max_input: Option<u64>,
    #[command(flatten)]
    pub tx: crate::terminology::TxArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnknownExtensions {
    /// A `not checked` warning (an error with `--strict-definitions`).
    Warning,
    /// An error, as the HL7 Java validator reports them.
    Error,
}

/// Runs `assure validate`; returns the exit code.
pub fn run(args: ValidateArgs) -> i32 {
    let release = match args.fhir_version.as_deref() {
        None => None,
        Some(v) if v.starts_with("4.0") || v == "4" || v == "R4" => {
            Some(FhirRelease::from_version("4.0.1"))
        }
        Some(v) if v.starts_with("3.0") || v == "3" || v == "STU3" => {
            Some(FhirRelease::from_version("3.0.2"))
        }
        Some(v) => {
            eprintln!("error: unsupported --fhir-version `{v}` (use 4.0 or 3.0)");
            return exit_codes::BAD_INPUT;
        }
    };
    let set = match load_packages(&args.packages) {
        Ok(s) => Arc::new(s),
        Err(message) => {
            eprintln!("error: {message}");
            return exit_codes::BAD_INPUT;
        }
    };
    let mut bundle_profiles = Vec::new();
    for rule in &args.bundle_profiles {
        match BundleProfile::parse(rule) {
            Ok(r) => bundle_profiles.push(r),
            Err(why) => {
                eprintln!("error: --bundle-profile {why}");
                return exit_codes::BAD_INPUT;
            }
        }
    }
    if args.assume_valid_rest_references && !args.check_references {
        eprintln!(
            "warning: --assume-valid-rest-references changes nothing without --check-references"
        );
    }
    let tx = match args.tx.start() {
        Ok(tx) => tx,
        Err(message) => {
            eprintln!("{message}");
            return exit_codes::BAD_INPUT;
        }
    };
    let mut validator = Validator::new(
        set.clone(),
        ValidatorOptions {
            release,
            strict_definitions: args.strict_definitions,
            unknown_extensions_are_errors: args.unknown_extensions == UnknownExtensions::Error,
            security_checks: args.security_checks,
            no_html_in_markdown: args.no_html_in_markdown,
            no_example_urls: args.no_example_urls,
            check_references: args.check_references,
            assume_valid_rest_references: args.assume_valid_rest_references,
            allowed_extension_domains: args.allow_extension_domains.clone(),
            bundle_profiles,
        },
    );
    if let Some(server) = &tx {
        validator = validator.with_terminology_server(server.clone());
    }
    if validator.plan("Resource").is_none() {
        eprintln!(
            "error: no FHIR core definitions are loaded: add --package hl7.fhir.r4.core#4.0.1 \
             (or hl7.fhir.core#3.0.1, or a package that depends on one)"
        );
        return exit_codes::BAD_INPUT;
    }
    let rule_profiles = validator.options().bundle_profiles.iter();
    for (flag, p) in args
        .profiles
        .iter()
        .map(|p| ("--profile", p))
        .chain(rule_profiles.map(|r| ("--bundle-profile", &r.profile)))
    {
        if let Some(problem) = validator.plan_problem(p) {
            eprintln!("{}", unknown_profile(&set, flag, p, &problem));
            return exit_codes::BAD_INPUT;
        }
    }
    let max_input = args.max_input.unwrap_or(validate_input::DEFAULT_MAX_INPUT);
    let sources = match validate_input::expand(&args.inputs, max_input) {
        Ok(s) => s,
        Err(message) => {
            eprintln!("error: {message}");
            return exit_codes::BAD_INPUT;
        }
    };
    let validator = if args.check_references {
        let targets = reference_targets(&set, &validator, &sources, max_input);
        validator.with_resources(targets)
    } else {
        validator
    };
    let profiles: Vec<&str> = args.profiles.iter().map(String::as_str).collect();
    let names: Vec<String> = sources.iter().map(Source::name).collect();
    let stdout = std::io::stdout();
    let mut sink = Sink::new(args.format, std::io::BufWriter::new(stdout.lock()), &names);
    sink.start();
    stream(&validator, &set, &sources, &profiles, max_input, &mut sink);
    let refused = sink.refused;
    let errors = sink.finish();
    // The command ends the process: taking apart every definition parsed for the
    // run would cost a tenth of a small run, and the operating system frees it all.
    std::mem::forget(validator);
    std::mem::forget(set);
    if let Some(server) = &tx {
        crate::terminology::report_problems(server);
    }
    if refused > 0 {
        eprintln!("error: {refused} document(s) larger than --max-input ({max_input} bytes) were not validated");
        exit_codes::BAD_INPUT
    } else if errors > 0 {
        exit_codes::CONFORMANCE_FAILURE
    } else {
        exit_codes::OK
    }
}

/// The resources of every input (stdin aside), for references to resolve to: read
/// and parsed once more before validation, and held until the run ends.
fn reference_targets(
    set: &PackageSet,
    v: &Validator,
    sources: &[Source],
    max_input: u64,
) -> Vec<Arc<assure_fhir::Node>> {
    let mut out = Vec::new();
    let files: Vec<Source> = sources
        .iter()
        .filter(|s| matches!(s, Source::File(_)))
        .cloned()
        .collect();
    validate_input::read_units(&files, max_input, &|_| {}, &mut |unit| {
        if let Body::Resource(text) = &unit.body {
            if let Ok(node) = parse(set, v, text) {
                out.push(Arc::new(node));
            }
        }
    });
    out
}

/// A resource from JSON or XML text.
fn parse(set: &PackageSet, v: &Validator, text: &str) -> Result<assure_fhir::Node, (String, Pos)> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('<') {
        assure_fhir::xml::parse_resource(text, &set.types(v.release()))
            .map_err(|e| (e.message, e.pos))
    } else {
        assure_fhir::parse_json(text).map_err(|e| (e.message, e.pos))
    }
}

/// Why a `--profile` cannot be used; when it is not loaded, the closest canonical
/// URLs that are (never the URL itself).
fn unknown_profile(set: &PackageSet, flag: &str, url: &str, problem: &str) -> String {
    let mut out = format!("error: {flag} {url}: {problem}");
    if set.resolve(url).is_some() {
        return out;
    }
    let wanted = url.split('|').next().unwrap_or(url);
    let urls: Vec<&str> = set
        .resources()
        .filter(|r| r.resource_type() == "StructureDefinition")
        .filter_map(|r| r.url())
        .filter(|u| *u != wanted)
        .collect();
    let close = crate::diagnostic::closest(url, urls.iter().copied());
    if let Some(best) = close.first() {
        out += &format!("\n  = help: did you mean {best}?");
    } else {
        out += "\n  = help: load the package that defines it with --package";
    }
    out
}

fn load_packages(specs: &[String]) -> Result<PackageSet, String> {
    let mut sources = Vec::new();
    for s in specs {
        sources.push(PackageSource::parse(s).map_err(|e| format!("--package {s}: {e}"))?);
    }
    let options = LoadOptions {
        cache: PackageCache::from_env(),
        allow_missing_dependencies: true,
    };
    PackageSet::load(&sources, &options).map_err(|e| format!("failed to load packages: {e}"))
}

/// Units waiting, being checked or waiting to be written, at most.
const UNITS_IN_FLIGHT_PER_THREAD: usize = 4;
/// Small units travel to the workers in batches: a channel message and a thread
/// wake-up per unit cost about as much as checking a small resource.
const BATCH_UNITS: usize = 16;
const BATCH_BYTES: u64 = 1 << 20;
/// Bytes of text in flight, at most (a larger unit still goes, alone).
const BYTES_IN_FLIGHT: u64 = 256 << 20;
/// Worker stacks: the instance tree may be 512 levels deep (the JSON reader's limit).
const WORKER_STACK: usize = 32 << 20;

/// A unit's findings, rendered for the chosen format by the worker that checked it.
struct Done {
    seq: usize,
    file: usize,
    size: u64,
    errors: usize,
    warnings: usize,
    /// Findings about what could not be checked (definitions not loaded, codes that
    /// need a terminology server), whatever their severity.
    not_checked: usize,
    /// Text: the rendered findings; JSON and OperationOutcome: `items` JSON objects
    /// separated by `,\n`. In chunks: a million findings are hundreds of megabytes,
    /// which one growing string would hold twice while it reallocates.
    rendered: Vec<String>,
    items: usize,
    /// Refused for its size.
    refused: bool,
}

/// Reads units on one thread, checks them on the others, and writes results in input
/// order as they complete. What is in flight is bounded, so memory follows the
/// largest unit, not the input.
fn stream(
    v: &Validator,
    set: &PackageSet,
    sources: &[Source],
    profiles: &[&str],
    max_input: u64,
    sink: &mut Sink<impl Write>,
) {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let gate = Gate::new(
        threads * UNITS_IN_FLIGHT_PER_THREAD * BATCH_UNITS,
        BYTES_IN_FLIGHT,
    );
    let (unit_tx, unit_rx) = mpsc::sync_channel::<Vec<(usize, Unit)>>(threads);
    let unit_rx = Mutex::new(unit_rx);
    let (done_tx, done_rx) = mpsc::channel::<Vec<Done>>();
    let format = sink.format;
    std::thread::scope(|scope| {
        let gate = &gate;
        scope.spawn(move || {
            let pending: RefCell<(Vec<(usize, Unit)>, u64)> = RefCell::default();
            let flush = || {
                let batch = std::mem::take(&mut *pending.borrow_mut()).0;
                if !batch.is_empty() {
                    // The receivers only go away when the writer is gone.
                    let _ = unit_tx.send(batch);
                }
            };
            let mut seq = 0;
            validate_input::read_units(
                sources,
                max_input,
                &|bytes| {
                    // What waits in a batch is admitted: send it before waiting for
                    // room, or the reader would wait on itself.
                    if gate.would_wait(bytes) {
                        flush();
                    }
                    gate.admit(bytes)
                },
                &mut |unit| {
                    // Standard input is read to its end before it is checked: what
                    // comes before it is not held back meanwhile.
                    let before_stdin = matches!(sources.get(unit.file + 1), Some(Source::Stdin));
                    let full = {
                        let mut p = pending.borrow_mut();
                        p.1 += unit.size();
                        p.0.push((seq, unit));
                        p.0.len() >= BATCH_UNITS || p.1 >= BATCH_BYTES
                    };
                    seq += 1;
                    if full || before_stdin {
                        flush();
                    }
                },
            );
            flush();
        });
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            let unit_rx = &unit_rx;
            let worker = move || loop {
                let next = unit_rx.lock().ok().and_then(|rx| rx.recv().ok());
                let Some(batch) = next else { break };
                let mut results = Vec::with_capacity(batch.len());
                for (seq, unit) in batch {
                    results.push(check(v, set, sources, profiles, format, seq, unit));
                }
                if done_tx.send(results).is_err() {
                    break;
                }
            };
            let spawned = std::thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, worker);
            if let Err(e) = spawned {
                eprintln!("warning: could not start a validation thread: {e}");
            }
        }
        drop(done_tx);
        let mut pending = BTreeMap::new();
        let mut next = 0;
        for done in done_rx.into_iter().flatten() {
            pending.insert(done.seq, done);
            while let Some(d) = pending.remove(&next) {
                sink.write(&d);
                gate.release(d.size);
                next += 1;
            }
        }
    });
}

/// Checks one unit and renders its findings.
fn check(
    v: &Validator,
    set: &PackageSet,
    sources: &[Source],
    profiles: &[&str],
    format: OutputFormat,
    seq: usize,
    unit: Unit,
) -> Done {
    let issues = check_unit(v, set, &unit, profiles);
    let name = sources[unit.file].name();
    let errors = issues.iter().filter(|i| i.severity.is_error()).count();
    let warnings = issues
        .iter()
        .filter(|i| i.severity == Severity::Warning)
        .count();
    let not_checked = issues
        .iter()
        .filter(|i| i.message.starts_with("not checked"))
        .count();
    let items = issues.len();
    Done {
        seq,
        file: unit.file,
        size: unit.size(),
        errors,
        warnings,
        not_checked,
        rendered: render(format, &name, &unit, issues),
        items,
        refused: unit.refused,
    }
}

/// Admission of units into the pipeline: at most `max_units` and `max_bytes` in
/// flight, except that one unit always goes.
struct Gate {
    state: Mutex<(usize, u64)>,
    freed: Condvar,
    max_units: usize,
    max_bytes: u64,
}

impl Gate {
    fn new(max_units: usize, max_bytes: u64) -> Gate {
        Gate {
            state: Mutex::new((0, 0)),
            freed: Condvar::new(),
            max_units,
            max_bytes,
        }
    }

    fn admit(&self, bytes: u64) {
        let Ok(mut s) = self.state.lock() else { return };
        while s.0 > 0 && (s.0 >= self.max_units || s.1 + bytes > self.max_bytes) {
            s = match self.freed.wait(s) {
                Ok(s) => s,
                Err(_) => return,
            };
        }
        s.0 += 1;
        s.1 += bytes;
    }

    /// Whether [`Gate::admit`] would wait for room now.
    fn would_wait(&self, bytes: u64) -> bool {
        self.state
            .lock()
            .is_ok_and(|s| s.0 > 0 && (s.0 >= self.max_units || s.1 + bytes > self.max_bytes))
    }

    fn release(&self, bytes: u64) {
        if let Ok(mut s) = self.state.lock() {
            s.0 = s.0.saturating_sub(1);
            s.1 = s.1.saturating_sub(bytes);
        }
        self.freed.notify_all();
    }
}

/// The findings of one unit, with file line numbers. A panic in the validator is a
/// bug: it is reported as an internal error of this resource and the run goes on.
fn check_unit(v: &Validator, set: &PackageSet, unit: &Unit, profiles: &[&str]) -> Vec<Issue> {
    let mut issues = unit.notes.clone();
    let text = match &unit.body {
        Body::Resource(text) => text,
        Body::Nothing => return issues,
        Body::Unreadable(why) => {
            issues.push(Issue::new(Severity::Fatal, IssueCode::Processing, why));
            return issues;
        }
    };
    let checked =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match parse(set, v, text) {
            Ok(node) => v.validate(&node, profiles),
            Err((message, pos)) => vec![syntax_issue(message, pos)],
        }));
    let mut found = checked.unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        vec![Issue::new(
            Severity::Fatal,
            IssueCode::Processing,
            format!(
                "internal error: the validator failed on this resource ({what}); please report it"
            ),
        )]
    });
    for i in &mut found {
        if i.line > 0 {
            i.line += unit.first_line - 1;
        }
    }
    issues.extend(found);
    issues
}

fn syntax_issue(message: String, pos: Pos) -> Issue {
    let mut i = Issue::new(Severity::Fatal, IssueCode::Structure, message);
    i.line = pos.line;
    i.col = pos.col;
    i
}

/// Consumes the issues, so that each is freed as soon as it is rendered.
fn render(format: OutputFormat, file: &str, unit: &Unit, issues: Vec<Issue>) -> Vec<String> {
    const CHUNK: usize = 1 << 20;
    let mut chunks = Vec::new();
    let mut out = String::new();
    match format {
        OutputFormat::Json | OutputFormat::Outcome => {
            for (n, i) in issues.into_iter().enumerate() {
                if n > 0 {
                    out += ",\n";
                }
                let item = if format == OutputFormat::Json {
                    i.to_json()
                } else {
                    operation_outcome(std::slice::from_ref(&i))["issue"][0].take()
                };
                out += &item.to_string();
                if out.len() > CHUNK {
                    chunks.push(std::mem::replace(
                        &mut out,
                        String::with_capacity(CHUNK + 4096),
                    ));
                }
            }
        }
        OutputFormat::Text => {
            let text = match &unit.body {
                Body::Resource(t) => t.as_str(),
                _ => "",
            };
            let wanted: Vec<(u32, u32)> = issues
                .iter()
                .filter(|i| i.line > 0)
                .map(|i| (i.line, i.col))
                .collect();
            let snippets = snippets(text, unit.first_line, &wanted);
            for i in issues {
                out += &render_text(file, snippets.get(&(i.line, i.col)), &i);
                if out.len() > CHUNK {
                    chunks.push(std::mem::replace(
                        &mut out,
                        String::with_capacity(CHUNK + 4096),
                    ));
                }
            }
        }
    }
    chunks.push(out);
    chunks
}

/// Writes results in one of the output formats as they come, and counts them.
struct Sink<'n, W: Write> {
    format: OutputFormat,
    out: W,
    names: &'n [String],
    /// The file whose entry is open (JSON), and whether an item was written in it.
    open: Option<usize>,
    first_item: bool,
    files: usize,
    errors: usize,
    warnings: usize,
    not_checked: usize,
    /// Documents refused for their size.
    refused: usize,
    /// Output failed (a closed pipe): keep counting, stop writing.
    broken: bool,
}

impl<'n, W: Write> Sink<'n, W> {
    fn new(format: OutputFormat, out: W, names: &'n [String]) -> Self {
        Sink {
            format,
            out,
            names,
            open: None,
            first_item: true,
            files: 0,
            errors: 0,
            warnings: 0,
            not_checked: 0,
            refused: 0,
            broken: false,
        }
    }

    fn put(&mut self, text: &str) {
        if !self.broken && self.out.write_all(text.as_bytes()).is_err() {
            self.broken = true;
        }
    }

    fn start(&mut self) {
        match self.format {
            OutputFormat::Json => self.put("{\"files\":["),
            OutputFormat::Outcome => self.put("{\"resourceType\":\"OperationOutcome\",\"issue\":["),
            OutputFormat::Text => {}
        }
    }

    fn write(&mut self, d: &Done) {
        self.errors += d.errors;
        self.warnings += d.warnings;
        self.not_checked += d.not_checked;
        self.refused += usize::from(d.refused);
        if self.open != Some(d.file) {
            if self.open.is_some() && self.format == OutputFormat::Json {
                self.put("]},");
            }
            self.files += 1;
            self.open = Some(d.file);
            if self.format == OutputFormat::Json {
                let name = serde_json::Value::from(self.names[d.file].as_str()).to_string();
                self.put(&format!("\n{{\"file\":{name},\"issues\":["));
                self.first_item = true;
            }
        }
        if d.items > 0 {
            if self.format != OutputFormat::Text {
                self.put(if self.first_item { "\n" } else { ",\n" });
                self.first_item = false;
            }
            for chunk in &d.rendered {
                self.put(chunk);
            }
        }
    }

    /// Closes the document; returns the number of errors.
    fn finish(mut self) -> usize {
        match self.format {
            OutputFormat::Json => {
                if self.open.is_some() {
                    self.put("]}");
                }
                self.put("\n]}\n");
            }
            OutputFormat::Outcome => {
                if self.first_item {
                    let none = operation_outcome(&[])["issue"][0].to_string();
                    self.put(&format!("\n{none}"));
                }
                self.put("\n]}\n");
            }
            OutputFormat::Text => {
                let summary = format!(
                    "{} file(s): {} error(s), {} warning(s), {} not checked\n",
                    self.files, self.errors, self.warnings, self.not_checked
                );
                self.put(&summary);
            }
        }
        if !self.broken {
            let _ = self.out.flush();
        }
        self.errors
    }
}

/// Source lines to show under issues, found in one pass over the text: for each
/// wanted `(line, col)`, the (clipped) line and the caret's column in it.
fn snippets<'t>(
    text: &'t str,
    first_line: u32,
    wanted: &[(u32, u32)],
) -> HashMap<(u32, u32), Snippet<'t>> {
    let mut wanted: Vec<(u32, u32)> = wanted.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut out = HashMap::new();
    let mut want = wanted.iter().peekable();
    let mut line_no = first_line;
    let mut rest = text;
    while want.peek().is_some() {
        let (line, next) = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut cols = Vec::new();
        while let Some(&&(l, c)) = want.peek() {
            if l > line_no {
                break;
            }
            if l == line_no {
                cols.push(c);
            }
            want.next();
        }
        if !cols.is_empty() {
            // Byte offsets of the wanted columns (1-based characters), in one walk.
            let mut offsets = Vec::with_capacity(cols.len());
            let mut chars = line.char_indices().map(|(b, _)| b).chain([line.len()]);
            let mut col = 1;
            let mut at = chars.next().unwrap_or(line.len());
            for &c in &cols {
                while col < c {
                    match chars.next() {
                        Some(b) => at = b,
                        None => break,
                    }
                    col += 1;
                }
                offsets.push(at);
            }
            for (c, off) in cols.into_iter().zip(offsets) {
                out.insert((line_no, c), clip(line, off));
            }
        }
        match next {
            Some(n) => {
                rest = n;
                line_no += 1;
            }
            None => break,
        }
    }
    out
}

/// Characters shown either side of the caret on a long line (a minified file is
/// one line of any length).
const CLIP_BEFORE: usize = 60;
const CLIP_AFTER: usize = 60;

/// A source line, or a window of it, borrowed from the text, and the caret's column.
#[derive(Debug, PartialEq)]
struct Snippet<'t> {
    text: &'t str,
    /// Text was cut before / after the window.
    cut_before: bool,
    cut_after: bool,
    caret: usize,
}

impl std::fmt::Display for Snippet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lead = if self.cut_before { "…" } else { "" };
        let tail = if self.cut_after { "…" } else { "" };
        write!(f, "{lead}{}{tail}", self.text)
    }
}

fn clip(line: &str, at: usize) -> Snippet<'_> {
    if line.len() <= CLIP_BEFORE + CLIP_AFTER + 20 {
        return Snippet {
            text: line,
            cut_before: false,
            cut_after: false,
            caret: line[..at].chars().count(),
        };
    }
    let mut start = at.saturating_sub(CLIP_BEFORE * 2);
    while !line.is_char_boundary(start) {
        start += 1;
    }
    // Keep at most CLIP_BEFORE characters before the caret.
    let before: Vec<usize> = line[start..at].char_indices().map(|(b, _)| b).collect();
    if before.len() > CLIP_BEFORE {
        start += before[before.len() - CLIP_BEFORE];
    }
    let end = line[at..]
        .char_indices()
        .nth(CLIP_AFTER)
        .map_or(line.len(), |(b, _)| at + b);
    Snippet {
        text: &line[start..end],
        cut_before: start > 0,
        cut_after: end < line.len(),
        caret: usize::from(start > 0) + line[start..at].chars().count(),
    }
}

/// rustc-style: severity and message, `file:line:col`, the line, a caret, and where
/// in the instance and profile the finding comes from.
fn render_text(file: &str, snippet: Option<&Snippet<'_>>, issue: &Issue) -> String {
    let mut out = format!(
        "{}[{}]: {}\n",
        issue.severity,
        issue.code.code(),
        issue.message
    );
    let width = issue.line.to_string().len();
    let pad = " ".repeat(width);
    if issue.line > 0 {
        out += &format!("{pad}--> {file}:{}:{}\n", issue.line, issue.col);
        if let Some(src) = snippet {
            let caret = " ".repeat(src.caret);
            out += &format!("{pad} |\n{} | {src}\n{pad} | {caret}^\n", issue.line);
        }
    } else {
        out += &format!("{pad}--> {file}\n");
    }
    if !issue.expression.is_empty() {
        out += &format!("{pad} = at {}\n", issue.expression);
    }
    if let Some(p) = &issue.profile {
        out += &format!("{pad} = profile: {p}\n");
    }
    if let Some(e) = &issue.element_id {
        out += &format!("{pad} = element: {e}\n");
    }
    out + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_find_lines_and_clip_long_ones() {
        let text = "{\n  \"a\": tru\n}";
        let got = snippets(text, 1, &[(2, 8), (3, 1)]);
        assert_eq!(got[&(2, 8)].to_string(), "  \"a\": tru");
        assert_eq!(got[&(2, 8)].caret, 7);
        assert_eq!((got[&(3, 1)].text, got[&(3, 1)].caret), ("}", 0));
        // NDJSON: the text starts on line 5 of its file.
        assert_eq!(snippets("x", 5, &[(5, 1)])[&(5, 1)].text, "x");

        let long = format!("{}é{}", "a".repeat(1000), "b".repeat(1000));
        let got = snippets(&long, 1, &[(1, 1001)]);
        let shown = got[&(1, 1001)].to_string();
        assert_eq!(shown.chars().nth(got[&(1, 1001)].caret), Some('é'));
        assert!(shown.starts_with('…') && shown.ends_with('…'));
        assert!(shown.chars().count() < 130, "{shown}");
    }

    #[test]
    fn gate_says_when_admitting_would_wait() {
        let gate = Gate::new(2, 100);
        assert!(!gate.would_wait(1_000), "the first unit always goes");
        gate.admit(60);
        assert!(!gate.would_wait(40));
        assert!(gate.would_wait(41), "over the byte budget");
        gate.admit(10);
        assert!(gate.would_wait(1), "over the unit budget");
        gate.release(60);
        assert!(!gate.would_wait(90));
    }

    #[test]
    fn gate_lets_one_unit_through_even_when_large() {
        let gate = Gate::new(2, 10);
        gate.admit(100);
        gate.release(100);
        gate.admit(4);
        gate.admit(4);
        assert_eq!(*gate.state.lock().unwrap(), (2, 8));
    }
}
