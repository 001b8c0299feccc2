//! `assure packages`: install FHIR packages into the local package cache (from a
//! registry or a `.tgz`), list what the cache holds, show where a canonical comes from,
//! and print a StructureDefinition's snapshot (shipped or generated).

use std::path::PathBuf;

use assure_fhir::package::{
    parse_size, ArchiveLimits, IndexUse, LoadOptions, PackageCache, PackageError, PackageSource,
    MAX_ENTRIES_ENV, MAX_RATIO_ENV, MAX_SIZE_ENV,
};
use assure_fhir::PackageSet;
use clap::{Args, Subcommand};

use crate::exit_codes;
use crate::registry::{self, Registry};

/// The public FHIR package registry, the default of every FHIR tool.
pub const DEFAULT_REGISTRY: &str = "https://packages.fhir.org";

#[derive(Args, Debug)]
pub struct PackagesArgs {
    /// The FHIR package cache [default: $FHIR_PACKAGE_CACHE, else ~/.fhir/packages].
    #[arg(long, global = true, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Say where each package was found: named file or folder, the cache, or which
    /// registry it was downloaded from.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: PackagesCommand,
}

#[derive(Subcommand, Debug)]
pub enum PackagesCommand {
    /// Install packages (`id#version` from a registry, or a `.tgz` file) with their
    /// dependencies into the cache.
    Install {
        #[arg(required = true, value_name = "PACKAGE")]
        packages: Vec<String>,
        /// Install one folder or `.tgz` of resources that has no package.json (such as
        /// the STU3 CareConnect and GP Connect assets) as this `id#version`, with a
        /// synthesized package.json (FHIR version from its StructureDefinitions,
        /// depending on that release's core package).
        #[arg(long = "as", value_name = "ID#VERSION")]
        install_as: Option<String>,
        /// Registry to download from, tried in order (repeatable) [default: the public
        /// FHIR package registry, or $FHIR_PACKAGE_REGISTRY].
        #[arg(long = "registry", value_name = "URL")]
        registries: Vec<String>,
        /// Never touch the network: only check what the cache holds.
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// List the packages in the cache.
    List,
    /// Show which package a canonical URL (or type name) comes from.
    Show {
        canonical: String,
        /// Packages to look in (path, folder or id#version; repeatable).
        #[arg(long = "package", value_name = "PACKAGE", required = true)]
        packages: Vec<String>,
    },
    /// Print the snapshot of a StructureDefinition as JSON (generated when the package
    /// has none).
    Snapshot {
        canonical: String,
        #[arg(long = "package", value_name = "PACKAGE", required = true)]
        packages: Vec<String>,
        /// Generate from the differential even when a snapshot is shipped.
        #[arg(long)]
        generate: bool,
    },
}

/// Caps on what a package archive may unpack to; a hostile `.tgz` is refused (exit 2)
/// before it fills memory or disk.
#[derive(Args, Debug, Clone)]
pub struct LimitArgs {
    /// The most a package may unpack to (bytes; K, M, G suffixes) [default: 1G].
    #[arg(long, value_name = "SIZE", env = MAX_SIZE_ENV, value_parser = size)]
    pub max_package_size: Option<u64>,
    /// The most entries a package archive may hold [default: 100000].
    #[arg(long, value_name = "N", env = MAX_ENTRIES_ENV)]
    pub max_package_entries: Option<u64>,
    /// The most a package may unpack to per compressed byte, for archives unpacking
    /// to over 16M [default: 100].
    #[arg(long, value_name = "N", env = MAX_RATIO_ENV)]
    pub max_package_ratio: Option<u64>,
}

impl LimitArgs {
    pub fn limits(&self) -> ArchiveLimits {
        let d = ArchiveLimits::default();
        ArchiveLimits {
            max_unpacked_bytes: self.max_package_size.unwrap_or(d.max_unpacked_bytes),
            max_entries: self.max_package_entries.unwrap_or(d.max_entries),
            max_ratio: self.max_package_ratio.unwrap_or(d.max_ratio),
        }
    }
}

fn size(text: &str) -> Result<u64, String> {
    parse_size(text).ok_or_else(|| format!("`{text}` is not a size (e.g. 512M, 2G)"))
}

fn cache_of(args: &PackagesArgs) -> Option<PackageCache> {
    args.cache
        .clone()
        .map(PackageCache::new)
        .or_else(PackageCache::from_env)
}

/// The exit code for a package that could not be installed: its own fault (broken,
/// hostile, inconsistent) is bad input; the network or the disk is an incomplete run.
fn failure_code(e: &PackageError) -> i32 {
    if e.is_bad_input() {
        exit_codes::BAD_INPUT
    } else {
        exit_codes::INCOMPLETE
    }
}

pub async fn run(args: PackagesArgs) -> i32 {
    let Some(cache) = cache_of(&args) else {
        eprintln!(
            "error: no FHIR package cache: set $FHIR_PACKAGE_CACHE or $HOME, or pass --cache"
        );
        return exit_codes::BAD_INPUT;
    };
    match args.command {
        PackagesCommand::Install {
            packages,
            install_as: Some(spec),
            limits,
            ..
        } => install_as(&cache.with_limits(limits.limits()), &packages, &spec),
        PackagesCommand::Install {
            packages,
            registries,
            offline,
            install_as: None,
            limits,
        } => {
            let cache = cache.with_limits(limits.limits());
            install(&cache, &packages, registries, offline, args.verbose).await
        }
        PackagesCommand::List => list(&cache),
        PackagesCommand::Show {
            canonical,
            packages,
        } => show(&cache, &canonical, &packages, args.verbose),
        PackagesCommand::Snapshot {
            canonical,
            packages,
            generate,
        } => snapshot(&cache, &canonical, &packages, generate, args.verbose),
    }
}

async fn install(
    cache: &PackageCache,
    packages: &[String],
    registries: Vec<String>,
    offline: bool,
    verbose: bool,
) -> i32 {
    if let Err(e) = std::fs::create_dir_all(cache.root()) {
        eprintln!(
            "error: failed to create the package cache {}: {e}",
            cache.root().display()
        );
        return exit_codes::INCOMPLETE;
    }
    let registries = if registries.is_empty() {
        vec![std::env::var("FHIR_PACKAGE_REGISTRY").unwrap_or_else(|_| DEFAULT_REGISTRY.to_owned())]
    } else {
        registries
    };
    let client = match reqwest::Client::builder()
        .user_agent(concat!("assure/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: failed to build the HTTP client: {e}");
            return exit_codes::INCOMPLETE;
        }
    };
    let registries: Vec<Registry> = registries
        .into_iter()
        .map(|r| Registry::new(r, client.clone()))
        .collect();
    let mut code = exit_codes::OK;
    for spec in packages {
        let result = if spec.ends_with(".tgz") || std::path::Path::new(spec).is_file() {
            install_file(cache, spec)
        } else {
            match spec.split_once('#') {
                Some((id, version)) => {
                    if verbose {
                        match cache.find(id, version) {
                            Some(found) => eprintln!(
                                "{spec}: found in the package cache at {}",
                                found.display()
                            ),
                            None if offline => {
                                eprintln!("{spec}: not in the package cache, and --offline")
                            }
                            None => eprintln!(
                                "{spec}: not in the package cache; trying {}",
                                registries
                                    .iter()
                                    .map(Registry::base)
                                    .collect::<Vec<_>>()
                                    .join(", then ")
                            ),
                        }
                    }
                    registry::ensure_installed(&registries, cache, id, version, offline)
                        .await
                        .map(|folders| {
                            folders
                                .into_iter()
                                .map(|f| f.display().to_string())
                                .collect()
                        })
                        .map_err(|e| {
                            let code = match &e {
                                registry::RegistryError::Package(p) => failure_code(p),
                                _ => exit_codes::INCOMPLETE,
                            };
                            let message = format!(
                                "failed to install {spec}: {}",
                                crate::cli::error_chain(&e)
                            );
                            (code, message)
                        })
                }
                None => Err((
                    exit_codes::BAD_INPUT,
                    format!("`{spec}` is neither a .tgz file nor id#version"),
                )),
            }
        };
        match result {
            Ok(folders) => {
                for f in folders {
                    eprintln!("installed {f}");
                }
            }
            Err((failed, e)) => {
                eprintln!("error: {e}");
                // Bad input wins over an incomplete run: it needs the user's attention.
                if code != exit_codes::BAD_INPUT {
                    code = failed;
                }
            }
        }
    }
    code
}

/// `assure packages install <folder-or-tgz> --as id#version`.
fn install_as(cache: &PackageCache, packages: &[String], spec: &str) -> i32 {
    let [path] = packages else {
        eprintln!("error: --as names one package: give exactly one folder or .tgz");
        return exit_codes::BAD_INPUT;
    };
    let Some((id, version)) = spec.split_once('#') else {
        eprintln!("error: --as `{spec}` is not id#version (e.g. nhsconnect.stu3.gpconnect#1.6.2)");
        return exit_codes::BAD_INPUT;
    };
    let path = std::path::Path::new(path);
    if !path.exists() {
        eprintln!("error: {} does not exist", path.display());
        return exit_codes::BAD_INPUT;
    }
    match cache.install_as(path, id, version) {
        Ok(folder) => {
            eprintln!("installed {}", folder.display());
            exit_codes::OK
        }
        Err(e) => {
            eprintln!("error: failed to install {} as {spec}: {e}", path.display());
            failure_code(&e)
        }
    }
}

fn install_file(cache: &PackageCache, path: &str) -> Result<Vec<String>, (i32, String)> {
    let failed = |e: PackageError| (failure_code(&e), format!("failed to install {path}: {e}"));
    let bytes = cache
        .read_archive(std::path::Path::new(path))
        .map_err(failed)?;
    cache
        .install_tgz(&bytes, path, None)
        .map(|f| vec![f.display().to_string()])
        .map_err(failed)
}

fn list(cache: &PackageCache) -> i32 {
    let Ok(entries) = std::fs::read_dir(cache.root()) else {
        eprintln!(
            "the package cache {} is empty or does not exist",
            cache.root().display()
        );
        return exit_codes::OK;
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("package").join("package.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for n in names {
        println!("{n}");
    }
    exit_codes::OK
}

fn load(cache: &PackageCache, specs: &[String], verbose: bool) -> Result<PackageSet, String> {
    let sources: Vec<PackageSource> = specs
        .iter()
        .map(|s| PackageSource::parse(s).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let options = LoadOptions {
        cache: Some(cache.clone()),
        allow_missing_dependencies: true,
    };
    let set = PackageSet::load(&sources, &options)
        .map_err(|e| format!("failed to load packages: {e}"))?;
    if verbose {
        describe_sources(&set);
    }
    Ok(set)
}

/// Where each loaded package came from: named ones, then dependencies.
pub fn describe_sources(set: &PackageSet) {
    for p in set.packages() {
        let why = if p.requested { "named" } else { "dependency" };
        let index = match &p.index {
            IndexUse::None => String::new(),
            IndexUse::Read => ", through its index".into(),
            IndexUse::Written(why) => format!(", scanned and indexed ({why})"),
            IndexUse::Unsaved(why, what) => format!(", scanned ({why}; not indexed: {what})"),
        };
        eprintln!(
            "package {}#{} ({why}, FHIR {}{index}) from {}",
            p.name,
            p.version,
            p.fhir_version,
            p.source.display()
        );
    }
    for w in set.warnings() {
        eprintln!("warning: {w}");
    }
}

fn show(cache: &PackageCache, canonical: &str, specs: &[String], verbose: bool) -> i32 {
    let set = match load(cache, specs, verbose) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_codes::BAD_INPUT;
        }
    };
    let found = set
        .resolve(canonical)
        .or_else(|| set.structure_definition(canonical));
    let Some(r) = found else {
        eprintln!("error: {canonical} is not in the loaded packages");
        return exit_codes::BAD_INPUT;
    };
    let p = r.package();
    println!("{} {}", r.resource_type(), r.url().unwrap_or(canonical));
    if let Some(v) = r.version() {
        println!("  version:  {v}");
    }
    println!(
        "  package:  {}#{} (FHIR {}, sha256 {})",
        p.name, p.version, p.fhir_version, p.sha256
    );
    println!("  file:     {}", r.file());
    if r.resource_type() == "StructureDefinition" {
        match set.snapshot(canonical) {
            Ok(s) => println!(
                "  snapshot: {} elements, {}",
                s.elements.len(),
                if s.generated {
                    "generated from the differential"
                } else {
                    "shipped by the package"
                }
            ),
            Err(e) => println!("  snapshot: cannot be made: {e}"),
        }
    }
    exit_codes::OK
}

fn snapshot(
    cache: &PackageCache,
    canonical: &str,
    specs: &[String],
    generate: bool,
    verbose: bool,
) -> i32 {
    let set = match load(cache, specs, verbose) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit_codes::BAD_INPUT;
        }
    };
    let result = if generate {
        set.generate_snapshot(canonical)
            .map(|s| s.structure_definition().to_value())
    } else {
        set.snapshot(canonical)
            .map(|s| s.structure_definition().to_value())
    };
    match result {
        Ok(value) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
            exit_codes::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit_codes::BAD_INPUT
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn install_args(cache: &std::path::Path, packages: &[&str], offline: bool) -> PackagesArgs {
        PackagesArgs {
            cache: Some(cache.to_path_buf()),
            verbose: false,
            command: PackagesCommand::Install {
                packages: packages.iter().map(|p| p.to_string()).collect(),
                install_as: None,
                registries: vec!["http://127.0.0.1:9".into()],
                offline,
                limits: LimitArgs {
                    max_package_size: None,
                    max_package_entries: None,
                    max_package_ratio: None,
                },
            },
        }
    }

    #[tokio::test]
    async fn a_bad_package_is_bad_input_and_a_missing_download_an_incomplete_run() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let write = |name: &str, files: &[(&str, &[u8])]| {
            let path = dir.path().join(name);
            std::fs::write(&path, assure_fhir::package::pack_tgz(files).unwrap()).unwrap();
            path.display().to_string()
        };
        let dup = write(
            "dup.tgz",
            &[
                ("package/package.json", br#"{"name":"a","version":"1"}"#),
                ("package/package.json", br#"{"name":"b","version":"2"}"#),
            ],
        );
        let dots = write(
            "dots.tgz",
            &[("package/package.json", br#"{"name":"a","version":".."}"#)],
        );
        let good = write(
            "good.tgz",
            &[("package/package.json", br#"{"name":"a","version":"1"}"#)],
        );
        let truncated = dir.path().join("truncated.tgz");
        let bytes = std::fs::read(&good).unwrap();
        std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
        for bad in [&dup, &dots, &truncated.display().to_string()] {
            assert_eq!(run(install_args(&cache, &[bad], false)).await, 2, "{bad}");
        }
        assert_eq!(run(install_args(&cache, &[&good], false)).await, 0);
        assert!(cache.join("a#1/package/package.json").is_file());
        // Nothing bad was left behind beside the good package.
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);
        let missing = install_args(&cache, &["not.there#9.9.9"], true);
        assert_eq!(run(missing).await, 3);
    }
}
