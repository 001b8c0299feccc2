//! Embeds `suites/`, `features/` and `mocks/` in the binary, so an installed `assure`
//! runs its default suite against its reference provider without a checkout.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    // Reports name the commit the tool was built from (set by CI and release builds).
    println!("cargo:rerun-if-env-changed=ASSURE_BUILD_COMMIT");
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut files = Vec::new();
    for top in ["suites", "features", "mocks"] {
        println!("cargo:rerun-if-changed={top}");
        walk(&root.join(top), &mut files);
    }
    let mut code = String::from("/// Files of the project embedded at build time: (relative path, contents).\npub static FILES: &[(&str, &[u8])] = &[\n");
    for file in &files {
        let rel = file
            .strip_prefix(&root)
            .expect("under the root")
            .to_string_lossy()
            .replace('\\', "/");
        writeln!(
            code,
            "    ({rel:?}, include_bytes!({:?})),",
            file.display().to_string()
        )
        .expect("write to string");
    }
    code.push_str("];\n");
    // The unpacked folder is named by this digest: computed here, not at every start.
    let mut hasher = std::hash::DefaultHasher::new();
    for file in &files {
        let rel = file.strip_prefix(&root).expect("under the root");
        std::hash::Hash::hash(&rel.to_string_lossy(), &mut hasher);
        std::hash::Hash::hash(
            &std::fs::read(file).expect("read an embedded file"),
            &mut hasher,
        );
    }
    writeln!(
        code,
        "/// A digest of `FILES`, made at build time.\npub const DIGEST: &str = \"{:016x}\";",
        std::hash::Hasher::finish(&hasher)
    )
    .expect("write to string");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("embedded.rs");
    std::fs::write(out, code).expect("write embedded.rs");
}
