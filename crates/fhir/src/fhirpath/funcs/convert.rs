//! Conversion functions (`toX`/`convertsToX`), boundaries and precision, and date
//! arithmetic with calendar durations.

use super::{boolean, opt, Call, R};
use crate::fhirpath::decimal::Decimal;
use crate::fhirpath::quantity::{calendar_word, is_valid_ucum, Quantity};
use crate::fhirpath::temporal::{TKind, Temporal, DAY, HOUR, MILLI};
use crate::fhirpath::value::{Collection, Value};

/// `date/time + quantity`: calendar units, and the UCUM units that mean the same.
pub fn add_duration(t: &Temporal, q: &Quantity, subtract: bool) -> Result<Temporal, String> {
    let unit = match q.unit.as_str() {
        "wk" => "week",
        "d" => "day",
        "h" => "hour",
        "min" => "minute",
        "s" => "second",
        "ms" => "millisecond",
        u if q.is_calendar() => u,
        u => {
            return Err(format!(
                "cannot add '{u}' to a date: use a calendar duration"
            ))
        }
    };
    let amount = q
        .value
        .truncate(0)
        .to_i64_exact()
        .ok_or("duration out of range")?;
    let amount = if subtract { -amount } else { amount };
    // Units finer than the value's precision are applied whole, then cut back.
    let prec = t.prec;
    let (amount, unit) = match (unit, t.kind) {
        ("hour" | "minute" | "second" | "millisecond", TKind::Date) => {
            let days = match unit {
                "hour" => amount / 24,
                "minute" => amount / 1440,
                "second" => amount / 86_400,
                _ => amount / 86_400_000,
            };
            (days, "day")
        }
        _ => (amount, unit),
    };
    let mut full = *t;
    if full.prec < DAY && matches!(unit, "week" | "day") {
        return Err("cannot add days to a date without a day".into());
    }
    full.prec = full.prec.max(1);
    let r = full
        .add(amount, unit)
        .ok_or("date arithmetic out of range")?;
    Ok(Temporal { prec, ..r })
}

fn to_boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Boolean(b) => Some(*b),
        Value::Integer(1) => Some(true),
        Value::Integer(0) => Some(false),
        Value::Decimal(d) if *d == Decimal::from_int(1) => Some(true),
        Value::Decimal(d) if d.is_zero() => Some(false),
        Value::String(s) => match s.to_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "1" | "1.0" => Some(true),
            "false" | "f" | "no" | "n" | "0" | "0.0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn to_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(*i),
        Value::Boolean(b) => Some(*b as i64),
        Value::String(s) => {
            let body = s.strip_prefix(['+', '-']).unwrap_or(s);
            if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        }
        _ => None,
    }
}

fn to_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Decimal(d) => Some(*d),
        Value::Integer(i) => Some(Decimal::from_int(*i)),
        Value::Boolean(b) => Some(Decimal::from_int(*b as i64)),
        Value::String(s) if !s.contains(['e', 'E']) => Decimal::parse(s),
        _ => None,
    }
}

/// `'1 day'`, `'5.5 \'mg\''`, `'4'`: the string forms a quantity may take.
pub fn parse_quantity(s: &str) -> Option<Quantity> {
    let s = s.trim();
    let (num, rest) = match s.find(' ') {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    };
    let value = Decimal::parse(num)?;
    if rest.is_empty() {
        return Some(Quantity::new(value, "1"));
    }
    if let Some(u) = rest.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return is_valid_ucum(u).then(|| Quantity::new(value, u));
    }
    calendar_word(rest).map(|c| Quantity::new(value, c))
}

fn to_quantity(v: &Value) -> Option<Quantity> {
    match v {
        Value::Quantity(q) => Some(q.clone()),
        Value::Integer(_) | Value::Decimal(_) => Some(Quantity::new(super::as_dec(v), "1")),
        Value::Boolean(b) => Some(Quantity::new(Decimal::from_int(*b as i64), "1")),
        Value::String(s) => parse_quantity(s),
        _ => None,
    }
}

fn to_temporal(v: &Value, kind: TKind) -> Option<Temporal> {
    match v {
        Value::Temporal(t) => match (t.kind, kind) {
            (a, b) if a == b => Some(*t),
            (TKind::DateTime, TKind::Date) => Some(t.with_prec(t.prec.min(DAY), TKind::Date)),
            (TKind::Date, TKind::DateTime) => Some(Temporal { kind, ..*t }),
            _ => None,
        },
        Value::String(s) => Temporal::parse(s, kind),
        _ => None,
    }
}

fn to_string(v: &Value) -> Option<String> {
    Some(v.to_text())
}

pub fn call<'a>(c: &Call<'_, 'a>) -> R<Option<Collection<'a>>> {
    let conv: fn(&Value) -> Option<Value> = match c.name {
        "toBoolean" | "convertsToBoolean" => |v| to_boolean(v).map(Value::Boolean),
        "toInteger" | "convertsToInteger" | "toLong" | "convertsToLong" => {
            |v| to_integer(v).map(Value::Integer)
        }
        "toDecimal" | "convertsToDecimal" => |v| to_decimal(v).map(Value::Decimal),
        "toString" | "convertsToString" => |v| to_string(v).map(Value::String),
        "toDate" | "convertsToDate" => |v| to_temporal(v, TKind::Date).map(Value::Temporal),
        "toDateTime" | "convertsToDateTime" => {
            |v| to_temporal(v, TKind::DateTime).map(Value::Temporal)
        }
        "toTime" | "convertsToTime" => |v| to_temporal(v, TKind::Time).map(Value::Temporal),
        "toQuantity" | "convertsToQuantity" => |v| to_quantity(v).map(Value::Quantity),
        "lowBoundary" | "highBoundary" => return boundary(c).map(Some),
        "precision" => {
            return match c.input_value()? {
                None => Ok(Some(vec![])),
                Some(Value::Decimal(d)) => opt(Some(Value::Integer(d.scale() as i64))).map(Some),
                Some(Value::Temporal(t)) => opt(Some(Value::Integer(t.digits() as i64))).map(Some),
                Some(v) => Err(c.err(format!("precision() does not apply to {}", v.type_name()))),
            }
        }
        "comparable" => {
            let (Some(Value::Quantity(a)), Some(Value::Quantity(b))) =
                (c.input_value()?, c.arg_value(0)?)
            else {
                return Ok(Some(vec![]));
            };
            return boolean(a.comparable(&b)).map(Some);
        }
        _ => return Ok(None),
    };
    // An element without a System value (a HumanName, say) converts to nothing.
    let v = match c.ev.singleton(&c.input, c.pos)? {
        None => return Ok(Some(vec![])),
        Some(item) => item.to_value(),
    };
    let Some(v) = v else {
        let converts = c.name.starts_with("convertsTo");
        return Ok(Some(if converts { boolean(false)? } else { vec![] }));
    };
    let mut out = conv(&v);
    if let (Some(Value::Quantity(q)), true) = (&out, c.name.ends_with("Quantity")) {
        if let Some(unit) = c.arg_value(0)? {
            let Value::String(unit) = unit else {
                return Err(c.err("toQuantity() needs a unit string"));
            };
            out = q.convert(&unit).map(Value::Quantity);
        }
    }
    if c.name.starts_with("convertsTo") {
        return boolean(out.is_some()).map(Some);
    }
    opt(out).map(Some)
}

/// `lowBoundary`/`highBoundary`: the range a value of limited precision stands for.
fn boundary<'a>(c: &Call<'_, 'a>) -> R<Collection<'a>> {
    let high = c.name == "highBoundary";
    let prec = c.arg_int(0)?;
    let Some(v) = c.input_value()? else {
        return Ok(vec![]);
    };
    match v {
        Value::Integer(_) | Value::Decimal(_) => {
            let d = super::as_dec(&v);
            opt(decimal_boundary(&d, prec, high).map(Value::Decimal))
        }
        Value::Quantity(q) => opt(decimal_boundary(&q.value, prec, high)
            .map(|d| Value::Quantity(Quantity::new(d, q.unit.clone())))),
        Value::Temporal(t) => opt(temporal_boundary(&t, prec, high).map(Value::Temporal)),
        _ => Err(c.err(format!("{}() does not apply to {}", c.name, v.type_name()))),
    }
}

fn decimal_boundary(d: &Decimal, prec: Option<i64>, high: bool) -> Option<Decimal> {
    let p = prec.unwrap_or(8);
    if !(0..=28).contains(&p) {
        return None;
    }
    // Half a unit in the last given digit either side of the value.
    let half = Decimal::new(5, d.scale() + 1);
    let edge = if high ^ d.is_negative() {
        d.abs().checked_add(&half)?
    } else {
        d.abs().checked_sub(&half)?
    };
    let edge = if d.is_negative() { edge.neg() } else { edge };
    let p = p as u32;
    // A boundary finer than the precision asked for is zero at that precision (the
    // reference implementation's reading, which the suite encodes).
    if edge.abs().checked_cmp(&Decimal::new(1, p)) == Some(std::cmp::Ordering::Less) {
        return Some(if d.is_negative() && !high {
            Decimal::negative_zero(p)
        } else {
            Decimal::new(0, p)
        });
    }
    if edge.scale() <= p {
        return Some(edge.round(p));
    }
    // Cut toward the side of the range the boundary is on.
    let t = edge.truncate(p);
    let step = Decimal::new(1, p);
    Some(
        if high && t.checked_cmp(&edge) == Some(std::cmp::Ordering::Less) {
            t.checked_add(&step)?
        } else if !high && t.checked_cmp(&edge) == Some(std::cmp::Ordering::Greater) {
            t.checked_sub(&step)?
        } else {
            t
        },
    )
}

fn temporal_boundary(t: &Temporal, prec: Option<i64>, high: bool) -> Option<Temporal> {
    let digits = prec.unwrap_or(match t.kind {
        TKind::Time => 9,
        TKind::Date => 8,
        TKind::DateTime => 17,
    });
    let offset = if t.kind == TKind::Time { 8 } else { 0 };
    let target = match digits + offset {
        4 => 1,
        6 => 2,
        8 => 3,
        10 => 4,
        12 => 5,
        14 => 6,
        17 => 7,
        _ => return None,
    };
    let mut r = *t;
    if high {
        if t.prec < 2 {
            r.month = 12;
        }
        if t.prec < 3 {
            r.day = crate::fhirpath::temporal::days_in_month(r.year, r.month);
        }
        if t.prec < 4 {
            r.hour = 23;
        }
        if t.prec < 5 {
            r.minute = 59;
        }
        if t.prec < 6 {
            r.second = 59;
        }
        if t.prec < 7 {
            r.milli = 999;
        }
    }
    if target >= HOUR && r.tz.is_none() && t.kind == TKind::DateTime {
        r.tz = Some(if high { -12 * 60 } else { 14 * 60 });
    }
    r.prec = target.min(MILLI);
    if r.prec < HOUR {
        r.tz = None;
    }
    Some(r)
}
