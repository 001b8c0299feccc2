//! `assure packages`: install into the cache from a `.tgz`, list, show; a corrupt
//! package is refused and leaves nothing behind.

use std::process::Command;

fn packages(cache: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_assure"))
        .arg("packages")
        .args(args)
        .env("FHIR_PACKAGE_CACHE", cache)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn install_list_show_and_refuse_a_corrupt_package() {
    let cache = tempfile::tempdir().unwrap();
    let uk = assure_testdata::path("fhir-packages/UK.Core.r4-1.2.0.tgz");
    let core = assure_testdata::path("fhir-packages/hl7.fhir.r4.core-4.0.1.tgz");
    let (uk, core) = (uk.display().to_string(), core.display().to_string());
    let (code, _, err) = packages(cache.path(), &["install", &core, &uk]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = packages(cache.path(), &["list"]);
    assert_eq!(out, "UK.Core.r4#1.2.0\nhl7.fhir.r4.core#4.0.1\n");
    let (code, out, err) = packages(
        cache.path(),
        &[
            "show",
            "https://fhir.nhs.uk/R4/StructureDefinition/UKCore-Patient",
            "--package",
            "UK.Core.r4#1.2.0",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("UK.Core.r4#1.2.0") && out.contains("snapshot:"),
        "{out}"
    );
    let (code, _, err) = packages(
        cache.path(),
        &[
            "show",
            "http://example.org/nope",
            "--package",
            "UK.Core.r4#1.2.0",
        ],
    );
    assert_eq!(code, 2, "{err}");

    let corrupt = cache.path().join("corrupt.tgz");
    let mut bytes = std::fs::read(&uk).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&corrupt, bytes).unwrap();
    let (code, _, err) = packages(cache.path(), &["install", corrupt.to_str().unwrap()]);
    assert_eq!(code, 2, "a corrupt archive is bad input: {err}");
    assert!(err.contains("corrupt.tgz"), "{err}");
    let (_, out, _) = packages(cache.path(), &["list"]);
    assert_eq!(
        out.lines().count(),
        2,
        "a corrupt package left something in the cache: {out}"
    );
    let (code, _, err) = packages(cache.path(), &["install", "not.there#9.9.9", "--offline"]);
    assert_eq!(code, 3);
    assert!(err.contains("--offline"), "{err}");
}

#[test]
fn a_suite_whose_packages_cannot_be_had_stops_before_any_request() {
    let cache = tempfile::tempdir().unwrap();
    let reports = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_assure"))
        .args([
            "run",
            "--suite",
            "uk-core-r4",
            "--project",
            env!("CARGO_MANIFEST_DIR"),
            "--report-dir",
        ])
        .arg(reports.path())
        .env("FHIR_PACKAGE_CACHE", cache.path())
        // Nothing listens on the discard port: the registry cannot be reached.
        .env("FHIR_PACKAGE_REGISTRY", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("needs the FHIR package UK.Core.r4#1.2.0")
            && err.contains("assure packages install"),
        "{err}"
    );
    assert!(
        std::fs::read_dir(reports.path()).unwrap().next().is_none(),
        "nothing ran, so no report"
    );
}
