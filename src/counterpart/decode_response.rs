//! Decoding a mapping's `response`: status, headers, bodies (inline, JSON, base64,
//! files), delay, faults and the `response-template` transformer.

use std::path::Path;

use assure_fhir::model::Node;

use super::decode::{kind_name, Decoder};
use super::mapping::*;
use super::template::Template;
use crate::diagnostic::closest;

const RESPONSE_FIELDS: &[&str] = &[
    "status",
    "headers",
    "body",
    "jsonBody",
    "base64Body",
    "bodyFileName",
    "fixedDelayMilliseconds",
    "fault",
    "transformers",
];

impl Decoder<'_> {
    pub(super) fn transformers(&mut self, node: &Node) -> bool {
        let mut templated = false;
        if !node.is_array() {
            self.error(
                node,
                "`transformers` must be an array of names",
                format!("found {}", kind_name(node)),
            );
        }
        for t in node.items() {
            match t.as_str() {
                Some("response-template") => templated = true,
                _ => {
                    self.error(
                        t,
                        "unsupported transformer",
                        "only \"response-template\" is supported",
                    );
                }
            }
        }
        templated
    }

    fn template(
        &mut self,
        node: &Node,
        text: &str,
        templated: bool,
        what: &str,
    ) -> Option<Template> {
        if !templated {
            return Some(Template::literal(text));
        }
        match Template::parse(text) {
            Ok(t) => Some(t),
            Err(e) => {
                let near: String = text[e.offset..].chars().take(30).collect();
                self.error(
                    node,
                    format!("bad response template in {what}"),
                    format!("{} near `{near}`", e.message),
                );
                None
            }
        }
    }

    pub(super) fn response(&mut self, node: &Node, templated: bool) -> ResponseDef {
        let mut r = ResponseDef {
            status: 200,
            headers: Vec::new(),
            body: ResponseBody::Empty,
            delay_ms: 0,
            fault: None,
        };
        let mut body_field: Option<&str> = None;
        for (key, value) in self.object(node, "response", RESPONSE_FIELDS) {
            let body = match &**key {
                "status" => {
                    r.status = self.integer(value, key, 100, 599).map_or(200, |s| s as u16);
                    continue;
                }
                "headers" => {
                    r.headers = self.response_headers(value, templated);
                    continue;
                }
                "fixedDelayMilliseconds" => {
                    r.delay_ms = self.integer(value, key, 0, 600_000).unwrap_or(0) as u64;
                    continue;
                }
                "fault" => {
                    r.fault = self.string(value, key).and_then(|name| {
                        let fault = Fault::from_name(&name);
                        if fault.is_none() {
                            let names = Fault::ALL.map(|(n, _)| n);
                            let d = self.error(
                                value,
                                format!("unknown fault `{name}`"),
                                "not a WireMock fault",
                            );
                            match closest(&name, names).first() {
                                Some(s) => d.help.push(format!("did you mean `{s}`?")),
                                None => d
                                    .help
                                    .push(format!("expected one of: {}", names.join(", "))),
                            }
                        }
                        fault
                    });
                    continue;
                }
                "body" => self
                    .string(value, key)
                    .and_then(|t| self.template(value, &t, templated, "`body`"))
                    .map(ResponseBody::Text),
                "jsonBody" => {
                    let text = serde_json::to_string_pretty(&value.to_value()).unwrap_or_default();
                    self.template(value, &text, templated, "`jsonBody`")
                        .map(ResponseBody::Text)
                }
                "base64Body" => self.string(value, key).and_then(|t| {
                    use base64::Engine;
                    match base64::engine::general_purpose::STANDARD.decode(t.trim()) {
                        Ok(bytes) => Some(ResponseBody::Bytes(bytes)),
                        Err(e) => {
                            self.error(value, "`base64Body` is not valid base64", e.to_string());
                            None
                        }
                    }
                }),
                "bodyFileName" => self
                    .string(value, key)
                    .and_then(|name| self.body_file(value, &name, templated)),
                _ => continue,
            };
            if let Some(previous) = body_field.replace(key) {
                self.key_error(
                    key,
                    value,
                    format!("`{key}` and `{previous}` both given"),
                    "second body",
                )
                .help
                .push(
                    "a response has at most one of body, jsonBody, base64Body, bodyFileName".into(),
                );
            }
            r.body = body.unwrap_or(ResponseBody::Empty);
        }
        r
    }

    fn response_headers(&mut self, node: &Node, templated: bool) -> Vec<(String, Template)> {
        if !node.is_object() {
            self.error(
                node,
                "response `headers` must be an object",
                format!("found {}", kind_name(node)),
            );
            return Vec::new();
        }
        let mut out = Vec::new();
        for (name, value) in node.members() {
            let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
            if name.is_empty() || !name.chars().all(token) {
                self.key_error(
                    name,
                    value,
                    format!("invalid header name `{name}`"),
                    "not an HTTP header name",
                );
                continue;
            }
            let values: Vec<&Node> = if value.is_array() {
                value.items().iter().collect()
            } else {
                vec![value]
            };
            for v in values {
                let Some(text) = self.string(v, name) else {
                    continue;
                };
                if let Some(t) = self.template(v, &text, templated, &format!("header `{name}`")) {
                    out.push((name.to_string(), t));
                }
            }
        }
        out
    }

    fn body_file(&mut self, node: &Node, name: &str, templated: bool) -> Option<ResponseBody> {
        // The set's own `__files/` first, then those of the sets it extends.
        let path = self
            .files_dirs
            .iter()
            .map(|d| d.join(name))
            .find(|p| p.is_file())
            .unwrap_or_else(|| {
                self.files_dirs
                    .first()
                    .map_or_else(|| name.into(), |d| d.join(name))
            });
        let escapes = Path::new(name)
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)));
        let bytes = match std::fs::read(&path) {
            Ok(bytes) if !escapes => bytes,
            Ok(_) => {
                self.error(
                    node,
                    "`bodyFileName` must stay inside `__files/`",
                    "no `..` or absolute paths",
                );
                return None;
            }
            Err(e) => {
                let shown = crate::diagnostic::display_path(&path);
                self.error(node, "body file cannot be read", format!("{shown}: {e}"));
                return None;
            }
        };
        if !templated {
            return Some(ResponseBody::Bytes(bytes));
        }
        match String::from_utf8(bytes) {
            Ok(text) => self
                .template(node, &text, true, &format!("body file `{name}`"))
                .map(ResponseBody::Text),
            Err(_) => {
                self.error(
                    node,
                    "a templated body file must be UTF-8 text",
                    name.to_owned(),
                );
                None
            }
        }
    }
}
