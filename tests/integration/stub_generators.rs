//! Every stub set in `mocks/` that a generator writes is what its generator writes
//! today: each `generate.py` runs on a copy of `mocks/` and `suites/` (which it also
//! writes to), and the copy must come out unchanged.

use std::path::{Path, PathBuf};
use std::process::Command;

/// In the order they run: the broken provider is made from the reference's mappings.
const GENERATORS: [&str; 4] = [
    "reference-provider",
    "broken-provider",
    "minimal-provider",
    "gpconnect-provider",
];

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("ASSURE_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("python3"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        assure_testdata::not_run(
            "python3 not found, which runs the stub generators: install it (apt-get install python3) or set ASSURE_PYTHON",
        )
    })
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Files that differ between two folders: changed, only in `a`, only in `b`.
fn differences(a: &Path, b: &Path) -> Vec<String> {
    let list = |d: &Path| assure_testdata::digest::files(d).unwrap();
    let (in_a, in_b) = (list(a), list(b));
    let mut out = Vec::new();
    for rel in &in_a {
        if !in_b.contains(rel) {
            out.push(format!("not written any more: {rel}"));
        } else if std::fs::read(a.join(rel)).unwrap() != std::fs::read(b.join(rel)).unwrap() {
            out.push(format!("written differently: {rel}"));
        }
    }
    for rel in in_b.iter().filter(|r| !in_a.contains(r)) {
        out.push(format!("written, not shipped: {rel}"));
    }
    out
}

#[test]
fn every_generated_stub_set_is_what_its_generator_writes_today() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut shipped: Vec<String> = std::fs::read_dir(root.join("mocks"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("generate.py").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    shipped.sort();
    let mut listed = GENERATORS.map(str::to_owned).to_vec();
    listed.sort();
    assert_eq!(shipped, listed, "a generator is missing from GENERATORS");

    let python = python();
    let spec = assure_testdata::path("corpora/examples/gpconnect-spec/feature_1.6.2/_includes");
    let assets =
        assure_testdata::path("fhir-packages/nhsconnect-stu3-fhir-assets-develop-4543c050.tgz");
    let copy = tempfile::tempdir().unwrap();
    for dir in ["mocks", "suites"] {
        copy_tree(&root.join(dir), &copy.path().join(dir));
    }
    for set in GENERATORS {
        let out = Command::new(&python)
            .arg(copy.path().join("mocks").join(set).join("generate.py"))
            .env("GPC_SPEC_EXAMPLES", &spec)
            .env("GPC_ASSETS", &assets)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{set}/generate.py failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut wrong = Vec::new();
    for dir in ["mocks", "suites"] {
        wrong.extend(differences(&root.join(dir), &copy.path().join(dir)));
    }
    assert!(
        wrong.is_empty(),
        "the shipped stub sets are not what their generators write (run them and commit):\n{}",
        wrong.join("\n")
    );

    // The comparison does catch a hand edit.
    let edited = copy
        .path()
        .join("mocks/broken-provider/mappings/missing-etag.json");
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, text.replacen("200", "201", 1)).unwrap();
    assert_eq!(
        differences(&root.join("mocks"), &copy.path().join("mocks")),
        ["written differently: broken-provider/mappings/missing-etag.json"]
    );
}
