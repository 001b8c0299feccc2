//! Benchmark workload: every invariant of the core resource definitions, evaluated
//! on every example resource of its type. `bench/fhirpath_vs_js.py` runs this and the
//! same workload in fhirpath.js (the HL7 reference implementation) side by side.
//!
//! usage: fhirpath_invariants CORE_TGZ EXAMPLES_DIR WORKLOAD_OUT.json

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use assure_fhir::fhirpath::{self, Env, Expr, ModelInfo};
use assure_fhir::package::{LoadOptions, PackageSource};
use assure_fhir::{parse_json, PackageSet};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [core, examples, workload_out] = args.as_slice() else {
        eprintln!("usage: fhirpath_invariants CORE_TGZ EXAMPLES_DIR WORKLOAD_OUT.json");
        std::process::exit(2);
    };
    let set = PackageSet::load(
        &[PackageSource::parse(core).expect("core path")],
        &LoadOptions::default(),
    )
    .expect("core loads");
    let model = Arc::new(ModelInfo::from_packages(&set).expect("core has type definitions"));
    let env = Env::new().with_model(model);

    // Resource type -> (element path as FHIRPath, key, expression).
    let mut workload: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    let resource_types: Vec<String> = set
        .resources()
        .filter(|r| {
            r.resource_type() == "StructureDefinition" && r.derivation() != Some("constraint")
        })
        .filter(|r| r.kind() == Some("resource"))
        .filter_map(|r| r.sd_type().map(str::to_owned))
        .collect();
    for ty in &resource_types {
        let ty = ty.as_str();
        let Ok(snapshot) = set.snapshot(ty) else {
            continue;
        };
        for el in &snapshot.elements {
            for c in &el.constraints {
                if let Some(expr) = &c.expression {
                    let path = el.path.replace("[x]", "");
                    workload.entry(ty.to_owned()).or_default().push((
                        path,
                        c.key.clone(),
                        expr.clone(),
                    ));
                }
            }
        }
    }
    let json = serde_json::json!(workload
        .iter()
        .map(|(t, cs)| (
            t.clone(),
            cs.iter()
                .map(|(p, k, e)| serde_json::json!({"path": p, "key": k, "expression": e}))
                .collect::<Vec<_>>()
        ))
        .collect::<BTreeMap<_, _>>());
    std::fs::write(workload_out, serde_json::to_string(&json).expect("json"))
        .expect("write workload");

    // Parse every expression once, as the validator does.
    let parsed: BTreeMap<&str, Vec<(Expr, Expr, &str)>> = workload
        .iter()
        .map(|(t, cs)| {
            let exprs = cs
                .iter()
                .filter_map(|(p, k, e)| {
                    Some((Expr::parse(p).ok()?, Expr::parse(e).ok()?, k.as_str()))
                })
                .collect();
            (t.as_str(), exprs)
        })
        .collect();

    let mut files: Vec<_> = std::fs::read_dir(examples)
        .expect("examples dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    let resources: Vec<_> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| parse_json(&std::fs::read_to_string(p).ok()?).ok())
        .filter(|n| n.resource_type().is_some_and(|t| parsed.contains_key(t)))
        .collect();

    let (mut pairs, mut evaluations, mut errors, mut false_results) = (0u64, 0u64, 0u64, 0u64);
    let cpu_started = cpu_seconds();
    let started = Instant::now();
    for resource in &resources {
        let ty = resource.resource_type().unwrap_or_default();
        for (path, expr, _key) in &parsed[ty] {
            pairs += 1;
            let Ok(nodes) = fhirpath::evaluate(path, resource, &env) else {
                errors += 1;
                continue;
            };
            for item in nodes.iter() {
                let fhirpath::Item::Node(n) = item else {
                    continue;
                };
                let Some(node) = n.value.or(n.meta) else {
                    continue;
                };
                evaluations += 1;
                match fhirpath::evaluate_on(expr, resource, node, Some(n.ty.key), &env) {
                    Ok(r) if fhirpath::as_boolean(&r) == Some(false) => false_results += 1,
                    Ok(_) => {}
                    Err(_) => errors += 1,
                }
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_started;
    println!(
        "{{\"engine\": \"assure\", \"resources\": {}, \"pairs\": {pairs}, \"evaluations\": {evaluations}, \"errors\": {errors}, \"false\": {false_results}, \"seconds\": {secs:.3}, \"cpu_seconds\": {cpu:.3}}}",
        resources.len()
    );
}

/// CPU time of this process (user + system), from /proc: wall time on a shared
/// 2-core machine says more about the neighbours than about the engine.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}
