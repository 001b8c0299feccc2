//! `minValue[x]` and `maxValue[x]`: "The minimum allowed value for the element. The
//! value is inclusive" (ElementDefinition.minValue[x]). Numbers, dates and times,
//! Quantities (compared across UCUM units), and a Duration on a date or time: a bound
//! relative to now (`minValueDuration` 100 a: not more than 100 years ago).

use std::cmp::Ordering;

use super::walk::Walker;
use super::Plan;
use crate::fhirpath::{Decimal, Quantity, TKind, Temporal};
use crate::model::{Kind, Node};
use crate::outcome::{IssueCode, Severity};

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Min,
    Max,
}

impl Walker<'_> {
    pub(crate) fn bounds(&mut self, plan: &Plan, el: usize, node: &Node, path: &str, code: &str) {
        let def = plan.def(el);
        let members = def.node.members();
        if !members
            .iter()
            .any(|(k, _)| k.starts_with("minValue") || k.starts_with("maxValue"))
        {
            return;
        }
        let mut found = Vec::new();
        for (key, bound) in members {
            let side = if key.starts_with("minValue") {
                Side::Min
            } else if key.starts_with("maxValue") {
                Side::Max
            } else {
                continue;
            };
            let kind = &key[8..];
            let Some(order) = compare(node, code, kind, bound, side) else {
                continue;
            };
            let broken = match side {
                Side::Min => order == Ordering::Less,
                Side::Max => order == Ordering::Greater,
            };
            if broken {
                let (word, rel) = match side {
                    Side::Min => ("minimum", "less than"),
                    Side::Max => ("maximum", "greater than"),
                };
                let shown = show(bound, kind, side);
                found.push(format!("the value is {rel} the {word} {shown} ({key})"));
            }
        }
        let id = def.id.as_str();
        for message in found {
            self.issue(
                Severity::Error,
                IssueCode::Value,
                message,
                node,
                path,
                Some(id),
            );
        }
    }
}

/// How `value` (of type `code`) compares with the bound `min/maxValue<kind>`;
/// `None` when they cannot be compared (other types, partial dates).
fn compare(value: &Node, code: &str, kind: &str, bound: &Node, side: Side) -> Option<Ordering> {
    match (&value.kind, kind) {
        (Kind::Number(n), _) => {
            let v = Decimal::parse(n)?;
            let b = match &bound.kind {
                Kind::Number(b) | Kind::String(b) => Decimal::parse(b)?,
                _ => return None,
            };
            v.checked_cmp(&b)
        }
        (Kind::String(s), "Duration") => {
            let t = temporal(s, code)?;
            let (amount, unit) = calendar(bound)?;
            let now = Temporal::now();
            let limit = match side {
                Side::Min => now.add(-amount, unit)?,
                Side::Max => now.add(amount, unit)?,
            };
            let limit = limit.with_prec(t.prec, t.kind);
            t.compare(&limit)
        }
        (Kind::String(s), "Date" | "DateTime" | "Instant" | "Time") => {
            let t = temporal(s, code)?;
            let b = temporal(bound.as_str()?, &kind.to_ascii_lowercase())?;
            t.compare(&b)
        }
        (Kind::Object(_), "Quantity") => quantity(value)?.compare(&quantity(bound)?),
        _ => None,
    }
}

fn temporal(text: &str, code: &str) -> Option<Temporal> {
    let kind = match code {
        "date" => TKind::Date,
        "time" => TKind::Time,
        "datetime" | "dateTime" | "instant" => TKind::DateTime,
        _ => return None,
    };
    Temporal::parse(text, kind).or_else(|| Temporal::parse(text, TKind::Date))
}

/// A Duration as a whole number of a calendar unit (`100 a` is 100 years).
fn calendar(bound: &Node) -> Option<(i64, &'static str)> {
    let value = match &bound.get("value")?.kind {
        Kind::Number(n) => n.parse::<f64>().ok()?,
        _ => return None,
    };
    let code = bound
        .get("code")
        .or_else(|| bound.get("unit"))
        .and_then(Node::as_str)?;
    let unit = match code {
        "a" | "year" | "years" => "year",
        "mo" | "month" | "months" => "month",
        "wk" | "week" | "weeks" => "week",
        "d" | "day" | "days" => "day",
        "h" | "hour" | "hours" => "hour",
        "min" | "minute" | "minutes" => "minute",
        "s" | "second" | "seconds" => "second",
        "ms" | "millisecond" | "milliseconds" => "millisecond",
        _ => return None,
    };
    (value.fract() == 0.0 && value.abs() < 1e12).then_some((value as i64, unit))
}

fn quantity(node: &Node) -> Option<Quantity> {
    let value = match &node.get("value")?.kind {
        Kind::Number(n) => Decimal::parse(n)?,
        _ => return None,
    };
    let unit = node
        .get("code")
        .or_else(|| node.get("unit"))
        .and_then(Node::as_str)
        .unwrap_or("1");
    Some(Quantity::new(value, unit))
}

fn show(bound: &Node, kind: &str, side: Side) -> String {
    match &bound.kind {
        Kind::Number(n) | Kind::String(n) => n.to_string(),
        Kind::Object(_) => {
            let value = bound
                .get("value")
                .map(|v| match &v.kind {
                    Kind::Number(n) => n.to_string(),
                    _ => String::new(),
                })
                .unwrap_or_default();
            let unit = bound
                .get("code")
                .or_else(|| bound.get("unit"))
                .and_then(Node::as_str)
                .unwrap_or_default();
            match (kind, side) {
                ("Duration", Side::Min) => format!("{value} {unit} before now"),
                ("Duration", Side::Max) => format!("{value} {unit} after now"),
                _ => format!("{value} {unit}"),
            }
        }
        _ => String::new(),
    }
}
