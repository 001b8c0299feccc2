//! Time zones for WireMock's date helpers: UTC, fixed offsets, and IANA zones read
//! from the system's zoneinfo (TZif), each giving an offset and abbreviation.

use chrono::{DateTime, Utc};

/// A zone: a fixed offset, or an IANA zone's offset and abbreviation at an instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    pub name: String,
    transitions: Vec<(i64, i32, String)>,
    pub(super) fixed: (i32, String),
}

impl Zone {
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".into(),
            transitions: Vec::new(),
            fixed: (0, "UTC".into()),
        }
    }

    /// `UTC`, `GMT`, `+01:00`, `GMT+1`, or an IANA name such as `Europe/London`.
    pub fn named(name: &str) -> Option<Zone> {
        let n = name.trim();
        if n.eq_ignore_ascii_case("UTC") || n.eq_ignore_ascii_case("Z") {
            return Some(Zone::utc());
        }
        if n.eq_ignore_ascii_case("GMT") {
            return Some(Zone {
                name: "GMT".into(),
                transitions: Vec::new(),
                fixed: (0, "GMT".into()),
            });
        }
        let offset_text = n
            .strip_prefix("GMT")
            .or_else(|| n.strip_prefix("UTC"))
            .unwrap_or(n);
        if let Some(secs) = parse_offset(offset_text) {
            return Some(Zone {
                name: n.to_owned(),
                transitions: Vec::new(),
                fixed: (secs, format!("GMT{}", offset_colon(secs))),
            });
        }
        read_tzif(n)
    }

    /// Offset (seconds east of UTC) and abbreviation at `instant`.
    pub fn at(&self, instant: DateTime<Utc>) -> (i32, String) {
        let t = instant.timestamp();
        match self.transitions.iter().rev().find(|(at, _, _)| *at <= t) {
            Some((_, off, abbr)) => (*off, abbr.clone()),
            None => self
                .transitions
                .first()
                .map_or_else(|| self.fixed.clone(), |(_, o, a)| (*o, a.clone())),
        }
    }
}

/// `+01:00`, `+0100`, `+1`, `-05` to seconds.
pub(super) fn parse_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || digits.len() > 4 {
        return None;
    }
    let (h, m) = if digits.len() <= 2 {
        (digits.parse::<i32>().ok()?, 0)
    } else {
        let split = digits.len() - 2;
        (
            digits[..split].parse::<i32>().ok()?,
            digits[split..].parse::<i32>().ok()?,
        )
    };
    Some(sign * (h * 3600 + m * 60))
}

pub(super) fn offset_colon(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
}

/// Reads `/usr/share/zoneinfo/<name>` (TZif, the 64-bit block when there is one).
fn read_tzif(name: &str) -> Option<Zone> {
    if name.contains("..") || name.starts_with('/') || name.is_empty() {
        return None;
    }
    let bytes = std::fs::read(std::path::Path::new("/usr/share/zoneinfo").join(name)).ok()?;
    if bytes.len() > 1 << 20 || !bytes.starts_with(b"TZif") {
        return None;
    }
    let counts = |at: usize| -> Option<[usize; 6]> {
        let mut c = [0usize; 6];
        for (i, slot) in c.iter_mut().enumerate() {
            let b = bytes.get(at + 20 + i * 4..at + 24 + i * 4)?;
            *slot = u32::from_be_bytes(b.try_into().ok()?) as usize;
        }
        Some(c)
    };
    let v1 = counts(0)?;
    let block = |c: &[usize; 6], time_size: usize| {
        c[3] * time_size + c[3] + c[4] * 6 + c[5] + c[2] * (time_size + 4) + c[1] + c[0]
    };
    let (start, c, size) = if bytes[4] >= b'2' {
        let second = 44 + block(&v1, 4);
        (second + 44, counts(second)?, 8)
    } else {
        (44, v1, 4)
    };
    let [_, _, _, timecnt, typecnt, charcnt] = c;
    let times_end = start + timecnt * size;
    let idx_end = times_end + timecnt;
    let types_end = idx_end + typecnt * 6;
    let chars = bytes.get(types_end..types_end + charcnt)?;
    let ttype = |i: usize| -> Option<(i32, String)> {
        let t = bytes.get(idx_end + i * 6..idx_end + i * 6 + 6)?;
        let off = i32::from_be_bytes(t[..4].try_into().ok()?);
        let abbr_at = t[5] as usize;
        let abbr: String = chars
            .get(abbr_at..)?
            .iter()
            .take_while(|b| **b != 0)
            .map(|b| *b as char)
            .collect();
        Some((off, abbr))
    };
    let mut transitions = Vec::with_capacity(timecnt);
    for i in 0..timecnt {
        let raw = bytes.get(start + i * size..start + (i + 1) * size)?;
        let at = if size == 8 {
            i64::from_be_bytes(raw.try_into().ok()?)
        } else {
            i64::from(i32::from_be_bytes(raw.try_into().ok()?))
        };
        let (off, abbr) = ttype(*bytes.get(times_end + i)? as usize)?;
        transitions.push((at, off, abbr));
    }
    let fixed = ttype(0)?;
    Some(Zone {
        name: name.to_owned(),
        transitions,
        fixed,
    })
}
