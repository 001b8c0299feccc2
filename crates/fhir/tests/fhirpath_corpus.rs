//! Runs the official FHIRPath R4 test suite (`shared/corpora/fhirpath`) and checks the
//! pass count never drops below `FLOOR`.

use assure_fhir::fhirpath::{self, Env, ErrorKind, Expr, Item, ModelInfo, Value};
use assure_fhir::{parse_json, Node};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Tests that must pass; raise it as the engine improves, never lower it.
const FLOOR: usize = 756;
/// The same suite with no type model (the degraded mode): types are guessed from JSON.
const FLOOR_WITHOUT_MODEL: usize = 741;

fn data(rel: &str) -> PathBuf {
    assure_testdata::path(rel)
}

/// The JSON files of a package that `wanted(name, size)` selects (`Some(true)`), parsed,
/// until it says `None`; and the count of files read.
fn read_package_matching(
    file: &str,
    mut wanted: impl FnMut(&str, u64) -> Option<bool>,
) -> (usize, Vec<Node>) {
    let path = data(&format!("fhir-packages/{file}"));
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    let mut read = 0;
    for entry in archive.entries().expect("package is a tar archive") {
        let mut entry = entry.expect("readable tar entry");
        let name = entry
            .path()
            .expect("entry path")
            .to_string_lossy()
            .to_string();
        let size = entry.header().size().unwrap_or(u64::MAX);
        if !name.ends_with(".json") {
            continue;
        }
        match wanted(&name, size) {
            None => break,
            Some(false) => continue,
            Some(true) => {}
        }
        let mut text = String::new();
        if entry.read_to_string(&mut text).is_ok() {
            read += 1;
            if let Ok(node) = parse_json(&text) {
                out.push(node);
            }
        }
    }
    (read, out)
}

/// StructureDefinitions for types and resources from a core package, and the
/// package files named in `wanted` (examples) as parsed JSON.
fn read_package(file: &str, wanted: &[&str]) -> (ModelInfo, Vec<Node>) {
    let (_, nodes) = read_package_matching(file, |name, _| {
        Some(
            name.starts_with("package/StructureDefinition-")
                || wanted.iter().any(|w| name == format!("package/{w}")),
        )
    });
    let (sds, extra): (Vec<Node>, Vec<Node>) = nodes
        .into_iter()
        .partition(|n| n.resource_type() == Some("StructureDefinition"));
    let types: Vec<&Node> = sds
        .iter()
        .filter(|n| {
            let kind = n.get("kind").and_then(Node::as_str);
            matches!(kind, Some("primitive-type" | "complex-type" | "resource"))
        })
        .collect();
    assert!(types.len() > 100, "too few StructureDefinitions in {file}");
    (ModelInfo::from_structure_definitions(types), extra)
}

/// Read once and shared by the tests of this file.
fn r4_model() -> Arc<ModelInfo> {
    static MODEL: std::sync::OnceLock<Arc<ModelInfo>> = std::sync::OnceLock::new();
    MODEL
        .get_or_init(|| Arc::new(read_package("hl7.fhir.r4.core-4.0.1.tgz", &[]).0))
        .clone()
}

fn load_input(dir: &Path, name: &str) -> Option<Node> {
    let json_name = name.replace(".xml", ".json");
    for p in [
        dir.join("input/json").join(&json_name),
        dir.join("input").join(&json_name),
    ] {
        if let Ok(text) = std::fs::read_to_string(&p) {
            return parse_json(&text).ok();
        }
    }
    None
}

/// How the suite writes an expected output value.
fn render(item: &Item) -> String {
    item.to_display()
}

fn run_one(t: &serde_json::Value, dir: &Path, env: &Env, strict_env: &Env) -> Result<(), String> {
    let s = |k: &str| t.get(k).and_then(|v| v.as_str());
    let expr_text = s("expression").unwrap_or_default();
    let invalid = s("invalid");
    let env = if s("mode") == Some("strict") {
        strict_env
    } else {
        env
    };
    let empty = parse_json("{}").map_err(|e| e.to_string())?;
    let input = match s("inputfile") {
        Some(f) => load_input(dir, f).ok_or_else(|| format!("missing input {f}"))?,
        None => empty,
    };
    let result = Expr::parse(expr_text).and_then(|e| {
        let r = fhirpath::evaluate(&e, &input, env)?;
        Ok(r.iter()
            .map(|i| (i.type_name(), render(i), i.to_value()))
            .collect::<Vec<_>>())
    });
    if let Some(class) = invalid {
        return match result {
            Err(e) => {
                let want = match class {
                    "syntax" => ErrorKind::Syntax,
                    "semantic" => ErrorKind::Semantic,
                    _ => ErrorKind::Execution,
                };
                if e.kind == want {
                    Ok(())
                } else {
                    Err(format!("wanted a {class} error, got {e}"))
                }
            }
            Ok(r) => Err(format!("wanted a {class} error, got {r:?}")),
        };
    }
    let mut got = result.map_err(|e| format!("error: {e}"))?;
    if s("predicate") == Some("true") {
        got = vec![(
            "boolean".into(),
            (!got.is_empty()).to_string(),
            Some(Value::Boolean(!got.is_empty())),
        )];
    }
    let want: Vec<(Option<&str>, &str)> = t["outputs"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| (o["type"].as_str(), o["value"].as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let same = got.len() == want.len()
        && got
            .iter()
            .zip(&want)
            .all(|((gt, gv, _), (wt, wv))| gv == wv && wt.is_none_or(|wt| wt == gt));
    if same {
        Ok(())
    } else {
        let got: Vec<String> = got.iter().map(|(t, v, _)| format!("{t}:{v}")).collect();
        let want: Vec<String> = want
            .iter()
            .map(|(t, v)| format!("{}:{v}", t.unwrap_or("?")))
            .collect();
        Err(format!("got {got:?}, wanted {want:?}"))
    }
}

/// Runs every test; returns the count passed, the total and the failures.
fn run_suite(env: &Env, strict_env: &Env) -> (usize, usize, Vec<String>) {
    let dir = data("corpora/fhirpath");
    let file = dir.join("tests-fhir-r4.json");
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("the FHIRPath corpus is missing at {}: {e}", file.display()));
    let suite: serde_json::Value = serde_json::from_str(&text).expect("corpus is JSON");
    let tests = suite["tests"].as_array().expect("corpus has tests");
    assert!(
        tests.len() > 500,
        "the corpus looks truncated: {} tests",
        tests.len()
    );
    let mut passed = 0;
    let mut failures = Vec::new();
    for t in tests {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_one(t, &dir, env, strict_env)
        }))
        .unwrap_or_else(|_| Err("panicked".into()));
        match outcome {
            Ok(()) => passed += 1,
            Err(why) => failures.push(format!(
                "{} / {}: {} -- {why}",
                t["group"].as_str().unwrap_or("?"),
                t["name"].as_str().unwrap_or("?"),
                t["expression"].as_str().unwrap_or("?"),
            )),
        }
    }
    (passed, tests.len(), failures)
}

#[test]
fn official_r4_fhirpath_suite() {
    let model = r4_model();
    let env = Env::new().with_model(model.clone());
    let mut strict_env = Env::new().with_model(model);
    strict_env.strict = true;
    let (passed, total, failures) = run_suite(&env, &strict_env);
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    eprintln!("fhirpath corpus: {passed}/{total} passed");
    println!("fhirpath corpus: {passed}/{total} passed");
    // Kept for reading after a captured run: target/tmp/fhirpath-corpus.txt.
    let report = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fhirpath-corpus.txt");
    let text = format!(
        "fhirpath corpus: {passed}/{total} passed\n{}\n",
        failures.join("\n")
    );
    if let Err(e) = std::fs::write(&report, text) {
        eprintln!("cannot write {}: {e}", report.display());
    }
    assert!(
        passed >= FLOOR,
        "fhirpath corpus: {passed} passed, below the floor of {FLOOR}"
    );
}

#[test]
fn official_r4_fhirpath_suite_without_model() {
    let env = Env::new();
    let mut strict_env = Env::new();
    strict_env.strict = true;
    let (passed, total, failures) = run_suite(&env, &strict_env);
    for f in &failures {
        eprintln!("FAIL (no model) {f}");
    }
    eprintln!("fhirpath corpus without a model: {passed}/{total} passed");
    println!("fhirpath corpus without a model: {passed}/{total} passed");
    assert!(
        passed >= FLOOR_WITHOUT_MODEL,
        "fhirpath corpus without a model: {passed} passed, below the floor of {FLOOR_WITHOUT_MODEL}"
    );
}

/// STU3 StructureDefinitions build a model the engine navigates the same way.
#[test]
fn stu3_model_types_choices_and_backbones() {
    let (model, examples) = read_package(
        "hl7.fhir.core-3.0.1.tgz",
        &["Observation-body-height.json", "patient-example.json"],
    );
    assert_eq!(examples.len(), 2, "STU3 examples missing from the package");
    let env = Env::new().with_model(Arc::new(model));
    let check = |resource: &Node, expr: &str, want: &[&str]| {
        let e = Expr::parse(expr).unwrap_or_else(|err| panic!("{expr}: {err}"));
        let got: Vec<String> = fhirpath::evaluate(&e, resource, &env)
            .unwrap_or_else(|err| panic!("{expr}: {err}"))
            .iter()
            .map(|i| format!("{}:{}", i.type_name(), i.to_display()))
            .collect();
        assert_eq!(got, want, "{expr}");
    };
    let obs = examples
        .iter()
        .find(|n| n.resource_type() == Some("Observation"))
        .expect("observation");
    let patient = examples
        .iter()
        .find(|n| n.resource_type() == Some("Patient"))
        .expect("patient");
    check(obs, "Observation.value is Quantity", &["boolean:true"]);
    check(
        obs,
        "Observation.value.ofType(Quantity).code",
        &["code:[in_i]"],
    );
    check(obs, "Observation.value > 160 'cm'", &["boolean:true"]);
    check(obs, "Observation.value < 1.5 'm'", &["boolean:false"]);
    check(obs, "Observation.effective.is(dateTime)", &["boolean:true"]);
    check(obs, "Observation.status.is(code)", &["boolean:true"]);
    check(
        patient,
        "Patient.contact.first().is(BackboneElement)",
        &["boolean:true"],
    );
    check(
        patient,
        "Patient.contact.name.family.exists()",
        &["boolean:true"],
    );
    check(patient, "Patient.birthDate < @2000", &["boolean:true"]);
    check(patient, "Patient.nosuch.exists()", &["boolean:false"]);
}

/// The static checker accepts every expression the suite says is valid, and rejects
/// the ones it marks semantic in strict mode.
#[test]
fn static_check_matches_the_suite() {
    let dir = data("corpora/fhirpath");
    let text = std::fs::read_to_string(dir.join("tests-fhir-r4.json")).expect("corpus present");
    let suite: serde_json::Value = serde_json::from_str(&text).expect("corpus is JSON");
    let model = r4_model();
    let mut wrong = Vec::new();
    let mut rejected = 0;
    for t in suite["tests"].as_array().expect("tests") {
        let Ok(expr) = Expr::parse(t["expression"].as_str().unwrap_or_default()) else {
            continue;
        };
        let root = t["inputfile"]
            .as_str()
            .and_then(|f| load_input(&dir, f))
            .and_then(|n| n.resource_type().map(str::to_string));
        let errors = expr.check(&model, root.as_deref());
        let semantic = t["invalid"].as_str() == Some("semantic");
        let strict = t["mode"].as_str() == Some("strict");
        if semantic && strict {
            rejected += usize::from(!errors.is_empty());
            if errors.is_empty() {
                wrong.push(format!("accepted {}", expr.text()));
            }
        } else if !errors.is_empty() && t["invalid"].is_null() {
            wrong.push(format!("rejected {}: {}", expr.text(), errors[0]));
        }
    }
    assert!(
        wrong.is_empty(),
        "static check disagrees with the suite:\n{}",
        wrong.join("\n")
    );
    assert_eq!(rejected, 5);
}

/// Every suite expression, mutated (characters cut, repeated, swapped), parses or
/// fails cleanly and evaluates or fails cleanly against its input: never a panic.
#[test]
fn mutated_suite_expressions_never_panic() {
    let dir = data("corpora/fhirpath");
    let text = std::fs::read_to_string(dir.join("tests-fhir-r4.json")).expect("corpus present");
    let suite: serde_json::Value = serde_json::from_str(&text).expect("corpus is JSON");
    let env = Env::new().with_model(r4_model());
    let mut inputs: std::collections::HashMap<String, Node> = Default::default();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as usize
    };
    let (mut runs, mut panics) = (0, Vec::new());
    for t in suite["tests"].as_array().expect("tests") {
        let expr: Vec<char> = t["expression"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .collect();
        let file = t["inputfile"]
            .as_str()
            .unwrap_or("patient-example.xml")
            .to_string();
        let input = inputs.entry(file.clone()).or_insert_with(|| {
            load_input(&dir, &file).unwrap_or_else(|| parse_json("{}").unwrap())
        });
        for _ in 0..12 {
            let mut m = expr.clone();
            for _ in 0..(next() % 3 + 1) {
                if m.is_empty() {
                    break;
                }
                let i = next() % m.len();
                match next() % 3 {
                    0 => {
                        m.remove(i);
                    }
                    1 => m.insert(i, expr[next() % expr.len()]),
                    _ => {
                        let j = next() % m.len();
                        m.swap(i, j);
                    }
                }
            }
            let mutant: String = m.into_iter().collect();
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if let Ok(e) = Expr::parse(&mutant) {
                    let _ = fhirpath::evaluate(&e, input, &env);
                }
            }));
            runs += 1;
            if ok.is_err() {
                panics.push(mutant);
            }
        }
    }
    assert!(runs > 5000);
    assert!(panics.is_empty(), "panicked on:\n{}", panics.join("\n"));
}

/// `htmlChecks()` accepts the narratives of the R4 examples, except those with no
/// content at all (which txt-2 forbids); it is run on a sample to keep the test short.
#[test]
fn html_checks_accept_the_r4_example_narratives() {
    let path = data("fhir-packages/hl7.fhir.r4.examples-4.0.1.tgz");
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let expr = Expr::parse("text.div.htmlChecks()").expect("parses");
    let env = Env::new();
    let (mut checked, mut wrong) = (0, Vec::new());
    for entry in archive.entries().expect("package is a tar archive") {
        let mut entry = entry.expect("readable tar entry");
        let name = entry
            .path()
            .expect("entry path")
            .to_string_lossy()
            .to_string();
        if checked >= 400 {
            break;
        }
        // Large Bundles would only slow the test down.
        let size = entry.header().size().unwrap_or(u64::MAX);
        if !name.ends_with(".json") || size > 64 * 1024 {
            continue;
        }
        let mut text = String::new();
        if entry.read_to_string(&mut text).is_err() {
            continue;
        }
        let Ok(resource) = parse_json(&text) else {
            continue;
        };
        let Some(div) = resource
            .get("text")
            .and_then(|t| t.get("div"))
            .and_then(Node::as_str)
        else {
            continue;
        };
        // Independent oracle for emptiness: the text left once tags are removed.
        let mut visible = String::new();
        let mut in_tag = false;
        for ch in div.chars() {
            match ch {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => visible.push(c),
                _ => {}
            }
        }
        let expected = !visible.trim().is_empty() || div.contains("<img");
        let got = fhirpath::evaluate(&expr, &resource, &env)
            .map(|r| fhirpath::as_boolean(&r))
            .unwrap_or(None);
        checked += 1;
        if got != Some(expected) {
            wrong.push(format!("{name}: got {got:?}, expected {expected}"));
        }
    }
    assert!(checked >= 400, "only {checked} narratives found");
    assert!(
        wrong.is_empty(),
        "htmlChecks() disagrees:\n{}",
        wrong.join("\n")
    );
}

/// Evaluates the error-severity invariants of `resource`'s core definition on every
/// element they apply to; returns the evaluation count and what failed or erred.
fn check_invariants(
    resource: &Node,
    by_type: &std::collections::HashMap<&str, &Node>,
    env: &Env,
) -> (usize, Vec<String>) {
    let (mut evaluations, mut problems) = (0, Vec::new());
    let Some(sd) = resource.resource_type().and_then(|rt| by_type.get(rt)) else {
        return (0, problems);
    };
    let elements = sd.get("snapshot").and_then(|s| s.get("element"));
    for element in elements.map(Node::items).unwrap_or_default() {
        let path = element
            .get("path")
            .and_then(Node::as_str)
            .unwrap_or_default();
        let path = Expr::parse(&path.replace("[x]", "")).expect("element paths parse");
        for c in element
            .get("constraint")
            .map(Node::items)
            .unwrap_or_default()
        {
            let key = c.get("key").and_then(Node::as_str).unwrap_or("?");
            let error = c.get("severity").and_then(Node::as_str) == Some("error");
            let Some(text) = c.get("expression").and_then(Node::as_str) else {
                continue;
            };
            let expr = Expr::parse(text).unwrap_or_else(|e| panic!("{key}: {e}"));
            let targets = fhirpath::evaluate(&path, resource, env).expect("path evaluates");
            for target in targets {
                let Item::Node(n) = target else { continue };
                let Some(node) = n.value else { continue };
                let ty = Some(n.ty.key).filter(|k| !k.is_empty());
                evaluations += 1;
                let id = resource.get("id").and_then(Node::as_str).unwrap_or("?");
                match fhirpath::evaluate_on(&expr, resource, node, ty, env) {
                    Ok(r) if error && fhirpath::as_boolean(&r) == Some(false) => {
                        problems.push(format!("{key} fails on {id}: {text}"))
                    }
                    Ok(_) => {}
                    Err(e) => problems.push(format!("{key} errs on {id}: {e}")),
                }
            }
        }
    }
    (evaluations, problems)
}

/// Every error-severity invariant of the R4 core resource definitions holds on the R4
/// examples (a sample, to keep the test short), none fails to evaluate, and a broken
/// resource is caught: the core invariants exercise the engine as the validator will.
#[test]
fn core_invariants_hold_on_r4_examples() {
    let (_, sds) = read_package_matching("hl7.fhir.r4.core-4.0.1.tgz", |name, _| {
        Some(name.starts_with("package/StructureDefinition-"))
    });
    let by_type: std::collections::HashMap<&str, &Node> = sds
        .iter()
        .filter(|n| n.get("kind").and_then(Node::as_str) == Some("resource"))
        .filter(|n| n.get("derivation").and_then(Node::as_str) == Some("specialization"))
        .filter_map(|n| Some((n.get("type")?.as_str()?, n)))
        .collect();
    let mut taken = 0;
    let (_, examples) = read_package_matching("hl7.fhir.r4.examples-4.0.1.tgz", |_, size| {
        taken += usize::from(size < 16 * 1024);
        (taken <= 250).then_some(size < 16 * 1024)
    });
    let mut env = Env::new().with_model(r4_model());
    env.lenient_as = true;
    let (mut evaluations, mut problems) = (0, Vec::new());
    for resource in &examples {
        let (n, p) = check_invariants(resource, &by_type, &env);
        evaluations += n;
        problems.extend(p);
    }
    assert!(
        evaluations > 1000,
        "only {evaluations} invariant evaluations"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // A contact with nothing but a gender breaks pat-1; a dangling #ref breaks dom-3.
    let broken = parse_json(
        r##"{"resourceType": "Patient", "id": "bad", "contact": [{"gender": "male"}],
            "contained": [{"resourceType": "Organization", "id": "o1", "name": "x"}],
            "managingOrganization": {"reference": "#o2"}}"##,
    )
    .expect("test JSON");
    let (_, p) = check_invariants(&broken, &by_type, &env);
    let keys: Vec<&str> = p.iter().filter_map(|m| m.split(' ').next()).collect();
    assert_eq!(keys, ["dom-3", "pat-1"], "{p:?}");
}

/// Every R4 core SearchParameter expression parses and evaluates without error on a
/// sample of the R4 examples, and finds something on a fair share of them.
#[test]
fn core_search_parameter_expressions_evaluate() {
    let (_, params) = read_package_matching("hl7.fhir.r4.core-4.0.1.tgz", |name, _| {
        Some(name.starts_with("package/SearchParameter-"))
    });
    let mut taken = 0;
    let (_, examples) = read_package_matching("hl7.fhir.r4.examples-4.0.1.tgz", |_, size| {
        taken += usize::from(size < 16 * 1024);
        (taken <= 150).then_some(size < 16 * 1024)
    });
    let mut env = Env::new().with_model(r4_model());
    env.lenient_as = true;
    let (mut evaluations, mut found, mut problems) = (0, 0, Vec::new());
    for sp in &params {
        let Some(text) = sp.get("expression").and_then(Node::as_str) else {
            continue;
        };
        let expr = match Expr::parse(text) {
            Ok(e) => e,
            Err(e) => {
                problems.push(format!("{text}: {e}"));
                continue;
            }
        };
        let bases: Vec<&str> = sp
            .get("base")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::as_str)
            .collect();
        for example in &examples {
            let Some(rt) = example.resource_type() else {
                continue;
            };
            if !bases
                .iter()
                .any(|b| *b == rt || *b == "Resource" || *b == "DomainResource")
            {
                continue;
            }
            evaluations += 1;
            match fhirpath::evaluate(&expr, example, &env) {
                Ok(r) => found += usize::from(!r.is_empty()),
                Err(e) => problems.push(format!("{text}: {e}")),
            }
        }
    }
    assert!(
        params.len() > 1000,
        "only {} SearchParameters",
        params.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        evaluations > 2000 && found * 4 > evaluations,
        "{found} of {evaluations} found anything"
    );
}
