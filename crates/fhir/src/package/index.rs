//! The package index: what start-up needs from a package in the cache (its manifest
//! and hash, each conformance resource's summary and file, its FHIRPath type model),
//! kept beside the package as `<id>#<version>/.assure-index`. A later start reads it
//! instead of reading, hashing and scanning the package's files, and parses a
//! resource only when it is used (a definition is read back from the trees kept
//! after the index's body, see `trees.rs`).
//!
//! It is trusted only while it matches: the index records every file's path, size,
//! modification and change time; a file added, removed or touched in any way (the
//! change time cannot be set back), a damaged index (checksum, bounds), or one made
//! by different indexing code is rebuilt. It is written to a temporary file and
//! renamed into place, so concurrent runs never see half an index.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::codec::{Damaged, In, Out};
use super::entry::Format;
use super::manifest::Manifest;
use super::scan::Summary;

/// The index's file name inside a cached package's folder.
pub const INDEX_FILE: &str = ".assure-index";

const MAGIC: &[u8; 8] = b"assureIX";
pub(crate) const FORMAT: u32 = 3;
/// A file changed less than this before the index was made may change again within
/// the file system's time stamp granularity unseen: such an index is not trusted.
const RACY_NS: u64 = 2_000_000_000;

/// One file as the file system describes it, without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub path: String,
    pub size: u64,
    pub mtime_ns: u64,
    pub ctime_ns: u64,
}

/// A package's FHIRPath type model as the index keeps it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ModelState {
    /// The package defines no base types.
    NoTypes,
    /// The model, serialized.
    Json(Vec<u8>),
}

/// Everything the index holds but the resources' summaries.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub built_at_ns: u64,
    pub stamps: Vec<Stamp>,
    pub folder_name: String,
    pub manifest: Option<Manifest>,
    pub sha256: String,
    pub warnings: Vec<String>,
    pub declared_fhir_version: Option<String>,
}

/// An index read back (its stamps matched the files).
#[derive(Debug)]
pub(crate) struct Index {
    pub meta: Meta,
    pub items: Vec<(Summary, String, Format)>,
    pub model: ModelState,
    /// The index file, open, and where its trees section starts (see `trees.rs`).
    pub file: Option<(std::fs::File, u64)>,
}

/// Why an index was not used.
pub(crate) type Stale = String;

/// The index of `folder` if it exists, is whole and matches `stamps`.
pub(crate) fn read(folder: &Path, stamps: &[Stamp]) -> Result<Index, Stale> {
    use std::io::Read as _;
    let path = folder.join(INDEX_FILE);
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("no index yet".into()),
        Err(e) => return Err(format!("the index cannot be read: {e}")),
    };
    // The header and body only: the trees after them are read when used.
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut bytes = vec![0u8; HEADER.min(size as usize)];
    let mut read = file.read_exact(&mut bytes);
    let body = bytes
        .get(16..24)
        .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or_default()));
    if read.is_ok() && (HEADER as u64).saturating_add(body) <= size {
        bytes.resize(HEADER + body as usize, 0);
        read = file.read_exact(&mut bytes[HEADER..]);
    }
    if let Err(e) = read {
        return Err(format!("the index cannot be read: {e}"));
    }
    match decode(&bytes, stamps) {
        Ok(Ok(mut index)) => {
            index.file = Some((file, bytes.len() as u64));
            Ok(index)
        }
        Ok(Err(why)) => Err(why),
        Err(Damaged(why)) => Err(format!("the index is damaged: {why}")),
    }
}

/// Magic, format, code key, body length, body CRC.
const HEADER: usize = 28;

/// Compares the stamps recorded with the files there now, reading the recorded ones
/// in place; `Some` says what differs.
fn mismatch(i: &mut In<'_>, built_at_ns: u64, now: &[Stamp]) -> Result<Option<String>, Damaged> {
    let n = i.len(28)?;
    let mut first = None;
    for k in 0..n {
        let path = i.str()?;
        let (size, mtime_ns, ctime_ns) = (i.u64()?, i.u64()?, i.u64()?);
        if first.is_some() {
            continue;
        }
        first = match now.get(k) {
            None => Some(format!("{path} was removed")),
            Some(is) if path < is.path.as_str() => Some(format!("{path} was removed")),
            Some(is) if path > is.path.as_str() => Some(format!("{} was added", is.path)),
            Some(is) if (size, mtime_ns, ctime_ns) != (is.size, is.mtime_ns, is.ctime_ns) => {
                Some(format!("{path} changed"))
            }
            Some(_) => None,
        };
    }
    if first.is_none() && now.len() > n {
        first = Some(format!("{} was added", now[n].path));
    }
    if first.is_none() && racy(now, built_at_ns) {
        first = Some("files changed just before it was made".into());
    }
    Ok(first)
}

impl Meta {
    /// Whether a file changed so shortly before the index was made that a further
    /// change might keep the same time stamps.
    pub(crate) fn is_racy(&self) -> bool {
        racy(&self.stamps, self.built_at_ns)
    }
}

fn racy(stamps: &[Stamp], built_at_ns: u64) -> bool {
    let newest = stamps.iter().map(|s| s.mtime_ns.max(s.ctime_ns)).max();
    newest.is_some_and(|t| t.saturating_add(RACY_NS) > built_at_ns)
}

/// Writes the index beside the package: a temporary file renamed into place.
pub(crate) fn write(folder: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let temp = folder.join(format!(
        "{INDEX_FILE}.tmp-{}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed),
        now_ns() % 1_000_000_007
    ));
    let result =
        std::fs::write(&temp, bytes).and_then(|()| std::fs::rename(&temp, folder.join(INDEX_FILE)));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

pub(crate) fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Identifies the code that makes an index: any change to how packages are scanned,
/// summarised or modelled makes older indexes stale.
pub(crate) fn code_key() -> u32 {
    const SOURCES: &[&[u8]] = &[
        include_bytes!("index.rs"),
        include_bytes!("codec.rs"),
        include_bytes!("contents.rs"),
        include_bytes!("scan.rs"),
        include_bytes!("manifest.rs"),
        include_bytes!("entry.rs"),
        include_bytes!("trees.rs"),
        include_bytes!("../model.rs"),
        include_bytes!("../fhirpath/model_info.rs"),
    ];
    let mut crc = crc32fast::Hasher::new();
    crc.update(&FORMAT.to_le_bytes());
    for s in SOURCES {
        crc.update(s);
    }
    crc.finalize()
}

/// Header: magic, format, code key, body length, body CRC; then the body.
pub(crate) fn encode<'a>(
    meta: &Meta,
    items: impl ExactSizeIterator<Item = (&'a Summary, &'a str, Format)>,
    model: &ModelState,
) -> Vec<u8> {
    let mut o = Out::default();
    o.u64(meta.built_at_ns);
    o.len(meta.stamps.len());
    for s in &meta.stamps {
        o.str(&s.path);
        o.u64(s.size);
        o.u64(s.mtime_ns);
        o.u64(s.ctime_ns);
    }
    o.str(&meta.folder_name);
    match &meta.manifest {
        None => o.u8(0),
        Some(m) => {
            o.u8(1);
            o.str(&m.name);
            o.str(&m.version);
            o.opt(m.canonical.as_deref());
            o.strs(m.fhir_versions.iter().map(String::as_str));
            o.len(m.dependencies.len());
            for (id, v) in &m.dependencies {
                o.str(id);
                o.str(v);
            }
        }
    }
    o.str(&meta.sha256);
    o.strs(meta.warnings.iter().map(String::as_str));
    o.opt(meta.declared_fhir_version.as_deref());
    o.len(items.len());
    for (s, file, format) in items {
        o.str(file);
        o.u8(match format {
            Format::Json => 0,
            Format::Xml => 1,
        });
        o.str(&s.resource_type);
        for field in [
            &s.id,
            &s.url,
            &s.version,
            &s.name,
            &s.kind,
            &s.type_,
            &s.derivation,
            &s.base_definition,
            &s.fhir_version,
            &s.warning,
        ] {
            o.opt(field.as_deref());
        }
    }
    match model {
        ModelState::NoTypes => o.u8(0),
        ModelState::Json(j) => {
            o.u8(1);
            o.bytes(j);
        }
    }
    let body = o.0;
    let crc = crc32fast::hash(&body);
    let mut out = Vec::with_capacity(body.len() + HEADER);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&code_key().to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Decodes an index whose stamps match `now`; `Ok(Err(why))` when they do not.
pub(crate) fn decode(bytes: &[u8], now: &[Stamp]) -> Result<Result<Index, Stale>, Damaged> {
    let mut h = In::new(bytes);
    let magic = h.u64()?.to_le_bytes();
    if &magic != MAGIC {
        return Err(Damaged("not an assure package index".into()));
    }
    if h.u32()? != FORMAT || h.u32()? != code_key() {
        return Err(Damaged("made by another version of assure".into()));
    }
    let len = h.u64()?;
    let crc = h.u32()?;
    let body = bytes.get(HEADER..).unwrap_or_default();
    if body.len() as u64 != len {
        return Err(Damaged(format!(
            "{} body bytes, {len} expected",
            body.len()
        )));
    }
    if crc32fast::hash(body) != crc {
        return Err(Damaged("checksum mismatch".into()));
    }
    let mut i = In::new(body);
    let built_at_ns = i.u64()?;
    if let Some(why) = mismatch(&mut i, built_at_ns, now)? {
        return Ok(Err(why));
    }
    let folder_name = i.string()?;
    let manifest = match i.u8()? {
        0 => None,
        _ => {
            let name = i.string()?;
            let version = i.string()?;
            let canonical = i.opt()?;
            let fhir_versions = i.strings()?;
            let n = i.len(8)?;
            let mut dependencies = Vec::with_capacity(n);
            for _ in 0..n {
                dependencies.push((i.string()?, i.string()?));
            }
            Some(Manifest {
                name,
                version,
                canonical,
                fhir_versions,
                dependencies,
            })
        }
    };
    let sha256 = i.string()?;
    let warnings = i.strings()?;
    let declared_fhir_version = i.opt()?;
    let n = i.len(15)?;
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        let file = i.string()?;
        let format = match i.u8()? {
            0 => Format::Json,
            _ => Format::Xml,
        };
        let summary = Summary {
            resource_type: i.string()?,
            id: i.opt()?,
            url: i.opt()?,
            version: i.opt()?,
            name: i.opt()?,
            kind: i.opt()?,
            type_: i.opt()?,
            derivation: i.opt()?,
            base_definition: i.opt()?,
            fhir_version: i.opt()?,
            warning: i.opt()?,
        };
        items.push((summary, file, format));
    }
    let model = match i.u8()? {
        0 => ModelState::NoTypes,
        _ => ModelState::Json(i.bytes()?.to_vec()),
    };
    if !i.at_end() {
        return Err(Damaged("bytes after the end".into()));
    }
    Ok(Ok(Index {
        meta: Meta {
            built_at_ns,
            stamps: Vec::new(),
            folder_name,
            manifest,
            sha256,
            warnings,
            declared_fhir_version,
        },
        items,
        model,
        file: None,
    }))
}

/// Every `.json` and `.xml` file below `folder` (as the loader reads them), sorted,
/// with its size and times; nothing is read.
pub(crate) fn stamps(folder: &Path) -> Result<Vec<Stamp>, super::PackageError> {
    let mut out = Vec::new();
    stamp_dir(folder, "", &mut out)?;
    out.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn stamp_dir(dir: &Path, prefix: &str, out: &mut Vec<Stamp>) -> Result<(), super::PackageError> {
    let io = |p: &Path, e| super::PackageError::io(p, e);
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let entry = entry.map_err(|e| io(dir, e))?;
        let kind = entry.file_type().map_err(|e| io(&entry.path(), e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if kind.is_dir() {
            stamp_dir(&entry.path(), &format!("{prefix}{name}/"), out)?;
        } else if kind.is_file() && super::source::is_resource_file(&name) {
            let meta = entry.metadata().map_err(|e| io(&entry.path(), e))?;
            out.push(Stamp {
                path: format!("{prefix}{name}"),
                size: meta.len(),
                mtime_ns: meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos() as u64),
                ctime_ns: change_time(&meta),
            });
        }
    }
    Ok(())
}

#[cfg(unix)]
fn change_time(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    (meta.ctime().max(0) as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(meta.ctime_nsec().max(0) as u64)
}

#[cfg(not(unix))]
fn change_time(_: &std::fs::Metadata) -> u64 {
    0
}
