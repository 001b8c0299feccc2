//! WireMock's value matchers (`equalTo`, `contains`, `matches`, `absent`, dates,
//! `and`/`or`/`not`, and the content matchers for JSON, XML and bytes), with the
//! distance WireMock uses to pick the closest stub for an unmatched request.

use std::sync::Arc;

use fancy_regex::Regex;

use super::content::{JsonEq, XPathMatch, XmlEq};
use super::dates::DatePattern;
use super::jsonpath::JsonPath;

/// One matcher on a single value (a header value, a query value, the body, ...).
#[derive(Debug, Clone)]
pub enum ValuePattern {
    EqualTo {
        expected: String,
        case_insensitive: bool,
    },
    Contains(String),
    DoesNotContain(String),
    Matches(Regex),
    DoesNotMatch(Regex),
    /// `absent: true`, and `absent: false` too: WireMock 3.13 reads both alike.
    Absent,
    EqualToJson(Box<JsonEq>),
    MatchesJsonPath {
        path: JsonPath,
        sub: Option<Box<ValuePattern>>,
    },
    MatchesJsonSchema {
        schema: serde_json::Value,
        validator: Arc<jsonschema::Validator>,
    },
    EqualToXml(Box<XmlEq>),
    MatchesXPath(Box<XPathMatch>),
    BinaryEqualTo(Vec<u8>),
    Date(Box<DatePattern>),
    And(Vec<ValuePattern>),
    Or(Vec<ValuePattern>),
    Not(Box<ValuePattern>),
}

/// What a matcher looks at: text, and the bytes it came from (for `binaryEqualTo`).
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub text: &'a str,
    pub bytes: &'a [u8],
}

impl<'a> Subject<'a> {
    pub fn text(text: &'a str) -> Subject<'a> {
        Subject {
            text,
            bytes: text.as_bytes(),
        }
    }
}

/// A regex as written, without the whole-string anchoring added at load time.
pub fn unanchored(re: &Regex) -> String {
    let s = re.as_str();
    s.strip_prefix("^(?:")
        .and_then(|s| s.strip_suffix(")$"))
        .unwrap_or(s)
        .to_owned()
}

fn normalized_distance(a: &str, b: &str) -> f64 {
    if a == b {
        return 0.0;
    }
    let longest = a.chars().count().max(b.chars().count()).max(1);
    (strsim::levenshtein(a, b) as f64 / longest as f64).clamp(0.0, 1.0)
}

impl ValuePattern {
    /// WireMock's operator name, as it shows in the not-matched report.
    pub fn operator(&self) -> &'static str {
        match self {
            // WireMock shows a case-insensitive `equalTo` as an `equalTo`.
            ValuePattern::EqualTo { .. } => "equalTo",
            ValuePattern::Contains(_) => "contains",
            ValuePattern::DoesNotContain(_) => "doesNotContain",
            ValuePattern::Matches(_) => "matches",
            ValuePattern::DoesNotMatch(_) => "doesNotMatch",
            ValuePattern::Absent => "absent",
            ValuePattern::EqualToJson(_) => "equalToJson",
            ValuePattern::MatchesJsonPath { .. } => "matchesJsonPath",
            ValuePattern::MatchesJsonSchema { .. } => "matchesJsonSchema",
            ValuePattern::EqualToXml(_) => "equalToXml",
            ValuePattern::MatchesXPath(_) => "matchesXPath",
            ValuePattern::BinaryEqualTo(_) => "binaryEqualTo",
            ValuePattern::Date(d) => d.operator(),
            ValuePattern::And(_) => "and",
            ValuePattern::Or(_) => "or",
            ValuePattern::Not(_) => "not",
        }
    }

    /// The expected value as the not-matched report shows it.
    pub fn expected(&self) -> String {
        match self {
            ValuePattern::EqualTo { expected, .. }
            | ValuePattern::Contains(expected)
            | ValuePattern::DoesNotContain(expected) => expected.clone(),
            ValuePattern::Matches(re) | ValuePattern::DoesNotMatch(re) => unanchored(re),
            ValuePattern::Absent => "(absent)".into(),
            ValuePattern::EqualToJson(j) => j.expected_text(),
            ValuePattern::MatchesJsonPath { path, sub } => match sub {
                None => path.source.clone(),
                Some(sub) => format!("{} {} {}", path.source, sub.operator(), sub.expected()),
            },
            ValuePattern::MatchesJsonSchema { schema, .. } => super::jackson::pretty(schema),
            ValuePattern::EqualToXml(x) => x.source.clone(),
            ValuePattern::MatchesXPath(x) => x.describe(),
            ValuePattern::BinaryEqualTo(b) => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(b)
            }
            ValuePattern::Date(d) => d.expected_text(),
            ValuePattern::And(list) | ValuePattern::Or(list) => {
                let joiner = if matches!(self, ValuePattern::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                list.iter()
                    .map(|p| format!("{} {}", p.operator(), p.expected()))
                    .collect::<Vec<_>>()
                    .join(joiner)
            }
            ValuePattern::Not(p) => p.expected(),
        }
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, ValuePattern::Absent)
    }

    /// Whether the value (or its absence) matches.
    pub fn matches(&self, value: Option<Subject<'_>>) -> bool {
        self.distance(value) == 0.0
    }

    /// 0 for a match, up to 1 for as far off as can be.
    pub fn distance(&self, value: Option<Subject<'_>>) -> f64 {
        let yes = |b: bool| if b { 0.0 } else { 1.0 };
        match self {
            ValuePattern::Absent => return yes(value.is_none()),
            // As in WireMock, a value that is not there does not match a regex, nor
            // contain a text.
            ValuePattern::DoesNotMatch(_) | ValuePattern::DoesNotContain(_) if value.is_none() => {
                return 0.0
            }
            ValuePattern::Not(p) => return yes(!p.matches(value)),
            ValuePattern::And(list) => {
                if list.is_empty() {
                    return 0.0;
                }
                return list.iter().map(|p| p.distance(value)).sum::<f64>() / list.len() as f64;
            }
            ValuePattern::Or(list) => {
                return list.iter().map(|p| p.distance(value)).fold(1.0, f64::min);
            }
            _ => {}
        }
        let Some(v) = value else { return 1.0 };
        match self {
            ValuePattern::EqualTo {
                expected,
                case_insensitive: true,
            } => normalized_distance(&expected.to_lowercase(), &v.text.to_lowercase()),
            ValuePattern::EqualTo { expected, .. } => normalized_distance(expected, v.text),
            ValuePattern::Contains(part) => yes(v.text.contains(part.as_str())),
            ValuePattern::DoesNotContain(part) => yes(!v.text.contains(part.as_str())),
            // A regex that fails at run time (backtrack limit) counts as no match.
            ValuePattern::Matches(re) => yes(re.is_match(v.text).unwrap_or(false)),
            ValuePattern::DoesNotMatch(re) => yes(!re.is_match(v.text).unwrap_or(true)),
            ValuePattern::EqualToJson(j) => j.distance(v.text),
            ValuePattern::MatchesJsonPath { path, sub } => {
                super::content::json_path_distance(path, sub.as_deref(), v.text)
            }
            ValuePattern::MatchesJsonSchema { validator, .. } => {
                match serde_json::from_str::<serde_json::Value>(v.text) {
                    Ok(json) => yes(validator.is_valid(&json)),
                    Err(_) => 1.0,
                }
            }
            ValuePattern::EqualToXml(x) => yes(x.matches(v.text)),
            ValuePattern::MatchesXPath(x) => yes(x.matches(v.text)),
            ValuePattern::BinaryEqualTo(b) => yes(v.bytes == b.as_slice()),
            ValuePattern::Date(d) => yes(d.matches(v.text)),
            ValuePattern::Absent
            | ValuePattern::Not(_)
            | ValuePattern::And(_)
            | ValuePattern::Or(_) => 1.0,
        }
    }
}

/// A matcher on something that may have several values (headers, query and form
/// parameters): one pattern that any value may satisfy, or WireMock's `hasExactly`
/// and `includes`.
#[derive(Debug, Clone)]
pub enum MultiPattern {
    Single(ValuePattern),
    HasExactly(Vec<ValuePattern>),
    Includes(Vec<ValuePattern>),
}

impl MultiPattern {
    pub fn matches(&self, values: &[&str]) -> bool {
        self.distance(values) == 0.0
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, MultiPattern::Single(ValuePattern::Absent))
    }

    pub fn distance(&self, values: &[&str]) -> f64 {
        match self {
            MultiPattern::Single(p) => {
                if values.is_empty() {
                    return p.distance(None);
                }
                if p.is_absent() {
                    return 1.0;
                }
                values
                    .iter()
                    .map(|v| p.distance(Some(Subject::text(v))))
                    .fold(1.0, f64::min)
            }
            MultiPattern::HasExactly(list) => {
                let every_pattern = list
                    .iter()
                    .all(|p| values.iter().any(|v| p.matches(Some(Subject::text(v)))));
                let every_value = values
                    .iter()
                    .all(|v| list.iter().any(|p| p.matches(Some(Subject::text(v)))));
                if every_pattern && every_value && list.len() == values.len() {
                    0.0
                } else {
                    1.0
                }
            }
            MultiPattern::Includes(list) => {
                let all = list
                    .iter()
                    .all(|p| values.iter().any(|v| p.matches(Some(Subject::text(v)))));
                if all && !values.is_empty() {
                    0.0
                } else {
                    1.0
                }
            }
        }
    }

    /// As the not-matched report shows it.
    pub fn describe(&self) -> (String, String) {
        match self {
            MultiPattern::Single(p) => (p.operator().to_owned(), p.expected()),
            MultiPattern::HasExactly(list) | MultiPattern::Includes(list) => {
                let op = if matches!(self, MultiPattern::HasExactly(_)) {
                    "hasExactly"
                } else {
                    "includes"
                };
                let text = list
                    .iter()
                    .map(|p| format!("{} {}", p.operator(), p.expected()))
                    .collect::<Vec<_>>()
                    .join(", ");
                (op.to_owned(), text)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(s: &str) -> Regex {
        Regex::new(&format!("^(?:{s})$")).unwrap()
    }

    #[test]
    fn string_matchers_pass_and_fail() {
        let eq = ValuePattern::EqualTo {
            expected: "Smith".into(),
            case_insensitive: true,
        };
        assert!(eq.matches(Some(Subject::text("SMITH"))));
        assert!(!eq.matches(Some(Subject::text("Smyth"))));
        assert!(!eq.matches(None));
        let not_contain = ValuePattern::DoesNotContain("x".into());
        assert!(not_contain.matches(Some(Subject::text("abc"))));
        assert!(!not_contain.matches(Some(Subject::text("axc"))));
        let m = ValuePattern::Matches(re("[0-9]+"));
        assert!(m.matches(Some(Subject::text("123"))));
        assert!(!m.matches(Some(Subject::text("12a"))));
        // WireMock: what is not there does not match, nor contain.
        let dnm = ValuePattern::DoesNotMatch(re("json"));
        assert!(dnm.matches(None));
        assert!(dnm.matches(Some(Subject::text("xml"))));
        assert!(!dnm.matches(Some(Subject::text("json"))));
        assert!(not_contain.matches(None));
        let present = ValuePattern::And(vec![ValuePattern::Matches(re(".*")), dnm]);
        assert!(!present.matches(None));
    }

    #[test]
    fn logical_matchers_combine() {
        let a = ValuePattern::And(vec![
            ValuePattern::Contains("a".into()),
            ValuePattern::Contains("b".into()),
        ]);
        assert!(a.matches(Some(Subject::text("ab"))));
        assert!(!a.matches(Some(Subject::text("a"))));
        let o = ValuePattern::Or(vec![
            ValuePattern::EqualTo {
                expected: "x".into(),
                case_insensitive: false,
            },
            ValuePattern::Absent,
        ]);
        assert!(o.matches(None));
        assert!(o.matches(Some(Subject::text("x"))));
        assert!(!o.matches(Some(Subject::text("y"))));
        let n = ValuePattern::Not(Box::new(ValuePattern::Contains("z".into())));
        assert!(n.matches(Some(Subject::text("a"))));
        assert!(!n.matches(Some(Subject::text("z"))));
    }

    #[test]
    fn multi_value_matchers() {
        let eq = |s: &str| ValuePattern::EqualTo {
            expected: s.into(),
            case_insensitive: false,
        };
        let exactly = MultiPattern::HasExactly(vec![eq("1"), eq("2")]);
        assert!(exactly.matches(&["2", "1"]));
        assert!(!exactly.matches(&["1", "2", "3"]));
        assert!(!exactly.matches(&["1"]));
        let includes = MultiPattern::Includes(vec![eq("1")]);
        assert!(includes.matches(&["1", "3"]));
        assert!(!includes.matches(&["3"]));
        let single = MultiPattern::Single(eq("3"));
        assert!(single.matches(&["1", "3"]));
        assert!(!single.matches(&[]));
        assert!(MultiPattern::Single(ValuePattern::Absent).matches(&[]));
        assert!(!MultiPattern::Single(ValuePattern::Absent).matches(&["x"]));
    }
}
