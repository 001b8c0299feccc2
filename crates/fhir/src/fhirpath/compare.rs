//! Equality (`=`), equivalence (`~`) and ordering of items, with FHIRPath's rules for
//! precision, time zones and unit conversion.

use super::decimal::Decimal;
use super::temporal::{TKind, Temporal};
use super::value::{json_eq, Item, Value};
use std::cmp::Ordering;

/// A string read as a temporal value of the kind it is compared with.
fn coerce_temporal(s: &str, like: &Temporal) -> Option<Temporal> {
    let kind = match like.kind {
        TKind::Time => TKind::Time,
        _ if s.contains('T') => TKind::DateTime,
        _ => TKind::Date,
    };
    Temporal::parse(s, kind)
}

fn numeric(v: &Value) -> Option<Decimal> {
    match v {
        Value::Integer(i) => Some(Decimal::from_int(*i)),
        Value::Decimal(d) => Some(*d),
        _ => None,
    }
}

/// Orders two System values; `Ok(None)` when the answer is unknown (precision),
/// `Err` when the types cannot be compared.
pub fn order_values(a: &Value, b: &Value) -> Result<Option<Ordering>, String> {
    if let (Some(x), Some(y)) = (numeric(a), numeric(b)) {
        return Ok(x.checked_cmp(&y));
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => Ok(Some(x.cmp(y))),
        (Value::Temporal(x), Value::Temporal(y)) => {
            if (x.kind == TKind::Time) != (y.kind == TKind::Time) {
                return Err("cannot compare a time with a date".into());
            }
            Ok(x.compare(y))
        }
        (Value::Temporal(x), Value::String(s)) => match coerce_temporal(s, x) {
            Some(y) => Ok(x.compare(&y)),
            None => Err(format!("cannot compare a date with '{s}'")),
        },
        (Value::String(s), Value::Temporal(y)) => match coerce_temporal(s, y) {
            Some(x) => Ok(x.compare(y)),
            None => Err(format!("cannot compare '{s}' with a date")),
        },
        (Value::Quantity(x), Value::Quantity(y)) => Ok(x.compare(y)),
        (Value::Boolean(x), Value::Boolean(y)) => Ok(Some(x.cmp(y))),
        _ => Err(format!(
            "cannot compare {} with {}",
            a.type_name(),
            b.type_name()
        )),
    }
}

/// `=` on two items: `None` when the result is empty.
pub fn item_equals(a: &Item, b: &Item) -> Option<bool> {
    if let (Item::Node(x), Item::Node(y)) = (a, b) {
        if !x.is_primitive_value() || !y.is_primitive_value() {
            return Some(match (x.value, y.value) {
                (Some(p), Some(q)) => json_eq(p, q),
                _ => false,
            });
        }
    }
    let (Some(x), Some(y)) = (a.to_value(), b.to_value()) else {
        return Some(false);
    };
    value_equals(&x, &y)
}

pub fn value_equals(x: &Value, y: &Value) -> Option<bool> {
    match (x, y) {
        (Value::Quantity(p), Value::Quantity(q)) => p.compare(q).map(|o| o == Ordering::Equal),
        (Value::Boolean(p), Value::Boolean(q)) => Some(p == q),
        _ => match order_values(x, y) {
            Ok(Some(o)) => Some(o == Ordering::Equal),
            Ok(None) => None,
            Err(_) => Some(false),
        },
    }
}

fn normalize_ws(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `~` on two items.
pub fn item_equivalent(a: &Item, b: &Item) -> bool {
    if let (Item::Node(x), Item::Node(y)) = (a, b) {
        if !x.is_primitive_value() || !y.is_primitive_value() {
            return match (x.value, y.value) {
                (Some(p), Some(q)) => json_eq(p, q),
                _ => false,
            };
        }
    }
    let (Some(x), Some(y)) = (a.to_value(), b.to_value()) else {
        return false;
    };
    match (&x, &y) {
        (Value::String(p), Value::String(q)) => normalize_ws(p) == normalize_ws(q),
        (Value::Quantity(p), Value::Quantity(q)) => p.equivalent(q).unwrap_or(false),
        _ => {
            if let (Some(p), Some(q)) = (numeric(&x), numeric(&y)) {
                let s = p.scale().min(q.scale());
                return p.round(s) == q.round(s);
            }
            match order_values(&x, &y) {
                Ok(o) => o == Some(Ordering::Equal),
                Err(_) => false,
            }
        }
    }
}

/// `=` on collections: empty if either side is, order-sensitive otherwise.
pub fn collection_equals(a: &[Item], b: &[Item]) -> Option<bool> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    if a.len() != b.len() {
        return Some(false);
    }
    let mut unknown = false;
    for (x, y) in a.iter().zip(b) {
        match item_equals(x, y) {
            Some(false) => return Some(false),
            None => unknown = true,
            Some(true) => {}
        }
    }
    if unknown {
        None
    } else {
        Some(true)
    }
}

/// `~` on collections: order-insensitive, and two empties are equivalent.
pub fn collection_equivalent(a: &[Item], b: &[Item]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(|x| {
        let found = b
            .iter()
            .enumerate()
            .position(|(i, y)| !used[i] && item_equivalent(x, y));
        if let Some(i) = found {
            used[i] = true;
        }
        found.is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: Value) -> Item<'static> {
        Item::Value(x)
    }

    fn dec(s: &str) -> Value {
        Value::Decimal(Decimal::parse(s).unwrap())
    }

    #[test]
    fn equality_and_equivalence() {
        assert_eq!(item_equals(&v(dec("1.10")), &v(dec("1.1"))), Some(true));
        assert_eq!(
            item_equals(&v(dec("0.0")), &v(Value::Integer(0))),
            Some(true)
        );
        assert_eq!(
            item_equals(&v(Value::Integer(1)), &v(Value::Integer(2))),
            Some(false)
        );
        assert!(item_equivalent(&v(dec("0.67")), &v(dec("0.6666667"))));
        assert!(!item_equivalent(&v(dec("0.68")), &v(dec("0.6666667"))));
        let a = v(Value::String("a  B".into()));
        assert!(item_equivalent(&a, &v(Value::String("A b".into()))));
        assert_eq!(
            item_equals(&a, &v(Value::String("A b".into()))),
            Some(false)
        );
    }

    #[test]
    fn collections() {
        let one = [v(Value::Integer(1)), v(Value::Integer(2))];
        let other = [v(Value::Integer(2)), v(Value::Integer(1))];
        assert_eq!(collection_equals(&one, &other), Some(false));
        assert!(collection_equivalent(&one, &other));
        assert_eq!(collection_equals(&one, &[]), None);
        assert!(collection_equivalent(&[], &[]));
    }

    #[test]
    fn ordering_errors_on_mixed_types() {
        assert!(order_values(&Value::Integer(1), &Value::String("a".into())).is_err());
        assert_eq!(
            order_values(&Value::Integer(1), &dec("1.5")).unwrap(),
            Some(Ordering::Less)
        );
    }
}
