//! The floor a validator is measured against: serde_json parsing the same files into a
//! `Value`, read from disk as the validator reads them, on one thread and on every core.
//!
//! assure's own JSON reader is timed beside it.
//!
//! usage: serde_json_floor DIR [ROUNDS]

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: serde_json_floor DIR [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let parse = |paths: &[std::path::PathBuf]| {
        for p in paths {
            let bytes = std::fs::read(p).expect("readable");
            let v: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
            std::hint::black_box(v);
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let best = |run: &dyn Fn()| {
        (0..rounds)
            .map(|_| {
                let t = Instant::now();
                run();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let one = best(&|| parse(&files));
    let chunk = files.len().div_ceil(threads).max(1);
    let all = best(&|| {
        std::thread::scope(|s| {
            for part in files.chunks(chunk) {
                s.spawn(|| parse(part));
            }
        })
    });
    let n = files.len() as f64;
    println!(
        "serde_json: {} files, best of {rounds}: 1 thread {:.3} s = {:.0} resources/s; {threads} threads {:.3} s = {:.0} resources/s",
        files.len(),
        one,
        n / one,
        all,
        n / all
    );
    // assure's own reader on the same bytes (positions, shared member names), for
    // telling parsing from validation in the validator's figures.
    let own = best(&|| {
        for p in &files {
            let text = std::fs::read_to_string(p).expect("readable");
            std::hint::black_box(assure_fhir::parse_json(&text).expect("JSON"));
        }
    });
    println!(
        "assure_fhir::parse_json: 1 thread {:.3} s = {:.0} resources/s",
        own,
        n / own
    );
}
