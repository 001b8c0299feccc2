//! The stub mapping model: what a WireMock JSON mapping says, checked and compiled
//! (regexes, JSONPath, XPath, schemas, templates) once at load time so that serving
//! never re-parses.

use std::path::PathBuf;
use std::sync::Arc;

use fancy_regex::Regex;
use serde_json::Value;

use super::matchers::{MultiPattern, ValuePattern};
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
    /// `global_response_templating` in `mock.toml`: every response is a template.
    pub global_templating: bool,
}

impl StubSet {
    /// Folders a `bodyFileName` may come from, this set's first.
    pub fn files_dirs(&self) -> Vec<PathBuf> {
        self.layers
            .iter()
            .rev()
            .map(|d| d.join("__files"))
            .collect()
    }
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
    /// The mapping's `id` (or `uuid`); a fresh UUID when it has none, as in WireMock.
    pub id: String,
    pub name: Option<String>,
    pub source: Source,
    /// Lower wins; ties go to the mapping loaded (or created) later.
    pub priority: i64,
    pub request: RequestPattern,
    pub response: ResponseDef,
    /// Free JSON kept for whoever reads the set (seeded defects live here).
    pub metadata: Value,
    pub scenario: Option<ScenarioRule>,
    /// The mapping as written, with its id: what the admin API shows.
    pub json: Value,
}

impl Mapping {
    /// A short human label: name, else id given in the file, else file:line.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            if self.json.get("id").is_some() || self.json.get("uuid").is_some() {
                self.id.clone()
            } else {
                self.source.to_string()
            }
        })
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
    /// The method as written (WireMock compares it exactly); `None` for `ANY`.
    pub method: Option<String>,
    pub url: Option<UrlMatch>,
    /// Matchers on `urlPathTemplate` parameters.
    pub path_params: Vec<(String, ValuePattern)>,
    pub query: Vec<(String, MultiPattern)>,
    pub form: Vec<(String, MultiPattern)>,
    pub headers: Vec<(String, MultiPattern)>,
    pub cookies: Vec<(String, ValuePattern)>,
    /// `basicAuthCredentials`, as the `Authorization` value it stands for.
    pub basic_auth: Option<(String, String)>,
    pub body: Vec<ValuePattern>,
    pub multipart: Vec<MultipartPattern>,
    pub host: Option<ValuePattern>,
    pub port: Option<u16>,
    pub scheme: Option<String>,
    pub client_ip: Option<ValuePattern>,
}

#[derive(Debug, Clone)]
pub struct MultipartPattern {
    /// `ALL` parts must match, or `ANY` one.
    pub all: bool,
    pub headers: Vec<(String, MultiPattern)>,
    pub body: Vec<ValuePattern>,
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
        Some(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let raw = caps.get(i + 1).map_or("", |m| m.as_str());
                    (n.clone(), super::request::percent_decode(raw))
                })
                .collect(),
        )
    }

    /// The text as written (a regex without the anchoring added at load).
    pub fn text(&self) -> String {
        match self {
            UrlMatch::Url(u) | UrlMatch::Path(u) => u.clone(),
            UrlMatch::PathTemplate { template, .. } => template.clone(),
            UrlMatch::Pattern(re) | UrlMatch::PathPattern(re) => super::matchers::unanchored(re),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ResponseDef {
    pub status: u16,
    pub status_message: Option<String>,
    /// Names as written, each with its values.
    pub headers: Vec<(String, Vec<Template>)>,
    pub body: ResponseBody,
    pub templated: bool,
    /// `transformerParameters`, as `parameters.*` in templates.
    pub parameters: Value,
    pub delay: Delay,
    pub fault: Option<Fault>,
    pub proxy: Option<Proxy>,
}

impl Default for ResponseDef {
    fn default() -> Self {
        ResponseDef {
            status: 200,
            status_message: None,
            headers: Vec::new(),
            body: ResponseBody::Empty,
            templated: false,
            parameters: Value::Null,
            delay: Delay::default(),
            fault: None,
            proxy: None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Delay {
    pub fixed_ms: u64,
    pub distribution: Option<Distribution>,
    /// `chunkedDribbleDelay`: the body in this many chunks spread over this long.
    pub dribble: Option<(u32, u64)>,
}

#[derive(Debug, Clone, Copy)]
pub enum Distribution {
    Uniform {
        lower: u64,
        upper: u64,
    },
    LogNormal {
        median: f64,
        sigma: f64,
        max: Option<f64>,
    },
}

#[derive(Debug, Clone)]
pub struct Proxy {
    pub base_url: Template,
    pub additional_headers: Vec<(String, Template)>,
    pub remove_headers: Vec<String>,
    pub url_prefix_to_remove: Option<String>,
}

#[derive(Debug, Clone)]
pub enum ResponseBody {
    Empty,
    /// Text: `body`, or `jsonBody` as WireMock writes it; a template when templated.
    Text(Template),
    Bytes(Arc<Vec<u8>>),
    /// A body file read when the set loaded (bytes, and the text template if templated).
    File {
        bytes: Arc<Vec<u8>>,
        template: Option<Template>,
    },
    /// A `bodyFileName` that is itself a template: resolved per request.
    FileTemplate(Template),
}

/// Transport faults performed instead of answering properly.
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
