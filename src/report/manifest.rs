//! Tamper evidence for a run folder: `manifest.json` lists every file with its size
//! and sha256; with `--sign-key`, `manifest.sig` holds an Ed25519 signature (hex) of
//! the exact bytes of `manifest.json`. `assure report verify` recomputes both.
//!
//! ```json
//! { "format": "assure-manifest/1", "run_id": "20261126T230000Z-1a2b",
//!   "public_key": "e4ee2d88…", "files": [{ "path": "report.json", "size": 1234, "sha256": "…" }] }
//! ```

use std::io::{self, Read as _};
use std::path::Path;

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::evidence::hex;

pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";
const FORMAT: &str = "assure-manifest/1";
/// Far above any real manifest or signature: a bigger one is not read.
const MANIFEST_CAP: u64 = 64 * 1024 * 1024;
const SIGNATURE_CAP: u64 = 4 * 1024;

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
    /// A file name of the run folder (run folders are flat).
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// What a run folder holds beside its manifest and signature.
#[derive(Debug)]
enum Found {
    File(FileEntry),
    /// A symbolic link, FIFO, socket, device or folder: named, never read or followed.
    Other {
        path: String,
        kind: &'static str,
    },
}

impl Found {
    fn path(&self) -> &str {
        match self {
            Found::File(f) => &f.path,
            Found::Other { path, .. } => path,
        }
    }
}

fn kind(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "a device";
        }
    }
    if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

/// Opens `path` only if it is a regular file: no link is followed, and opening a FIFO
/// does not wait for a writer; what was opened is checked, not what was listed.
fn open_regular(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            io::Error::new(io::ErrorKind::InvalidData, "a symbolic link, not read")
        } else {
            e
        }
    })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}, not read", kind(meta.file_type())),
        ));
    }
    Ok(file)
}

/// Size and sha256 of a regular file, read in blocks.
fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut file = open_regular(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex(&hasher.finalize())))
}

/// A regular file's bytes, refused past `cap`. `Ok(None)` when it does not exist.
fn read_small(path: &Path, cap: u64) -> io::Result<Option<Vec<u8>>> {
    let file = match open_regular(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {cap} bytes, not read"),
        ));
    }
    Ok(Some(bytes))
}

/// Everything in `dir` but the manifest and its signature, sorted by name.
fn list(dir: &Path) -> io::Result<Vec<Found>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == MANIFEST || name == SIGNATURE {
            continue;
        }
        let ft = entry.file_type()?;
        if !ft.is_file() {
            out.push(Found::Other {
                path: name,
                kind: kind(ft),
            });
            continue;
        }
        match hash_file(&entry.path()) {
            Ok((size, sha256)) => out.push(Found::File(FileEntry {
                path: name,
                size,
                sha256,
            })),
            // Swapped for something else since it was listed.
            Err(e) if e.kind() == io::ErrorKind::InvalidData => out.push(Found::Other {
                path: name,
                kind: "not a regular file",
            }),
            Err(e) => return Err(e),
        }
    }
    out.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(out)
}

/// Writes `manifest.json` (and `manifest.sig` when a key is given) into `dir`.
pub fn write(dir: &Path, run_id: &str, key: Option<&SigningKey>) -> io::Result<()> {
    let manifest = Manifest {
        format: FORMAT.into(),
        run_id: run_id.into(),
        public_key: key.map(|k| hex(k.verifying_key().as_bytes())),
        files: list(dir)?
            .into_iter()
            .filter_map(|f| match f {
                Found::File(f) => Some(f),
                Found::Other { .. } => None,
            })
            .collect(),
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
    /// Problems with the signature or the manifest itself (another run's included).
    pub signature_problems: Vec<String>,
    /// What was checked, for the reader.
    pub notes: Vec<String>,
    /// The signature was checked against a public key given apart from the folder:
    /// the folder is what that key's holder signed, not only unchanged.
    pub authenticated: bool,
}

impl Verification {
    pub fn intact(&self) -> bool {
        self.changed.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.signature_problems.is_empty()
    }
}

/// Which run a folder must hold.
#[derive(Debug, Clone, Copy)]
pub enum Expect<'a> {
    /// The run the folder is named after (`reports/<run-id>/`).
    FolderName,
    /// This run (a folder renamed on purpose).
    Run(&'a str),
    /// Whichever run its manifest names (shards being merged, checked apart).
    Any,
}

/// The run a folder should hold, if it matters.
fn expected_run(dir: &Path, expect: Expect<'_>) -> Option<String> {
    match expect {
        Expect::Run(id) => Some(id.to_owned()),
        Expect::Any => None,
        Expect::FolderName => {
            let dir = std::fs::canonicalize(dir).ok()?;
            dir.file_name().map(|n| n.to_string_lossy().into_owned())
        }
    }
}

/// Checks `dir` against its manifest. `Err` only when there is nothing to check
/// (no folder, no manifest): tampering is always an `Ok` with findings. The manifest
/// must be of the run `expect` says, so that a folder holding another, older signed run
/// is not taken for this one.
pub fn verify(
    dir: &Path,
    public_key: Option<&VerifyingKey>,
    expect: Expect<'_>,
) -> Result<Verification, String> {
    let shown = dir.display();
    if !dir.is_dir() {
        return Err(format!("{shown} is not a folder"));
    }
    let mut v = Verification::default();
    let sig_text = match read_small(&dir.join(SIGNATURE), SIGNATURE_CAP) {
        Ok(b) => b,
        Err(e) => {
            v.signature_problems.push(format!("{SIGNATURE}: {e}"));
            Some(Vec::new())
        }
    };
    let bytes = match read_small(&dir.join(MANIFEST), MANIFEST_CAP) {
        Ok(Some(b)) => b,
        // A signed folder (or one expected to be) that lost its manifest was tampered
        // with; a folder that never had one is simply nothing to check.
        Ok(None) if sig_text.is_some() || public_key.is_some() => {
            v.signature_problems
                .push(format!("{MANIFEST} is missing, so nothing can be checked"));
            return Ok(v);
        }
        Ok(None) => return Err(format!("{shown} has no {MANIFEST}: nothing to check")),
        Err(e) => {
            v.signature_problems
                .push(format!("{MANIFEST}: {e}, so nothing can be checked"));
            return Ok(v);
        }
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
    check_signature(
        &mut v,
        manifest.as_ref(),
        &bytes,
        sig_text.as_deref(),
        public_key,
    );
    let Some(manifest) = manifest else {
        return Ok(v);
    };
    match expected_run(dir, expect) {
        Some(want) if want != manifest.run_id => v.signature_problems.push(format!(
            "the manifest is of run {}, but this folder should hold run {want}: it may have been replaced by another run (if the folder was renamed, pass --run-id {})",
            manifest.run_id, manifest.run_id
        )),
        _ => {}
    }
    let actual = list(dir).map_err(|e| format!("cannot read the files of {shown}: {e}"))?;
    let find = |path: &str| actual.iter().find(|f| f.path() == path);
    for want in &manifest.files {
        match find(&want.path) {
            None => v.removed.push(want.path.clone()),
            Some(Found::File(f)) if f.sha256 != want.sha256 || f.size != want.size => {
                v.changed.push(want.path.clone())
            }
            Some(Found::File(_)) => {}
            Some(Found::Other { kind, .. }) => v
                .changed
                .push(format!("{} (now {kind}, not read)", want.path)),
        }
    }
    for f in &actual {
        if !manifest.files.iter().any(|w| w.path == f.path()) {
            v.added.push(match f {
                Found::File(f) => f.path.clone(),
                Found::Other { path, kind } => format!("{path} ({kind}, not read)"),
            });
        }
    }
    Ok(v)
}

fn check_signature(
    v: &mut Verification,
    manifest: Option<&Manifest>,
    bytes: &[u8],
    sig_text: Option<&[u8]>,
    public_key: Option<&VerifyingKey>,
) {
    let embedded = manifest
        .and_then(|m| m.public_key.as_deref())
        .and_then(super::keys::parse_hex)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok());
    match (sig_text, public_key.or(embedded.as_ref())) {
        (None, Some(_)) if public_key.is_some() => v
            .signature_problems
            .push(format!("the folder is not signed ({SIGNATURE} is missing)")),
        (None, _) if manifest.is_some_and(|m| m.public_key.is_some()) => v.signature_problems.push(
            format!("{SIGNATURE} is missing, though the manifest says it was signed"),
        ),
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
                Some(sig) if key.verify(bytes, &sig).is_err() => v.signature_problems.push(
                    if public_key.is_some() {
                        "bad signature: the manifest was changed, or not signed with this key"
                    } else {
                        "bad signature: the manifest was changed after signing"
                    }
                    .into(),
                ),
                Some(_) if public_key.is_none() => v.notes.push(
                    "signature checked against the key named in the manifest, which anyone rewriting the folder can replace"
                        .into(),
                ),
                Some(_) => {
                    v.authenticated = true;
                    v.notes.push("signature checked with the given public key".into());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: Expect<'static> = Expect::Run("run-1");

    #[test]
    fn detects_changes_additions_removals_and_bad_signatures() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "alpha").unwrap();
        std::fs::write(dir.path().join("b.txt"), "beta").unwrap();
        let key = SigningKey::from_bytes(&[9u8; 32]);
        write(dir.path(), "run-1", Some(&key)).unwrap();
        let public = key.verifying_key();
        let v = verify(dir.path(), Some(&public), RUN).unwrap();
        assert!(v.intact() && v.authenticated, "{v:?}");
        let v = verify(dir.path(), None, RUN).unwrap();
        assert!(v.intact() && !v.authenticated, "{v:?}");

        let other = SigningKey::from_bytes(&[1u8; 32]).verifying_key();
        assert!(!verify(dir.path(), Some(&other), RUN).unwrap().intact());

        std::fs::write(dir.path().join("b.txt"), "betA").unwrap();
        std::fs::write(dir.path().join("c.txt"), "new").unwrap();
        std::fs::remove_file(dir.path().join("a.txt")).unwrap();
        let v = verify(dir.path(), Some(&public), RUN).unwrap();
        assert_eq!(v.changed, ["b.txt"]);
        assert_eq!(v.added, ["c.txt"]);
        assert_eq!(v.removed, ["a.txt"]);
    }

    #[test]
    fn unsigned_folders_check_hashes_and_nothing_to_check_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "alpha").unwrap();
        assert!(verify(dir.path(), None, RUN).is_err());
        write(dir.path(), "run-1", None).unwrap();
        let v = verify(dir.path(), None, RUN).unwrap();
        assert!(v.intact() && !v.authenticated);
        // Asked to check a signer, an unsigned folder fails.
        let public = SigningKey::from_bytes(&[9u8; 32]).verifying_key();
        assert!(!verify(dir.path(), Some(&public), RUN).unwrap().intact());
        std::fs::write(dir.path().join(MANIFEST), "{ not json").unwrap();
        assert!(verify(dir.path(), None, RUN).is_err());
        // Expected to be signed, but the manifest is gone: a finding, not an error.
        std::fs::remove_file(dir.path().join(MANIFEST)).unwrap();
        assert!(verify(dir.path(), None, RUN).is_err());
        assert!(!verify(dir.path(), Some(&public), RUN).unwrap().intact());
    }

    #[test]
    fn another_runs_manifest_is_not_this_run() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("20260101T000000Z-00000000000000bb");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("a.txt"), "alpha").unwrap();
        let key = SigningKey::from_bytes(&[9u8; 32]);
        // An older signed run's files, put in this run's folder.
        write(&dir, "20250101T000000Z-00000000000000aa", Some(&key)).unwrap();
        let public = key.verifying_key();
        let v = verify(&dir, Some(&public), Expect::FolderName).unwrap();
        assert!(!v.intact());
        assert!(
            v.signature_problems[0].contains("should hold run 20260101T000000Z-00000000000000bb"),
            "{v:?}"
        );
        // Renamed on purpose: say which run it should be.
        let v = verify(
            &dir,
            Some(&public),
            Expect::Run("20250101T000000Z-00000000000000aa"),
        )
        .unwrap();
        assert!(v.intact(), "{v:?}");
    }

    #[cfg(unix)]
    #[test]
    fn links_fifos_and_folders_are_named_never_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "alpha").unwrap();
        write(dir.path(), "run-1", None).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let fifo = std::ffi::CString::new(dir.path().join("pipe").to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let v = verify(dir.path(), None, RUN).unwrap();
        assert_eq!(
            v.added,
            [
                "pipe (a FIFO, not read)",
                "sub (a folder, not read)",
                "zero (a symbolic link, not read)"
            ]
        );
        // A listed file swapped for a link to a device is changed, and not read.
        std::fs::remove_file(dir.path().join("a.txt")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("a.txt")).unwrap();
        let v = verify(dir.path(), None, RUN).unwrap();
        assert_eq!(v.changed, ["a.txt (now a symbolic link, not read)"]);
        // The manifest itself as a FIFO: a finding, and no hang.
        std::fs::remove_file(dir.path().join(MANIFEST)).unwrap();
        let manifest = std::ffi::CString::new(dir.path().join(MANIFEST).to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(manifest.as_ptr(), 0o600) }, 0);
        let v = verify(dir.path(), None, RUN).unwrap();
        assert!(
            v.signature_problems[0].contains("a FIFO, not read"),
            "{v:?}"
        );
    }
}
