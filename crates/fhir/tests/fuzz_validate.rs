//! Fuzzing, bounded and seeded: official R4 examples, damaged byte-wise (as JSON and
//! as XML) and tree-wise (valid JSON, odd FHIR), go through the readers and the
//! validator. Nothing may panic; an error must point inside the text.
//!
//! `ASSURE_FUZZ_SEED=N` replays a run; `ASSURE_FUZZ_SECONDS=S` runs for S seconds
//! instead of the default number of cases (`.ci/run` does 60 s with a fresh seed).

use std::io::Read as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use assure_fhir::model::{parse_json, Kind, Node, Pos};
use assure_fhir::outcome::Issue;
use assure_fhir::validate::{Validator, ValidatorOptions};
use assure_fhir::{LoadOptions, PackageSet};

const DEFAULT_SEED: u64 = 0x5EED_F022_0000_0001;
const DEFAULT_CASES: usize = 120;

/// xorshift64*: small, fast and reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn examples() -> Vec<(String, String)> {
    let path = assure_testdata::path("fhir-packages/hl7.fhir.r4.examples-4.0.1.tgz");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for entry in archive.entries().expect("tar") {
        let mut entry = entry.expect("entry");
        let name = entry.path().expect("path").display().to_string();
        if !name.ends_with(".json") || name.ends_with("package.json") {
            continue;
        }
        let mut text = String::new();
        // Small and medium files keep each case quick in a debug build.
        if entry.size() < 24 * 1024 && entry.read_to_string(&mut text).is_ok() {
            out.push((name, text));
        }
    }
    out
}

fn validator() -> Validator {
    let core = assure_testdata::path("fhir-packages/hl7.fhir.r4.core-4.0.1.tgz");
    let options = LoadOptions {
        cache: None,
        allow_missing_dependencies: true,
    };
    let set = PackageSet::load(&[core], &options).expect("R4 core");
    Validator::new(Arc::new(set), ValidatorOptions::default())
}

/// Byte-wise damage: flipped, cut, inserted, deleted, repeated bytes, deep brackets.
fn damage_bytes(rng: &mut Rng, text: &str, open: &[u8]) -> Vec<u8> {
    let mut b = text.as_bytes().to_vec();
    for _ in 0..=rng.below(3) {
        if b.is_empty() {
            break;
        }
        let at = rng.below(b.len());
        match rng.below(6) {
            0 => b[at] = rng.next() as u8,
            1 => b.truncate(at),
            2 => {
                const BYTES: &[u8] = b"{}[]\",:\\\n0-e.<>/=&;";
                b.insert(at, BYTES[rng.below(BYTES.len())]);
            }
            3 => {
                b.remove(at);
            }
            4 => {
                let end = (at + rng.below(64)).min(b.len());
                let chunk = b[at..end].to_vec();
                b.splice(at..at, chunk);
            }
            _ => {
                let deep: Vec<u8> = open.repeat(rng.below(3000));
                b.splice(at..at, deep);
            }
        }
    }
    b
}

/// Tree-wise damage: the result is JSON, but values change kind, members vanish or
/// are duplicated, resources nest, extensions chain deeply.
fn damage_tree(rng: &mut Rng, node: &mut Node) {
    for _ in 0..=rng.below(4) {
        let count = count_nodes(node);
        let target = rng.below(count);
        let mut seen = 0;
        mutate_at(rng, node, target, &mut seen);
    }
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.kind {
        Kind::Array(items) => items.iter().map(count_nodes).sum(),
        Kind::Object(members) => members.iter().map(|(_, v)| count_nodes(v)).sum(),
        _ => 0,
    }
}

fn mutate_at(rng: &mut Rng, node: &mut Node, target: usize, seen: &mut usize) -> bool {
    if *seen == target {
        replace(rng, node);
        return true;
    }
    *seen += 1;
    match &mut node.kind {
        Kind::Array(items) => items.iter_mut().any(|n| mutate_at(rng, n, target, seen)),
        Kind::Object(members) => members
            .iter_mut()
            .any(|(_, n)| mutate_at(rng, n, target, seen)),
        _ => false,
    }
}

fn replace(rng: &mut Rng, node: &mut Node) {
    let pos = node.pos;
    let leaf = |kind| Node::new(kind, pos);
    match rng.below(12) {
        0 => node.kind = Kind::Null,
        1 => node.kind = Kind::Bool(rng.below(2) == 0),
        2 => {
            const NUMBERS: &[&str] = &[
                "0",
                "-1",
                "1e999999",
                "0.000000000000000000001",
                "12345678901234567890123",
                "-0",
            ];
            node.kind = Kind::Number(NUMBERS[rng.below(NUMBERS.len())].into());
        }
        3 => {
            const STRINGS: &[&str] = &[
                "",
                " ",
                "\u{0}",
                "urn:uuid:x",
                "#",
                "Patient/",
                "<div>",
                "&bogus;",
                "2020-13-45",
                "http://hl7.org/fhir/StructureDefinition/Patient",
                "ééé\u{FFFD}",
            ];
            node.kind = Kind::String(STRINGS[rng.below(STRINGS.len())].into());
        }
        4 => node.kind = Kind::Array(Vec::new()),
        5 => node.kind = Kind::Object(Vec::new()),
        6 => {
            // Wrap in an array, or unwrap one.
            let inner = std::mem::replace(node, leaf(Kind::Null));
            *node = match inner.kind {
                Kind::Array(mut items) if !items.is_empty() => items.swap_remove(0),
                _ => Node::new(Kind::Array(vec![inner]), pos),
            };
        }
        7 => {
            if let Kind::Object(members) = &mut node.kind {
                if !members.is_empty() {
                    let i = rng.below(members.len());
                    members.remove(i);
                }
            }
        }
        8 => {
            if let Kind::Array(items) = &mut node.kind {
                if let Some(first) = items.first().cloned() {
                    items.extend(std::iter::repeat_n(first, 1 + rng.below(50)));
                }
            }
        }
        9 => {
            // A resource where a datatype is expected, or a contained one.
            const TYPES: &[&str] = &["Patient", "Bundle", "Nope", "Parameters"];
            let rt = TYPES[rng.below(TYPES.len())];
            node.kind = Kind::Object(vec![
                ("resourceType".into(), leaf(Kind::String(rt.into()))),
                ("id".into(), leaf(Kind::String("x".into()))),
            ]);
        }
        10 => {
            // A chain of extensions, up to the reader's depth limit.
            let mut ext = leaf(Kind::String("x".into()));
            for i in 0..rng.below(250) {
                ext = Node::new(
                    Kind::Object(vec![
                        (
                            "url".into(),
                            leaf(Kind::String(format!("http://x/e{i}").into())),
                        ),
                        ("extension".into(), Node::new(Kind::Array(vec![ext]), pos)),
                    ]),
                    pos,
                );
            }
            node.kind = Kind::Object(vec![(
                "extension".into(),
                Node::new(Kind::Array(vec![ext]), pos),
            )]);
        }
        _ => {
            // An unknown member, or a primitive's `_` sibling.
            if let Kind::Object(members) = &mut node.kind {
                let name = if rng.below(2) == 0 { "_bogus" } else { "_id" };
                members.push((
                    name.into(),
                    leaf(Kind::Object(vec![(
                        "extension".into(),
                        leaf(Kind::Array(Vec::new())),
                    )])),
                ));
            }
        }
    }
}

fn to_text(node: &Node) -> String {
    serde_json::to_string_pretty(&node.to_value()).expect("serialise")
}

fn lines_of(text: &str) -> u32 {
    text.split('\n').count() as u32
}

/// A position from a reader or validator is inside the text.
fn check_pos(what: &str, pos: Pos, text: &str) {
    assert!(
        pos.line >= 1 && pos.line <= lines_of(text) && pos.col >= 1,
        "{what}: position {pos} outside the text ({} lines)",
        lines_of(text)
    );
}

fn check_issues(what: &str, issues: &[Issue], text: &str) {
    for i in issues {
        assert!(!i.message.is_empty(), "{what}: an issue with no message");
        if i.line > 0 {
            check_pos(
                what,
                Pos {
                    line: i.line,
                    col: i.col,
                },
                text,
            );
        }
    }
}

enum Case {
    Json(Vec<u8>),
    Xml(Vec<u8>),
    Tree(String),
}

/// One case: read, and validate what reads. Panics (caught by the caller) are bugs.
fn run_case(v: &Validator, set: &PackageSet, what: &str, case: &Case) -> (bool, usize) {
    let types = set.types(v.release());
    let (bytes, xml) = match case {
        Case::Json(b) => (b.as_slice(), false),
        Case::Xml(b) => (b.as_slice(), true),
        Case::Tree(t) => (t.as_bytes(), false),
    };
    let text = String::from_utf8_lossy(bytes);
    let parsed = if xml {
        assure_fhir::xml::parse_resource(&text, &types).map_err(|e| e.pos)
    } else {
        parse_json(&text).map_err(|e| e.pos)
    };
    match parsed {
        Ok(node) => {
            let issues = v.validate(&node, &[]);
            check_issues(what, &issues, &text);
            (true, issues.len())
        }
        Err(pos) => {
            check_pos(what, pos, &text);
            (false, 0)
        }
    }
}

#[test]
fn damaged_examples_never_panic_in_readers_or_validator() {
    let seed = std::env::var("ASSURE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(DEFAULT_SEED);
    let budget = std::env::var("ASSURE_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs);
    eprintln!("fuzz seed: {seed} (replay with ASSURE_FUZZ_SEED={seed})");
    let files = examples();
    assert!(files.len() >= 1000, "only {} examples", files.len());
    let v = validator();
    let set = v.packages().clone();
    let types = set.types(v.release());
    let mut rng = Rng(seed | 1);
    let start = Instant::now();
    let (mut cases, mut read, mut issues) = (0usize, 0usize, 0usize);
    let mut kinds = [0usize; 3];
    loop {
        let done = match budget {
            Some(b) => start.elapsed() >= b,
            None => cases >= DEFAULT_CASES,
        };
        if done {
            break;
        }
        let (name, text) = &files[rng.below(files.len())];
        let Ok(node) = parse_json(text) else { continue };
        let kind = rng.below(3);
        let case = match kind {
            0 => Case::Json(damage_bytes(&mut rng, text, b"[")),
            1 => match assure_fhir::xml::write_resource(&node, &types) {
                Ok(xml) => Case::Xml(damage_bytes(&mut rng, &xml, b"<extension>")),
                Err(_) => continue,
            },
            _ => {
                let mut node = node;
                damage_tree(&mut rng, &mut node);
                Case::Tree(to_text(&node))
            }
        };
        let what = format!("case {cases} ({name}, seed {seed})");
        let outcome = catch_unwind(AssertUnwindSafe(|| run_case(&v, &set, &what, &case)));
        match outcome {
            Ok((ok, n)) => {
                read += usize::from(ok);
                issues += n;
            }
            Err(_) => {
                let dump = std::env::temp_dir().join(format!("assure-fuzz-{seed}-{cases}"));
                let bytes = match &case {
                    Case::Json(b) | Case::Xml(b) => b.clone(),
                    Case::Tree(t) => t.clone().into_bytes(),
                };
                let _ = std::fs::write(&dump, bytes);
                panic!("{what}: panicked; input written to {}", dump.display());
            }
        }
        kinds[kind] += 1;
        cases += 1;
    }
    eprintln!(
        "fuzz: {cases} cases in {:.1} s ({} JSON bytes, {} XML bytes, {} JSON trees): {read} read and validated ({issues} issues), {} rejected by a reader with a position",
        start.elapsed().as_secs_f64(),
        kinds[0],
        kinds[1],
        kinds[2],
        cases - read
    );
    assert!(
        cases > 0 && read > 0 && read < cases,
        "the damage should break some inputs and not others"
    );
}
