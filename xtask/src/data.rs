//! `cargo xtask test-data`, and the test data step of `cargo xtask test`: every item
//! the tests read, found or fetched once, local copies checked against the catalogue.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use assure_testdata::{digest, Item, Origin, TestData};

fn describe(origin: &Origin) -> String {
    match origin {
        Origin::Env => "ASSURE_TEST_DATA".into(),
        Origin::Beside => "../shared".into(),
        Origin::Cache => "the cache".into(),
        Origin::Fetched(url) => format!("fetched from {url}"),
    }
}

/// The digest of a file or folder as the catalogue records it.
fn digest_of(item: &Item, path: &Path) -> std::io::Result<String> {
    if item.tree {
        digest::tree_digest(path)
    } else {
        digest::sha256_file(path)
    }
}

/// Gets every item the tests read; returns one line per item it could not get.
pub fn prepare() -> Vec<String> {
    let data = TestData::from_env();
    let mut missing = Vec::new();
    let mut counts: Vec<(String, usize)> = Vec::new();
    for item in data.catalogue.items.iter().filter(|i| i.test) {
        match data.get(item) {
            Ok(found) => {
                let origin = describe(&found.origin);
                if let Origin::Fetched(_) = found.origin {
                    println!("{}: {origin}", item.path);
                }
                // Local copies are what the tests' floors were measured on: a copy
                // that changed is said, not hidden (the cache was checked on arrival).
                if matches!(found.origin, Origin::Env | Origin::Beside) {
                    match digest_of(item, &found.path) {
                        Ok(d) if d == item.sha256 => {}
                        Ok(d) => println!(
                            "warning: {} has sha256 {d}, not the catalogue's {}: if it changed on purpose, run `cargo xtask test-data record`",
                            found.path.display(),
                            item.sha256
                        ),
                        Err(e) => println!("warning: cannot read {}: {e}", found.path.display()),
                    }
                }
                let key = match found.origin {
                    Origin::Fetched(_) => "fetched".to_owned(),
                    other => describe(&other),
                };
                match counts.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((key, 1)),
                }
            }
            Err(why) => missing.push(why.to_string()),
        }
    }
    let found: Vec<String> = counts
        .iter()
        .map(|(k, n)| format!("{n} from {k}"))
        .collect();
    println!(
        "test data: {} (cache {})",
        if found.is_empty() {
            "nothing found".to_owned()
        } else {
            found.join(", ")
        },
        data.cache.dir.display()
    );
    missing
}

pub fn command(args: &[String]) -> Result<ExitCode, String> {
    let data = TestData::from_env();
    let all = args.iter().any(|a| a == "--all");
    match args.first().map(String::as_str) {
        Some("where") => {
            for item in &data.catalogue.items {
                match data.find(item) {
                    Some(found) => println!(
                        "{}: {} ({})",
                        item.path,
                        found.path.display(),
                        describe(&found.origin)
                    ),
                    None => println!("{}: not on this machine", item.path),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Some("fetch") => {
            let mut failed = false;
            for item in data.catalogue.items.iter().filter(|i| all || i.test) {
                match data.get(item) {
                    Ok(found) => println!("{}: {}", item.path, describe(&found.origin)),
                    Err(why) => {
                        failed = true;
                        println!("{why}");
                    }
                }
            }
            Ok(exit(!failed))
        }
        Some("verify") => {
            let mut failed = false;
            for item in &data.catalogue.items {
                let Some(found) = data.find(item) else {
                    println!("{}: not on this machine", item.path);
                    continue;
                };
                let digest = digest_of(item, &found.path).map_err(|e| e.to_string())?;
                let ok = digest == item.sha256;
                failed |= !ok;
                println!(
                    "{}: {} ({})",
                    item.path,
                    if ok { "ok" } else { "DIFFERS" },
                    found.path.display()
                );
            }
            Ok(exit(!failed))
        }
        Some("record") => record(&data, args.get(1).map(PathBuf::from)),
        Some("pack") => {
            let out = args.get(1).ok_or("pack needs an output folder")?;
            pack(&data, Path::new(out))
        }
        _ => Err(crate::USAGE.into()),
    }
}

fn exit(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Rewrites the catalogue's sha256 of each item found in `root` (default: wherever
/// each item is found on this machine).
fn record(data: &TestData, root: Option<PathBuf>) -> Result<ExitCode, String> {
    let file = assure_testdata::checkout().join("crates/testdata/catalogue.toml");
    let mut text =
        std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    for item in &data.catalogue.items {
        let path = match &root {
            Some(root) => Some(root.join(&item.path)).filter(|p| p.exists()),
            None => data.find(item).map(|f| f.path),
        };
        let Some(path) = path else {
            println!("{}: not found, kept", item.path);
            continue;
        };
        let digest = digest_of(item, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        if digest != item.sha256 {
            println!("{}: {} -> {digest}", item.path, item.sha256);
            text = text.replace(&item.sha256, &digest);
        }
    }
    std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// Lays out a mirror in `out`: files as they are, folders as `<path>.tar.gz`.
fn pack(data: &TestData, out: &Path) -> Result<ExitCode, String> {
    let err = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    for item in &data.catalogue.items {
        let found = data.get(item).map_err(|e| e.to_string())?;
        let target = out.join(&item.path);
        let parent = target.parent().unwrap_or(out);
        std::fs::create_dir_all(parent).map_err(|e| err(parent, e))?;
        if item.tree {
            let archive = target.with_file_name(format!(
                "{}.tar.gz",
                target.file_name().unwrap_or_default().to_string_lossy()
            ));
            let file = std::fs::File::create(&archive).map_err(|e| err(&archive, e))?;
            digest::pack_tree(&found.path, std::io::BufWriter::new(file))
                .map_err(|e| err(&archive, e))?;
            println!("{}", archive.display());
        } else {
            std::fs::copy(&found.path, &target).map_err(|e| err(&target, e))?;
            println!("{}", target.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
