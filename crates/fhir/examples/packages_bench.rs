//! Package benchmark: cold load of R4 core and resolving the Patient snapshot, then
//! snapshot generation throughput over every core constraint profile and extension.
//!
//! usage: packages_bench CORE_TGZ

use std::time::Instant;

use assure_fhir::package::{LoadOptions, PackageSource};
use assure_fhir::PackageSet;

fn main() {
    let Some(core) = std::env::args().nth(1) else {
        eprintln!("usage: packages_bench CORE_TGZ");
        std::process::exit(2);
    };
    let source = PackageSource::parse(&core).expect("a path");
    let started = Instant::now();
    let set = PackageSet::load(std::slice::from_ref(&source), &LoadOptions::default())
        .expect("core loads");
    let loaded = started.elapsed();
    let patient = set
        .snapshot("http://hl7.org/fhir/StructureDefinition/Patient")
        .expect("Patient snapshot");
    let resolved = started.elapsed();
    println!(
        "cold load of {} resources: {:.0} ms; + Patient snapshot ({} elements): {:.0} ms; resources parsed: {}",
        set.resources().count(),
        loaded.as_secs_f64() * 1000.0,
        patient.elements.len(),
        resolved.as_secs_f64() * 1000.0,
        set.parsed_resources()
    );
    let profiles: Vec<String> = set
        .resources()
        .filter(|r| {
            r.resource_type() == "StructureDefinition" && r.derivation() == Some("constraint")
        })
        .filter_map(|r| r.url().map(str::to_owned))
        .collect();
    let started = Instant::now();
    let mut elements = 0;
    let mut failed = 0;
    for url in &profiles {
        match set.generate_snapshot(url) {
            Ok(s) => elements += s.elements.len(),
            Err(_) => failed += 1,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "generated {} snapshots ({} elements, {} failed) in {:.0} ms: {:.0} snapshots/s, {:.0} elements/s",
        profiles.len(),
        elements,
        failed,
        secs * 1000.0,
        profiles.len() as f64 / secs,
        elements as f64 / secs
    );
}
