//! Runs every test binary (no stop at the first that fails; the FHIR engine's corpus
//! tests in release), echoes their output, and adds up what libtest reports; tests
//! that could not run are read from the log `assure_testdata::not_run` writes.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Outcome {
    pub success: bool,
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
    /// `test ... FAILED` lines: the names of the failed tests.
    pub failures: Vec<String>,
    /// `(binary, test, reason)` of each test that could not run.
    pub not_run: Vec<(String, String, String)>,
}

/// Adds a libtest `test result:` line to the counts; false for any other line.
fn add_result_line(line: &str, outcome: &mut Outcome) -> bool {
    let Some(rest) = line.strip_prefix("test result: ") else {
        return false;
    };
    for part in rest.split([';', '.']) {
        let mut words = part.split_whitespace();
        if let (Some(n), Some(what)) = (words.next(), words.next()) {
            let Ok(n) = n.parse::<u64>() else { continue };
            match what {
                "passed" => outcome.passed += n,
                "failed" => outcome.failed += n,
                "ignored" => outcome.ignored += n,
                _ => {}
            }
        }
    }
    true
}

/// The package whose tests run the official corpora through the FHIR engine: built
/// with optimisations they take a fraction of the CPU time of a debug build.
const RELEASE_PACKAGE: &str = "assure-fhir";

/// The `cargo test` invocations: everything but [`RELEASE_PACKAGE`] in the debug
/// build, that package in release; when the caller picks packages, just theirs (debug).
pub fn invocations(cargo_args: &[String]) -> Vec<Vec<String>> {
    let base = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = ["test", "--no-fail-fast"].map(String::from).to_vec();
        args.extend(extra.iter().map(|a| a.to_string()));
        args.extend(cargo_args.iter().cloned());
        args
    };
    let picks_packages = cargo_args
        .iter()
        .any(|a| a == "-p" || a.starts_with("--package") || a.starts_with("-p"));
    if picks_packages {
        return vec![base(&[])];
    }
    vec![
        base(&["--workspace", "--exclude", RELEASE_PACKAGE]),
        base(&["--release", "--package", RELEASE_PACKAGE]),
    ]
}

pub fn run(cargo_args: &[String], env: &[(String, String)]) -> Result<Outcome, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| assure_testdata::checkout().join("target"));
    std::fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
    let log = target.join("tests-not-run.tsv");
    let _ = std::fs::remove_file(&log);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut outcome = Outcome {
        success: true,
        ..Outcome::default()
    };
    for args in invocations(cargo_args) {
        println!("== cargo {}", args.join(" "));
        let mut child = Command::new(&cargo)
            .args(&args)
            .current_dir(assure_testdata::checkout())
            .env("ASSURE_NOT_RUN_LOG", &log)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run cargo test: {e}"))?;
        if let Some(stdout) = child.stdout.take() {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                println!("{line}");
                if !add_result_line(&line, &mut outcome) {
                    if let Some(name) = line
                        .strip_prefix("test ")
                        .and_then(|l| l.strip_suffix(" ... FAILED"))
                    {
                        outcome.failures.push(name.to_owned());
                    }
                }
            }
        }
        let status = child
            .wait()
            .map_err(|e| format!("waiting for cargo test: {e}"))?;
        outcome.success &= status.success();
    }
    outcome.not_run = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            Some((
                parts.next()?.to_owned(),
                parts.next()?.to_owned(),
                parts.next()?.to_owned(),
            ))
        })
        .collect();
    outcome.not_run.sort();
    outcome.not_run.dedup();
    Ok(outcome)
}

/// Prints what ran and what did not; exit 0 only when everything ran and passed.
pub fn summarise(outcome: &Outcome, took: Duration) -> ExitCode {
    println!("== summary");
    let not_run_names: Vec<&str> = outcome.not_run.iter().map(|(_, t, _)| t.as_str()).collect();
    let failed: Vec<&String> = outcome
        .failures
        .iter()
        .filter(|f| !not_run_names.contains(&f.as_str()))
        .collect();
    if !outcome.not_run.is_empty() {
        println!(
            "{} tests did not run (something they need is missing):",
            outcome.not_run.len()
        );
        for (binary, test, reason) in &outcome.not_run {
            println!("  {binary}: {test}: {reason}");
        }
    }
    if !failed.is_empty() {
        println!("{} tests failed:", failed.len());
        for name in &failed {
            println!("  {name}");
        }
    }
    let secs = took.as_secs();
    println!("took {}m{:02}s", secs / 60, secs % 60);
    if outcome.ignored > 0 {
        println!(
            "{} tests are marked #[ignore] (run elsewhere, see .ci/run)",
            outcome.ignored
        );
    }
    // libtest counts a test that could not run as failed: it proved nothing.
    println!(
        "tests: {} passed, {} failed",
        outcome.passed, outcome.failed
    );
    let ok = outcome.success && outcome.failed == 0 && outcome.not_run.is_empty();
    if !outcome.success && outcome.failed == 0 {
        println!("cargo test failed before all tests ran (a build error?)");
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_result_lines_add_up_and_other_lines_do_not() {
        let mut o = Outcome::default();
        assert!(add_result_line(
            "test result: ok. 71 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 2.14s",
            &mut o
        ));
        assert!(add_result_line(
            "test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.5s",
            &mut o
        ));
        assert!(!add_result_line("test a::b ... ok", &mut o));
        assert_eq!((o.passed, o.failed, o.ignored), (74, 1, 2));
    }

    #[test]
    fn the_engine_is_tested_in_release_unless_the_caller_picks_packages() {
        let all = invocations(&["--locked".into()]);
        assert_eq!(all.len(), 2);
        assert!(all[0].contains(&"--exclude".into()) && !all[0].contains(&"--release".into()));
        assert!(all[1].contains(&"--release".into()) && all[1].contains(&"assure-fhir".into()));
        assert!(all.iter().all(|a| a.contains(&"--locked".into())));
        let one = invocations(&["-p".into(), "assure".into()]);
        assert_eq!(
            one,
            [["test", "--no-fail-fast", "-p", "assure"].map(String::from)]
        );
    }
}
