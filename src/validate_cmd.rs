//! `assure validate`: checks FHIR instances (JSON, XML, NDJSON, Bundles) against
//! base definitions and profiles from packages, and prints findings as text, JSON or
//! an OperationOutcome.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use assure_fhir::model::{Kind, Node, Pos};
use assure_fhir::outcome::{operation_outcome, Issue, IssueCode, Severity};
use assure_fhir::package::{FhirRelease, LoadOptions, PackageCache, PackageSet, PackageSource};
use assure_fhir::validate::{Validator, ValidatorOptions};
use clap::{Args, ValueEnum};
use serde_json::json;

use crate::exit_codes;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnknownExtensions {
    /// A `not checked` warning (an error with `--strict-definitions`).
    Warning,
    /// An error, as the HL7 Java validator reports them.
    Error,
}

/// One input file's text and where it came from.
struct Input {
    name: String,
    text: String,
    /// Findings about the file itself (its encoding).
    notes: Vec<Issue>,
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
    let validator = Validator::new(
        set.clone(),
        ValidatorOptions {
            release,
            strict_definitions: args.strict_definitions,
            unknown_extensions_are_errors: args.unknown_extensions == UnknownExtensions::Error,
        },
    );
    for p in &args.profiles {
        if validator.plan(p).is_none() {
            eprintln!("error: profile {p} is not in the loaded packages");
            return exit_codes::BAD_INPUT;
        }
    }
    let inputs = match read_inputs(&args.inputs) {
        Ok(i) => i,
        Err(message) => {
            eprintln!("error: {message}");
            return exit_codes::BAD_INPUT;
        }
    };
    let profiles: Vec<&str> = args.profiles.iter().map(String::as_str).collect();
    let results = validate_all(&validator, &set, &inputs, &profiles);
    let any_error = results.iter().flatten().any(|i| i.severity.is_error());
    match args.format {
        OutputFormat::Json => {
            let files: Vec<_> = inputs
                .iter()
                .zip(&results)
                .map(|(input, issues)| {
                    json!({"file": input.name, "issues": issues.iter().map(Issue::to_json).collect::<Vec<_>>()})
                })
                .collect();
            println!("{}", json!({ "files": files }));
        }
        OutputFormat::Outcome => {
            let all: Vec<Issue> = results.iter().flatten().cloned().collect();
            println!("{:#}", operation_outcome(&all));
        }
        OutputFormat::Text => {
            for (input, issues) in inputs.iter().zip(&results) {
                for issue in issues {
                    print!("{}", render_text(&input.name, &input.text, issue));
                }
            }
            let errors = results
                .iter()
                .flatten()
                .filter(|i| i.severity.is_error())
                .count();
            let warnings = results
                .iter()
                .flatten()
                .filter(|i| i.severity == Severity::Warning)
                .count();
            println!(
                "{} file(s): {errors} error(s), {warnings} warning(s)",
                inputs.len()
            );
        }
    }
    if any_error {
        exit_codes::CONFORMANCE_FAILURE
    } else {
        exit_codes::OK
    }
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

fn read_inputs(names: &[String]) -> Result<Vec<Input>, String> {
    let mut out = Vec::new();
    for name in names {
        if name == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| format!("failed to read stdin: {e}"))?;
            out.push(Input {
                name: "-".into(),
                text,
                notes: Vec::new(),
            });
            continue;
        }
        let path = Path::new(name);
        let mut files = Vec::new();
        if path.is_dir() {
            collect_dir(path, &mut files).map_err(|e| format!("failed to read {name}: {e}"))?;
        } else {
            files.push(path.to_path_buf());
        }
        for f in files {
            let bytes =
                std::fs::read(&f).map_err(|e| format!("failed to read {}: {e}", f.display()))?;
            let mut notes = Vec::new();
            let text = match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(e) => {
                    let at = e.utf8_error().valid_up_to();
                    let mut note = Issue::new(Severity::Warning, IssueCode::Structure, format!("the file is not valid UTF-8 (byte {at}); read with replacement characters"));
                    note.line = 1;
                    note.col = 1;
                    notes.push(note);
                    String::from_utf8_lossy(e.as_bytes()).into_owned()
                }
            };
            out.push(Input {
                name: f.display().to_string(),
                text,
                notes,
            });
        }
    }
    Ok(out)
}

fn collect_dir(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect_dir(&p, out)?;
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("json" | "xml" | "ndjson")
        ) {
            out.push(p);
        }
    }
    Ok(())
}

/// Validates the files in parallel, a few threads at a time; results in input order.
fn validate_all(
    v: &Validator,
    set: &PackageSet,
    inputs: &[Input],
    profiles: &[&str],
) -> Vec<Vec<Issue>> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(inputs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Vec<Issue>> = vec![Vec::new(); inputs.len()];
    let slots: Vec<std::sync::Mutex<Vec<Issue>>> =
        inputs.iter().map(|_| Default::default()).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(input) = inputs.get(i) else { break };
                let mut issues = input.notes.clone();
                issues.extend(validate_text(v, set, input, profiles));
                if let Ok(mut slot) = slots[i].lock() {
                    *slot = issues;
                }
            });
        }
    });
    for (i, slot) in slots.into_iter().enumerate() {
        results[i] = slot.into_inner().unwrap_or_default();
    }
    results
}

fn validate_text(v: &Validator, set: &PackageSet, input: &Input, profiles: &[&str]) -> Vec<Issue> {
    let trimmed = input.text.trim_start_matches('\u{feff}').trim_start();
    if input.name.ends_with(".ndjson") {
        let mut issues = Vec::new();
        for (n, line) in input.text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let line_no = n as u32 + 1;
            match assure_fhir::parse_json(line) {
                Ok(mut node) => {
                    shift_lines(&mut node, line_no - 1);
                    issues.extend(v.validate(&node, profiles));
                }
                Err(e) => issues.push(syntax_issue(
                    e.message,
                    Pos {
                        line: line_no,
                        col: e.pos.col,
                    },
                )),
            }
        }
        return issues;
    }
    let parsed = if trimmed.starts_with('<') {
        assure_fhir::xml::parse_resource(&input.text, &set.types(v.release()))
            .map_err(|e| (e.message, e.pos))
    } else {
        assure_fhir::parse_json(&input.text).map_err(|e| (e.message, e.pos))
    };
    match parsed {
        Ok(node) => v.validate(&node, profiles),
        Err((message, pos)) => vec![syntax_issue(message, pos)],
    }
}

fn syntax_issue(message: String, pos: Pos) -> Issue {
    let mut i = Issue::new(Severity::Fatal, IssueCode::Structure, message);
    i.line = pos.line;
    i.col = pos.col;
    i
}

fn shift_lines(node: &mut Node, by: u32) {
    node.pos.line += by;
    match &mut node.kind {
        Kind::Array(items) => items.iter_mut().for_each(|n| shift_lines(n, by)),
        Kind::Object(members) => members.iter_mut().for_each(|(_, n)| shift_lines(n, by)),
        _ => {}
    }
}

/// rustc-style: severity and message, `file:line:col`, the line, a caret, and where
/// in the instance and profile the finding comes from.
fn render_text(file: &str, text: &str, issue: &Issue) -> String {
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
        if let Some(src) = text.lines().nth(issue.line as usize - 1) {
            let caret = " ".repeat(issue.col.saturating_sub(1) as usize);
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
