//! The package index's binary encoding: little-endian integers, strings as a length
//! and UTF-8 bytes. Every read is bounds-checked, so a damaged file is an error,
//! never a panic or a huge allocation.

/// Why an index file could not be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Damaged(pub String);

pub(crate) type Read<T> = Result<T, Damaged>;

#[derive(Default)]
pub(crate) struct Out(pub Vec<u8>);

impl Out {
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.extend_from_slice(b);
    }

    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    pub fn opt(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }

    pub fn strs<'a>(&mut self, items: impl ExactSizeIterator<Item = &'a str>) {
        self.len(items.len());
        for s in items {
            self.str(s);
        }
    }
}

pub(crate) struct In<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> In<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        In { b, at: 0 }
    }

    pub fn at_end(&self) -> bool {
        self.at == self.b.len()
    }

    fn take(&mut self, n: usize) -> Read<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.b.len())
            .ok_or_else(|| Damaged(format!("cut short at byte {}", self.at)))?;
        let out = &self.b[self.at..end];
        self.at = end;
        Ok(out)
    }

    pub fn u8(&mut self) -> Read<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn u32(&mut self) -> Read<u32> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }

    pub fn u64(&mut self) -> Read<u64> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    /// A count of items that each take at least `min_size` bytes: one larger than
    /// what is left is damage, and never reaches an allocation.
    pub fn len(&mut self, min_size: usize) -> Read<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size.max(1)) > self.b.len() - self.at {
            return Err(Damaged(format!(
                "a count of {n} at byte {} overruns",
                self.at
            )));
        }
        Ok(n)
    }

    pub fn bytes(&mut self) -> Read<&'a [u8]> {
        let n = self.len(1)?;
        self.take(n)
    }

    pub fn str(&mut self) -> Read<&'a str> {
        let at = self.at;
        std::str::from_utf8(self.bytes()?).map_err(|_| Damaged(format!("bad UTF-8 at byte {at}")))
    }

    pub fn string(&mut self) -> Read<String> {
        self.str().map(str::to_string)
    }

    pub fn opt(&mut self) -> Read<Option<String>> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.string().map(Some),
            t => Err(Damaged(format!(
                "bad option tag {t} at byte {}",
                self.at - 1
            ))),
        }
    }

    pub fn strings(&mut self) -> Read<Vec<String>> {
        let n = self.len(4)?;
        (0..n).map(|_| self.string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let mut o = Out::default();
        o.u8(7);
        o.u64(1 << 40);
        o.str("Patient");
        o.opt(None);
        o.opt(Some("http://x"));
        o.strs(["a", "bc"].into_iter());
        let mut i = In::new(&o.0);
        assert_eq!(i.u8().unwrap(), 7);
        assert_eq!(i.u64().unwrap(), 1 << 40);
        assert_eq!(i.str().unwrap(), "Patient");
        assert_eq!(i.opt().unwrap(), None);
        assert_eq!(i.opt().unwrap().as_deref(), Some("http://x"));
        assert_eq!(i.strings().unwrap(), ["a", "bc"]);
        assert!(i.at_end());
        // Every truncation is an error, never a panic.
        for cut in 0..o.0.len() {
            let mut i = In::new(&o.0[..cut]);
            let all = (|| -> Read<()> {
                i.u8()?;
                i.u64()?;
                i.str()?;
                i.opt()?;
                i.opt()?;
                i.strings()?;
                Ok(())
            })();
            assert!(all.is_err(), "cut at {cut}");
        }
        // A huge count is refused before anything is allocated.
        let mut i = In::new(&[0xff, 0xff, 0xff, 0xff, 0]);
        assert!(i.strings().is_err());
    }
}
