//! The checks on test data: sha256 of a file, the digest of a folder (its `sha256sum`
//! style listing), and the tar.gz form a folder travels in.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Every regular file under `dir`, as `/`-separated paths relative to it, sorted by
/// bytes. A symbolic link or any other kind of entry is an error: a folder of test
/// data is plain files.
pub fn files(dir: &Path) -> std::io::Result<Vec<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                walk(root, &path, out)?;
            } else if kind.is_file() {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            } else {
                return Err(std::io::Error::other(format!(
                    "{} is neither a file nor a folder",
                    path.display()
                )));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// The digest of a folder: sha256 of `<sha256 hex>  <path>\n` per file, sorted by path;
/// the same as `find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum`.
pub fn tree_digest(dir: &Path) -> std::io::Result<String> {
    let mut listing = Sha256::new();
    for rel in files(dir)? {
        let sum = sha256_file(&dir.join(&rel))?;
        listing.update(format!("{sum}  {rel}\n").as_bytes());
    }
    Ok(hex(&listing.finalize()))
}

/// Packs a folder as tar.gz with its files at the top level, in sorted order, with
/// fixed times and modes, so the same folder always gives the same bytes.
pub fn pack_tree(dir: &Path, out: impl Write) -> std::io::Result<()> {
    let gz = flate2::write::GzEncoder::new(out, flate2::Compression::new(6));
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for rel in files(dir)? {
        let mut file = std::fs::File::open(dir.join(&rel))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(file.metadata()?.len());
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, &rel, &mut file)?;
    }
    tar.into_inner()?.finish()?.flush()
}

/// Unpacks a tar.gz into `dest` (which must exist): plain files and folders only, none
/// outside `dest`.
pub fn unpack_tree(bytes: &[u8], dest: &Path) -> std::io::Result<()> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path: PathBuf = entry.path()?.into_owned();
        let safe = path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !safe {
            return Err(std::io::Error::other(format!(
                "archive entry {} points outside its folder",
                path.display()
            )));
        }
        match entry.header().entry_type() {
            tar::EntryType::Directory => std::fs::create_dir_all(dest.join(&path))?,
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let target = dest.join(&path);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let mut out = std::fs::File::create(&target)?;
                std::io::copy(&mut entry, &mut out)?;
            }
            // Extended headers carry long names for the entries they precede; the
            // tar reader applies them itself.
            tar::EntryType::XHeader | tar::EntryType::XGlobalHeader => {}
            other => {
                return Err(std::io::Error::other(format!(
                    "archive entry {} is a {other:?}, not a file or folder",
                    path.display()
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_digest_is_its_sha256sum_listing_and_changes_with_any_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("b")).unwrap();
        std::fs::write(dir.path().join("a.txt"), "one\n").unwrap();
        std::fs::write(dir.path().join("b/c.txt"), "two\n").unwrap();
        let listing = format!(
            "{}  a.txt\n{}  b/c.txt\n",
            sha256_bytes(b"one\n"),
            sha256_bytes(b"two\n")
        );
        let digest = tree_digest(dir.path()).unwrap();
        assert_eq!(digest, sha256_bytes(listing.as_bytes()));
        std::fs::write(dir.path().join("b/c.txt"), "two!\n").unwrap();
        assert_ne!(tree_digest(dir.path()).unwrap(), digest);
        std::fs::rename(dir.path().join("b/c.txt"), dir.path().join("b/d.txt")).unwrap();
        std::fs::write(dir.path().join("b/d.txt"), "two\n").unwrap();
        assert_ne!(tree_digest(dir.path()).unwrap(), digest);
    }

    #[test]
    fn a_packed_folder_unpacks_to_the_same_digest_and_packs_to_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("x/y")).unwrap();
        std::fs::write(dir.path().join("x/y/z.json"), "{}").unwrap();
        std::fs::write(dir.path().join("top.xml"), "<a/>").unwrap();
        let (mut first, mut second) = (Vec::new(), Vec::new());
        pack_tree(dir.path(), &mut first).unwrap();
        pack_tree(dir.path(), &mut second).unwrap();
        assert_eq!(first, second);
        let out = tempfile::tempdir().unwrap();
        unpack_tree(&first, out.path()).unwrap();
        assert_eq!(
            tree_digest(out.path()).unwrap(),
            tree_digest(dir.path()).unwrap()
        );
    }

    #[test]
    fn an_archive_reaching_outside_its_folder_is_refused() {
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(2);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        // `set_path` refuses `..`, so the name is written into the header directly.
        header.as_old_mut().name[..9].copy_from_slice(b"../escape");
        header.set_cksum();
        tar.append(&header, &b"hi"[..]).unwrap();
        let raw = tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&raw).unwrap();
        let bytes = gz.finish().unwrap();
        let out = tempfile::tempdir().unwrap();
        let err = unpack_tree(&bytes, &out.path().join("in")).unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
        assert!(!out.path().join("escape").exists());
    }
}
