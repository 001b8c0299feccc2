//! Comparing instance values with `fixed[x]` (exactly equal) and `pattern[x]`
//! (the instance holds at least what the pattern says), positions ignored.

use crate::model::{Kind, Node};

/// Equal as JSON values; numbers compare by value (`1.0` equals `1.00`).
pub fn equal(a: &Node, b: &Node) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::Number(x), Kind::Number(y)) => {
            x == y || matches!((x.parse::<f64>(), y.parse::<f64>()), (Ok(p), Ok(q)) if p == q)
        }
        (Kind::Array(x), Kind::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q))
        }
        (Kind::Object(x), Kind::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| b.get(k).is_some_and(|w| equal(v, w)))
        }
        (p, q) => p == q,
    }
}

/// Whether `instance` holds everything `pattern` does: objects by member, arrays by
/// each pattern item matching some instance item, primitives by equality.
pub fn matches_pattern(instance: &Node, pattern: &Node) -> bool {
    match (&instance.kind, &pattern.kind) {
        (Kind::Object(_), Kind::Object(pm)) => pm
            .iter()
            .all(|(k, pv)| instance.get(k).is_some_and(|iv| matches_pattern(iv, pv))),
        (Kind::Array(items), Kind::Array(pitems)) => pitems
            .iter()
            .all(|p| items.iter().any(|i| matches_pattern(i, p))),
        (Kind::Array(items), _) => items.iter().any(|i| matches_pattern(i, pattern)),
        _ => equal(instance, pattern),
    }
}

/// A short rendering of a value for messages.
pub fn show(node: &Node) -> String {
    let text = node.to_value().to_string();
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_json;

    #[test]
    fn fixed_and_pattern() {
        let inst = parse_json(
            r#"{"coding":[{"system":"s","code":"a"},{"system":"s","code":"b"}],"text":"t"}"#,
        )
        .unwrap();
        let pat = parse_json(r#"{"coding":[{"system":"s","code":"b"}]}"#).unwrap();
        let bad = parse_json(r#"{"coding":[{"system":"s","code":"c"}]}"#).unwrap();
        assert!(matches_pattern(&inst, &pat));
        assert!(!matches_pattern(&inst, &bad));
        assert!(!equal(&inst, &pat));
        assert!(equal(
            &parse_json("1.0").unwrap(),
            &parse_json("1.00").unwrap()
        ));
        assert!(!equal(
            &parse_json(r#""a""#).unwrap(),
            &parse_json(r#""b""#).unwrap()
        ));
    }
}
