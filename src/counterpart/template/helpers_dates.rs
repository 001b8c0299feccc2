//! WireMock's date helpers: `now`, `date`, `parseDate`, `truncateDate`, with Java
//! date patterns, offsets and time zones.

use handlebars::Handlebars;
use serde_json::{json, Value};

use super::super::dates::{self, Moment, Zone};
use super::helpers::{display, register_all, Call};

pub(super) fn register(h: &mut Handlebars<'static>) {
    register_all(
        h,
        &[
            ("now", now),
            ("date", date),
            ("parseDate", parse_date),
            ("truncateDate", truncate_date),
        ],
    );
}

/// Dates travel between helpers as ISO 8601 text.
fn moment_out(c: &Call, instant: chrono::DateTime<chrono::Utc>) -> Result<Value, String> {
    let zone = match c.opt_text("timezone") {
        Some(z) => Zone::named(&z).ok_or_else(|| format!("Unknown time zone: {z}"))?,
        None => Zone::utc(),
    };
    let m = Moment { instant, zone };
    Ok(match c.opt_text("format").as_deref() {
        None => Value::String(m.iso()),
        Some("epoch") => json!(instant.timestamp_millis()),
        Some("unix") => json!(instant.timestamp()),
        Some(f) => Value::String(
            dates::format_java(&m, f)
                .map_err(|e| format!("fatal: java.lang.IllegalArgumentException: {e}"))?,
        ),
    })
}

fn now(c: &mut Call) -> Result<Value, String> {
    let mut at = chrono::Utc::now();
    if let Some(off) = c.opt_text("offset") {
        at = dates::apply_offset(at, &off)?;
    }
    moment_out(c, at)
}

fn as_instant(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    match v {
        Value::String(s) => dates::parse_any(s),
        Value::Number(n) => n
            .as_i64()
            .and_then(chrono::DateTime::<chrono::Utc>::from_timestamp_millis),
        _ => None,
    }
}

fn date(c: &mut Call) -> Result<Value, String> {
    let v = c.param(0).cloned().unwrap_or(Value::Null);
    let mut at = as_instant(&v).ok_or_else(|| format!("{} is not a date", display(&v)))?;
    if let Some(off) = c.opt_text("offset") {
        at = dates::apply_offset(at, &off)?;
    }
    moment_out(c, at)
}

fn parse_date(c: &mut Call) -> Result<Value, String> {
    let text = c.text(0).unwrap_or_default();
    let at = match c.opt_text("format").as_deref() {
        Some("epoch") => text
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(chrono::DateTime::from_timestamp_millis),
        Some("unix") => text
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0)),
        Some(f) => dates::parse_java(text.trim(), f),
        None => dates::parse_any(&text),
    };
    let at = at.ok_or_else(|| format!("Unparseable date: \"{text}\""))?;
    Ok(Value::String(
        Moment {
            instant: at,
            zone: Zone::utc(),
        }
        .iso(),
    ))
}

fn truncate_date(c: &mut Call) -> Result<Value, String> {
    let v = c.param(0).cloned().unwrap_or(Value::Null);
    let at = as_instant(&v).ok_or_else(|| format!("{} is not a date", display(&v)))?;
    let how = c.text(1).unwrap_or_default();
    let t = dates::truncate(at, &how)?;
    Ok(Value::String(
        Moment {
            instant: t,
            zone: Zone::utc(),
        }
        .iso(),
    ))
}
