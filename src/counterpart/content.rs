//! Content matchers on a body (or any value) as JSON or XML: `equalToJson` with
//! JsonUnit placeholders, `matchesJsonPath` with a nested matcher, `equalToXml` and
//! `matchesXPath` with namespaces.

use serde_json::Value;

use super::jsonpath::JsonPath;
use super::matchers::{Subject, ValuePattern};
use super::xml::{self, XNode, XPathResult, XmlOptions};

#[derive(Debug, Clone)]
pub struct JsonEq {
    pub expected: Value,
    pub ignore_array_order: bool,
    pub ignore_extra_elements: bool,
}

impl JsonEq {
    pub fn expected_text(&self) -> String {
        super::jackson::pretty(&self.expected)
    }

    pub fn distance(&self, actual: &str) -> f64 {
        match serde_json::from_str::<Value>(actual) {
            Ok(actual) if self.equal(&self.expected, &actual) => 0.0,
            _ => 1.0,
        }
    }

    fn equal(&self, expected: &Value, actual: &Value) -> bool {
        if let Value::String(s) = expected {
            if let Some(verdict) = placeholder(s, actual) {
                return verdict;
            }
        }
        match (expected, actual) {
            (Value::Object(e), Value::Object(a)) => {
                let extra_ok = self.ignore_extra_elements || a.keys().all(|k| e.contains_key(k));
                extra_ok
                    && e.iter().all(|(k, ev)| match a.get(k) {
                        Some(av) => self.equal(ev, av),
                        // JsonUnit: an ignored member may be missing.
                        None => ev.as_str().is_some_and(|s| s == "${json-unit.ignore}"),
                    })
            }
            (Value::Array(e), Value::Array(a)) => {
                if !self.ignore_extra_elements && e.len() != a.len() || e.len() > a.len() {
                    return false;
                }
                if !self.ignore_array_order {
                    return e.iter().zip(a).all(|(ev, av)| self.equal(ev, av));
                }
                // Each expected item claims a distinct actual item.
                let mut used = vec![false; a.len()];
                e.iter().all(|ev| {
                    let hit = (0..a.len()).find(|i| !used[*i] && self.equal(ev, &a[*i]));
                    hit.map(|i| used[i] = true).is_some()
                })
            }
            (Value::Number(e), Value::Number(a)) => {
                e == a || e.as_f64().zip(a.as_f64()).is_some_and(|(e, a)| e == a)
            }
            _ => expected == actual,
        }
    }
}

/// JsonUnit placeholders: `${json-unit.any-string}`, `any-number`, `any-boolean`,
/// `ignore`, `regex`; `None` when `expected` is not one.
fn placeholder(expected: &str, actual: &Value) -> Option<bool> {
    let inner = expected.strip_prefix("${json-unit.")?;
    if let Some(re) = inner.strip_prefix("regex}") {
        let re = fancy_regex::Regex::new(&format!("^(?:{re})$")).ok()?;
        return Some(
            actual
                .as_str()
                .is_some_and(|s| re.is_match(s).unwrap_or(false)),
        );
    }
    let name = inner.strip_suffix('}')?;
    Some(match name {
        "ignore" | "ignore-element" => true,
        "any-string" => actual.is_string(),
        "any-number" => actual.is_number(),
        "any-boolean" => actual.is_boolean(),
        _ => return None,
    })
}

/// `matchesJsonPath`: without a nested matcher, something non-null (and not an
/// empty list or object) is selected; with one, the selection as text matches it.
pub fn json_path_distance(path: &JsonPath, sub: Option<&ValuePattern>, body: &str) -> f64 {
    let Ok(json) = serde_json::from_str::<Value>(body) else {
        return 1.0;
    };
    let selected = path.select(&json);
    let Some(sub) = sub else {
        let found = match &selected {
            Selected::One(v) => !v.is_null() && !is_empty(v),
            Selected::Many(list) => !list.is_empty(),
        };
        return if found { 0.0 } else { 1.0 };
    };
    let texts: Vec<String> = match &selected {
        Selected::One(v) if v.is_null() => Vec::new(),
        Selected::One(v) => vec![as_text(v)],
        Selected::Many(list) if list.is_empty() => Vec::new(),
        // A list with a nested matcher: each item is tried; a JSON matcher also sees
        // the list as a whole (a text matcher never does: `["1"]` is not a value).
        Selected::Many(list) => {
            let mut t: Vec<String> = list.iter().map(as_text).collect();
            if matches!(
                sub,
                ValuePattern::EqualToJson(_) | ValuePattern::MatchesJsonSchema { .. }
            ) {
                t.push(as_text(&Value::Array(list.clone())));
            }
            t
        }
    };
    // Nothing selected matches `absent` alone: not a negative matcher, not an `or`
    // holding `absent` (WireMock 3.13).
    if texts.is_empty() {
        return if matches!(sub, ValuePattern::Absent) {
            0.0
        } else {
            1.0
        };
    }
    texts
        .iter()
        .map(|t| sub.distance(Some(Subject::text(t))))
        .fold(1.0, f64::min)
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// A selected value as WireMock's matchers see it: strings as they are, the rest as
/// JSON text.
pub fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub use super::jsonpath::Selected;

#[derive(Debug, Clone)]
pub struct XmlEq {
    pub source: String,
    pub expected: XNode,
    pub options: XmlOptions,
}

impl XmlEq {
    pub fn matches(&self, actual: &str) -> bool {
        xml::parse_tree(actual).is_ok_and(|a| xml::similar(&self.expected, &a, &self.options))
    }
}

#[derive(Debug, Clone)]
pub struct XPathMatch {
    pub expression: String,
    pub namespaces: Vec<(String, String)>,
    pub sub: Option<ValuePattern>,
}

impl XPathMatch {
    pub fn describe(&self) -> String {
        match &self.sub {
            None => self.expression.clone(),
            Some(sub) => format!("{} {} {}", self.expression, sub.operator(), sub.expected()),
        }
    }

    pub fn matches(&self, body: &str) -> bool {
        let Ok(result) = xml::evaluate(body, &self.expression, &self.namespaces) else {
            return false;
        };
        let values: Vec<String> = match result {
            XPathResult::Nodes(nodes) => nodes.into_iter().map(|n| n.printed).collect(),
            XPathResult::Text(s) => vec![s],
            XPathResult::Number(n) => vec![n.to_string()],
            XPathResult::Boolean(b) => {
                return self.sub.is_none() && b;
            }
        };
        match &self.sub {
            None => !values.is_empty(),
            Some(sub) => values.iter().any(|v| sub.matches(Some(Subject::text(v)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eq(expected: Value, order: bool, extra: bool) -> JsonEq {
        JsonEq {
            expected,
            ignore_array_order: order,
            ignore_extra_elements: extra,
        }
    }

    #[test]
    fn json_equality_honours_its_options_and_placeholders() {
        let e = eq(json!({"a": [1, 2], "b": 1.0}), false, false);
        assert_eq!(e.distance(r#"{"b": 1, "a": [1, 2]}"#), 0.0);
        assert_eq!(e.distance(r#"{"a": [2, 1], "b": 1}"#), 1.0);
        assert_eq!(e.distance(r#"{"a": [1, 2], "b": 1, "c": 0}"#), 1.0);
        let loose = eq(json!({"a": [1, 2]}), true, true);
        assert_eq!(loose.distance(r#"{"a": [2, 1], "c": 0}"#), 0.0);
        assert_eq!(eq(json!([1, 1]), true, false).distance("[1, 2]"), 1.0);
        let p = eq(
            json!({"id": "${json-unit.any-string}", "n": "${json-unit.any-number}",
                   "x": "${json-unit.ignore}", "r": "${json-unit.regex}[a-z]+"}),
            false,
            false,
        );
        assert_eq!(
            p.distance(r#"{"id": "abc", "n": 2, "x": [1], "r": "xyz"}"#),
            0.0
        );
        assert_eq!(
            p.distance(r#"{"id": 1, "n": 2, "x": [1], "r": "xyz"}"#),
            1.0
        );
        assert_eq!(
            p.distance(r#"{"id": "a", "n": 2, "x": 1, "r": "XYZ"}"#),
            1.0
        );
        assert_eq!(e.distance("not json"), 1.0);
    }
}
