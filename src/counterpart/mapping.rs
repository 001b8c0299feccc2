//! The stub mapping model: what a WireMock JSON mapping says, checked and compiled
//! (regexes, JSONPath, templates) once at load time so that serving never re-parses.

use std::path::PathBuf;

use fancy_regex::Regex;

use super::jsonpath::JsonPath;
use super::template::Template;

/// WireMock's default priority: mappings without one sit in the middle.
pub const DEFAULT_PRIORITY: i64 = 5;

/// A loaded stub set: every mapping of the set and of the sets it extends.
#[derive(Debug, Clone)]
pub struct StubSet {
    pub name: String,
    pub dir: PathBuf,
    pub description: Option<String>,
    /// The set this one layers over, by name (`extends` in `mock.toml`).
    pub extends: Option<String>,
    /// The set folders layered, base first and this set last; `bodyFileName` is
    /// looked up in their `__files/` from this set back to the base.
    pub layers: Vec<PathBuf>,
    /// In load order: the base set's mappings first, overlays after them.
    pub mappings: Vec<Mapping>,
}

/// Where a mapping came from, for messages and journals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub file: PathBuf,
    pub line: u32,
    pub col: u32,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            crate::diagnostic::display_path(&self.file),
            self.line,
            self.col
        )
    }
}

#[derive(Debug, Clone)]
pub struct Mapping {
    pub id: Option<String>,
    pub name: Option<String>,
    pub source: Source,
    /// Lower wins; ties go to the mapping loaded later.
    pub priority: i64,
    pub request: RequestPattern,
    pub response: ResponseDef,
    /// Free JSON kept for whoever reads the set (seeded defects live here).
    pub metadata: serde_json::Value,
    pub scenario: Option<ScenarioRule>,
}

impl Mapping {
    /// A short human label: name, else id, else file:line.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.id.clone())
            .unwrap_or_else(|| self.source.to_string())
    }
}

/// WireMock scenarios: a mapping applies only in `required_state`, and moves the
/// scenario to `new_state` when it answers.
#[derive(Debug, Clone)]
pub struct ScenarioRule {
    pub name: String,
    pub required_state: Option<String>,
    pub new_state: Option<String>,
}

/// Every scenario begins here, as in WireMock.
pub const SCENARIO_STARTED: &str = "Started";

#[derive(Debug, Clone, Default)]
pub struct RequestPattern {
    /// Upper-case method; `None` for `ANY`.
    pub method: Option<String>,
    pub url: Option<UrlMatch>,
    pub query: Vec<(String, ValueMatcher)>,
    /// Matchers on `urlPathTemplate` parameters.
    pub path_params: Vec<(String, ValueMatcher)>,
    pub headers: Vec<(String, ValueMatcher)>,
    pub body: Vec<BodyPattern>,
}

#[derive(Debug, Clone)]
pub enum UrlMatch {
    /// Path and query, exactly.
    Url(String),
    /// Path only, exactly.
    Path(String),
    /// Path and query, whole-string regex.
    Pattern(Regex),
    /// Path only, whole-string regex.
    PathPattern(Regex),
    /// `/Patient/{id}`: path segments, some of them named parameters.
    PathTemplate {
        template: String,
        regex: Regex,
        names: Vec<String>,
    },
}

impl UrlMatch {
    /// Named path parameters of `path`, percent-decoded, if this is a template that
    /// matches it.
    pub fn path_params(&self, path: &str) -> Option<Vec<(String, String)>> {
        let UrlMatch::PathTemplate { regex, names, .. } = self else {
            return None;
        };
        let caps = regex.captures(path).ok()??;
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        Some(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    (
                        n.clone(),
                        caps.get(i + 1)
                            .map_or_else(String::new, |m| decode(m.as_str())),
                    )
                })
                .collect(),
        )
    }
}

#[derive(Debug, Clone)]
pub struct ValueMatcher {
    pub kind: ValueKind,
    pub case_insensitive: bool,
}

#[derive(Debug, Clone)]
pub enum ValueKind {
    EqualTo(String),
    Contains(String),
    Matches(Regex),
    DoesNotMatch(Regex),
    /// `absent: true` matches a missing value; `absent: false` any present one.
    Absent(bool),
}

impl ValueMatcher {
    /// Whether one of `values` satisfies the matcher; an empty list is "absent".
    pub fn matches_any(&self, values: &[&str]) -> bool {
        if let ValueKind::Absent(absent) = self.kind {
            return values.is_empty() == absent;
        }
        values.iter().any(|v| self.matches(v))
    }

    pub fn matches(&self, value: &str) -> bool {
        match &self.kind {
            ValueKind::EqualTo(expected) if self.case_insensitive => {
                expected.to_lowercase() == value.to_lowercase()
            }
            ValueKind::EqualTo(expected) => expected == value,
            ValueKind::Contains(part) if self.case_insensitive => {
                value.to_lowercase().contains(&part.to_lowercase())
            }
            ValueKind::Contains(part) => value.contains(part.as_str()),
            // A regex that fails at run time (backtrack limit) counts as no match.
            ValueKind::Matches(re) => re.is_match(value).unwrap_or(false),
            ValueKind::DoesNotMatch(re) => !re.is_match(value).unwrap_or(true),
            ValueKind::Absent(absent) => !absent,
        }
    }
}

#[derive(Debug, Clone)]
pub enum BodyPattern {
    EqualToJson {
        expected: serde_json::Value,
        ignore_extra_elements: bool,
        ignore_array_order: bool,
    },
    MatchesJsonPath {
        path: JsonPath,
        /// WireMock's advanced form: `{"expression": ..., "equalTo": ...}`.
        matcher: Option<ValueMatcher>,
    },
    /// `equalTo`, `contains`, `matches`, `doesNotMatch` on the body as text.
    Text(ValueMatcher),
}

#[derive(Debug, Clone)]
pub struct ResponseDef {
    pub status: u16,
    pub headers: Vec<(String, Template)>,
    pub body: ResponseBody,
    pub delay_ms: u64,
    pub fault: Option<Fault>,
}

#[derive(Debug, Clone)]
pub enum ResponseBody {
    Empty,
    /// Text, rendered when the mapping uses `response-template` (otherwise a
    /// template with a single literal part).
    Text(Template),
    Bytes(Vec<u8>),
}

/// Transport faults the front layer performs instead of answering properly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    EmptyResponse,
    ConnectionResetByPeer,
    RandomDataThenClose,
    MalformedResponseChunk,
}

impl Fault {
    pub const ALL: [(&'static str, Fault); 4] = [
        ("EMPTY_RESPONSE", Fault::EmptyResponse),
        ("CONNECTION_RESET_BY_PEER", Fault::ConnectionResetByPeer),
        ("RANDOM_DATA_THEN_CLOSE", Fault::RandomDataThenClose),
        ("MALFORMED_RESPONSE_CHUNK", Fault::MalformedResponseChunk),
    ];

    pub fn name(self) -> &'static str {
        Fault::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("UNKNOWN", |(n, _)| n)
    }

    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }
}
