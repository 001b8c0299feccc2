//! The project's own commands, run as `cargo xtask <command>`:
//!
//! - `test [--no-install] [-- <cargo test arguments>]`: gets what the tests need (test
//!   data, a headless browser, python3 for the stub generators), says in one line
//!   each what it could not get and how to get it, runs every test, and names each
//!   test that could not run. Exit 0 only when every test ran and passed.
//! - `test-data where|fetch|verify|record [ROOT]|pack OUT`: the test data of
//!   `crates/testdata/catalogue.toml`.

mod data;
mod prereq;
mod testrun;

use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: cargo xtask test [--no-install] [-- <cargo test arguments>]
       cargo xtask test-data where|fetch [--all]|verify|record [ROOT]|pack OUT";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("test-data") => data::command(&args[1..]),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::from(2)
        }
    }
}

fn test(args: &[String]) -> Result<ExitCode, String> {
    let started = Instant::now();
    let (ours, cargo_args) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    let mut install = true;
    for arg in ours {
        match arg.as_str() {
            "--no-install" => install = false,
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    let mut missing = Vec::new();
    println!("== test data");
    missing.extend(data::prepare());
    println!("== headless browser (the HTML report test)");
    let browser = prereq::chromium(install)
        .map_err(|line| missing.push(line))
        .ok();
    println!("== python3 (the stub-set generators' check)");
    let python = prereq::python3(install)
        .map_err(|line| missing.push(line))
        .ok();
    for line in &missing {
        println!("could not get: {line}");
    }
    let mut env = Vec::new();
    if let Some(browser) = browser {
        env.push(("ASSURE_CHROMIUM".to_owned(), browser.display().to_string()));
    }
    if let Some(python) = python {
        env.push(("ASSURE_PYTHON".to_owned(), python.display().to_string()));
    }
    let outcome = testrun::run(cargo_args, &env)?;
    Ok(testrun::summarise(&outcome, started.elapsed()))
}
