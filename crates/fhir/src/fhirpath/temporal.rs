//! Partial dates, date-times and times with their precision, as FHIRPath compares them.

use std::cmp::Ordering;
use std::fmt;

/// Which of the three temporal System types a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TKind {
    Date,
    DateTime,
    Time,
}

/// Precision steps: year(1) month(2) day(3) hour(4) minute(5) second(6) millisecond(7).
pub const YEAR: u8 = 1;
pub const DAY: u8 = 3;
pub const HOUR: u8 = 4;
pub const SECOND: u8 = 6;
pub const MILLI: u8 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Temporal {
    pub kind: TKind,
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub milli: u16,
    pub prec: u8,
    /// Offset from UTC in minutes, when the value carries one.
    pub tz: Option<i16>,
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date.
fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = if m <= 2 { y as i64 - 1 } else { y as i64 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

impl Temporal {
    fn empty(kind: TKind) -> Temporal {
        Temporal {
            kind,
            year: 0,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            milli: 0,
            prec: 0,
            tz: None,
        }
    }

    /// Parses `YYYY(-MM(-DD)?)?` for a date, that with `T...` for a date-time (a bare
    /// trailing `T` allowed, as in literals), or `hh(:mm(:ss(.fff)?)?)?` for a time.
    pub fn parse(text: &str, kind: TKind) -> Option<Temporal> {
        let mut t = Temporal::empty(kind);
        let rest = match kind {
            TKind::Time => {
                let rest = t.parse_time(text)?;
                return rest.is_empty().then_some(t);
            }
            _ => text,
        };
        let (date, time) = match rest.split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (rest, None),
        };
        if kind == TKind::Date && time.is_some() {
            return None;
        }
        let mut parts = date.split('-');
        let y = parts.next()?;
        if y.len() != 4 {
            return None;
        }
        t.year = num(y)? as i32;
        t.prec = YEAR;
        for (i, p) in parts.enumerate() {
            if p.len() != 2 || i > 1 {
                return None;
            }
            let v = num(p)? as u8;
            if i == 0 {
                if !(1..=12).contains(&v) {
                    return None;
                }
                t.month = v;
            } else {
                if v < 1 || v > days_in_month(t.year, t.month) {
                    return None;
                }
                t.day = v;
            }
            t.prec += 1;
        }
        if let Some(time) = time {
            if time.is_empty() {
                return Some(t);
            }
            if t.prec != DAY {
                return None;
            }
            let zone = t.parse_time(time)?;
            if !zone.is_empty() {
                t.tz = Some(parse_zone(zone)?);
            }
        }
        Some(t)
    }

    /// Reads a time-of-day into `self`, returning the unread rest (a zone, maybe).
    fn parse_time<'s>(&mut self, text: &'s str) -> Option<&'s str> {
        let end = text.find(['Z', '+', '-']).unwrap_or(text.len());
        let (body, rest) = text.split_at(end);
        let (hms, frac) = match body.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (body, None),
        };
        let fields: Vec<&str> = hms.split(':').collect();
        if fields.len() > 3 || fields.iter().any(|f| f.len() != 2) {
            return None;
        }
        let limits = [23, 59, 59];
        for (i, f) in fields.iter().enumerate() {
            let v = num(f)? as u8;
            if v > limits[i] {
                return None;
            }
            match i {
                0 => self.hour = v,
                1 => self.minute = v,
                _ => self.second = v,
            }
        }
        self.prec = HOUR + fields.len() as u8 - 1;
        if let Some(frac) = frac {
            if self.prec != SECOND || frac.is_empty() {
                return None;
            }
            let digits: String = frac.chars().chain("000".chars()).take(3).collect();
            self.milli = num(&digits)? as u16;
            num(frac)?;
            self.prec = MILLI;
        }
        Some(rest)
    }

    pub fn has_time(&self) -> bool {
        self.prec >= HOUR
    }

    /// Minutes since the epoch in UTC (or local when there is no zone).
    fn utc_minutes(&self) -> i64 {
        let days = days_from_civil(self.year, self.month, self.day);
        let mins = days * 1440 + self.hour as i64 * 60 + self.minute as i64;
        mins - self.tz.unwrap_or(0) as i64
    }

    /// Fields after moving to UTC when a zone is present and time is known.
    fn normalized(&self) -> Temporal {
        if self.tz.is_none() || !self.has_time() || self.kind == TKind::Time {
            return *self;
        }
        let mins = self.utc_minutes();
        let (y, m, d) = civil_from_days(mins.div_euclid(1440));
        let rem = mins.rem_euclid(1440);
        Temporal {
            year: y,
            month: m,
            day: d,
            hour: (rem / 60) as u8,
            minute: (rem % 60) as u8,
            tz: Some(0),
            ..*self
        }
    }

    /// Compares per FHIRPath: `None` when precision makes the answer unknown.
    pub fn compare(&self, other: &Temporal) -> Option<Ordering> {
        let time_kind = |k| k == TKind::Time;
        if time_kind(self.kind) != time_kind(other.kind) {
            return None;
        }
        if self.has_time() && other.has_time() && self.tz.is_some() != other.tz.is_some() {
            return None;
        }
        let (a, b) = (self.normalized(), other.normalized());
        let first = if self.kind == TKind::Time { HOUR } else { YEAR };
        // Seconds and milliseconds are one precision: compare them as one number.
        let cap = |p: u8| p.min(SECOND);
        let (pa, pb) = (cap(a.prec), cap(b.prec));
        for level in first..=pa.min(pb) {
            let ord = a.field(level).cmp(&b.field(level));
            if ord != Ordering::Equal {
                return Some(ord);
            }
        }
        (pa == pb).then_some(Ordering::Equal)
    }

    fn field(&self, level: u8) -> i64 {
        match level {
            1 => self.year as i64,
            2 => self.month as i64,
            3 => self.day as i64,
            4 => self.hour as i64,
            5 => self.minute as i64,
            _ => self.second as i64 * 1000 + self.milli as i64,
        }
    }

    /// Adds `amount` of a calendar unit (`year`..`millisecond`); `None` on overflow.
    pub fn add(&self, amount: i64, unit: &str) -> Option<Temporal> {
        let mut t = *self;
        match unit {
            "year" => t.year = i32::try_from(t.year as i64 + amount).ok()?,
            "month" => {
                let total = t.year as i64 * 12 + (t.month as i64 - 1) + amount;
                t.year = i32::try_from(total.div_euclid(12)).ok()?;
                t.month = (total.rem_euclid(12) + 1) as u8;
            }
            "week" => return self.add(amount.checked_mul(7)?, "day"),
            "day" => return self.add_millis(amount.checked_mul(86_400_000)?),
            "hour" => return self.add_millis(amount.checked_mul(3_600_000)?),
            "minute" => return self.add_millis(amount.checked_mul(60_000)?),
            "second" => return self.add_millis(amount.checked_mul(1000)?),
            "millisecond" => return self.add_millis(amount),
            _ => return None,
        }
        if !(1..=9999).contains(&t.year) {
            return None;
        }
        t.day = t.day.min(days_in_month(t.year, t.month));
        Some(t)
    }

    fn add_millis(&self, ms: i64) -> Option<Temporal> {
        let mut t = *self;
        let day_ms = 86_400_000i64;
        let tod = t.hour as i64 * 3_600_000
            + t.minute as i64 * 60_000
            + t.second as i64 * 1000
            + t.milli as i64;
        let total = tod.checked_add(ms)?;
        let (carry, tod) = (total.div_euclid(day_ms), total.rem_euclid(day_ms));
        t.hour = (tod / 3_600_000) as u8;
        t.minute = (tod / 60_000 % 60) as u8;
        t.second = (tod / 1000 % 60) as u8;
        t.milli = (tod % 1000) as u16;
        if t.kind != TKind::Time && carry != 0 {
            let days = days_from_civil(t.year, t.month, t.day).checked_add(carry)?;
            let (y, m, d) = civil_from_days(days);
            if !(1..=9999).contains(&y) {
                return None;
            }
            (t.year, t.month, t.day) = (y, m, d);
        }
        Some(t)
    }

    /// Digits of precision as `precision()` counts them (`@2014` is 4, `@T10:30` is 4).
    pub fn digits(&self) -> u32 {
        let date = [0, 4, 6, 8, 10, 12, 14, 17][self.prec as usize];
        match self.kind {
            TKind::Time => date - 8,
            _ => date,
        }
    }

    /// Today's date and the current instant in UTC, from the system clock.
    pub fn now() -> Temporal {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let (y, m, d) = civil_from_days(ms.div_euclid(86_400_000));
        let tod = ms.rem_euclid(86_400_000);
        Temporal {
            kind: TKind::DateTime,
            year: y,
            month: m,
            day: d,
            hour: (tod / 3_600_000) as u8,
            minute: (tod / 60_000 % 60) as u8,
            second: (tod / 1000 % 60) as u8,
            milli: (tod % 1000) as u16,
            prec: MILLI,
            tz: Some(0),
        }
    }

    /// Cuts to a coarser precision (used by `today()` and conversions).
    pub fn with_prec(&self, prec: u8, kind: TKind) -> Temporal {
        let mut t = Temporal { kind, ..*self };
        t.prec = prec.min(self.prec);
        if t.prec < HOUR {
            t.tz = None;
        }
        t
    }
}

fn parse_zone(z: &str) -> Option<i16> {
    if z == "Z" {
        return Some(0);
    }
    let sign = match z.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = z[1..].split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m) = (num(h)? as i16, num(m)? as i16);
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

impl fmt::Display for Temporal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind != TKind::Time {
            write!(f, "{:04}", self.year)?;
            if self.prec >= 2 {
                write!(f, "-{:02}", self.month)?;
            }
            if self.prec >= 3 {
                write!(f, "-{:02}", self.day)?;
            }
            if self.kind == TKind::Date || self.prec < HOUR {
                return Ok(());
            }
            f.write_str("T")?;
        }
        write!(f, "{:02}", self.hour)?;
        if self.prec >= 5 {
            write!(f, ":{:02}", self.minute)?;
        }
        if self.prec >= 6 {
            write!(f, ":{:02}", self.second)?;
        }
        if self.prec >= 7 {
            write!(f, ".{:03}", self.milli)?;
        }
        match self.tz {
            Some(0) => f.write_str("Z"),
            Some(m) => {
                let sign = if m < 0 { '-' } else { '+' };
                write!(f, "{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> Temporal {
        Temporal::parse(s, TKind::DateTime).unwrap()
    }

    #[test]
    fn parses_partial_values() {
        assert_eq!(Temporal::parse("2014-01", TKind::Date).unwrap().prec, 2);
        assert_eq!(dt("2014T").prec, 1);
        assert_eq!(dt("2014T").to_string(), "2014");
        assert_eq!(dt("2014-01-01T08:05+08:00").tz, Some(480));
        assert_eq!(dt("2015-02-04T14:34:28.123").milli, 123);
        assert!(Temporal::parse("2014-13", TKind::Date).is_none());
        assert!(Temporal::parse("2014-02-30", TKind::Date).is_none());
        assert!(Temporal::parse("2014-01-01T10", TKind::Date).is_none());
        assert!(Temporal::parse("25:00", TKind::Time).is_none());
        assert_eq!(
            dt("2014-01-01T08:05+08:00").to_string(),
            "2014-01-01T08:05+08:00"
        );
    }

    #[test]
    fn compares_with_precision_and_zones() {
        let a = dt("2012-04-15T15:00:00+02:00");
        let b = dt("2012-04-15T16:00:00+03:00");
        assert_eq!(a.compare(&b), Some(Ordering::Equal));
        assert_eq!(dt("2012-04-15").compare(&dt("2012-04-15T10:00:00")), None);
        assert_eq!(
            dt("2012-04-15T15:30:31").compare(&dt("2012-04-15T15:30:31.1")),
            Some(Ordering::Less)
        );
        assert_eq!(
            dt("2012-04-15T15:00:00Z").compare(&dt("2012-04-15T10:00:00")),
            None
        );
        assert_eq!(dt("2012").compare(&dt("2013-01")), Some(Ordering::Less));
    }

    #[test]
    fn calendar_arithmetic() {
        let d = Temporal::parse("1973-12-25", TKind::Date).unwrap();
        assert_eq!(d.add(1, "month").unwrap().to_string(), "1974-01-25");
        assert_eq!(d.add(7, "day").unwrap().to_string(), "1974-01-01");
        let leap = Temporal::parse("2012-02-29", TKind::Date).unwrap();
        assert_eq!(leap.add(1, "year").unwrap().to_string(), "2013-02-28");
        let t = dt("1973-12-25T00:00:00.000+10:00");
        assert_eq!(
            t.add(-1, "millisecond").unwrap().to_string(),
            "1973-12-24T23:59:59.999+10:00"
        );
        assert!(d.add(1, "fortnight").is_none());
    }
}
