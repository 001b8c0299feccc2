//! Reads one mapping file's positioned JSON into [`Mapping`]s, diagnosing every bad
//! field (unknown, wrong type, bad regex, bad JSONPath, bad template, missing body
//! file) at its file:line:col, and carrying on so a set reports all its errors at once.
//! The request half lives in `decode_request.rs`, the response half in
//! `decode_response.rs`.

use std::path::{Path, PathBuf};

use assure_fhir::model::{Kind, Node};
use fancy_regex::Regex;

use super::mapping::*;
use crate::diagnostic::{closest, Diagnostic};

const MAPPING_FIELDS: &[&str] = &[
    "id",
    "uuid",
    "name",
    "request",
    "response",
    "priority",
    "metadata",
    "scenarioName",
    "requiredScenarioState",
    "newScenarioState",
    "persistent",
    "insertionIndex",
];
/// WireMock features assure knows of but does not serve: named, not "unknown".
const UNSUPPORTED: &[&str] = &["customMatcher", "postServeActions", "serveEventListeners"];

/// One file's decoding state: where it is, its text, and what went wrong so far.
pub struct Decoder<'a> {
    pub file: &'a Path,
    pub src: &'a str,
    /// Where `bodyFileName` is looked up, in order.
    pub files_dirs: &'a [PathBuf],
    /// Every response is a template (`global_response_templating`).
    pub global_templating: bool,
    pub diags: Vec<Diagnostic>,
    line_starts: Vec<usize>,
}

impl<'a> Decoder<'a> {
    pub fn new(
        file: &'a Path,
        src: &'a str,
        files_dirs: &'a [PathBuf],
        global_templating: bool,
    ) -> Self {
        let line_starts = std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Decoder {
            file,
            src,
            files_dirs,
            global_templating,
            diags: Vec::new(),
            line_starts,
        }
    }

    fn offset(&self, node: &Node) -> usize {
        let start = self
            .line_starts
            .get((node.pos.line as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let line = &self.src[start..];
        start
            + line
                .char_indices()
                .nth((node.pos.col as usize).saturating_sub(1))
                .map_or(line.len(), |(i, _)| i)
    }

    /// How many characters the value's text spans on its line (for the caret).
    fn width(&self, node: &Node) -> usize {
        let text = &self.src[self.offset(node)..];
        let len = match node.kind {
            Kind::String(_) => {
                let mut escaped = false;
                text.char_indices()
                    .skip(1)
                    .find(|(_, c)| {
                        let end = !escaped && *c == '"';
                        escaped = !escaped && *c == '\\';
                        end
                    })
                    .map_or(1, |(i, _)| i + 1)
            }
            Kind::Object(_) | Kind::Array(_) => 1,
            _ => text
                .find(|c: char| matches!(c, ',' | '}' | ']') || c.is_whitespace())
                .unwrap_or(text.len()),
        };
        let line_len = text.find('\n').unwrap_or(text.len());
        text[..len.min(line_len)].chars().count()
    }

    pub(super) fn error(
        &mut self,
        node: &Node,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> &mut Diagnostic {
        let d = Diagnostic::new(self.file, message)
            .at(node.pos.line as usize, node.pos.col as usize)
            .width(self.width(node))
            .label(label)
            .with_source(self.src);
        self.diags.push(d);
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    /// Points at a member's name rather than its value.
    pub(super) fn key_error(
        &mut self,
        key: &str,
        value: &Node,
        message: String,
        label: &str,
    ) -> &mut Diagnostic {
        let quoted = format!("\"{key}\"");
        let end = self.offset(value);
        let at = self.src[..end].rfind(&quoted).unwrap_or(end);
        let d = Diagnostic::new(self.file, message)
            .at_offset(self.src, at)
            .width(quoted.chars().count())
            .label(label);
        self.diags.push(d);
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    /// The members of an object whose fields are all in `allowed`; reports the rest.
    pub(super) fn object<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
    ) -> &'n [(assure_fhir::model::Name, Node)] {
        if !node.is_object() {
            self.error(
                node,
                format!("{what} must be a JSON object"),
                format!("found {}", kind_name(node)),
            );
            return &[];
        }
        for (key, value) in node.members() {
            if allowed.contains(&&**key) {
                continue;
            }
            if UNSUPPORTED.contains(&&**key) {
                let msg = format!("`{key}` is not supported by assure counterparts");
                self.key_error(key, value, msg, "WireMock feature not implemented")
                    .help
                    .push("it needs a WireMock extension; see mocks/README.md".into());
                continue;
            }
            let suggestions = closest(key, allowed.iter().copied());
            let d = self.key_error(
                key,
                value,
                format!("unknown field `{key}` in {what}"),
                "unknown field",
            );
            match suggestions.first() {
                Some(s) => d.help.push(format!("did you mean `{s}`?")),
                None => d
                    .help
                    .push(format!("expected one of: {}", allowed.join(", "))),
            }
        }
        node.members()
    }

    pub(super) fn string(&mut self, node: &Node, field: &str) -> Option<String> {
        match node.as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                self.error(
                    node,
                    format!("`{field}` must be a string"),
                    format!("found {}", kind_name(node)),
                );
                None
            }
        }
    }

    pub(super) fn boolean(&mut self, node: &Node, field: &str) -> bool {
        node.as_bool().unwrap_or_else(|| {
            self.error(
                node,
                format!("`{field}` must be true or false"),
                format!("found {}", kind_name(node)),
            );
            false
        })
    }

    pub(super) fn integer(&mut self, node: &Node, field: &str, min: i64, max: i64) -> Option<i64> {
        let n = match &node.kind {
            Kind::Number(n) => n.parse::<i64>().ok(),
            // WireMock reads numbers written as strings too.
            Kind::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.error(
                    node,
                    format!("`{field}` must be a whole number from {min} to {max}"),
                    format!("found {}", kind_name(node)),
                );
                None
            }
        }
    }

    pub(super) fn regex(&mut self, node: &Node, field: &str) -> Option<Regex> {
        let pattern = self.string(node, field)?;
        // Checked as written, so error positions are the author's; then anchored,
        // because WireMock (Java `matches()`) tests the whole string.
        let anchored = Regex::new(&format!("^(?:{pattern})$"));
        // Only a pattern that fails is compiled as written, for the author's positions.
        match anchored.map_err(|_| Regex::new(&pattern).err()) {
            Ok(re) => Some(re),
            Err(e) => {
                let why = e.map_or_else(
                    || "not a valid regular expression".to_owned(),
                    |e| e.to_string(),
                );
                self.error(
                    node,
                    format!("invalid regular expression in `{field}`"),
                    why,
                );
                None
            }
        }
    }

    /// One mapping from its JSON text (the admin API's create and edit).
    pub fn one(&mut self, root: &Node) -> Option<Mapping> {
        self.mapping(root)
    }

    /// A file's mappings: one mapping, or `{"mappings": [...]}`.
    pub fn mappings(&mut self, root: &Node) -> Vec<Mapping> {
        if let Some(list) = root.get("mappings") {
            self.object(root, "a mapping file", &["mappings", "meta"]);
            if !list.is_array() {
                self.error(
                    list,
                    "`mappings` must be an array",
                    format!("found {}", kind_name(list)),
                );
            }
            return list
                .items()
                .iter()
                .filter_map(|m| self.mapping(m))
                .collect();
        }
        self.mapping(root).into_iter().collect()
    }

    fn mapping(&mut self, node: &Node) -> Option<Mapping> {
        let errors_before = self.diags.len();
        let members = self.object(node, "mapping", MAPPING_FIELDS);
        let mut m = Mapping {
            id: String::new(),
            name: None,
            source: Source {
                file: self.file.to_path_buf(),
                line: node.pos.line,
                col: node.pos.col,
            },
            priority: DEFAULT_PRIORITY,
            request: RequestPattern::default(),
            response: ResponseDef::default(),
            metadata: serde_json::Value::Null,
            scenario: None,
            json: node.to_value(),
        };
        let (mut request, mut response) = (None, None);
        let (mut scenario, mut required, mut new_state) = (None, None, None);
        let mut id = None;
        for (key, value) in members {
            match &**key {
                "id" | "uuid" => id = self.string(value, key),
                "name" => m.name = self.string(value, key),
                "priority" => {
                    m.priority = self
                        .integer(value, key, i64::from(i32::MIN), i64::from(i32::MAX))
                        .unwrap_or(DEFAULT_PRIORITY)
                }
                "metadata" => m.metadata = value.to_value(),
                "scenarioName" => scenario = self.string(value, key),
                "requiredScenarioState" => required = self.string(value, key),
                "newScenarioState" => new_state = self.string(value, key),
                "persistent" => {
                    self.boolean(value, key);
                }
                "insertionIndex" => {
                    self.integer(value, key, i64::MIN, i64::MAX);
                }
                "request" => request = Some(value),
                "response" => response = Some(value),
                _ => {}
            }
        }
        m.id = id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if let serde_json::Value::Object(obj) = &mut m.json {
            obj.insert("id".into(), m.id.clone().into());
            obj.insert("uuid".into(), m.id.clone().into());
            // As WireMock shows it: a request without a method matches ANY.
            if let Some(serde_json::Value::Object(req)) = obj.get_mut("request") {
                req.entry("method").or_insert_with(|| "ANY".into());
            }
        }
        match request {
            Some(r) => m.request = self.request(r),
            None if node.is_object() => {
                self.error(node, "mapping has no `request`", "this mapping");
            }
            None => {}
        }
        let templated = self.global_templating
            || response
                .and_then(|r| r.get("transformers"))
                .is_some_and(|t| self.transformers(t));
        match response {
            Some(r) => m.response = self.response(r, templated),
            // WireMock answers 200 with nothing when a mapping gives no response.
            None => m.response = ResponseDef::default(),
        }
        match (scenario, required.is_some() || new_state.is_some()) {
            (Some(name), _) => {
                m.scenario = Some(ScenarioRule {
                    name,
                    required_state: required,
                    new_state,
                })
            }
            (None, true) => {
                self.error(
                    node,
                    "scenario states need a `scenarioName`",
                    "this mapping",
                );
            }
            (None, false) => {}
        }
        (self.diags.len() == errors_before).then_some(m)
    }
}

pub fn kind_name(node: &Node) -> &'static str {
    match node.kind {
        Kind::Null => "null",
        Kind::Bool(_) => "a boolean",
        Kind::Number(_) => "a number",
        Kind::String(_) => "a string",
        Kind::Array(_) => "an array",
        Kind::Object(_) => "an object",
    }
}
