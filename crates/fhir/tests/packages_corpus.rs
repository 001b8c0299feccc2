//! Corpus check over the real packages in `shared/fhir-packages`: loading, indexing,
//! resolving, XML reading and snapshot generation, with figures printed and floors
//! that only ever rise.

use std::path::PathBuf;
use std::time::Instant;

use assure_fhir::package::{FhirRelease, LoadOptions, PackageSet};
use assure_fhir::snapshot::{ElementDefinition, Snapshot};
use assure_fhir::Node;

fn package(name: &str) -> PathBuf {
    assure_testdata::path(&format!("fhir-packages/{name}"))
}

fn load(names: &[&str]) -> PackageSet {
    let paths: Vec<PathBuf> = names.iter().map(|n| package(n)).collect();
    let started = Instant::now();
    let set = PackageSet::load(&paths, &LoadOptions::default()).expect("packages load");
    println!("loaded {names:?} in {:?}", started.elapsed());
    set
}

/// Every StructureDefinition parses, and every base chain ends at a root type.
fn check_definitions(set: &PackageSet, release: FhirRelease) -> (usize, Vec<String>) {
    let mut count = 0;
    let mut failures = Vec::new();
    for r in set
        .resources()
        .filter(|r| r.resource_type() == "StructureDefinition" && r.release() == release)
    {
        count += 1;
        if let Err(e) = r.node() {
            failures.push(e.to_string());
            continue;
        }
        let mut at = r;
        let mut hops = 0;
        while let Some(base) = at.base_definition() {
            match set.resolve_in(base, release) {
                Some(next) if hops < 50 => {
                    at = next;
                    hops += 1;
                }
                _ => {
                    failures.push(format!("{}: base {base} does not resolve", r.file()));
                    break;
                }
            }
        }
    }
    (count, failures)
}

#[test]
fn core_packages_load_and_resolve() {
    let set = load(&["hl7.fhir.r4.core-4.0.1.tgz", "hl7.fhir.core-3.0.1.tgz"]);
    let ids: Vec<_> = set
        .packages()
        .iter()
        .map(|p| (p.id.as_str(), p.release))
        .collect();
    assert_eq!(
        ids,
        [
            ("hl7.fhir.r4.core", FhirRelease::R4),
            ("hl7.fhir.r3.core", FhirRelease::Stu3)
        ]
    );
    for p in set.packages() {
        println!(
            "package {}#{} fhir {} sha256 {}",
            p.name, p.version, p.fhir_version, p.sha256
        );
        assert_eq!(p.sha256.len(), 64);
    }
    for release in [FhirRelease::R4, FhirRelease::Stu3] {
        let started = Instant::now();
        let (count, failures) = check_definitions(&set, release);
        println!(
            "{release:?}: {count} StructureDefinitions parsed and base chains resolved in {:?}; {} failures",
            started.elapsed(),
            failures.len()
        );
        assert!(failures.is_empty(), "{failures:#?}");
        assert!(count >= 580, "{count}");
    }
    let patient = set
        .type_definition("Patient", FhirRelease::Stu3)
        .expect("STU3 Patient");
    assert_eq!(patient.package().id, "hl7.fhir.r3.core");
    assert!(set
        .resolve("http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1")
        .is_some());
    assert!(set
        .resolve("http://hl7.org/fhir/ValueSet/administrative-gender|9.9.9")
        .is_none());
}

/// Per-field agreement between generated and shipped snapshots.
#[derive(Default)]
struct Agreement {
    fields: std::collections::BTreeMap<&'static str, (usize, usize)>,
    samples: Vec<String>,
}

impl Agreement {
    fn count(&mut self, field: &'static str, same: bool, sample: impl FnOnce() -> String) {
        let slot = self.fields.entry(field).or_default();
        slot.1 += 1;
        if same {
            slot.0 += 1;
        } else if self.samples.len() < 400 {
            self.samples.push(format!("{field}: {}", sample()));
        }
    }

    fn percent(&self, field: &str) -> f64 {
        let (same, all) = self.fields.get(field).copied().unwrap_or((0, 1));
        100.0 * same as f64 / all.max(1) as f64
    }
}

fn compare(shipped: &Snapshot, generated: &Snapshot, agreement: &mut Agreement) {
    use std::collections::BTreeSet;
    let url = &shipped.url;
    for s in &shipped.elements {
        let g = generated.element(&s.id);
        agreement.count("paths", g.is_some_and(|g| g.path == s.path), || {
            format!("{url} {} missing", s.id)
        });
        let Some(g) = g else { continue };
        agreement.count("cardinality", g.min == s.min && g.max == s.max, || {
            format!(
                "{url} {}: {}..{} vs shipped {}..{}",
                s.id, g.min, g.max, s.min, s.max
            )
        });
        let types = |e: &ElementDefinition| {
            e.types
                .iter()
                .map(|t| {
                    (
                        t.code.clone(),
                        t.profiles.clone(),
                        t.target_profiles.clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        agreement.count("types", types(g) == types(s), || {
            format!("{url} {}: {:?} vs {:?}", s.id, types(g), types(s))
        });
        let value = |v: &Option<(String, Node)>| v.as_ref().map(|(k, n)| (k.clone(), n.to_value()));
        agreement.count(
            "fixed/pattern",
            value(&g.fixed) == value(&s.fixed) && value(&g.pattern) == value(&s.pattern),
            || {
                format!(
                    "{url} {}: {:?}/{:?} vs {:?}/{:?}",
                    s.id,
                    value(&g.fixed),
                    value(&g.pattern),
                    value(&s.fixed),
                    value(&s.pattern)
                )
            },
        );
        let binding = |e: &ElementDefinition| {
            e.binding
                .as_ref()
                .map(|b| (b.strength.clone(), b.value_set.clone()))
        };
        agreement.count("binding", binding(g) == binding(s), || {
            format!("{url} {}: {:?} vs {:?}", s.id, binding(g), binding(s))
        });
        let keys = |e: &ElementDefinition| {
            e.constraints
                .iter()
                .map(|c| c.key.clone())
                .collect::<BTreeSet<_>>()
        };
        agreement.count("constraints", keys(g) == keys(s), || {
            format!("{url} {}: {:?} vs {:?}", s.id, keys(g), keys(s))
        });
    }
    for g in &generated.elements {
        if shipped.element(&g.id).is_none() {
            agreement.count("paths", false, || format!("{url} {} extra", g.id));
        }
    }
}

#[test]
fn r4_core_snapshots_regenerate() {
    let set = load(&["hl7.fhir.r4.core-4.0.1.tgz"]);
    // Indexing parses nothing; one snapshot parses its chain, not the package.
    assert_eq!(set.parsed_resources(), 0);
    let vitals = set
        .snapshot("http://hl7.org/fhir/StructureDefinition/bodyweight")
        .unwrap();
    assert!(!vitals.generated);
    let parsed = set.parsed_resources();
    println!(
        "index of {} resources built without parsing; one snapshot parsed {parsed}",
        set.resources().count()
    );
    assert!(parsed <= 3, "{parsed}");
    let started = Instant::now();
    let mut agreement = Agreement::default();
    let (mut profiles, mut failures) = (0, Vec::new());
    for r in set.resources() {
        if r.resource_type() != "StructureDefinition" || r.derivation() != Some("constraint") {
            continue;
        }
        let Some(url) = r.url() else { continue };
        let shipped = set.snapshot(url).expect("snapshot");
        if shipped.generated {
            continue;
        }
        profiles += 1;
        match set.generate_snapshot(url) {
            Ok(generated) => compare(&shipped, &generated, &mut agreement),
            Err(e) => failures.push(e.to_string()),
        }
    }
    println!(
        "R4 core: {profiles} constraint profiles regenerated in {:?}, {} failed",
        started.elapsed(),
        failures.len()
    );
    for f in failures.iter().take(10) {
        println!("  failed: {f}");
    }
    for (field, (same, all)) in &agreement.fields {
        println!(
            "  {field:14} {same:6} of {all:6} = {:.2}%",
            100.0 * *same as f64 / (*all).max(1) as f64
        );
    }
    for s in agreement.samples.iter().take(40) {
        println!("  differs: {s}");
    }
    assert!(profiles > 400, "{profiles}");
    assert!(failures.is_empty());
    for (field, floor) in [
        ("paths", 99.0),
        ("cardinality", 99.0),
        ("types", 99.0),
        ("fixed/pattern", 98.0),
        ("binding", 98.0),
        ("constraints", 98.0),
    ] {
        assert!(
            agreement.percent(field) >= floor,
            "{field}: {:.2}% < {floor}%",
            agreement.percent(field)
        );
    }
}

fn load_with(names: &[&str], allow_missing: bool) -> PackageSet {
    let paths: Vec<PathBuf> = names.iter().map(|n| package(n)).collect();
    let options = LoadOptions {
        allow_missing_dependencies: allow_missing,
        ..Default::default()
    };
    let started = Instant::now();
    let set = PackageSet::load(&paths, &options).expect("packages load");
    println!("loaded {names:?} in {:?}", started.elapsed());
    for w in set.warnings().iter().take(5) {
        println!("  warning: {w}");
    }
    set
}

#[test]
fn uk_core_stu2_snapshots_generate() {
    // UK Core STU2 names hl7.fhir.r5.core for cross-version extensions: not shipped here.
    let set = load_with(
        &[
            "ukcore-stu2-2.0.0-source-55dd5f7e.tgz",
            "hl7.fhir.r4.core-4.0.1.tgz",
        ],
        true,
    );
    let uk = &set.packages()[0];
    assert_eq!(
        (uk.name.as_str(), uk.release),
        ("UKCore.R4.STU.02.00.00", FhirRelease::R4)
    );
    let started = Instant::now();
    let (mut count, mut failures, mut elements) = (0, Vec::new(), 0);
    for r in set.resources() {
        if r.resource_type() != "StructureDefinition" || r.package().id != uk.id {
            continue;
        }
        count += 1;
        match set.snapshot(r.url().unwrap_or_default()) {
            Ok(s) => {
                assert!(s.generated, "{} ships no snapshot", r.file());
                elements += s.elements.len();
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    println!(
        "UK Core STU2: {count} StructureDefinitions, {} snapshots generated ({elements} elements) in {:?}",
        count - failures.len(),
        started.elapsed()
    );
    for f in &failures {
        println!("  failed: {f}");
    }
    assert!(count >= 150, "{count}");
    assert!(failures.is_empty());
}

#[test]
fn gp_connect_and_care_connect_resolve_against_stu3() {
    let set = load_with(
        &[
            "nhsconnect-stu3-fhir-assets-develop-4543c050.tgz",
            "hl7uk-careconnect-stu3-CareConnectAPI-9c11168a.tgz",
            "hl7.fhir.core-3.0.1.tgz",
        ],
        false,
    );
    for p in set.packages() {
        println!(
            "package {}#{} fhir {} ({:?})",
            p.name, p.version, p.fhir_version, p.release
        );
        assert_eq!(p.release, FhirRelease::Stu3, "{}", p.name);
    }
    let mut counts = std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    let mut generated = 0;
    for r in set.resources() {
        if r.resource_type() != "StructureDefinition" || r.package().id == "hl7.fhir.r3.core" {
            continue;
        }
        *counts.entry(r.package().name.clone()).or_insert(0) += 1;
        if let Err(e) = r.node() {
            failures.push(e.to_string());
            continue;
        }
        let mut at = r;
        while let Some(base) = at.base_definition() {
            match set.resolve_in(base, FhirRelease::Stu3) {
                Some(next) if next.index() != at.index() => at = next,
                _ => {
                    failures.push(format!("{}: base {base} does not resolve", r.file()));
                    break;
                }
            }
        }
        match set.snapshot(r.url().unwrap_or_default()) {
            Ok(s) => generated += usize::from(s.generated),
            Err(e) => failures.push(e.to_string()),
        }
    }
    println!(
        "STU3 assets: {counts:?}; {generated} snapshots generated; {} failures",
        failures.len()
    );
    for f in &failures {
        println!("  failed: {f}");
    }
    assert!(counts.values().sum::<usize>() >= 420, "{counts:?}");
    assert!(generated >= 6, "{generated}");
    assert!(failures.is_empty());
}

/// Regenerates every shipped snapshot of the named package and compares it.
fn regenerate_package(set: &PackageSet, package_name: &str) -> (usize, Vec<String>, Agreement) {
    let mut agreement = Agreement::default();
    let (mut count, mut failures) = (0, Vec::new());
    for r in set.resources() {
        if r.resource_type() != "StructureDefinition"
            || r.package().name != package_name
            || r.derivation() != Some("constraint")
        {
            continue;
        }
        let Some(url) = r.url() else { continue };
        let Ok(shipped) = set.snapshot(url) else {
            continue;
        };
        if shipped.generated {
            continue;
        }
        count += 1;
        match set.generate_snapshot(url) {
            Ok(generated) => compare(&shipped, &generated, &mut agreement),
            Err(e) => failures.push(e.to_string()),
        }
    }
    println!(
        "{package_name}: {count} shipped snapshots regenerated, {} failed",
        failures.len()
    );
    for f in failures.iter().take(8) {
        println!("  failed: {f}");
    }
    for (field, (same, all)) in &agreement.fields {
        println!(
            "  {field:14} {same:6} of {all:6} = {:.2}%",
            100.0 * *same as f64 / (*all).max(1) as f64
        );
    }
    for s in agreement
        .samples
        .iter()
        .filter(|s| s.starts_with("paths"))
        .take(12)
    {
        println!("  differs: {s}");
    }
    for s in agreement
        .samples
        .iter()
        .filter(|s| !s.starts_with("paths"))
        .take(8)
    {
        println!("  differs: {s}");
    }
    (count, failures, agreement)
}

#[test]
fn uk_core_r4_and_gp_connect_snapshots_regenerate() {
    let set = load_with(
        &["UK.Core.r4-1.2.0.tgz", "hl7.fhir.r4.core-4.0.1.tgz"],
        false,
    );
    let (count, failures, agreement) = regenerate_package(&set, "UK.Core.r4");
    assert!(count >= 44, "{count}");
    assert!(failures.is_empty(), "{failures:#?}");
    // Floors at the figures reached (they only rise).
    check_floors(
        "UK Core R4",
        &agreement,
        &[
            ("paths", 96.5),
            ("cardinality", 100.0),
            ("types", 99.9),
            ("binding", 99.9),
            ("constraints", 89.9),
        ],
    );
    let set = load_with(
        &[
            "nhsconnect-stu3-fhir-assets-develop-4543c050.tgz",
            "hl7uk-careconnect-stu3-CareConnectAPI-9c11168a.tgz",
            "hl7.fhir.core-3.0.1.tgz",
        ],
        false,
    );
    // STU3 snapshots were made by other tools (Forge): fully unfolded datatypes,
    // renamed choices; the figures say how close generation comes to them.
    let (count, failures, agreement) = regenerate_package(&set, "stu3-fhir-assets");
    assert!(count >= 369 && failures.is_empty(), "{count} {failures:#?}");
    check_floors(
        "GP Connect",
        &agreement,
        &[
            ("paths", 81.0),
            ("cardinality", 99.7),
            ("types", 99.9),
            ("binding", 100.0),
            ("constraints", 98.0),
        ],
    );
    let (count, failures, agreement) = regenerate_package(&set, "careconnect-stu3");
    assert!(count >= 50 && failures.is_empty(), "{count} {failures:#?}");
    check_floors(
        "CareConnect",
        &agreement,
        &[
            ("paths", 95.8),
            ("cardinality", 99.4),
            ("types", 99.9),
            ("binding", 100.0),
            ("constraints", 97.9),
        ],
    );
}

fn check_floors(name: &str, agreement: &Agreement, floors: &[(&str, f64)]) {
    for (field, floor) in floors {
        assert!(
            agreement.percent(field) >= *floor,
            "{name} {field}: {:.2}% < {floor}%",
            agreement.percent(field)
        );
    }
}

#[test]
fn package_set_is_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PackageSet>();
    assert_send_sync::<std::sync::Arc<Snapshot>>();
}
