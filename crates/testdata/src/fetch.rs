//! Fetching an item once into the cache: each candidate source in turn, the bytes kept
//! only when their sha256 is the recorded one, and moved into place whole.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::catalogue::Item;
use crate::digest;

/// Larger than any item: a source that sends more is not sending the item.
const MAX_BYTES: u64 = 256 << 20;

/// Where items are fetched from besides their own `urls`.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// `(prefix, replacement)`: a URL starting with `prefix` is fetched from
    /// `replacement` + the rest (an in-house mirror of a registry, or a local stand-in).
    pub rewrites: Vec<(String, String)>,
    /// A server laid out like the test-data root (`cargo xtask test-data pack`).
    pub mirror: Option<String>,
    pub connect_timeout: Option<Duration>,
    pub timeout: Option<Duration>,
}

impl Sources {
    /// `ASSURE_TEST_DATA_MIRROR=<url>` and `ASSURE_TEST_DATA_REWRITE="<from>=<to> ..."`.
    pub fn from_env() -> Sources {
        let mirror = std::env::var("ASSURE_TEST_DATA_MIRROR")
            .ok()
            .filter(|m| !m.trim().is_empty());
        let rewrites = std::env::var("ASSURE_TEST_DATA_REWRITE")
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .map(|(from, to)| (from.to_owned(), to.to_owned()))
            .collect();
        Sources {
            rewrites,
            mirror,
            ..Sources::default()
        }
    }

    /// The URLs an item is fetched from, in order.
    pub fn candidates(&self, item: &Item) -> Vec<String> {
        let mut out: Vec<String> = item.urls.iter().map(|u| self.rewrite(u)).collect();
        if let Some(mirror) = &self.mirror {
            let suffix = if item.tree { ".tar.gz" } else { "" };
            out.push(format!(
                "{}/{}{suffix}",
                mirror.trim_end_matches('/'),
                item.path
            ));
        }
        out
    }

    fn rewrite(&self, url: &str) -> String {
        for (from, to) in &self.rewrites {
            if let Some(rest) = url.strip_prefix(from.as_str()) {
                return format!("{to}{rest}");
            }
        }
        url.to_owned()
    }
}

/// An item that no source could provide, with what each attempt found.
#[derive(Debug, Clone, PartialEq)]
pub struct Unavailable {
    pub path: String,
    pub attempts: Vec<String>,
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not get test data `{}`: ", self.path)?;
        if self.attempts.is_empty() {
            write!(f, "no public copy holds these bytes and no mirror is set")?;
        } else {
            write!(f, "{}", self.attempts.join("; "))?;
        }
        write!(
            f,
            ". To get it: put ../shared beside the checkout, or set ASSURE_TEST_DATA to a folder laid out like it, or ASSURE_TEST_DATA_MIRROR to a server holding `cargo xtask test-data pack` output"
        )
    }
}

impl std::error::Error for Unavailable {}

/// Fetched items, laid out like the test-data root, each with a stamp of the sha256
/// it was checked against under `.sha256/`.
#[derive(Debug, Clone)]
pub struct Cache {
    pub dir: PathBuf,
}

impl Cache {
    pub fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache { dir: dir.into() }
    }

    fn stamp(&self, item: &Item) -> PathBuf {
        self.dir.join(".sha256").join(&item.path)
    }

    /// The cached copy of `item`, if one was fetched and checked against the sha256
    /// recorded now.
    pub fn lookup(&self, item: &Item) -> Option<PathBuf> {
        let path = self.dir.join(&item.path);
        let stamp = std::fs::read_to_string(self.stamp(item)).ok()?;
        (stamp.trim() == item.sha256 && path.exists()).then_some(path)
    }

    /// Fetches `item` from the first source whose bytes check out.
    pub fn fetch(&self, item: &Item, sources: &Sources) -> Result<(PathBuf, String), Unavailable> {
        let mut attempts = Vec::new();
        for url in sources.candidates(item) {
            match get(&url, sources).and_then(|bytes| self.install(item, &bytes)) {
                Ok(path) => return Ok((path, url)),
                Err(why) => attempts.push(format!("{url}: {why}")),
            }
        }
        Err(Unavailable {
            path: item.path.clone(),
            attempts,
        })
    }

    /// Checks `bytes` against the item and moves them into place.
    fn install(&self, item: &Item, bytes: &[u8]) -> Result<PathBuf, String> {
        let partial = self.dir.join(".partial");
        std::fs::create_dir_all(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let staging = partial.join(format!("{}-{nanos}", std::process::id()));
        let result = self.stage(item, bytes, &staging);
        let _ = std::fs::remove_dir_all(&staging);
        let _ = std::fs::remove_file(&staging);
        result
    }

    fn stage(&self, item: &Item, bytes: &[u8], staging: &Path) -> Result<PathBuf, String> {
        let io = |e: std::io::Error| e.to_string();
        let got = if item.tree {
            std::fs::create_dir_all(staging).map_err(io)?;
            digest::unpack_tree(bytes, staging).map_err(|e| format!("not a usable tar.gz: {e}"))?;
            digest::tree_digest(staging).map_err(io)?
        } else {
            std::fs::write(staging, bytes).map_err(io)?;
            digest::sha256_bytes(bytes)
        };
        if got != item.sha256 {
            return Err(format!(
                "sha256 {got} is not the recorded {} (changed upstream, or not this item)",
                item.sha256
            ));
        }
        let target = self.dir.join(&item.path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        // Whatever is there was not checked against this sha256 (or we would not be here).
        let _ = std::fs::remove_dir_all(&target);
        let _ = std::fs::remove_file(&target);
        if let Err(e) = std::fs::rename(staging, &target) {
            // Another process may have put the same item in place meanwhile.
            if self.lookup(item).is_none() {
                return Err(format!("move into {}: {e}", target.display()));
            }
        }
        let stamp = self.stamp(item);
        if let Some(parent) = stamp.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&stamp, &item.sha256).map_err(io)?;
        Ok(target)
    }
}

/// GET `url` into memory, on a thread of its own so that callers inside an async
/// runtime (most integration tests) may call it too.
fn get(url: &str, sources: &Sources) -> Result<Vec<u8>, String> {
    let connect = sources.connect_timeout.unwrap_or(Duration::from_secs(15));
    let total = sources.timeout.unwrap_or(Duration::from_secs(600));
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("start an HTTP client: {e}"))?;
                runtime.block_on(get_async(url, connect, total))
            })
            .join()
            .unwrap_or_else(|_| Err("the download thread panicked".into()))
    })
}

async fn get_async(url: &str, connect: Duration, total: Duration) -> Result<Vec<u8>, String> {
    let client = reqwest::Client::builder()
        .connect_timeout(connect)
        .timeout(total)
        .user_agent(concat!("assure-testdata/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("build an HTTP client: {e}"))?;
    let mut response = client.get(url).send().await.map_err(describe)?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("answered HTTP {}", status.as_u16()));
    }
    if response.content_length().is_some_and(|n| n > MAX_BYTES) {
        return Err(format!("larger than {MAX_BYTES} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(describe)? {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > MAX_BYTES {
            return Err(format!("larger than {MAX_BYTES} bytes"));
        }
    }
    Ok(body)
}

/// reqwest's error with its causes, which say what actually went wrong.
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_connect() {
        "unreachable"
    } else if e.is_timeout() {
        "timed out"
    } else {
        "failed"
    };
    let mut text = kind.to_string();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}
