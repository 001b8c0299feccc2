//! The suites, features and mocks this build ships with, unpacked on first use into
//! a per-version folder of the user's cache so they can be read like a checkout.

use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// A folder holding the embedded project, written once per distinct content.
pub fn project_dir() -> std::io::Result<PathBuf> {
    let base = cache_root().join(format!("{}-{}", env!("CARGO_PKG_VERSION"), &DIGEST[..12]));
    if base.join(".complete").is_file() {
        return Ok(base);
    }
    // Unpack beside the final folder and rename, so a concurrent or interrupted
    // unpack never leaves a half-written project behind.
    let tmp = base.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    for (rel, contents) in FILES {
        let path = tmp.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, contents)?;
    }
    std::fs::write(tmp.join(".complete"), b"")?;
    match std::fs::rename(&tmp, &base) {
        Ok(()) => Ok(base),
        Err(_) if base.join(".complete").is_file() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(base)
        }
        Err(e) => Err(e),
    }
}

fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Path::new(&dir).join("assure");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return Path::new(&home).join(".cache").join("assure");
    }
    std::env::temp_dir().join("assure")
}
