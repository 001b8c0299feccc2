//! What assure's tests need from outside the checkout, found in one place: the test
//! data of `catalogue.toml` (FHIR packages, official test corpora) and a headless
//! browser. A test that cannot get what it needs says so by name ([`not_run`]).
//!
//! Test data is looked for in `$ASSURE_TEST_DATA`, then in `../shared` beside the
//! checkout, then in the cache (`$ASSURE_TEST_DATA_CACHE`, else
//! `~/.cache/assure/test-data`), and is otherwise fetched once into the cache from the
//! item's public sources and `$ASSURE_TEST_DATA_MIRROR`, checked against the recorded
//! sha256.

pub mod catalogue;
pub mod digest;
pub mod fetch;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

pub use catalogue::{Catalogue, Item};
pub use fetch::{Cache, Sources, Unavailable};

/// The checkout this crate belongs to.
pub fn checkout() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().nth(2).unwrap_or(here).to_path_buf()
}

/// Where a found item came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// `$ASSURE_TEST_DATA`.
    Env,
    /// `../shared` beside the checkout.
    Beside,
    /// Fetched earlier into the cache.
    Cache,
    /// Fetched now, from this URL.
    Fetched(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The item's file or folder.
    pub path: PathBuf,
    pub origin: Origin,
}

/// Where test data is looked for, and fetched from.
#[derive(Debug, Clone)]
pub struct TestData {
    pub catalogue: Catalogue,
    /// Folders laid out like `../shared`, looked in first, in order.
    pub roots: Vec<(PathBuf, Origin)>,
    pub cache: Cache,
    pub sources: Sources,
}

impl TestData {
    /// As set by the environment (see the crate documentation).
    pub fn from_env() -> TestData {
        let mut roots = Vec::new();
        if let Some(dir) = std::env::var_os("ASSURE_TEST_DATA").filter(|d| !d.is_empty()) {
            roots.push((PathBuf::from(dir), Origin::Env));
        }
        let checkout = checkout();
        let beside = checkout.parent().unwrap_or(&checkout).join("shared");
        roots.push((beside, Origin::Beside));
        TestData {
            catalogue: Catalogue::builtin(),
            roots,
            cache: Cache::new(default_cache_dir()),
            sources: Sources::from_env(),
        }
    }

    /// The item if it is on this machine already; no network.
    pub fn find(&self, item: &Item) -> Option<Found> {
        for (root, origin) in &self.roots {
            let path = root.join(&item.path);
            if path.exists() {
                return Some(Found {
                    path,
                    origin: origin.clone(),
                });
            }
        }
        self.cache.lookup(item).map(|path| Found {
            path,
            origin: Origin::Cache,
        })
    }

    /// The item, fetched into the cache when it is not on this machine.
    pub fn get(&self, item: &Item) -> Result<Found, Unavailable> {
        if let Some(found) = self.find(item) {
            return Ok(found);
        }
        let (path, url) = self.cache.fetch(item, &self.sources)?;
        Ok(Found {
            path,
            origin: Origin::Fetched(url),
        })
    }

    /// A file or folder of the test-data layout (`fhir-packages/x.tgz`,
    /// `corpora/fhirpath/input/patient-example.xml`), fetched when needed.
    pub fn path(&self, rel: &str) -> Result<PathBuf, Unavailable> {
        let Some(item) = self.catalogue.item_for(rel) else {
            return Err(Unavailable {
                path: rel.to_owned(),
                attempts: vec!["no item of the test-data catalogue holds it".into()],
            });
        };
        let found = self.get(item)?;
        let rest = rel[item.path.len()..].trim_start_matches('/');
        Ok(if rest.is_empty() {
            found.path
        } else {
            found.path.join(rest)
        })
    }
}

/// `$ASSURE_TEST_DATA_CACHE`, else `$XDG_CACHE_HOME/assure/test-data`, else
/// `~/.cache/assure/test-data`, else `target/test-data` in the checkout.
pub fn default_cache_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("ASSURE_TEST_DATA_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Path::new(&dir).join("assure/test-data");
    }
    if let Some(home) = var("HOME") {
        return Path::new(&home).join(".cache/assure/test-data");
    }
    checkout().join("target/test-data")
}

/// A file or folder of the test data, for a test: fetched once when needed; when it
/// cannot be had, the test does not run and says why ([`not_run`]).
pub fn path(rel: &str) -> PathBuf {
    static DATA: OnceLock<TestData> = OnceLock::new();
    // One fetch at a time: tests of one binary asking for the same item wait for it.
    static FETCHING: Mutex<()> = Mutex::new(());
    let data = DATA.get_or_init(TestData::from_env);
    let _one = FETCHING.lock().unwrap_or_else(|e| e.into_inner());
    match data.path(rel) {
        Ok(path) => path,
        Err(why) => not_run(&why.to_string()),
    }
}

/// The marker a test's panic message starts with when it could not run.
pub const NOT_RUN: &str = "not run:";

/// Ends a test that cannot run here (something it needs is missing), naming it and
/// the reason: recorded in `$ASSURE_NOT_RUN_LOG` when set (the test command reads it),
/// and panicking, so that the test never counts as passed.
pub fn not_run(reason: &str) -> ! {
    if let Some(log) = std::env::var_os("ASSURE_NOT_RUN_LOG").filter(|l| !l.is_empty()) {
        if let Err(e) = record_not_run(Path::new(&log), reason) {
            eprintln!("cannot record a test that did not run in {log:?}: {e}");
        }
    }
    panic!("{NOT_RUN} {reason}")
}

/// Appends `<test binary>\t<test>\t<reason>` to `log`; the test is the current
/// thread's name, which libtest sets to the test's.
pub fn record_not_run(log: &Path, reason: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let test = std::thread::current()
        .name()
        .unwrap_or("<unnamed>")
        .to_owned();
    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|stem| match stem.rsplit_once('-') {
            Some((name, hash)) if hash.bytes().all(|b| b.is_ascii_hexdigit()) => name.to_owned(),
            _ => stem,
        })
        .unwrap_or_default();
    let line = format!("{binary}\t{test}\t{}\n", reason.replace(['\n', '\t'], " "));
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?
        .write_all(line.as_bytes())
}

/// Names a headless Chromium is installed under.
pub const CHROMIUM_NAMES: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// `$ASSURE_CHROMIUM` when it names a file, else the first of [`CHROMIUM_NAMES`] on
/// `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ASSURE_CHROMIUM").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let paths = std::env::var_os("PATH")?;
    CHROMIUM_NAMES.iter().find_map(|name| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// How to get a headless Chromium, for the line that says one is missing.
pub const CHROMIUM_HINT: &str = "install it (Debian/Ubuntu: apt-get install chromium; `cargo xtask test` does this where it may), or set ASSURE_CHROMIUM=/path/to/chrome";

/// A headless Chromium, for a test; without one the test does not run ([`not_run`]).
pub fn chromium() -> PathBuf {
    find_chromium()
        .unwrap_or_else(|| not_run(&format!("no headless Chromium found: {CHROMIUM_HINT}")))
}
