//! Reading a package's files from a `.tgz` or a folder, and working out its layout:
//! npm (`package/package.json`), a folder with a `package.json` of its own, or a bare
//! folder of resources named after the folder.

use std::cell::Cell;
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::limits::{
    normalize_entry_path, ArchiveLimits, Capped, Exceeded, MAX_ENTRIES_ENV, MAX_RATIO_ENV,
    MAX_SIZE_ENV,
};
use super::manifest::Manifest;
use super::PackageError;

/// One package's raw content, before indexing.
#[derive(Debug)]
pub struct RawPackage {
    /// What the user named (a path), for messages.
    pub source_name: String,
    pub location: PathBuf,
    /// The folder name, used as the package name when there is no manifest.
    pub folder_name: String,
    pub manifest: Option<Manifest>,
    /// `.json` and `.xml` files below the package root, paths relative to the archive
    /// or folder given.
    pub files: Vec<(String, Vec<u8>)>,
    /// Hex sha256 of the `.tgz` bytes, or for a folder of its files (sorted by path,
    /// each as `path NUL bytes NUL`).
    pub sha256: String,
}

/// Reads a `.tgz` file; refuses one larger than the limits allow before reading it.
pub fn read_tgz(path: &Path, limits: &ArchiveLimits) -> Result<RawPackage, PackageError> {
    let bytes = read_capped(path, limits.max_unpacked_bytes)?;
    read_tgz_bytes(&bytes, &path.display().to_string(), path, limits)
}

/// Reads a regular file of at most `cap` bytes.
pub(crate) fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, PackageError> {
    let file = std::fs::File::open(path).map_err(|e| PackageError::io(path, e))?;
    let meta = file.metadata().map_err(|e| PackageError::io(path, e))?;
    if !meta.is_file() {
        return Err(PackageError::Refused {
            source_name: path.display().to_string(),
            reason: "it is not a regular file".into(),
        });
    }
    let mut bytes = Vec::with_capacity(meta.len().min(cap) as usize);
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| PackageError::io(path, e))?;
    if bytes.len() as u64 > cap {
        return Err(PackageError::Refused {
            source_name: path.display().to_string(),
            reason: format!(
                "it is larger than {} (the package size limit; raise it with ${MAX_SIZE_ENV})",
                mib(cap)
            ),
        });
    }
    Ok(bytes)
}

/// Reads a gzip tar archive held in memory.
pub fn read_tgz_bytes(
    bytes: &[u8],
    source_name: &str,
    location: &Path,
    limits: &ArchiveLimits,
) -> Result<RawPackage, PackageError> {
    let entries = unpack_with(bytes, source_name, limits)?;
    let stem = location
        .file_name()
        .map(|n| n.to_string_lossy().trim_end_matches(".tgz").to_string())
        .unwrap_or_else(|| source_name.to_string());
    let mut raw = layout(entries, source_name, location, &stem, true)?;
    raw.sha256 = hex(&Sha256::digest(bytes));
    Ok(raw)
}

fn mib(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// [`unpack_with`] the default limits.
pub fn unpack(bytes: &[u8], source_name: &str) -> Result<Vec<(String, Vec<u8>)>, PackageError> {
    unpack_with(bytes, source_name, &ArchiveLimits::default())
}

/// Every regular file of a gzip tar archive, with its path (`./` and empty parts
/// dropped). Refused, naming the cause: more than the limits allow (counted as the
/// stream inflates, so a gzip bomb stops at the budget), a `package.json` or a
/// non-file entry twice, an entry that is absolute or climbs out with `..`. A file
/// entry given twice is the last copy, as tar extracts it.
pub fn unpack_with(
    bytes: &[u8],
    source_name: &str,
    limits: &ArchiveLimits,
) -> Result<Vec<(String, Vec<u8>)>, PackageError> {
    let refused = |reason: String| PackageError::Refused {
        source_name: source_name.to_string(),
        reason,
    };
    let hit = Cell::new(None);
    let budget = limits.budget(bytes.len() as u64);
    let over = |b: u64| {
        if b == limits.max_unpacked_bytes {
            format!(
                "it unpacks to more than {} (the package size limit; raise it with ${MAX_SIZE_ENV})",
                mib(b)
            )
        } else {
            format!(
                "it unpacks to more than {} from {} compressed, over {}:1 (a gzip bomb?; \
                 raise the ratio with ${MAX_RATIO_ENV})",
                mib(b),
                mib(bytes.len() as u64),
                limits.max_ratio
            )
        }
    };
    let corrupt = |e: std::io::Error| match hit.get() {
        Some(Exceeded::Size(b)) => refused(over(b)),
        None => PackageError::CorruptArchive {
            source_name: source_name.to_string(),
            message: e.to_string(),
        },
    };
    let gz = Capped {
        inner: flate2::read::GzDecoder::new(bytes),
        left: budget,
        budget,
        hit: &hit,
    };
    let mut archive = tar::Archive::new(gz);
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut count = 0u64;
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        count += 1;
        if count > limits.max_entries {
            return Err(refused(format!(
                "it holds more than {} entries (the limit; raise it with ${MAX_ENTRIES_ENV})",
                limits.max_entries
            )));
        }
        let raw_path = entry
            .path()
            .map_err(corrupt)?
            .to_string_lossy()
            .into_owned();
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        let path = normalize_entry_path(&raw_path).map_err(refused)?;
        let again = !seen.insert(path.clone());
        if again && (!kind.is_file() || is_manifest(&path)) {
            // The manifest decides the package's name and folder: one copy only.
            return Err(refused(format!(
                "entry `{path}` appears twice (which copy is meant is ambiguous)"
            )));
        }
        if !kind.is_file() {
            continue;
        }
        // A declared size over what is left cannot fit: refuse before inflating it.
        let declared = entry.size();
        let left = budget.saturating_sub(entry.raw_header_position() + 512);
        if declared > left {
            return Err(refused(format!(
                "entry `{path}` says it is {}: {}",
                mib(declared),
                over(budget)
            )));
        }
        // The header's size is only a hint: never trust it for an allocation.
        let mut content = Vec::with_capacity((entry.size() as usize).min(1 << 24));
        entry.read_to_end(&mut content).map_err(corrupt)?;
        if again {
            // Published packages repeat entries (UK.DM.r4 0.0.18-dev, UK.Core.r4
            // 1.2.0); as tar and npm extract them, the last copy is the file, so
            // what is checked and loaded is what is written.
            out.retain(|(p, _)| *p != path);
        }
        out.push((path, content));
    }
    if out.is_empty() {
        return Err(PackageError::CorruptArchive {
            source_name: source_name.to_string(),
            message: "the archive holds no files".into(),
        });
    }
    Ok(out)
}

fn is_manifest(path: &str) -> bool {
    path == "package.json" || path.ends_with("/package.json")
}

/// Reads a folder (recursively).
pub fn read_folder(path: &Path) -> Result<RawPackage, PackageError> {
    let stamps = super::index::stamps(path)?;
    read_stamped(path, &stamps)
}

/// Reads the files `stamps` lists (sorted by path) and hashes them: the sha256 of
/// each as `path NUL bytes NUL`, in order.
pub(crate) fn read_stamped(
    path: &Path,
    stamps: &[super::index::Stamp],
) -> Result<RawPackage, PackageError> {
    let mut entries = Vec::with_capacity(stamps.len());
    let mut hasher = Sha256::new();
    for stamp in stamps {
        let file = path.join(&stamp.path);
        let bytes = std::fs::read(&file).map_err(|e| PackageError::io(&file, e))?;
        hasher.update(stamp.path.as_bytes());
        hasher.update([0]);
        hasher.update(&bytes);
        hasher.update([0]);
        entries.push((stamp.path.clone(), bytes));
    }
    let name = path
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| path.display().to_string());
    let source_name = path.display().to_string();
    let mut raw = layout(entries, &source_name, path, &name, false)?;
    raw.sha256 = hex(&hasher.finalize());
    Ok(raw)
}

pub(crate) fn is_resource_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".json") || lower.ends_with(".xml")
}

fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// Finds the package root (the shallowest `package.json`, else for an archive its
/// single top folder) and keeps the resource files below it.
fn layout(
    entries: Vec<(String, Vec<u8>)>,
    source_name: &str,
    location: &Path,
    fallback_name: &str,
    archive: bool,
) -> Result<RawPackage, PackageError> {
    let manifest_at = entries
        .iter()
        .filter(|(p, _)| p == "package.json" || p.ends_with("/package.json"))
        .min_by_key(|(p, _)| p.matches('/').count())
        .map(|(p, _)| p.clone());
    let mut manifest = None;
    let root = match &manifest_at {
        Some(at) => {
            let bytes = &entries
                .iter()
                .find(|(p, _)| p == at)
                .map(|(_, b)| b.as_slice());
            manifest = Some(Manifest::parse(bytes.unwrap_or_default(), source_name, at)?);
            parent(at).to_string()
        }
        None if archive => common_top(&entries),
        None => String::new(),
    };
    let npm = root == "package" || root.ends_with("/package");
    let folder_name = match root.rsplit('/').next() {
        Some(last) if !last.is_empty() && !npm => last.to_string(),
        _ => fallback_name.to_string(),
    };
    let prefix = if root.is_empty() {
        String::new()
    } else {
        format!("{root}/")
    };
    let files: Vec<(String, Vec<u8>)> = entries
        .into_iter()
        .filter(|(p, _)| {
            let Some(rest) = p.strip_prefix(&prefix) else {
                return false;
            };
            is_resource_file(p) && !(npm && rest.contains('/'))
        })
        .collect();
    if manifest.is_none() && files.is_empty() {
        return Err(PackageError::Empty {
            source_name: source_name.to_string(),
        });
    }
    Ok(RawPackage {
        source_name: source_name.to_string(),
        location: location.to_path_buf(),
        folder_name,
        manifest,
        files,
        sha256: String::new(),
    })
}

/// The single top-level folder all entries share, or "".
fn common_top(entries: &[(String, Vec<u8>)]) -> String {
    let mut top: Option<&str> = None;
    for (p, _) in entries {
        let Some(i) = p.find('/') else {
            return String::new();
        };
        match top {
            None => top = Some(&p[..i]),
            Some(t) if t == &p[..i] => {}
            Some(_) => return String::new(),
        }
    }
    top.unwrap_or_default().to_string()
}

/// Writes files into a gzip tar archive (a package tarball when the paths start with
/// `package/`), for publishing and for tests.
pub fn pack_tgz(files: &[(&str, &[u8])]) -> std::io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(gz);
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *bytes)?;
    }
    builder.into_inner()?.finish()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (name, bytes) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, *bytes).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn npm_layout_keeps_top_level_only() {
        let bytes = tgz(&[
            (
                "package/package.json",
                br#"{"name":"a.b","version":"1.0.0"}"#,
            ),
            ("package/ValueSet-x.json", b"{}"),
            ("package/examples/Patient-p.json", b"{}"),
        ]);
        let raw = read_tgz_bytes(
            &bytes,
            "a.tgz",
            Path::new("a.tgz"),
            &ArchiveLimits::default(),
        )
        .unwrap();
        assert_eq!(raw.manifest.unwrap().name, "a.b");
        let names: Vec<_> = raw.files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(names, ["package/package.json", "package/ValueSet-x.json"]);
        assert_eq!(raw.sha256.len(), 64);
    }

    #[test]
    fn bare_folder_is_named_after_its_top_folder() {
        let bytes = tgz(&[
            ("assets/StructureDefinitions/a.xml", b"<a/>"),
            ("assets/README.md", b"x"),
        ]);
        let raw = read_tgz_bytes(
            &bytes,
            "x.tgz",
            Path::new("x.tgz"),
            &ArchiveLimits::default(),
        )
        .unwrap();
        assert!(raw.manifest.is_none());
        assert_eq!(raw.folder_name, "assets");
        assert_eq!(raw.files.len(), 1);
    }

    #[test]
    fn corrupt_archive_is_a_typed_error() {
        let mut bytes = tgz(&[("package/package.json", b"{}")]);
        bytes.truncate(bytes.len() / 2);
        let err = read_tgz_bytes(
            &bytes,
            "broken.tgz",
            Path::new("broken.tgz"),
            &ArchiveLimits::default(),
        )
        .unwrap_err();
        assert!(matches!(err, PackageError::CorruptArchive { .. }), "{err}");
        assert!(err.to_string().contains("broken.tgz"));
        let err = read_tgz_bytes(
            b"not gzip",
            "n.tgz",
            Path::new("n.tgz"),
            &ArchiveLimits::default(),
        )
        .unwrap_err();
        assert!(matches!(err, PackageError::CorruptArchive { .. }));
    }
}
