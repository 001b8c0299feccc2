//! Reading files a stub set names, safely: a name is resolved and canonicalised, and
//! only a regular file that lies inside the folder it must come from, and is no
//! larger than a cap, is read. A name that escapes the folder gets the same answer as
//! one that does not exist, so messages never tell what lies outside.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest body file (and mapping file) a stub set may hold.
pub const MAX_FILE: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// Missing, or outside the folder: the same to whoever reads the message.
    NotFound,
    NotRegular,
    TooLarge(u64),
    Unreadable(String),
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::NotFound => f.write_str("no such file in the stub set"),
            FileError::NotRegular => f.write_str("not a regular file"),
            FileError::TooLarge(n) => write!(f, "{n} bytes, more than the cap of {MAX_FILE}"),
            FileError::Unreadable(e) => f.write_str(e),
        }
    }
}

/// Whether `name` is relative (where it leads is checked after canonicalising).
fn plain_relative(name: &str) -> bool {
    let p = Path::new(name);
    !name.is_empty()
        && p.components().all(|c| {
            matches!(
                c,
                std::path::Component::Normal(_)
                    | std::path::Component::CurDir
                    | std::path::Component::ParentDir
            )
        })
}

/// `dir/name` if it is a regular file inside `dir` (after symlinks are followed).
pub fn inside(dir: &Path, name: &str) -> Result<PathBuf, FileError> {
    if !plain_relative(name) {
        return Err(FileError::NotFound);
    }
    let root = dir.canonicalize().map_err(|_| FileError::NotFound)?;
    let path = dir
        .join(name)
        .canonicalize()
        .map_err(|_| FileError::NotFound)?;
    if !path.starts_with(&root) {
        return Err(FileError::NotFound);
    }
    let meta = std::fs::metadata(&path).map_err(|_| FileError::NotFound)?;
    if !meta.is_file() {
        return Err(FileError::NotRegular);
    }
    if meta.len() > MAX_FILE {
        return Err(FileError::TooLarge(meta.len()));
    }
    Ok(path)
}

/// The first of `dirs` that holds `name`, read.
pub fn read_from(dirs: &[PathBuf], name: &str) -> Result<Vec<u8>, FileError> {
    let mut last = FileError::NotFound;
    for dir in dirs {
        match inside(dir, name) {
            Ok(path) => return read_capped(&path),
            Err(FileError::NotFound) => continue,
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Reads a regular file, never more than the cap even if it grew after the check.
pub fn read_capped(path: &Path) -> Result<Vec<u8>, FileError> {
    let file = std::fs::File::open(path).map_err(|e| FileError::Unreadable(e.to_string()))?;
    let meta = file
        .metadata()
        .map_err(|e| FileError::Unreadable(e.to_string()))?;
    if !meta.is_file() {
        return Err(FileError::NotRegular);
    }
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_FILE) as usize);
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::Unreadable(e.to_string()))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(FileError::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_inside_the_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let files = tmp.path().join("__files");
        std::fs::create_dir_all(files.join("sub")).unwrap();
        std::fs::write(files.join("sub/ok.json"), "{}").unwrap();
        std::fs::write(tmp.path().join("secret.txt"), "x").unwrap();
        assert_eq!(
            read_from(std::slice::from_ref(&files), "sub/ok.json").unwrap(),
            b"{}"
        );
        assert_eq!(
            read_from(std::slice::from_ref(&files), "sub/../sub/ok.json").unwrap(),
            b"{}"
        );
        // Outside, existing or not: the same answer.
        assert_eq!(
            read_from(std::slice::from_ref(&files), "../secret.txt"),
            Err(FileError::NotFound)
        );
        assert_eq!(
            read_from(std::slice::from_ref(&files), "../nothing.txt"),
            Err(FileError::NotFound)
        );
        assert_eq!(
            read_from(std::slice::from_ref(&files), "/etc/passwd"),
            Err(FileError::NotFound)
        );
        std::os::unix::fs::symlink("/etc/passwd", files.join("passwd")).unwrap();
        std::os::unix::fs::symlink("/nonexistent", files.join("dangling")).unwrap();
        assert_eq!(
            read_from(std::slice::from_ref(&files), "passwd"),
            Err(FileError::NotFound)
        );
        assert_eq!(
            read_from(std::slice::from_ref(&files), "dangling"),
            Err(FileError::NotFound)
        );
        std::os::unix::fs::symlink("/dev/zero", files.join("zero")).unwrap();
        assert_eq!(
            read_from(std::slice::from_ref(&files), "zero"),
            Err(FileError::NotFound)
        );
        assert_eq!(
            read_from(std::slice::from_ref(&files), "sub"),
            Err(FileError::NotRegular)
        );
        let fifo = files.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            assert_eq!(
                read_from(std::slice::from_ref(&files), "fifo"),
                Err(FileError::NotRegular)
            );
        }
        let big = std::fs::File::create(files.join("big")).unwrap();
        big.set_len(MAX_FILE + 1).unwrap();
        assert_eq!(
            read_from(&[files], "big"),
            Err(FileError::TooLarge(MAX_FILE + 1))
        );
    }
}
