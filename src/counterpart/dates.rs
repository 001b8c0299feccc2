//! Dates as WireMock handles them: Java date patterns (`E, d MMM y HH:mm:ss z`)
//! formatted and parsed, time zones by IANA name (read from the system's zoneinfo),
//! offsets like `3 days`, truncations like `first day of month`, and the date
//! matchers `before`, `after` and `equalToDateTime`.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, Timelike, Utc};

pub use super::zone::Zone;
use super::zone::{offset_colon, parse_offset};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// A moment with the zone it is shown in.
#[derive(Debug, Clone)]
pub struct Moment {
    pub instant: DateTime<Utc>,
    pub zone: Zone,
}

impl Moment {
    fn local(&self) -> (NaiveDateTime, i32, String) {
        let (off, abbr) = self.zone.at(self.instant);
        let local = self.instant.naive_utc() + Duration::seconds(i64::from(off));
        (local, off, abbr)
    }

    /// WireMock's default rendering: ISO 8601 to the second.
    pub fn iso(&self) -> String {
        let (local, off, _) = self.local();
        let zone = if off == 0 {
            "Z".to_owned()
        } else {
            offset_colon(off)
        };
        format!("{}{zone}", local.format("%Y-%m-%dT%H:%M:%S"))
    }
}

enum Token {
    Letter(char, usize),
    Literal(String),
}

fn tokens(pattern: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut lit = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated quote in the date pattern".into()),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        lit.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        lit.push(*ch);
                        i += 1;
                    }
                }
            }
            if lit.is_empty() {
                lit.push('\'');
            }
            out.push(Token::Literal(lit));
        } else if c.is_ascii_alphabetic() {
            if !"GyYuMLdDEeaHkKhmsSzZXxwWF".contains(c) {
                return Err(format!("Illegal pattern character '{c}'"));
            }
            let mut n = 1;
            while chars.get(i + n) == Some(&c) {
                n += 1;
            }
            out.push(Token::Letter(c, n));
            i += n;
        } else {
            out.push(Token::Literal(c.to_string()));
            i += 1;
        }
    }
    Ok(out)
}

fn pad(n: i64, width: usize) -> String {
    if n < 0 {
        format!("-{:0width$}", -n, width = width)
    } else {
        format!("{n:0width$}")
    }
}

/// Formats with a Java `SimpleDateFormat` pattern; `Err` names an illegal letter.
pub fn format_java(m: &Moment, pattern: &str) -> Result<String, String> {
    let (t, off, abbr) = m.local();
    let mut out = String::new();
    for token in tokens(pattern)? {
        let (c, n) = match token {
            Token::Literal(s) => {
                out.push_str(&s);
                continue;
            }
            Token::Letter(c, n) => (c, n),
        };
        let hour12 = |h: u32| if h.is_multiple_of(12) { 12 } else { h % 12 };
        let text = match c {
            'G' => "AD".to_owned(),
            'y' | 'Y' | 'u' if n == 2 => pad(i64::from(t.year() % 100), 2),
            'y' | 'Y' | 'u' => pad(i64::from(t.year()), n),
            'M' | 'L' if n >= 4 => MONTHS[t.month0() as usize].to_owned(),
            'M' | 'L' if n == 3 => MONTHS[t.month0() as usize][..3].to_owned(),
            'M' | 'L' => pad(i64::from(t.month()), n),
            'd' => pad(i64::from(t.day()), n),
            'D' => pad(i64::from(t.ordinal()), n),
            'E' | 'e' if n >= 4 => DAYS[t.weekday().num_days_from_monday() as usize].to_owned(),
            'E' | 'e' => DAYS[t.weekday().num_days_from_monday() as usize][..3].to_owned(),
            'a' => if t.hour() < 12 { "AM" } else { "PM" }.to_owned(),
            'H' => pad(i64::from(t.hour()), n),
            'k' => pad(i64::from(if t.hour() == 0 { 24 } else { t.hour() }), n),
            'K' => pad(i64::from(t.hour() % 12), n),
            'h' => pad(i64::from(hour12(t.hour())), n),
            'm' => pad(i64::from(t.minute()), n),
            's' => pad(i64::from(t.second()), n),
            'S' => pad(i64::from(t.and_utc().timestamp_subsec_millis()), n),
            'w' => pad(i64::from(t.iso_week().week()), n),
            'W' => pad(i64::from(t.day().div_ceil(7)), n),
            'F' => pad(i64::from((t.day() - 1) / 7 + 1), n),
            'z' => abbr.clone(),
            'Z' => offset_colon(off).replace(':', ""),
            'X' if off == 0 => "Z".to_owned(),
            'X' | 'x' => {
                let full = offset_colon(off);
                match n {
                    1 if off % 3600 == 0 => full[..3].to_owned(),
                    1 | 2 => full.replace(':', ""),
                    _ => full,
                }
            }
            _ => return Err(format!("Illegal pattern character '{c}'")),
        };
        out.push_str(&text);
    }
    Ok(out)
}

/// Parses with a Java date pattern (numbers, month and day names, zones).
pub fn parse_java(text: &str, pattern: &str) -> Option<DateTime<Utc>> {
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut ms) = (1970, 1, 1, 0, 0, 0, 0);
    let mut off: i32 = 0;
    let mut pm: Option<bool> = None;
    let mut rest = text;
    let toks = tokens(pattern).ok()?;
    for (i, token) in toks.iter().enumerate() {
        match token {
            Token::Literal(l) => rest = rest.strip_prefix(l.as_str())?,
            Token::Letter(c, n) => {
                let next_is_letter = matches!(toks.get(i + 1), Some(Token::Letter(..)));
                let take_digits = |rest: &str, max: usize| -> Option<(i64, usize)> {
                    let mut len = rest
                        .char_indices()
                        .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '-'))
                        .count();
                    if next_is_letter || max > 0 {
                        len = len.min(max.max(1));
                    }
                    Some((rest[..len].parse().ok()?, len))
                };
                match c {
                    'M' | 'L' if *n >= 3 => {
                        let idx = MONTHS.iter().position(|m| {
                            rest.to_lowercase().starts_with(&m[..3].to_lowercase())
                        })?;
                        let full = MONTHS[idx];
                        let len = if rest.to_lowercase().starts_with(&full.to_lowercase()) {
                            full.len()
                        } else {
                            3
                        };
                        mo = idx as u32 + 1;
                        rest = &rest[len..];
                    }
                    'E' | 'e' => {
                        let idx = DAYS.iter().position(|d| {
                            rest.to_lowercase().starts_with(&d[..3].to_lowercase())
                        })?;
                        let full = DAYS[idx];
                        let len = if rest.to_lowercase().starts_with(&full.to_lowercase()) {
                            full.len()
                        } else {
                            3
                        };
                        rest = &rest[len..];
                    }
                    'a' => {
                        pm = Some(rest.to_uppercase().starts_with("PM"));
                        rest = rest.get(2..)?;
                    }
                    'z' | 'Z' | 'X' | 'x' => {
                        let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
                        let word = &rest[..end];
                        off = if word == "Z" {
                            0
                        } else {
                            parse_offset(word).or_else(|| Zone::named(word).map(|z| z.fixed.0))?
                        };
                        rest = &rest[end..];
                    }
                    _ => {
                        let width = if next_is_letter { *n } else { 0 };
                        let (v, len) = take_digits(rest, width)?;
                        rest = &rest[len..];
                        match c {
                            'y' | 'Y' | 'u' if *n == 2 => y = 2000 + v as i32,
                            'y' | 'Y' | 'u' => y = v as i32,
                            'M' | 'L' => mo = v as u32,
                            'd' => d = v as u32,
                            'H' | 'k' => h = v as u32 % 24,
                            'h' | 'K' => h = v as u32 % 12,
                            'm' => mi = v as u32,
                            's' => s = v as u32,
                            'S' => ms = v as u32,
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    if !rest.is_empty() {
        return None;
    }
    if pm == Some(true) {
        h = h % 12 + 12;
    }
    let naive = NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_milli_opt(h, mi, s, ms)?;
    Some((naive - Duration::seconds(i64::from(off))).and_utc())
}

/// ISO 8601 (zoned, local or date only, local read as UTC), RFC 1123, RFC 1036 and
/// asctime, as WireMock's `parseDate` and date matchers try them.
pub fn parse_any(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return Some(n.and_utc());
        }
    }
    if let Ok(d) = DateTime::<FixedOffset>::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|n| n.and_utc());
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(t) {
        return Some(d.with_timezone(&Utc));
    }
    [
        "EEEE, dd-MMM-yy HH:mm:ss zzz",
        "EEE MMM d HH:mm:ss yyyy",
        "EEE, dd MMM yyyy HH:mm:ss zzz",
    ]
    .iter()
    .find_map(|p| parse_java(t, p))
}

/// `3 days`, `-24 seconds`, `1 years`: applied to a moment.
pub fn apply_offset(instant: DateTime<Utc>, offset: &str) -> Result<DateTime<Utc>, String> {
    let mut words = offset.split_whitespace();
    let (Some(n), Some(unit), None) = (words.next(), words.next(), words.next()) else {
        return Err(format!("bad offset `{offset}`: expected like `3 days`"));
    };
    let n: i64 = n
        .trim_start_matches('+')
        .parse()
        .map_err(|_| format!("bad offset amount `{n}`"))?;
    shift(instant, n, unit)
}

fn shift(instant: DateTime<Utc>, n: i64, unit: &str) -> Result<DateTime<Utc>, String> {
    let unit = unit.to_lowercase();
    let unit = unit.trim_end_matches('s');
    let months = |m: i64| -> Result<DateTime<Utc>, String> {
        let m32 = u32::try_from(m.unsigned_abs()).map_err(|_| "offset too large".to_owned())?;
        let shifted = if m >= 0 {
            instant.checked_add_months(chrono::Months::new(m32))
        } else {
            instant.checked_sub_months(chrono::Months::new(m32))
        };
        shifted.ok_or_else(|| "offset out of range".to_owned())
    };
    let d = match unit {
        "milli" | "millisecond" => Duration::try_milliseconds(n),
        "second" => Duration::try_seconds(n),
        "minute" => Duration::try_minutes(n),
        "hour" => Duration::try_hours(n),
        "day" => Duration::try_days(n),
        "week" => Duration::try_weeks(n),
        "month" => return months(n),
        "year" => return months(n.saturating_mul(12)),
        _ => return Err(format!("unknown offset unit `{unit}`")),
    };
    d.and_then(|d| instant.checked_add_signed(d))
        .ok_or_else(|| "offset out of range".to_owned())
}

/// WireMock's truncations: `first day of month`, `last day of year`, ...
pub fn truncate(instant: DateTime<Utc>, how: &str) -> Result<DateTime<Utc>, String> {
    let n = instant.naive_utc();
    let day = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|x| x.and_utc());
    let ymd = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d);
    let next_month = |y: i32, m: u32| if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let out = match how.trim().to_lowercase().as_str() {
        "first minute of hour" => n.date().and_hms_opt(n.hour(), 0, 0).map(|x| x.and_utc()),
        "first hour of day" => day(n.date()),
        "first day of month" => ymd(n.year(), n.month(), 1).and_then(day),
        "first day of next month" => {
            let (y, m) = next_month(n.year(), n.month());
            ymd(y, m, 1).and_then(day)
        }
        "last day of month" => {
            let (y, m) = next_month(n.year(), n.month());
            ymd(y, m, 1).and_then(|d| d.pred_opt()).and_then(day)
        }
        "first day of year" => ymd(n.year(), 1, 1).and_then(day),
        "first day of next year" => ymd(n.year() + 1, 1, 1).and_then(day),
        "last day of year" => ymd(n.year(), 12, 31).and_then(day),
        other => return Err(format!("unknown truncation `{other}`")),
    };
    out.ok_or_else(|| "date out of range".into())
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DateOp {
    Before,
    After,
    EqualTo,
}

/// `before`, `after`, `equalToDateTime`.
#[derive(Debug, Clone)]
pub struct DatePattern {
    pub op: DateOp,
    /// The expected value as written: a date-time, or `now` with an optional offset.
    pub expected: String,
    pub expected_offset: Option<(i64, String)>,
    pub actual_format: Option<String>,
    pub truncate_expected: Option<String>,
    pub truncate_actual: Option<String>,
}

impl DatePattern {
    pub fn operator(&self) -> &'static str {
        match self.op {
            DateOp::Before => "before",
            DateOp::After => "after",
            DateOp::EqualTo => "equalToDateTime",
        }
    }

    pub fn expected_text(&self) -> String {
        self.expected.clone()
    }

    /// Checked at load time.
    pub fn check(&self) -> Result<(), String> {
        self.expected_at(Utc::now()).map(|_| ())?;
        if let Some(t) = &self.truncate_actual {
            truncate(Utc::now(), t)?;
        }
        if let Some(f) = &self.actual_format {
            tokens(f)?;
        }
        Ok(())
    }

    fn expected_at(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
        let e = self.expected.trim();
        let mut at = if let Some(rest) = e.strip_prefix("now") {
            let rest = rest.trim();
            if rest.is_empty() {
                now
            } else {
                apply_offset(now, rest)?
            }
        } else {
            parse_any(e).ok_or_else(|| format!("`{e}` is not a date-time"))?
        };
        if let Some((n, unit)) = &self.expected_offset {
            at = shift(at, *n, unit)?;
        }
        if let Some(t) = &self.truncate_expected {
            at = truncate(at, t)?;
        }
        Ok(at)
    }

    pub fn matches(&self, actual: &str) -> bool {
        let parsed = match &self.actual_format {
            Some(f) => parse_java(actual.trim(), f),
            None => parse_any(actual),
        };
        let Some(mut actual) = parsed else {
            return false;
        };
        if let Some(t) = &self.truncate_actual {
            match truncate(actual, t) {
                Ok(a) => actual = a,
                Err(_) => return false,
            }
        }
        let Ok(expected) = self.expected_at(Utc::now()) else {
            return false;
        };
        match self.op {
            DateOp::Before => actual < expected,
            DateOp::After => actual > expected,
            DateOp::EqualTo => actual == expected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Moment {
        Moment {
            instant: DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc),
            zone: Zone::utc(),
        }
    }

    #[test]
    fn java_patterns_format_like_wiremock() {
        let m = at("2026-12-07T00:24:53.750Z");
        assert_eq!(
            format_java(&m, "E, d MMM y HH:mm:ss z").unwrap(),
            "Mon, 7 Dec 2026 00:24:53 UTC"
        );
        assert_eq!(
            format_java(&m, "EEE, dd MMM yyyy HH:mm:ss 'GMT'").unwrap(),
            "Mon, 07 Dec 2026 00:24:53 GMT"
        );
        assert_eq!(
            format_java(&m, "yyyy-MM-dd'T'HH:mm:ss.SSSXXX").unwrap(),
            "2026-12-07T00:24:53.750Z"
        );
        assert!(format_java(&m, "rfc1123").unwrap_err().contains("'r'"));
        assert_eq!(m.iso(), "2026-12-07T00:24:53Z");
    }

    #[test]
    fn zones_by_name_and_offset() {
        let m = Moment {
            zone: Zone::named("Australia/Sydney").unwrap(),
            ..at("2026-12-07T00:27:11Z")
        };
        assert_eq!(
            format_java(&m, "yyyy-MM-dd HH:mm:ssZ").unwrap(),
            "2026-12-07 11:27:11+1100"
        );
        assert_eq!(format_java(&m, "z").unwrap(), "AEDT");
        let fixed = Moment {
            zone: Zone::named("+02:00").unwrap(),
            ..at("2026-12-07T00:27:11Z")
        };
        assert_eq!(fixed.iso(), "2026-12-07T02:27:11+02:00");
        assert!(Zone::named("Nowhere/Else").is_none());
        assert!(Zone::named("../../etc/passwd").is_none());
    }

    #[test]
    fn parsing_offsets_and_truncation() {
        let d = parse_java("15/06/2021", "dd/MM/yyyy").unwrap();
        assert_eq!(d.to_rfc3339(), "2021-06-15T00:00:00+00:00");
        let r = parse_any("Tue, 15 Jun 2021 15:16:17 GMT").unwrap();
        assert_eq!(r.to_rfc3339(), "2021-06-15T15:16:17+00:00");
        assert_eq!(
            truncate(r, "first day of month").unwrap().to_rfc3339(),
            "2021-06-01T00:00:00+00:00"
        );
        assert_eq!(
            truncate(r, "last day of month").unwrap().to_rfc3339(),
            "2021-06-30T00:00:00+00:00"
        );
        assert_eq!(
            apply_offset(r, "3 days").unwrap().to_rfc3339(),
            "2021-06-18T15:16:17+00:00"
        );
        assert_eq!(
            apply_offset(r, "-1 years").unwrap().to_rfc3339(),
            "2020-06-15T15:16:17+00:00"
        );
        assert!(apply_offset(r, "3 fortnights").is_err());
    }

    #[test]
    fn date_matchers() {
        let before = DatePattern {
            op: DateOp::Before,
            expected: "2021-06-01T00:00:00Z".into(),
            expected_offset: None,
            actual_format: None,
            truncate_expected: None,
            truncate_actual: None,
        };
        assert!(before.matches("2021-05-31T23:59:59Z"));
        assert!(!before.matches("2021-06-01T00:00:01Z"));
        assert!(!before.matches("not a date"));
        let after_now = DatePattern {
            op: DateOp::After,
            expected: "now -1 days".into(),
            ..before.clone()
        };
        assert!(after_now.matches(&Utc::now().to_rfc3339()));
        let formatted = DatePattern {
            op: DateOp::EqualTo,
            expected: "2021-06-15T00:00:00Z".into(),
            actual_format: Some("dd/MM/yyyy".into()),
            ..before
        };
        assert!(formatted.matches("15/06/2021"));
        assert!(!formatted.matches("16/06/2021"));
    }
}
