//! The report side of the command line: `assure run`'s gate, waiver, baseline,
//! signing and shard options, and `assure report diff|verify|merge`. Kept apart from
//! `cli.rs` so that file only wires these in.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use ed25519_dalek::SigningKey;

use super::model::{FailOn, Report, Verdict, WaiverState};
use super::{diff, keys, manifest, merge, waivers, Format};
use crate::diagnostic::Diagnostics;
use crate::exit_codes;
use crate::shard::Shard;

#[derive(Args, Debug, Default, Clone)]
pub struct RunReportArgs {
    /// Accepted deviations: a waivers.toml (see docs/reports.md).
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// What fails the run (exit 1): MUST failures; SHOULD ones too; or also any
    /// warning. Add `inconclusive` (e.g. `must,inconclusive`) to fail on gated
    /// requirements that could not be checked as well.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "must")]
    pub fail_on: Vec<GateArg>,
    /// An earlier report.json: fail (exit 1) only on regressions against it.
    #[arg(long, value_name = "REPORT_JSON")]
    pub baseline: Option<PathBuf>,
    /// Sign the run folder's manifest with this Ed25519 private key (PEM, hex or raw).
    #[arg(long, value_name = "FILE|env:VAR")]
    pub sign_key: Option<String>,
    /// Run only shard K of N (merge the shards with `assure report merge`).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

/// One value of `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GateArg {
    Must,
    Should,
    Warning,
    /// Also fail on gated requirements that could not be checked.
    Inconclusive,
}

/// The level part of a `--fail-on` list (the strictest given), and whether it asks for
/// inconclusive results to fail the run too.
pub fn gate_of(args: &[GateArg]) -> (FailOn, bool) {
    let level = args
        .iter()
        .filter_map(|a| match a {
            GateArg::Must => Some(FailOn::Must),
            GateArg::Should => Some(FailOn::Should),
            GateArg::Warning => Some(FailOn::Warning),
            GateArg::Inconclusive => None,
        })
        .max()
        .unwrap_or(FailOn::Must);
    (level, args.contains(&GateArg::Inconclusive))
}

/// What a run needs from its report options, loaded and checked before anything runs.
pub struct PostRun {
    waivers: Vec<waivers::Waiver>,
    baseline: Option<Report>,
    key: Option<SigningKey>,
    fail_on: FailOn,
    fail_on_inconclusive: bool,
    pub shard: Option<Shard>,
}

impl PostRun {
    /// Loads waivers, baseline and key; on bad input prints why and gives the exit code.
    pub fn prepare(args: &RunReportArgs) -> Result<PostRun, i32> {
        let waivers = match &args.waivers {
            None => Vec::new(),
            Some(path) => waivers::load(path).map_err(|d| {
                eprintln!("{}", Diagnostics(d));
                eprintln!("error: the waivers file has problems; nothing was run");
                exit_codes::BAD_INPUT
            })?,
        };
        let baseline = match &args.baseline {
            None => None,
            Some(path) => Some(read_report(path).map_err(|e| {
                eprintln!("error: --baseline: {e}");
                exit_codes::BAD_INPUT
            })?),
        };
        let key = match &args.sign_key {
            None => None,
            Some(source) => Some(keys::signing_key(source).map_err(|e| {
                eprintln!("error: --sign-key: {e}");
                exit_codes::BAD_INPUT
            })?),
        };
        let (fail_on, fail_on_inconclusive) = gate_of(&args.fail_on);
        Ok(PostRun {
            waivers,
            baseline,
            key,
            fail_on,
            fail_on_inconclusive,
            shard: args.shard,
        })
    }

    /// The signing key's material, for the redactor: it is written nowhere.
    pub fn secrets(&self) -> Vec<String> {
        self.key
            .iter()
            .map(|k| crate::evidence::hex(k.as_bytes()))
            .collect()
    }

    /// Applies the gate, waivers and baseline to a finished run's report.
    pub fn finish(&self, report: &mut Report) {
        report.run.fail_on = self.fail_on;
        report.run.fail_on_inconclusive = self.fail_on_inconclusive;
        let today = chrono::DateTime::parse_from_rfc3339(&report.run.started)
            .map(|d| d.date_naive())
            .unwrap_or_else(|_| chrono::Utc::now().date_naive());
        waivers::apply(report, &self.waivers, today);
        if let Some(old) = &self.baseline {
            let mut b = diff::diff(old, report).baseline(old);
            // Only what the gate cares about is a regression (a new MAY failure is not).
            b.regressions.retain(|id| report.fails_gate(id));
            report.baseline = Some(b);
        }
        report.finalize();
    }

    /// Writes the manifest (signed when a key was given) once every file is written.
    pub fn seal(&self, dir: &Path, report: &Report) -> Result<(), String> {
        manifest::write(dir, &report.run.id, self.key.as_ref())
            .map_err(|e| format!("failed to write the manifest in {}: {e}", dir.display()))
    }
}

/// The exit code a finished report calls for (see the README's table).
pub fn exit_code(report: &Report) -> i32 {
    let expired = report
        .waivers
        .iter()
        .any(|w| w.state == WaiverState::Expired);
    match (report.verdict, &report.baseline) {
        (Verdict::Incomplete, _) => exit_codes::INCOMPLETE,
        (_, Some(b)) if b.regressions.is_empty() && !expired => exit_codes::OK,
        (_, Some(_)) => exit_codes::CONFORMANCE_FAILURE,
        (Verdict::Passed, None) => exit_codes::OK,
        (Verdict::Failed, None) => exit_codes::CONFORMANCE_FAILURE,
    }
}

/// Says on stderr which waivers went unused or expired.
pub fn print_waiver_notes(report: &Report) {
    for w in &report.waivers {
        match w.state {
            WaiverState::Applied => {}
            WaiverState::Unused => eprintln!(
                "warning: waiver {} ({}) matched no failure; remove it",
                w.id, w.matches
            ),
            WaiverState::Expired => eprintln!(
                "error: waiver {} ({}) expired on {} and no longer applies",
                w.id, w.matches, w.expires
            ),
        }
    }
}

/// A `report.json`, or a run folder holding one.
pub fn read_report(path: &Path) -> Result<Report, String> {
    let file = if path.is_dir() {
        path.join(Format::Json.file_name())
    } else {
        path.to_path_buf()
    };
    super::read_json(&file)
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// What changed between two runs: new failures, fixed, changed, added, removed.
    /// Exit 1 when there are new failures.
    Diff {
        /// The earlier report.json (or its run folder).
        old: PathBuf,
        /// The later report.json (or its run folder).
        new: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: DiffFormat,
    },
    /// Check a run folder against its manifest.json and signature. Exit 0 when it is
    /// intact and signed by the given public key; 4 when it is intact but no public
    /// key was given (integrity checked, not who wrote it); 1 when anything was
    /// changed, added or removed, the signature is bad, or the folder holds another run.
    Verify {
        dir: PathBuf,
        /// The signer's Ed25519 public key (PEM, hex or raw; a file, or env:VAR),
        /// obtained apart from the folder: pinning it proves who signed.
        #[arg(long, value_name = "FILE|env:VAR", env = "ASSURE_PUBLIC_KEY")]
        public_key: Option<String>,
        /// The run the folder must hold [default: the folder's name].
        #[arg(long, value_name = "ID")]
        run_id: Option<String>,
    },
    /// Combine the run folders of `--shard K/N` runs into one report.
    Merge {
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Folder to write the merged report into; must not exist yet, or be empty.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(long, value_delimiter = ',', default_value = "html,json,junit,md")]
        format: Vec<Format>,
        /// Sign the merged folder's manifest.
        #[arg(long, value_name = "FILE|env:VAR")]
        sign_key: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Md,
}

pub fn main(command: ReportCommand) -> i32 {
    match command {
        ReportCommand::Diff { old, new, format } => {
            let (old, new) = match (read_report(&old), read_report(&new)) {
                (Ok(o), Ok(n)) => (o, n),
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("error: {e}");
                    return exit_codes::BAD_INPUT;
                }
            };
            let d = diff::diff(&old, &new);
            match format {
                DiffFormat::Text => print!("{}", d.text(&old, &new)),
                DiffFormat::Md => print!("{}", d.markdown(&old, &new)),
            }
            if d.regressions().is_empty() {
                exit_codes::OK
            } else {
                exit_codes::CONFORMANCE_FAILURE
            }
        }
        ReportCommand::Verify {
            dir,
            public_key,
            run_id,
        } => verify(&dir, public_key.as_deref(), run_id.as_deref()),
        ReportCommand::Merge {
            dirs,
            out,
            format,
            sign_key,
        } => merge_command(&dirs, &out, &format, sign_key.as_deref()),
    }
}

fn verify(dir: &Path, public_key: Option<&str>, run_id: Option<&str>) -> i32 {
    let key = match public_key.map(keys::verifying_key).transpose() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: --public-key: {e}");
            return exit_codes::BAD_INPUT;
        }
    };
    let expect = run_id.map_or(manifest::Expect::FolderName, manifest::Expect::Run);
    let v = match manifest::verify(dir, key.as_ref(), expect) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_codes::BAD_INPUT;
        }
    };
    for p in &v.signature_problems {
        println!("signature: {p}");
    }
    for (what, files) in [
        ("changed", &v.changed),
        ("added", &v.added),
        ("removed", &v.removed),
    ] {
        for f in files {
            println!("{what}: {f}");
        }
    }
    for n in &v.notes {
        println!("note: {n}");
    }
    if v.intact() && v.authenticated {
        println!(
            "{}: intact, and signed with the given public key",
            dir.display()
        );
        exit_codes::OK
    } else if v.intact() {
        println!(
            "{}: intact (integrity only): every file matches the manifest, but without a pinned public key nothing shows who wrote it; pass --public-key or set ASSURE_PUBLIC_KEY",
            dir.display()
        );
        exit_codes::INTEGRITY_ONLY
    } else {
        println!("{}: NOT intact", dir.display());
        exit_codes::CONFORMANCE_FAILURE
    }
}

fn merge_command(dirs: &[PathBuf], out: &Path, formats: &[Format], sign_key: Option<&str>) -> i32 {
    let key = match sign_key.map(keys::signing_key).transpose() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: --sign-key: {e}");
            return exit_codes::BAD_INPUT;
        }
    };
    if out.exists() && std::fs::read_dir(out).map_or(true, |mut d| d.next().is_some()) {
        eprintln!(
            "error: --out {} already exists and is not empty; nothing was overwritten",
            out.display()
        );
        return exit_codes::BAD_INPUT;
    }
    let mut shards = Vec::new();
    for d in dirs {
        // A shard changed since it was written is not merged into a report people trust.
        if d.join(manifest::MANIFEST).is_file() {
            match manifest::verify(d, None, manifest::Expect::Any) {
                Ok(v) if v.intact() => {}
                Ok(v) => {
                    let what: Vec<String> = v
                        .changed
                        .iter()
                        .map(|f| format!("changed {f}"))
                        .chain(v.added.iter().map(|f| format!("added {f}")))
                        .chain(v.removed.iter().map(|f| format!("removed {f}")))
                        .chain(v.signature_problems.iter().cloned())
                        .collect();
                    eprintln!(
                        "error: {} does not match its manifest ({}); nothing was merged",
                        d.display(),
                        what.join(", ")
                    );
                    return exit_codes::BAD_INPUT;
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit_codes::BAD_INPUT;
                }
            }
        }
        match read_report(d) {
            Ok(r) => shards.push(r),
            Err(e) => {
                eprintln!("error: {e}");
                return exit_codes::BAD_INPUT;
            }
        }
    }
    let report = match merge::merge(shards) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot merge: {e}");
            return exit_codes::BAD_INPUT;
        }
    };
    if let Err(e) = std::fs::create_dir_all(out) {
        eprintln!("error: cannot create {}: {e}", out.display());
        return exit_codes::INCOMPLETE;
    }
    let mut failed = false;
    for (format, result) in super::write_all(&report, out, formats) {
        if let Err(e) = result {
            failed = true;
            eprintln!("error: failed to write {}: {e}", format.file_name());
        }
    }
    if let Err(e) = manifest::write(out, &report.run.id, key.as_ref()) {
        failed = true;
        eprintln!("error: failed to write the manifest: {e}");
    }
    if failed {
        return exit_codes::INCOMPLETE;
    }
    eprintln!("wrote the merged report to {}", out.display());
    exit_code(&report)
}
