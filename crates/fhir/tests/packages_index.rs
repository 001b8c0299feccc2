//! The package index kept in the package cache: made on first load, read instead of
//! the files afterwards, and never trusted when it does not match the package
//! (files changed, added or removed; the index damaged or cut short). Concurrent
//! loads never leave a half-written index.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assure_fhir::package::index::INDEX_FILE;
use assure_fhir::package::{IndexUse, LoadOptions, PackageCache, PackageSet, PackageSource};

const SD: &str = r#"{"resourceType":"StructureDefinition","id":"Thing","url":"http://example.org/StructureDefinition/Thing","name":"Thing","kind":"resource","type":"Thing","derivation":"specialization","fhirVersion":"4.0.1","snapshot":{"element":[{"path":"Thing"},{"path":"Thing.colour","max":"*","type":[{"code":"code"}]}]}}"#;

fn value_set(url: &str) -> String {
    format!(r#"{{"resourceType":"ValueSet","id":"v","url":"{url}","version":"1.0.0"}}"#)
}

/// A cache holding `a.pkg#1.0.0`, with its files old enough to be indexed.
fn cache_with_package() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("a.pkg#1.0.0").join("package");
    std::fs::create_dir_all(&package).unwrap();
    std::fs::write(
        package.join("package.json"),
        r#"{"name":"a.pkg","version":"1.0.0","fhirVersions":["4.0.1"]}"#,
    )
    .unwrap();
    std::fs::write(package.join("StructureDefinition-Thing.json"), SD).unwrap();
    std::fs::write(
        package.join("ValueSet-v.json"),
        value_set("http://example.org/vs/red"),
    )
    .unwrap();
    std::fs::write(
        package.join("Patient-bad.json"),
        r#"{"resourceType":"Patient","id": [1,"#,
    )
    .unwrap();
    age();
    let folder = dir.path().join("a.pkg#1.0.0");
    (dir, folder)
}

/// Files changed less than 2 s before an index is made are not trusted to it.
fn age() {
    std::thread::sleep(Duration::from_millis(2_100));
}

fn load(cache: &Path) -> PackageSet {
    let options = LoadOptions {
        cache: Some(PackageCache::new(cache)),
        allow_missing_dependencies: true,
    };
    let spec = PackageSource::Spec {
        id: "a.pkg".into(),
        version: "1.0.0".into(),
    };
    PackageSet::load(&[spec], &options).unwrap()
}

fn written(set: &PackageSet) -> Option<String> {
    match &set.packages()[0].index {
        IndexUse::Written(why) => Some(why.clone()),
        _ => None,
    }
}

/// Why the index was not used, whether or not a new one could be written yet.
fn not_used(set: &PackageSet) -> String {
    match &set.packages()[0].index {
        IndexUse::Written(why) | IndexUse::Unsaved(why, _) => why.clone(),
        other => panic!("the index was used: {other:?}"),
    }
}

/// What a set says about its packages and resources, for comparing two loads.
fn describe(set: &PackageSet) -> String {
    let mut out = String::new();
    for p in set.packages() {
        out += &format!(
            "{} {} {} {} {:?} {}\n",
            p.id,
            p.version,
            p.sha256,
            p.fhir_version,
            p.dependencies,
            p.source.display()
        );
    }
    for r in set.resources() {
        out += &format!(
            "{} {:?} {:?} {:?} {:?} {} {:?}\n",
            r.resource_type(),
            r.url(),
            r.version(),
            r.sd_type(),
            r.kind(),
            r.file(),
            r.format()
        );
    }
    out += &set.warnings().join("\n");
    out
}

fn model_json(
    set: &PackageSet,
    release: Option<assure_fhir::package::FhirRelease>,
) -> serde_json::Value {
    serde_json::to_value(set.type_model(release).as_deref()).unwrap()
}

#[test]
fn an_index_is_made_once_then_read_instead_of_the_files() {
    let (dir, folder) = cache_with_package();
    let first = load(dir.path());
    assert_eq!(written(&first).as_deref(), Some("no index yet"));
    assert!(folder.join(INDEX_FILE).is_file());
    let second = load(dir.path());
    assert_eq!(second.packages()[0].index, IndexUse::Read);
    assert_eq!(describe(&first), describe(&second));
    assert!(
        describe(&second).contains("Patient-bad.json"),
        "warnings kept"
    );
    assert_eq!(model_json(&first, None), model_json(&second, None));
    assert!(second.type_model(None).unwrap().has_type("Thing"));
    // Nothing was parsed to give the type model; the resource is read on use.
    assert_eq!(second.parsed_resources(), 0);
    let vs = second.resolve("http://example.org/vs/red").unwrap();
    assert_eq!(
        vs.node().unwrap().get("id").and_then(|n| n.as_str()),
        Some("v")
    );
    // Every other package loaded from a folder path is scanned as before.
    let by_path = PackageSet::load(&[folder], &LoadOptions::default()).unwrap();
    assert_eq!(by_path.packages()[0].index, IndexUse::None);
    assert_eq!(by_path.packages()[0].sha256, second.packages()[0].sha256);
}

#[test]
fn a_changed_added_or_removed_file_makes_the_index_stale() {
    let (dir, folder) = cache_with_package();
    load(dir.path());
    let vs = folder.join("package").join("ValueSet-v.json");
    // The same size: only the file's times tell.
    std::fs::write(&vs, value_set("http://example.org/vs/blu")).unwrap();
    let set = load(dir.path());
    assert!(not_used(&set).contains("ValueSet-v.json changed"));
    assert!(set.resolve("http://example.org/vs/blu").is_some());
    assert!(set.resolve("http://example.org/vs/red").is_none());

    age();
    load(dir.path());
    let extra = folder.join("package").join("ValueSet-w.json");
    std::fs::write(&extra, value_set("http://example.org/vs/green")).unwrap();
    let set = load(dir.path());
    assert!(not_used(&set).contains("ValueSet-w.json was added"));
    assert!(set.resolve("http://example.org/vs/green").is_some());

    age();
    load(dir.path());
    std::fs::remove_file(&extra).unwrap();
    let set = load(dir.path());
    assert!(not_used(&set).contains("ValueSet-w.json was removed"));
    assert!(set.resolve("http://example.org/vs/green").is_none());
}

#[test]
fn a_damaged_index_is_rebuilt_never_trusted() {
    let (dir, folder) = cache_with_package();
    let fresh = describe(&load(dir.path()));
    let index = folder.join(INDEX_FILE);
    let good = std::fs::read(&index).unwrap();
    let mut flipped = good.clone();
    // Inside the body (the trees come after it, each with its own checksum).
    let body_end = 28 + u64::from_le_bytes(good[16..24].try_into().unwrap()) as usize;
    flipped[body_end - 10] ^= 0x40;
    let mut other_code = good.clone();
    other_code[12] ^= 1;
    let damages: Vec<(&str, Vec<u8>)> = vec![
        ("cut short", good[..good.len() / 2].to_vec()),
        ("a flipped bit", flipped),
        ("garbage", b"not an index at all".to_vec()),
        ("empty", Vec::new()),
        ("from another version", other_code),
    ];
    for (what, bytes) in damages {
        std::fs::write(&index, &bytes).unwrap();
        let set = load(dir.path());
        let why = written(&set).unwrap_or_else(|| panic!("{what}: {:?}", set.packages()[0].index));
        assert!(why.contains("damaged"), "{what}: {why}");
        assert_eq!(describe(&set), fresh, "{what}");
        let again = load(dir.path());
        assert_eq!(
            again.packages()[0].index,
            IndexUse::Read,
            "{what}: rewritten"
        );
    }
    // An index of another package (whole, but for other files) is stale, not used.
    let (other_dir, other_folder) = cache_with_package();
    std::fs::write(
        other_folder.join("package").join("ValueSet-x.json"),
        value_set("http://x/y"),
    )
    .unwrap();
    age();
    load(other_dir.path());
    std::fs::copy(other_folder.join(INDEX_FILE), &index).unwrap();
    let set = load(dir.path());
    assert!(written(&set).is_some(), "{:?}", set.packages()[0].index);
    assert_eq!(describe(&set), fresh);
}

#[test]
fn concurrent_loads_leave_one_whole_index() {
    let (dir, folder) = cache_with_package();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                let set = load(dir.path());
                assert!(set.resolve("http://example.org/vs/red").is_some());
            });
        }
    });
    let set = load(dir.path());
    assert_eq!(set.packages()[0].index, IndexUse::Read);
    let leftovers: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_package_just_written_is_indexed_on_a_later_load() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("a.pkg#1.0.0").join("package");
    std::fs::create_dir_all(&package).unwrap();
    std::fs::write(
        package.join("package.json"),
        r#"{"name":"a.pkg","version":"1.0.0"}"#,
    )
    .unwrap();
    std::fs::write(package.join("ValueSet-v.json"), value_set("http://e/v")).unwrap();
    let set = load(dir.path());
    assert!(
        matches!(&set.packages()[0].index, IndexUse::Unsaved(_, why) if why.contains("2 s")),
        "{:?}",
        set.packages()[0].index
    );
    assert!(!dir.path().join("a.pkg#1.0.0").join(INDEX_FILE).exists());
    age();
    assert!(written(&load(dir.path())).is_some());
    assert_eq!(load(dir.path()).packages()[0].index, IndexUse::Read);
}

/// Real definitions: the data types, a few resources and value sets of R4 core
/// from the `.tgz` beside the checkout, as a package in the cache. Scanned from its
/// folder, indexed, and read from the index, the loads agree on every resource and
/// on the type model. (All of R4 core takes a minute in a debug build; the start-up
/// benchmark loads it in release.)
#[test]
fn real_definitions_through_the_index_match_a_fresh_scan() {
    let tgz = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fhir-packages/hl7.fhir.r4.core-4.0.1.tgz");
    let Ok(bytes) = std::fs::read(&tgz) else {
        panic!(
            "{} is needed (../shared beside the checkout)",
            tgz.display()
        );
    };
    let keep = |name: &str| {
        let base = name.trim_start_matches("package/");
        let resources = [
            "Resource",
            "DomainResource",
            "Patient",
            "Observation",
            "Bundle",
            "Extension",
        ];
        base == "package.json"
            || base.starts_with("ValueSet-administrative")
            || base.starts_with("CodeSystem-administrative")
            || base
                .strip_prefix("StructureDefinition-")
                .and_then(|b| b.strip_suffix(".json"))
                .is_some_and(|t| {
                    resources.contains(&t)
                        || t.chars().next().is_some_and(|c| c.is_lowercase())
                        || [
                            "Element",
                            "BackboneElement",
                            "Coding",
                            "CodeableConcept",
                            "Identifier",
                            "HumanName",
                            "Address",
                            "ContactPoint",
                            "Period",
                            "Reference",
                            "Meta",
                            "Narrative",
                            "Quantity",
                            "Attachment",
                            "Range",
                            "Ratio",
                            "SampledData",
                            "Annotation",
                            "Signature",
                            "Age",
                            "Duration",
                            "Timing",
                            "Dosage",
                        ]
                        .contains(&t)
                })
    };
    let files: Vec<(String, Vec<u8>)> = assure_fhir::package::unpack(&bytes, "core.tgz")
        .unwrap()
        .into_iter()
        .filter(|(name, _)| !name.contains("/.") && keep(name))
        .collect();
    assert!(files.len() > 60, "{} files", files.len());
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("hl7.fhir.r4.core#4.0.1");
    for (name, content) in &files {
        let path = folder.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    age();
    let options = LoadOptions {
        cache: Some(PackageCache::new(dir.path())),
        allow_missing_dependencies: false,
    };
    let spec = [PackageSource::Spec {
        id: "hl7.fhir.r4.core".into(),
        version: "4.0.1".into(),
    }];
    let scanned = PackageSet::load(&[folder], &LoadOptions::default()).unwrap();
    let written = PackageSet::load(&spec, &options).unwrap();
    let read = PackageSet::load(&spec, &options).unwrap();
    assert!(matches!(written.packages()[0].index, IndexUse::Written(_)));
    assert_eq!(read.packages()[0].index, IndexUse::Read);
    assert_eq!(describe(&scanned), describe(&read));
    let r4 = Some(assure_fhir::package::FhirRelease::R4);
    let reference =
        serde_json::to_value(assure_fhir::fhirpath::ModelInfo::from_packages(&scanned).unwrap())
            .unwrap();
    assert_eq!(model_json(&read, None), reference);
    assert_eq!(model_json(&read, r4), reference);
    assert_eq!(read.parsed_resources(), 0);
    // Definitions read back from the index's stored trees are the trees their files
    // parse to, positions included.
    let mut definitions = 0;
    for (fresh, stored) in scanned.resources().zip(read.resources()) {
        if fresh.resource_type() == "StructureDefinition" {
            assert_eq!(fresh.node().unwrap(), stored.node().unwrap(), "{fresh:?}");
            definitions += 1;
        }
    }
    assert!(definitions > 50, "{definitions} definitions");
    // A snapshot read from the index leaves the differential encoded; the whole
    // definition has it back, in its place.
    let patient = PackageSet::load(&spec, &options)
        .unwrap()
        .snapshot("http://hl7.org/fhir/StructureDefinition/Patient")
        .unwrap();
    assert!(patient.elements.len() > 40);
    assert!(patient.definition().get("differential").is_none());
    let file = scanned
        .structure_definition("http://hl7.org/fhir/StructureDefinition/Patient")
        .unwrap()
        .node()
        .unwrap();
    let whole = patient.structure_definition();
    let keys = |n: &assure_fhir::model::Node| {
        n.members()
            .iter()
            .map(|(k, _)| k.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&whole), keys(&file));
    for ((k, a), (_, b)) in whole.members().iter().zip(file.members()) {
        assert!(a == b, "member {k} differs");
    }
    assert_eq!(whole, *file);
}

#[test]
fn stored_trees_damaged_or_missing_cost_speed_never_a_wrong_tree() {
    let (dir, folder) = cache_with_package();
    let thing = "http://example.org/StructureDefinition/Thing";
    let fresh = load(dir.path())
        .structure_definition(thing)
        .unwrap()
        .node()
        .unwrap();
    let index = folder.join(INDEX_FILE);
    let good = std::fs::read(&index).unwrap();
    let body_end = 28 + u64::from_le_bytes(good[16..24].try_into().unwrap()) as usize;
    // A flipped byte in a tree (the last thing in the file) fails its checksum: the
    // file is parsed instead, and the index stays trusted.
    let mut flipped = good.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 0x20;
    std::fs::write(&index, &flipped).unwrap();
    let set = load(dir.path());
    assert_eq!(set.packages()[0].index, IndexUse::Read);
    assert_eq!(
        set.structure_definition(thing).unwrap().node().unwrap(),
        fresh
    );
    // Without its trees, or with their table damaged, the index is rebuilt.
    let mut table = good.clone();
    table[body_end + 24] ^= 1;
    for (what, bytes) in [
        ("missing", good[..body_end].to_vec()),
        ("a damaged table", table),
    ] {
        std::fs::write(&index, bytes).unwrap();
        let set = load(dir.path());
        let why = written(&set).unwrap_or_else(|| panic!("{what}: {:?}", set.packages()[0].index));
        assert!(why.contains("parsed definitions"), "{what}: {why}");
        assert_eq!(
            set.structure_definition(thing).unwrap().node().unwrap(),
            fresh
        );
        assert_eq!(
            load(dir.path()).packages()[0].index,
            IndexUse::Read,
            "{what}"
        );
    }
}
