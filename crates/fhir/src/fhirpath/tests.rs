//! End-to-end tests of the public API: parse once, evaluate against JSON resources.

use super::*;
use crate::model::parse_json;

fn eval_str(expr: &str, json: &str) -> Result<Vec<String>, FhirPathError> {
    let node = parse_json(json).expect("test JSON");
    let e = Expr::parse(expr)?;
    let env = Env::new();
    let r = evaluate(&e, &node, &env)?;
    Ok(r.iter().map(Item::to_display).collect())
}

const PATIENT: &str = r##"{
  "resourceType": "Patient", "id": "p1", "active": true,
  "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]},
           {"use": "usual", "given": ["Jim"]}],
  "birthDate": "1974-12-25",
  "_birthDate": {"extension": [{"url": "http://x/birthTime", "valueDateTime": "1974-12-25T14:35:45-05:00"}]},
  "gender": "male",
  "contained": [{"resourceType": "Organization", "id": "org", "name": "Acme"}],
  "managingOrganization": {"reference": "#org"},
  "extension": [{"url": "http://x/a", "valueString": "v"}]
}"##;

#[test]
fn navigation_and_filtering() {
    assert_eq!(
        eval_str("Patient.name.given", PATIENT).unwrap(),
        ["Peter", "James", "Jim"]
    );
    assert_eq!(
        eval_str("name.where(use = 'usual').given", PATIENT).unwrap(),
        ["Jim"]
    );
    assert_eq!(eval_str("name.given.count()", PATIENT).unwrap(), ["3"]);
    assert_eq!(
        eval_str("Patient.nothing", PATIENT).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        eval_str("Observation.status", PATIENT).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(eval_str("name[1].given", PATIENT).unwrap(), ["Jim"]);
}

#[test]
fn primitive_siblings_merge_and_choices_are_found_without_a_model() {
    assert_eq!(
        eval_str(
            "birthDate.extension('http://x/birthTime').value.toString()",
            PATIENT
        )
        .unwrap(),
        ["1974-12-25T14:35:45-05:00"]
    );
    assert_eq!(eval_str("birthDate.hasValue()", PATIENT).unwrap(), ["true"]);
    assert_eq!(eval_str("extension.value", PATIENT).unwrap(), ["v"]);
    assert_eq!(
        eval_str("hasExtension('http://x/a')", PATIENT).unwrap(),
        ["true"]
    );
    assert_eq!(
        eval_str("hasExtension('http://x/b')", PATIENT).unwrap(),
        ["false"]
    );
    let only_ext = r#"{"resourceType": "Patient", "_gender": {"extension": [{"url": "u", "valueCode": "x"}]}}"#;
    assert_eq!(eval_str("gender.hasValue()", only_ext).unwrap(), ["false"]);
    assert_eq!(
        eval_str("gender.extension.count()", only_ext).unwrap(),
        ["1"]
    );
}

#[test]
fn three_valued_logic() {
    let none: Vec<String> = vec![];
    assert_eq!(eval_str("true and {}", PATIENT).unwrap(), none);
    assert_eq!(eval_str("false and {}", PATIENT).unwrap(), ["false"]);
    assert_eq!(eval_str("{} or true", PATIENT).unwrap(), ["true"]);
    assert_eq!(eval_str("{} implies false", PATIENT).unwrap(), none);
    assert_eq!(eval_str("false implies {}", PATIENT).unwrap(), ["true"]);
    assert_eq!(eval_str("true xor true", PATIENT).unwrap(), ["false"]);
}

#[test]
fn resolve_contained_and_bundle() {
    assert_eq!(
        eval_str("managingOrganization.resolve().name", PATIENT).unwrap(),
        ["Acme"]
    );
    let bundle = r#"{"resourceType": "Bundle", "entry": [
        {"fullUrl": "http://s/Patient/1", "resource": {"resourceType": "Patient", "id": "1",
           "link": [{"other": {"reference": "Patient/2"}}]}},
        {"fullUrl": "http://s/Patient/2", "resource": {"resourceType": "Patient", "id": "2", "gender": "female"}}]}"#;
    assert_eq!(
        eval_str("entry[0].resource.link.other.resolve().gender", bundle).unwrap(),
        ["female"]
    );
    assert_eq!(
        eval_str("entry.resource.ofType(Patient).count()", bundle).unwrap(),
        ["2"]
    );
    assert_eq!(
        eval_str("'Patient/9'.resolve()", bundle).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn errors_carry_class_and_position() {
    let e = eval_str("name.given +", PATIENT).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Syntax);
    let e = eval_str("name.given.frobnicate()", PATIENT).unwrap_err();
    assert_eq!((e.kind, e.pos.col), (ErrorKind::Semantic, 12));
    let e = eval_str("name.given + 1", PATIENT).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Execution);
    let e = eval_str("\n  name.given.single()", PATIENT).unwrap_err();
    assert_eq!((e.pos.line, e.pos.col), (2, 14));
    assert!(eval_str("%nope", PATIENT).is_err());
    assert_eq!(
        eval_str("%'vs-a' | %\"ext-b\"", PATIENT).unwrap(),
        [
            "http://hl7.org/fhir/ValueSet/a",
            "http://hl7.org/fhir/StructureDefinition/b"
        ]
    );
}

#[test]
fn variables_hooks_and_trace() {
    use std::sync::{Arc, Mutex};
    struct Codes;
    impl Terminology for Codes {
        fn member_of(&self, _system: Option<&str>, code: &str, vs: &str) -> Option<bool> {
            (vs == "http://vs").then_some(code == "male")
        }
        fn subsumes(&self, system: &str, ancestor: &str, code: &str) -> Option<bool> {
            (system == "http://sys").then(|| code.starts_with(ancestor))
        }
    }
    let node = parse_json(PATIENT).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let mut env = Env::new().with_variable("limit", Variable::Value(Value::Integer(2)));
    env.terminology = Some(Arc::new(Codes));
    env.conforms_to = Some(Arc::new(|n: &crate::model::Node, url: &str| {
        (url == "http://p").then(|| n.get("active").is_some())
    }));
    env.trace = Some(Arc::new(move |name: &str, items: &[String]| {
        sink.lock()
            .unwrap()
            .push(format!("{name}={}", items.join(",")));
    }));
    let run = |text: &str| -> Vec<String> {
        let e = Expr::parse(text).unwrap();
        evaluate(&e, &node, &env)
            .unwrap()
            .iter()
            .map(Item::to_display)
            .collect()
    };
    assert_eq!(run("name.given.take(%limit)"), ["Peter", "James"]);
    assert_eq!(run("gender.memberOf('http://vs')"), ["true"]);
    assert_eq!(run("'female'.memberOf('http://vs')"), ["false"]);
    assert_eq!(run("gender.memberOf('http://other')"), Vec::<String>::new());
    assert_eq!(run("conformsTo('http://p')"), ["true"]);
    let obs = parse_json(
        r#"{"resourceType": "Observation", "code": {"coding": [
            {"system": "http://sys", "code": "12"}, {"system": "http://sys", "code": "1"}]}}"#,
    )
    .unwrap();
    let on_obs = |text: &str, env: &Env| -> Vec<String> {
        let e = Expr::parse(text).unwrap();
        evaluate(&e, &obs, env)
            .unwrap()
            .iter()
            .map(Item::to_display)
            .collect()
    };
    assert_eq!(
        on_obs("code.coding[1].subsumes(code.coding[0])", &env),
        ["true"]
    );
    assert_eq!(
        on_obs("code.coding[0].subsumes(code.coding[1])", &env),
        ["false"]
    );
    assert_eq!(
        on_obs("code.coding[0].subsumedBy(code.coding[1])", &env),
        ["true"]
    );
    let none: Vec<String> = vec![];
    assert_eq!(
        on_obs("code.coding[1].subsumes(code.coding[0])", &Env::new()),
        none
    );
    assert_eq!(run("name.given.trace('g').count()"), ["3"]);
    assert_eq!(seen.lock().unwrap().as_slice(), ["g=Peter,James,Jim"]);
    let e = Expr::parse("conformsTo('http://unknown')").unwrap();
    assert_eq!(
        evaluate(&e, &node, &env).unwrap_err().kind,
        ErrorKind::Execution
    );
}

#[test]
fn json_output() {
    let node = parse_json(PATIENT).unwrap();
    let e = Expr::parse("birthDate | 1.5 | 2 'mg' | active").unwrap();
    let env = Env::new();
    let r = evaluate(&e, &node, &env).unwrap();
    assert_eq!(
        to_json(&r),
        serde_json::json!([
            {"type": "string", "value": "1974-12-25"},
            {"type": "decimal", "value": 1.5},
            {"type": "Quantity", "value": {"value": 2, "unit": "mg"}},
            {"type": "boolean", "value": true}
        ])
    );
    assert_eq!(as_boolean(&r), Some(true));
    assert_eq!(as_boolean(&[]), None);
}

#[test]
fn deep_expressions_fail_cleanly_in_a_small_thread() {
    let handle = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(|| {
            let node = parse_json(PATIENT).unwrap();
            let env = Env::new();
            let deep = format!("{}1{}", "(".repeat(90), ")".repeat(90));
            let e = Expr::parse(&deep).unwrap();
            assert_eq!(evaluate(&e, &node, &env).unwrap().len(), 1);
            let chain = format!("name{}", ".select($this)".repeat(150));
            let e = Expr::parse(&chain).unwrap();
            assert_eq!(evaluate(&e, &node, &env).unwrap().len(), 2);
            let unions = vec!["name"; 100].join(" | ");
            let e = Expr::parse(&unions).unwrap();
            assert_eq!(evaluate(&e, &node, &env).unwrap().len(), 2);
            // Longer than the evaluator will recurse: an error, not a crash.
            let unions = vec!["name"; 900].join(" | ");
            let e = Expr::parse(&unions).unwrap();
            assert_eq!(
                evaluate(&e, &node, &env).unwrap_err().kind,
                ErrorKind::Execution
            );
            let lambdas = format!(
                "name{}{}",
                ".where(true).select($this".repeat(90),
                ")".repeat(90)
            );
            let e = Expr::parse(&lambdas).unwrap();
            assert_eq!(evaluate(&e, &node, &env).unwrap().len(), 2);
            let args = format!("{}'abc'{}", "'x'.replace('a', ".repeat(95), ")".repeat(95));
            let e = Expr::parse(&args).unwrap();
            assert_eq!(evaluate(&e, &node, &env).unwrap().len(), 1);
        })
        .unwrap();
    handle.join().expect("no stack overflow");
}

/// Mutated expressions (cut, doubled and swapped characters) never panic.
#[test]
fn mutated_expressions_never_panic() {
    let seeds = [
        "Patient.name.where(use = 'official').given.first()",
        "(1 | 2 | 3).aggregate($this + $total, 0) > 5 and @2012-04-15T10:00:00Z < now()",
        "birthDate.extension('http://x').value.ofType(dateTime).toString().substring(0, 4)",
        "iif(name.exists(), 'a'.replaceMatches('(a)', '$1$1'), 4.5 'mg' * 2 'g' / 3 'kg')",
        "%resource.descendants().repeat(children()).count() div 2 mod 7 ~ -1.5e",
        "`div`.as(FHIR.string) is System.String implies {} xor true != 'x\\u00e9'",
        "'10*3/uL'.toQuantity('10*99') | 1 'm999999999' | 1 '10*-999999' | 9 '/(((m)))'",
    ];
    let node = parse_json(PATIENT).unwrap();
    let env = Env::new();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut evaluated = 0;
    for seed in seeds {
        let chars: Vec<char> = seed.chars().collect();
        for _ in 0..300 {
            let mut m = chars.clone();
            for _ in 0..(next() % 4 + 1) {
                let i = (next() as usize) % m.len().max(1);
                match next() % 4 {
                    0 if !m.is_empty() => {
                        m.remove(i.min(m.len() - 1));
                    }
                    1 => {
                        let c = chars[(next() as usize) % chars.len()];
                        m.insert(i.min(m.len()), c);
                    }
                    2 if m.len() > 1 => {
                        let j = (next() as usize) % m.len();
                        let last = m.len() - 1;
                        m.swap(i.min(last), j);
                    }
                    _ => m.truncate(i),
                }
            }
            let text: String = m.into_iter().collect();
            if let Ok(e) = Expr::parse(&text) {
                let _ = evaluate(&e, &node, &env);
                evaluated += 1;
            }
        }
    }
    assert!(evaluated > 50, "too few mutants parsed: {evaluated}");
}

#[test]
fn evaluates_on_an_element_with_context() {
    let node = parse_json(PATIENT).unwrap();
    let env = Env::new();
    let name = &node.get("name").unwrap().items()[0];
    let e = Expr::parse("given.count() = 2 and %resource.id = 'p1' and %context.use = 'official'")
        .unwrap();
    let r = evaluate_on(&e, &node, name, Some("HumanName"), &env).unwrap();
    assert_eq!(as_boolean(&r), Some(true));
    let other = &node.get("name").unwrap().items()[1];
    let r = evaluate_on(&e, &node, other, Some("HumanName"), &env).unwrap();
    assert_eq!(as_boolean(&r), Some(false));
    let e = Expr::parse("$this.is(HumanName)").unwrap();
    let r = evaluate_on(&e, &node, name, Some("HumanName"), &env).unwrap();
    assert_eq!(as_boolean(&r), Some(true));
}

#[test]
fn scope_separates_resource_and_root_resource() {
    let bundle = parse_json(
        r#"{"resourceType": "Bundle", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Observation", "id": "o",
           "subject": {"reference": "urn:uuid:2"}}},
        {"fullUrl": "urn:uuid:2", "resource": {"resourceType": "Patient", "id": "p", "gender": "male"}}]}"#,
    )
    .unwrap();
    let obs = bundle.pointer("/entry/0/resource").unwrap();
    let env = Env::new();
    let scope = Scope {
        root_resource: &bundle,
        resource: obs,
        element: obs,
        element_type: None,
    };
    let run = |text: &str| -> Vec<String> {
        let e = Expr::parse(text).unwrap();
        evaluate_in(&e, scope, &env)
            .unwrap()
            .iter()
            .map(Item::to_display)
            .collect()
    };
    assert_eq!(run("subject.resolve().gender"), ["male"]);
    assert_eq!(run("%resource.id"), ["o"]);
    assert_eq!(run("%rootResource.entry.count()"), ["2"]);
    assert_eq!(run("%resource.entry.count()"), ["0"]);
    // Alone, the observation cannot see the bundle's patient.
    let e = Expr::parse("subject.resolve()").unwrap();
    assert!(evaluate(&e, obs, &env).unwrap().is_empty());
}

#[test]
fn results_outlive_the_expression() {
    let node = parse_json(PATIENT).unwrap();
    let env = Env::new();
    let result = {
        let e = Expr::parse("name.given | 'computed'").unwrap();
        evaluate(&e, &node, &env).unwrap()
    };
    // Tree items borrow the resource itself, not a copy of it.
    let Item::Node(first) = &result[0] else {
        panic!("expected a tree item")
    };
    let peter = &node.get("name").unwrap().items()[0]
        .get("given")
        .unwrap()
        .items()[0];
    assert!(std::ptr::eq(first.value.unwrap(), peter));
    assert_eq!(
        result.last().map(Item::to_display).as_deref(),
        Some("computed")
    );
}

#[test]
fn shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Expr>();
    send_sync::<Env>();
    send_sync::<ModelInfo>();
    send_sync::<FhirPathError>();
    let env = Env::new().with_variable("b", Variable::Value(Value::Boolean(true)));
    let shown = format!("{env:?}");
    assert!(
        shown.contains("variables: [\"b\"]") && shown.contains("strict: false"),
        "{shown}"
    );
    assert_eq!(Expr::parse("a . b").unwrap().to_string(), "a . b");
}

#[test]
fn dates_quantities_and_decimals() {
    let run = |text: &str| eval_str(text, PATIENT).unwrap();
    assert_eq!(run("birthDate + 1 year"), ["@1975-12-25"]);
    assert_eq!(run("@2012-01-31 + 1 month"), ["@2012-02-29"]);
    assert_eq!(
        run("@2012-01-01T10:00:00Z - 90 minutes"),
        ["@2012-01-01T08:30:00Z"]
    );
    assert_eq!(run("@2012 < @2012-06"), Vec::<String>::new());
    assert_eq!(run("@2012 < @2013-06"), ["true"]);
    assert_eq!(run("1 'kg' = 1000 'g'"), ["true"]);
    assert_eq!(run("1 'kg' = 1001 'g'"), ["false"]);
    assert_eq!(run("1 'kg' = 1 'm'"), Vec::<String>::new());
    assert_eq!(run("1 'kg' < 1 's'").len(), 0);
    assert_eq!(run("1.50 + 1"), ["2.50"]);
    assert_eq!(run("10 / 4"), ["2.5"]);
    assert_eq!(run("10 div 4"), ["2"]);
    assert_eq!(run("-7.5 div 2"), ["-3"]);
    assert_eq!(run("7.5 div 0"), Vec::<String>::new());
    assert!(eval_str("99999999999999999999.0 div 0.5", PATIENT).is_err());
    assert_eq!(run("-7 mod 3"), ["-1"]);
    assert_eq!(run("1 / 0"), Vec::<String>::new());
    assert_eq!(run("now() = now() and today() = now().toDate()"), ["true"]);
    assert_eq!(run("today() <= now()"), Vec::<String>::new());
    assert_eq!(run("now() > @2100-01-01"), ["false"]);
    assert_eq!(run("3.14159.round(2)"), ["3.14"]);
    assert!(eval_str("@2012-01-01 + 1 'mo'", PATIENT).is_err());
    assert!(eval_str("9223372036854775807L + 1", PATIENT).is_err());
}

#[test]
fn as_on_many_items_fails_unless_lenient() {
    let node = parse_json(PATIENT).unwrap();
    let e = Expr::parse("name.as(HumanName).count()").unwrap();
    let strict = Env::new();
    assert_eq!(
        evaluate(&e, &node, &strict).unwrap_err().kind,
        ErrorKind::Execution
    );
    let lenient = Env {
        lenient_as: true,
        ..Env::new()
    };
    let r = evaluate(&e, &node, &lenient).unwrap();
    assert_eq!(r.iter().map(Item::to_display).collect::<Vec<_>>(), ["0"]);
}

#[test]
fn iif_branches_see_the_focus() {
    let run = |text: &str| eval_str(text, PATIENT).unwrap();
    assert_eq!(
        run("name.first().iif(given.exists(), given.first(), 'none')"),
        ["Peter"]
    );
    assert_eq!(
        run("name.last().iif(family.exists(), family, given.first())"),
        ["Jim"]
    );
    assert_eq!(run("iif({}, 'yes', 'no')"), ["no"]);
    assert_eq!(run("iif(true, 'yes')"), ["yes"]);
    assert_eq!(run("iif(false, 'yes')"), Vec::<String>::new());
}

#[test]
fn conversions_of_elements_without_a_value() {
    let run = |text: &str| eval_str(text, PATIENT).unwrap();
    assert_eq!(run("name.first().toString()"), Vec::<String>::new());
    assert_eq!(run("name.first().convertsToString()"), ["false"]);
    assert_eq!(run("gender.convertsToString()"), ["true"]);
    assert_eq!(run("active.toInteger()"), ["1"]);
    assert!(eval_str("name.toString()", PATIENT).is_err());
}

#[test]
fn distinct_of_many_items_keeps_first_occurrences() {
    // Over 32 items `distinct()` hashes strings; the result must be the same as the
    // pairwise comparison gives, for strings and for mixed collections.
    let names: Vec<String> = (0..40).map(|i| format!("\"n{}\"", i % 30)).collect();
    let json = format!(
        "{{\"resourceType\": \"Basic\", \"s\": [{}]}}",
        names.join(",")
    );
    let got = eval_str("s.distinct()", &json).unwrap();
    let want: Vec<String> = (0..30).map(|i| format!("n{i}")).collect();
    assert_eq!(got, want);
    assert_eq!(eval_str("s.isDistinct()", &json).unwrap(), ["false"]);
    assert_eq!(
        eval_str("s.distinct().isDistinct()", &json).unwrap(),
        ["true"]
    );
    let mixed: Vec<String> = (0..40)
        .map(|i| {
            if i % 2 == 0 {
                format!("{}", i % 6)
            } else {
                format!("\"{}\"", i % 6)
            }
        })
        .collect();
    let json = format!(
        "{{\"resourceType\": \"Basic\", \"s\": [{}]}}",
        mixed.join(",")
    );
    assert_eq!(
        eval_str("s.distinct()", &json).unwrap(),
        ["0", "1", "2", "3", "4", "5"]
    );
}

/// `%resource.descendants()` is computed once per evaluation and reused in every
/// iteration of `where()`: what each iteration sees is still its own `$this`.
#[test]
fn fixed_descendants_reused_across_iterations() {
    let doc = r##"{"resourceType": "Patient", "id": "p",
      "contained": [{"resourceType": "Organization", "id": "a"},
                    {"resourceType": "Organization", "id": "b", "name": "B"},
                    {"resourceType": "Practitioner", "id": "c"}],
      "managingOrganization": {"reference": "#a"},
      "generalPractitioner": [{"reference": "#c"}]}"##;
    let unreferenced = "contained.where(('#' + id in %resource.descendants().reference).not()).id";
    assert_eq!(eval_str(unreferenced, doc).unwrap(), ["b"]);
    assert_eq!(
        eval_str(
            "contained.select(%resource.descendants().count() - descendants().count())",
            doc
        )
        .unwrap(),
        ["11", "10", "11"]
    );
    // The same syntax node with another `%resource` is another evaluation.
    let other = doc.replace("\"#c\"", "\"#b\"");
    assert_eq!(eval_str(unreferenced, &other).unwrap(), ["c"]);
}
