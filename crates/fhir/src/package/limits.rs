//! Caps on what a package archive may unpack to, so a hostile `.tgz` is refused
//! before it fills memory or disk: total unpacked bytes, entry count, and the ratio of
//! unpacked to compressed size (gzip bombs reach 1000:1; real packages stay near 10:1).

use std::cell::Cell;
use std::io::Read;

/// Caps checked while a `.tgz` is unpacked. [`ArchiveLimits::default`] admits every
/// package published so far; [`ArchiveLimits::from_env`] reads overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// The most bytes the tar stream may inflate to (file contents, headers, names).
    pub max_unpacked_bytes: u64,
    /// The most entries (files, folders, links) the archive may hold.
    pub max_entries: u64,
    /// The most the archive may inflate to per compressed byte; archives under
    /// [`RATIO_FLOOR`] unpacked are exempt.
    pub max_ratio: u64,
}

/// Small archives may compress as well as they like.
pub const RATIO_FLOOR: u64 = 16 << 20;

/// Environment variables that override the defaults (bytes, a count, a ratio).
pub const MAX_SIZE_ENV: &str = "ASSURE_PACKAGE_MAX_SIZE";
pub const MAX_ENTRIES_ENV: &str = "ASSURE_PACKAGE_MAX_ENTRIES";
pub const MAX_RATIO_ENV: &str = "ASSURE_PACKAGE_MAX_RATIO";

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_unpacked_bytes: 1 << 30,
            max_entries: 100_000,
            max_ratio: 100,
        }
    }
}

impl ArchiveLimits {
    /// The defaults, each overridden by its environment variable when set; a value
    /// that is not a number is an error naming the variable.
    pub fn from_env() -> Result<ArchiveLimits, String> {
        let mut limits = ArchiveLimits::default();
        for (name, slot) in [
            (MAX_SIZE_ENV, &mut limits.max_unpacked_bytes),
            (MAX_ENTRIES_ENV, &mut limits.max_entries),
            (MAX_RATIO_ENV, &mut limits.max_ratio),
        ] {
            if let Some(text) = std::env::var_os(name) {
                let text = text.to_string_lossy();
                *slot = parse_size(&text).ok_or_else(|| {
                    format!("${name} is `{text}`: expected a number (sizes may end in K, M or G)")
                })?;
            }
        }
        Ok(limits)
    }

    /// The most an archive of `compressed` bytes may inflate to.
    pub fn budget(&self, compressed: u64) -> u64 {
        let by_ratio = compressed.saturating_mul(self.max_ratio).max(RATIO_FLOOR);
        self.max_unpacked_bytes.min(by_ratio)
    }
}

/// `123`, `64K`, `512M`, `2G` (binary multiples); `None` if not a size.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, shift) = match text.char_indices().last()? {
        (i, 'k' | 'K') => (&text[..i], 10),
        (i, 'm' | 'M') => (&text[..i], 20),
        (i, 'g' | 'G') => (&text[..i], 30),
        _ => (text, 0),
    };
    let n: u64 = digits.trim().parse().ok()?;
    n.checked_mul(1u64 << shift)
}

/// Which cap an archive hit; set by [`Capped`] when it stops reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exceeded {
    Size(u64),
}

/// Reads at most `budget` bytes from `inner`, then fails and records why, so the
/// caller can tell a cap from a corrupt stream.
pub(crate) struct Capped<'a, R> {
    pub inner: R,
    pub left: u64,
    pub budget: u64,
    pub hit: &'a Cell<Option<Exceeded>>,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // One byte more than the budget tells a full archive from a larger one.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.hit.set(Some(Exceeded::Size(self.budget)));
            return Err(std::io::Error::other("unpack limit reached"));
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// An entry's path with `.` and empty parts dropped; `Err` names why it is refused
/// (absolute, or climbing out with `..`).
pub(crate) fn normalize_entry_path(raw: &str) -> Result<String, String> {
    if raw.starts_with('/') {
        return Err(format!("entry `{raw}` is an absolute path"));
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(format!("entry `{raw}` climbs out of the archive with `..`")),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(format!("entry `{raw}` has no name"));
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_budgets() {
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("2g"), Some(2 << 30));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size(""), None);
        let l = ArchiveLimits::default();
        assert_eq!(l.budget(1_000), RATIO_FLOOR);
        assert_eq!(l.budget(2_400_000), 240_000_000);
        assert_eq!(l.budget(100 << 20), 1 << 30);
    }

    #[test]
    fn entry_paths() {
        assert_eq!(
            normalize_entry_path("./package//package.json").unwrap(),
            "package/package.json"
        );
        assert!(normalize_entry_path("package/../../x").is_err());
        assert!(normalize_entry_path("/etc/passwd").is_err());
        assert!(normalize_entry_path("./").is_err());
    }
}
