//! Decoding WireMock's value matchers: the string operators, `absent`, JSON (equality
//! with placeholders, JSONPath with a nested matcher, JSON Schema), XML (equality,
//! XPath with namespaces), bytes, dates, `and`/`or`/`not`, and the multi-value
//! `hasExactly`/`includes`. Regexes, paths, schemas and XPath are compiled here, so a
//! bad one is a load error at its file:line:col.

use std::sync::Arc;

use assure_fhir::model::{Kind, Node};

use super::content::{JsonEq, XPathMatch, XmlEq};
use super::dates::{DateOp, DatePattern};
use super::decode::{kind_name, Decoder};
use super::jsonpath::JsonPath;
use super::matchers::{MultiPattern, ValuePattern};
use super::xml::{self, XmlOptions};

/// Operators, each with the options that may sit beside it.
const OPERATORS: &[(&str, &[&str])] = &[
    ("equalTo", &["caseInsensitive"]),
    // WireMock accepts `caseInsensitive` beside any string operator (only
    // `equalTo` uses it).
    ("contains", &["caseInsensitive"]),
    ("doesNotContain", &["caseInsensitive"]),
    ("matches", &["caseInsensitive"]),
    ("doesNotMatch", &["caseInsensitive"]),
    ("absent", &[]),
    (
        "equalToJson",
        &[
            "ignoreArrayOrder",
            "ignoreExtraElements",
            "serializeAsString",
        ],
    ),
    ("matchesJsonPath", &[]),
    ("matchesJsonSchema", &["schemaVersion"]),
    (
        "equalToXml",
        &[
            "enablePlaceholders",
            "placeholderOpeningDelimiterRegex",
            "placeholderClosingDelimiterRegex",
            "exemptedComparisons",
            "namespaceAwareness",
        ],
    ),
    ("matchesXPath", &["xPathNamespaces"]),
    ("binaryEqualTo", &[]),
    ("before", DATE_OPTIONS),
    ("after", DATE_OPTIONS),
    ("equalToDateTime", DATE_OPTIONS),
    ("and", &[]),
    ("or", &[]),
    ("not", &[]),
];
const DATE_OPTIONS: &[&str] = &[
    "actualFormat",
    "truncateExpected",
    "truncateActual",
    "applyTruncationLast",
    "expectedOffset",
    "expectedOffsetUnit",
];

impl Decoder<'_> {
    /// `{ "name": matcher }` where the name may have several values.
    pub(super) fn named_multi(&mut self, node: &Node, what: &str) -> Vec<(String, MultiPattern)> {
        if !self.is_map(node, what) {
            return Vec::new();
        }
        node.members()
            .iter()
            .filter_map(|(name, m)| Some((name.to_string(), self.multi_pattern(m, what)?)))
            .collect()
    }

    pub(super) fn named_single(&mut self, node: &Node, what: &str) -> Vec<(String, ValuePattern)> {
        if !self.is_map(node, what) {
            return Vec::new();
        }
        node.members()
            .iter()
            .filter_map(|(name, m)| Some((name.to_string(), self.value_pattern(m, what)?)))
            .collect()
    }

    fn is_map(&mut self, node: &Node, what: &str) -> bool {
        if node.is_object() {
            return true;
        }
        self.error(
            node,
            format!("`{what}` must be an object of name: matcher"),
            format!("found {}", kind_name(node)),
        );
        false
    }

    pub(super) fn pattern_list(&mut self, node: &Node, what: &str) -> Vec<ValuePattern> {
        if !node.is_array() {
            self.error(
                node,
                format!("`{what}` must be an array"),
                format!("found {}", kind_name(node)),
            );
            return Vec::new();
        }
        node.items()
            .iter()
            .filter_map(|p| self.value_pattern(p, what))
            .collect()
    }

    fn multi_pattern(&mut self, node: &Node, what: &str) -> Option<MultiPattern> {
        for (op, make) in [
            ("hasExactly", MultiPattern::HasExactly as fn(_) -> _),
            ("includes", MultiPattern::Includes as fn(_) -> _),
        ] {
            if let Some(list) = node.get(op) {
                self.object(node, what, &[op]);
                return Some(make(self.pattern_list(list, op)));
            }
        }
        self.value_pattern(node, what).map(MultiPattern::Single)
    }

    /// One matcher object: exactly one operator, and the options that go with it.
    pub(super) fn value_pattern(&mut self, node: &Node, what: &str) -> Option<ValuePattern> {
        let all: Vec<&str> = OPERATORS
            .iter()
            .flat_map(|(op, opts)| std::iter::once(*op).chain(opts.iter().copied()))
            .collect();
        let members = self.object(node, &format!("{what} matcher"), &all);
        let ops: Vec<&(assure_fhir::model::Name, Node)> = members
            .iter()
            .filter(|(k, _)| OPERATORS.iter().any(|(op, _)| *op == &**k))
            .collect();
        let Some((op, value)) = ops.first().map(|(k, v)| (&**k, v)) else {
            let known = |k: &str| all.contains(&k);
            if node.is_object() && node.members().iter().all(|(k, _)| known(k)) {
                self.error(
                    node,
                    format!("{what} matcher has no operator"),
                    "expected equalTo, contains, matches, equalToJson, ...",
                );
            }
            return None;
        };
        if let Some((second, v)) = ops.get(1).map(|(k, v)| (&**k, v)) {
            self.key_error(
                second,
                v,
                format!("more than one operator in this {what} matcher"),
                "second operator",
            );
            return None;
        }
        let allowed: &[&str] = OPERATORS
            .iter()
            .find(|(o, _)| *o == op)
            .map_or(&[], |(_, opts)| opts);
        for (k, v) in members {
            let is_op = OPERATORS.iter().any(|(o, _)| *o == &**k);
            if !is_op && !allowed.contains(&&**k) {
                self.key_error(
                    k,
                    v,
                    format!("`{k}` does not go with `{op}`"),
                    "option of another operator",
                );
            }
        }
        let flag = |d: &mut Self, name: &str| node.get(name).is_some_and(|v| d.boolean(v, name));
        let pattern = match op {
            "equalTo" => ValuePattern::EqualTo {
                expected: self.scalar_text(value, op)?,
                case_insensitive: flag(self, "caseInsensitive"),
            },
            "contains" => ValuePattern::Contains(self.scalar_text(value, op)?),
            "doesNotContain" => ValuePattern::DoesNotContain(self.scalar_text(value, op)?),
            "matches" => ValuePattern::Matches(self.regex(value, op)?),
            "doesNotMatch" => ValuePattern::DoesNotMatch(self.regex(value, op)?),
            "absent" => {
                // WireMock 3.13 reads `absent: false` as `absent: true`.
                self.boolean(value, op);
                ValuePattern::Absent
            }
            "equalToJson" => ValuePattern::EqualToJson(Box::new(JsonEq {
                expected: self.json_value(value, op)?,
                ignore_array_order: flag(self, "ignoreArrayOrder"),
                ignore_extra_elements: flag(self, "ignoreExtraElements"),
            })),
            "matchesJsonPath" => self.json_path(value)?,
            "matchesJsonSchema" => self.json_schema(value, node)?,
            "equalToXml" => self.equal_to_xml(value, node)?,
            "matchesXPath" => self.xpath(value, node)?,
            "binaryEqualTo" => {
                use base64::Engine;
                let text = self.string(value, op)?;
                match base64::engine::general_purpose::STANDARD.decode(text.trim()) {
                    Ok(b) => ValuePattern::BinaryEqualTo(b),
                    Err(e) => {
                        self.error(value, "`binaryEqualTo` is not valid base64", e.to_string());
                        return None;
                    }
                }
            }
            "before" | "after" | "equalToDateTime" => self.date(op, value, node)?,
            "and" | "or" => {
                let list = self.pattern_list(value, op);
                if op == "and" {
                    ValuePattern::And(list)
                } else {
                    ValuePattern::Or(list)
                }
            }
            "not" => ValuePattern::Not(Box::new(self.value_pattern(value, op)?)),
            _ => return None,
        };
        Some(pattern)
    }

    /// String operators take strings (WireMock refuses `{"equalTo": 42}`).
    fn scalar_text(&mut self, node: &Node, field: &str) -> Option<String> {
        self.string(node, field)
    }

    /// Inline JSON, or a string holding JSON.
    fn json_value(&mut self, node: &Node, field: &str) -> Option<serde_json::Value> {
        match node.as_str() {
            Some(text) => match serde_json::from_str(text) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.error(
                        node,
                        format!("`{field}` string is not valid JSON"),
                        e.to_string(),
                    );
                    None
                }
            },
            None => Some(node.to_value()),
        }
    }

    fn json_path(&mut self, node: &Node) -> Option<ValuePattern> {
        let (expr_node, sub) = match node.get("expression") {
            Some(expr) => {
                let rest = Node::new(
                    Kind::Object(
                        node.members()
                            .iter()
                            .filter(|(k, _)| &**k != "expression")
                            .cloned()
                            .collect(),
                    ),
                    node.pos,
                );
                (
                    expr,
                    Some(Box::new(self.value_pattern(&rest, "matchesJsonPath")?)),
                )
            }
            None => (node, None),
        };
        let text = self.string(expr_node, "matchesJsonPath")?;
        match JsonPath::parse(&text) {
            Ok(path) => Some(ValuePattern::MatchesJsonPath { path, sub }),
            Err(e) => {
                let label = format!(
                    "{} (at character {} of the expression)",
                    e.message,
                    e.offset + 1
                );
                self.error(expr_node, "invalid JSONPath", label);
                None
            }
        }
    }

    fn json_schema(&mut self, value: &Node, outer: &Node) -> Option<ValuePattern> {
        let schema = self.json_value(value, "matchesJsonSchema")?;
        let mut options = jsonschema::options();
        if let Some(v) = outer
            .get("schemaVersion")
            .and_then(|v| self.string(v, "schemaVersion"))
        {
            let draft = match v.as_str() {
                "V4" => jsonschema::Draft::Draft4,
                "V6" => jsonschema::Draft::Draft6,
                "V7" => jsonschema::Draft::Draft7,
                "V201909" => jsonschema::Draft::Draft201909,
                "V202012" => jsonschema::Draft::Draft202012,
                other => {
                    self.error(
                        outer.get("schemaVersion").unwrap_or(outer),
                        format!("unknown schemaVersion `{other}`"),
                        "expected V4, V6, V7, V201909 or V202012",
                    );
                    return None;
                }
            };
            options = options.with_draft(draft);
        }
        match options.build(&schema) {
            Ok(validator) => Some(ValuePattern::MatchesJsonSchema {
                schema,
                validator: Arc::new(validator),
            }),
            Err(e) => {
                self.error(value, "invalid JSON Schema", e.to_string());
                None
            }
        }
    }

    fn equal_to_xml(&mut self, value: &Node, outer: &Node) -> Option<ValuePattern> {
        let source = self.string(value, "equalToXml")?;
        let expected = match xml::parse_tree(&source) {
            Ok(t) => t,
            Err(e) => {
                self.error(value, "`equalToXml` is not valid XML", e);
                return None;
            }
        };
        let text = |d: &mut Self, f: &str| outer.get(f).and_then(|v| d.string(v, f));
        let flag = |d: &mut Self, f: &str| outer.get(f).map(|v| d.boolean(v, f));
        let exempted = match outer.get("exemptedComparisons") {
            Some(list) => list
                .items()
                .iter()
                .filter_map(|i| self.string(i, "exemptedComparisons"))
                .collect(),
            None => Vec::new(),
        };
        let open =
            text(self, "placeholderOpeningDelimiterRegex").unwrap_or_else(|| "\\$\\{".into());
        let close = text(self, "placeholderClosingDelimiterRegex").unwrap_or_else(|| "}".into());
        let unregex = |s: String| s.replace('\\', "");
        let namespace_aware = !matches!(
            text(self, "namespaceAwareness").as_deref(),
            Some("NONE") | Some("LEGACY")
        );
        Some(ValuePattern::EqualToXml(Box::new(XmlEq {
            source,
            expected,
            options: XmlOptions {
                placeholders: flag(self, "enablePlaceholders").unwrap_or(false),
                placeholder_open: unregex(open),
                placeholder_close: unregex(close),
                exempted,
                namespace_aware,
            },
        })))
    }

    fn xpath(&mut self, value: &Node, outer: &Node) -> Option<ValuePattern> {
        let namespaces: Vec<(String, String)> = match outer.get("xPathNamespaces") {
            Some(ns) if ns.is_object() => ns
                .members()
                .iter()
                .filter_map(|(k, v)| Some((k.to_string(), self.string(v, k)?)))
                .collect(),
            Some(ns) => {
                self.error(
                    ns,
                    "`xPathNamespaces` must be an object",
                    format!("found {}", kind_name(ns)),
                );
                Vec::new()
            }
            None => Vec::new(),
        };
        let (expr_node, sub) = match value.get("expression") {
            Some(expr) => {
                let rest = Node::new(
                    Kind::Object(
                        value
                            .members()
                            .iter()
                            .filter(|(k, _)| &**k != "expression")
                            .cloned()
                            .collect(),
                    ),
                    value.pos,
                );
                (expr, Some(self.value_pattern(&rest, "matchesXPath")?))
            }
            None => (value, None),
        };
        let expression = self.string(expr_node, "matchesXPath")?;
        if let Err(e) = xml::check_xpath(&expression) {
            self.error(expr_node, "invalid XPath", e);
            return None;
        }
        Some(ValuePattern::MatchesXPath(Box::new(XPathMatch {
            expression,
            namespaces,
            sub,
        })))
    }

    fn date(&mut self, op: &str, value: &Node, outer: &Node) -> Option<ValuePattern> {
        let text = |d: &mut Self, f: &str| outer.get(f).and_then(|v| d.string(v, f));
        let offset = outer.get("expectedOffset").and_then(|v| {
            self.integer(
                v,
                "expectedOffset",
                i64::from(i32::MIN),
                i64::from(i32::MAX),
            )
        });
        let unit = text(self, "expectedOffsetUnit").unwrap_or_else(|| "days".into());
        let pattern = DatePattern {
            op: match op {
                "before" => DateOp::Before,
                "after" => DateOp::After,
                _ => DateOp::EqualTo,
            },
            expected: self.string(value, op)?,
            expected_offset: offset.map(|n| (n, unit)),
            actual_format: text(self, "actualFormat"),
            truncate_expected: text(self, "truncateExpected"),
            truncate_actual: text(self, "truncateActual"),
        };
        if let Err(e) = pattern.check() {
            self.error(value, format!("bad `{op}` date matcher"), e);
            return None;
        }
        Some(ValuePattern::Date(Box::new(pattern)))
    }
}
