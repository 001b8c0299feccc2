//! Tamper evidence for a run folder: `manifest.json` lists every file with its size
//! and sha256; with `--sign-key`, `manifest.sig` holds an Ed25519 signature (hex) of
//! the exact bytes of `manifest.json`. `assure report verify` recomputes both.
//!
//! ```json
//! { "format": "assure-manifest/1", "run_id": "20261126T230000Z-1a2b",
//!   "public_key": "e4ee2d88…", "files": [{ "path": "report.json", "size": 1234, "sha256": "…" }] }
//! ```

use std::io;
use std::path::Path;

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::evidence::{hex, sha256_hex};

pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";
const FORMAT: &str = "assure-manifest/1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: String,
    pub run_id: String,
    /// Hex of the key that signed it, for information: trust comes from checking
    /// against a public key obtained apart (`--public-key`).
    pub public_key: Option<String>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    /// Relative to the run folder, `/`-separated.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// Every file under `dir` except the manifest and its signature, sorted by path.
fn list(dir: &Path) -> io::Result<Vec<FileEntry>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            if rel == MANIFEST || rel == SIGNATURE {
                continue;
            }
            let bytes = std::fs::read(&path)?;
            out.push(FileEntry {
                path: rel,
                size: bytes.len() as u64,
                sha256: sha256_hex(&bytes),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Writes `manifest.json` (and `manifest.sig` when a key is given) into `dir`.
pub fn write(dir: &Path, run_id: &str, key: Option<&SigningKey>) -> io::Result<()> {
    let manifest = Manifest {
        format: FORMAT.into(),
        run_id: run_id.into(),
        public_key: key.map(|k| hex(k.verifying_key().as_bytes())),
        files: list(dir)?,
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
    bytes.push(b'\n');
    std::fs::write(dir.join(MANIFEST), &bytes)?;
    match key {
        Some(k) => std::fs::write(
            dir.join(SIGNATURE),
            format!("{}\n", hex(&k.sign(&bytes).to_bytes())),
        ),
        None => match std::fs::remove_file(dir.join(SIGNATURE)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
    }
}

/// What `verify` found. Empty lists and a good (or absent, unasked) signature: intact.
#[derive(Debug, Default, PartialEq)]
pub struct Verification {
    pub changed: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Problems with the signature or the manifest itself.
    pub signature_problems: Vec<String>,
    /// What was checked, for the reader.
    pub notes: Vec<String>,
}

impl Verification {
    pub fn intact(&self) -> bool {
        self.changed.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.signature_problems.is_empty()
    }
}

/// Checks `dir` against its manifest. `Err` only when there is nothing to check
/// (no folder, no manifest): tampering is always an `Ok` with findings.
pub fn verify(dir: &Path, public_key: Option<&VerifyingKey>) -> Result<Verification, String> {
    let shown = dir.display();
    if !dir.is_dir() {
        return Err(format!("{shown} is not a folder"));
    }
    let sig_text = match std::fs::read(dir.join(SIGNATURE)) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {shown}/{SIGNATURE}: {e}")),
    };
    let mut v = Verification::default();
    let bytes = match std::fs::read(dir.join(MANIFEST)) {
        Ok(b) => b,
        // A signed folder (or one expected to be) that lost its manifest was tampered
        // with; a folder that never had one is simply nothing to check.
        Err(e)
            if e.kind() == io::ErrorKind::NotFound
                && (sig_text.is_some() || public_key.is_some()) =>
        {
            v.signature_problems
                .push(format!("{MANIFEST} is missing, so nothing can be checked"));
            return Ok(v);
        }
        Err(e) => return Err(format!("cannot read {shown}/{MANIFEST}: {e}")),
    };
    let parsed: Result<Manifest, _> = serde_json::from_slice(&bytes);
    let manifest = match parsed {
        Ok(m) if m.format == FORMAT => Some(m),
        _ if sig_text.is_some() => {
            v.signature_problems.push(format!(
                "{MANIFEST} is damaged: it is not an assure manifest"
            ));
            None
        }
        _ => return Err(format!("{shown}/{MANIFEST} is not an assure manifest")),
    };
    let embedded = manifest
        .as_ref()
        .and_then(|m| m.public_key.as_deref())
        .and_then(super::keys::parse_hex)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok());
    match (&sig_text, public_key.or(embedded.as_ref())) {
        (None, Some(_)) if public_key.is_some() => v
            .signature_problems
            .push(format!("the folder is not signed ({SIGNATURE} is missing)")),
        (None, _) if manifest.as_ref().is_some_and(|m| m.public_key.is_some()) => {
            v.signature_problems.push(format!(
                "{SIGNATURE} is missing, though the manifest says it was signed"
            ))
        }
        (None, _) => v
            .notes
            .push("the folder is not signed: file hashes checked only".into()),
        (Some(_), None) => v.signature_problems.push(
            "the manifest's public key is unreadable: pass --public-key to check the signature"
                .into(),
        ),
        (Some(text), Some(key)) => {
            // Exactly what `write` wrote: hex and one newline, nothing else.
            let sig = std::str::from_utf8(text)
                .ok()
                .and_then(|t| t.strip_suffix('\n'))
                .filter(|t| t.len() == 128)
                .and_then(super::keys::parse_hex)
                .and_then(|b| Signature::from_slice(&b).ok());
            match sig {
                None => v
                    .signature_problems
                    .push(format!("{SIGNATURE} does not hold an Ed25519 signature")),
                Some(sig) if key.verify(&bytes, &sig).is_err() => v.signature_problems.push(
                    if public_key.is_some() {
                        "bad signature: the manifest was changed, or not signed with this key"
                    } else {
                        "bad signature: the manifest was changed after signing"
                    }
                    .into(),
                ),
                Some(_) if public_key.is_none() => v.notes.push(
                    "signature checked against the key named in the manifest; pass --public-key to check who signed"
                        .into(),
                ),
                Some(_) => v.notes.push("signature checked with the given public key".into()),
            }
        }
    }
    let Some(manifest) = manifest else {
        return Ok(v);
    };
    let actual = list(dir).map_err(|e| format!("cannot read the files of {shown}: {e}"))?;
    for want in &manifest.files {
        match actual.iter().find(|f| f.path == want.path) {
            None => v.removed.push(want.path.clone()),
            Some(f) if f.sha256 != want.sha256 || f.size != want.size => {
                v.changed.push(want.path.clone())
            }
            Some(_) => {}
        }
    }
    for f in &actual {
        if !manifest.files.iter().any(|w| w.path == f.path) {
            v.added.push(f.path.clone());
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_changes_additions_removals_and_bad_signatures() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "alpha").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.txt"), "beta").unwrap();
        let key = SigningKey::from_bytes(&[9u8; 32]);
        write(dir.path(), "run-1", Some(&key)).unwrap();
        let public = key.verifying_key();
        assert!(verify(dir.path(), Some(&public)).unwrap().intact());
        assert!(verify(dir.path(), None).unwrap().intact());

        let other = SigningKey::from_bytes(&[1u8; 32]).verifying_key();
        assert!(!verify(dir.path(), Some(&other)).unwrap().intact());

        std::fs::write(dir.path().join("sub/b.txt"), "betA").unwrap();
        std::fs::write(dir.path().join("c.txt"), "new").unwrap();
        std::fs::remove_file(dir.path().join("a.txt")).unwrap();
        let v = verify(dir.path(), Some(&public)).unwrap();
        assert_eq!(v.changed, ["sub/b.txt"]);
        assert_eq!(v.added, ["c.txt"]);
        assert_eq!(v.removed, ["a.txt"]);
    }

    #[test]
    fn unsigned_folders_check_hashes_and_nothing_to_check_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "alpha").unwrap();
        assert!(verify(dir.path(), None).is_err());
        write(dir.path(), "run-1", None).unwrap();
        assert!(verify(dir.path(), None).unwrap().intact());
        // Asked to check a signer, an unsigned folder fails.
        let public = SigningKey::from_bytes(&[9u8; 32]).verifying_key();
        assert!(!verify(dir.path(), Some(&public)).unwrap().intact());
        std::fs::write(dir.path().join(MANIFEST), "{ not json").unwrap();
        assert!(verify(dir.path(), None).is_err());
        // Expected to be signed, but the manifest is gone: a finding, not an error.
        std::fs::remove_file(dir.path().join(MANIFEST)).unwrap();
        assert!(verify(dir.path(), None).is_err());
        assert!(!verify(dir.path(), Some(&public)).unwrap().intact());
    }
}
