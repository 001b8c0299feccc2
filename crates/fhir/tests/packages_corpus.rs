//! Corpus check over the real packages in `shared/fhir-packages`: loading, indexing,
//! resolving, XML reading and snapshot generation, with figures printed and floors
//! that only ever rise.

use std::path::PathBuf;
use std::time::Instant;

use assure_fhir::package::{FhirRelease, LoadOptions, PackageSet};

fn shared(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fhir-packages")
        .join(name)
}

fn load(names: &[&str]) -> PackageSet {
    let paths: Vec<PathBuf> = names.iter().map(|n| shared(n)).collect();
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
