//! Decoding a mapping's `response`: status and message, headers, bodies (inline,
//! JSON, base64, files), delays, faults, proxying and the `response-template`
//! transformer.

use std::sync::Arc;

use assure_fhir::model::Node;

use super::decode::{kind_name, Decoder};
use super::files;
use super::mapping::*;
use super::template::Template;
use crate::diagnostic::closest;

const RESPONSE_FIELDS: &[&str] = &[
    "status",
    "statusMessage",
    "headers",
    "body",
    "jsonBody",
    "base64Body",
    "bodyFileName",
    "fixedDelayMilliseconds",
    "delayDistribution",
    "chunkedDribbleDelay",
    "fault",
    "transformers",
    "transformerParameters",
    "proxyBaseUrl",
    "additionalProxyRequestHeaders",
    "removeProxyRequestHeaders",
    "proxyUrlPrefixToRemove",
    "fromConfiguredStub",
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
                        "only \"response-template\" is built into WireMock",
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
                let near: String = text
                    .get(e.offset..)
                    .unwrap_or("")
                    .chars()
                    .take(30)
                    .collect();
                let message = if e.message.starts_with("invalid handlebars syntax") {
                    "invalid Handlebars syntax".to_owned()
                } else {
                    e.message
                };
                let label = if near.is_empty() {
                    format!("{message} at the end of the template")
                } else {
                    format!("{message} near `{near}`")
                };
                self.error(node, format!("bad response template in {what}"), label);
                None
            }
        }
    }

    pub(super) fn response(&mut self, node: &Node, templated: bool) -> ResponseDef {
        let mut r = ResponseDef {
            templated,
            ..ResponseDef::default()
        };
        let mut body_field: Option<&str> = None;
        let mut proxy_url = None;
        let mut proxy = Proxy {
            base_url: Template::literal(""),
            additional_headers: Vec::new(),
            remove_headers: Vec::new(),
            url_prefix_to_remove: None,
        };
        for (key, value) in self.object(node, "response", RESPONSE_FIELDS) {
            let body = match &**key {
                "status" => {
                    r.status = self.integer(value, key, 100, 599).map_or(200, |s| s as u16);
                    continue;
                }
                "statusMessage" => {
                    r.status_message = self.string(value, key);
                    continue;
                }
                "headers" => {
                    r.headers = self.response_headers(value, templated);
                    continue;
                }
                "fixedDelayMilliseconds" => {
                    r.delay.fixed_ms = self.integer(value, key, 0, 600_000).unwrap_or(0) as u64;
                    continue;
                }
                "delayDistribution" => {
                    r.delay.distribution = self.distribution(value);
                    continue;
                }
                "chunkedDribbleDelay" => {
                    self.object(value, key, &["numberOfChunks", "totalDuration"]);
                    let n = value
                        .get("numberOfChunks")
                        .and_then(|v| self.integer(v, "numberOfChunks", 1, 100_000));
                    let d = value
                        .get("totalDuration")
                        .and_then(|v| self.integer(v, "totalDuration", 0, 600_000));
                    match (n, d) {
                        (Some(n), Some(d)) => r.delay.dribble = Some((n as u32, d as u64)),
                        _ => {
                            self.error(
                                value,
                                "`chunkedDribbleDelay` needs numberOfChunks and totalDuration",
                                "here",
                            );
                        }
                    }
                    continue;
                }
                "fault" => {
                    r.fault = self.fault(value);
                    continue;
                }
                "transformerParameters" => {
                    r.parameters = value.to_value();
                    continue;
                }
                "proxyBaseUrl" => {
                    proxy_url = self
                        .string(value, key)
                        .and_then(|u| self.template(value, &u, templated, "`proxyBaseUrl`"));
                    continue;
                }
                "additionalProxyRequestHeaders" => {
                    proxy.additional_headers = self
                        .response_headers(value, templated)
                        .into_iter()
                        .filter_map(|(k, mut v)| Some((k, v.pop()?)))
                        .collect();
                    continue;
                }
                "removeProxyRequestHeaders" => {
                    proxy.remove_headers = value
                        .items()
                        .iter()
                        .filter_map(|v| self.string(v, key))
                        .collect();
                    continue;
                }
                "proxyUrlPrefixToRemove" => {
                    proxy.url_prefix_to_remove = self.string(value, key);
                    continue;
                }
                "fromConfiguredStub" | "transformers" => continue,
                "body" => self
                    .string(value, key)
                    .and_then(|t| self.template(value, &t, templated, "`body`"))
                    .map(ResponseBody::Text),
                "jsonBody" => {
                    // WireMock writes a `jsonBody` compactly, members in order.
                    let text = value.to_value().to_string();
                    self.template(value, &text, templated, "`jsonBody`")
                        .map(ResponseBody::Text)
                }
                "base64Body" => self.string(value, key).and_then(|t| {
                    use base64::Engine;
                    match base64::engine::general_purpose::STANDARD.decode(t.trim()) {
                        Ok(bytes) => Some(ResponseBody::Bytes(Arc::new(bytes))),
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
        if let Some(base_url) = proxy_url {
            proxy.base_url = base_url;
            r.proxy = Some(proxy);
        }
        r
    }

    fn fault(&mut self, value: &Node) -> Option<Fault> {
        let name = self.string(value, "fault")?;
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
    }

    fn distribution(&mut self, value: &Node) -> Option<Distribution> {
        let kind = value.get("type").and_then(|t| self.string(t, "type"));
        let num = |d: &mut Self, f: &str| -> Option<f64> {
            let v = value.get(f)?;
            match &v.kind {
                assure_fhir::model::Kind::Number(n) => n.parse().ok(),
                _ => {
                    d.error(
                        v,
                        format!("`{f}` must be a number"),
                        format!("found {}", kind_name(v)),
                    );
                    None
                }
            }
        };
        match kind.as_deref() {
            Some("uniform") => {
                self.object(value, "delayDistribution", &["type", "lower", "upper"]);
                let (lower, upper) = (num(self, "lower")?, num(self, "upper")?);
                if !(0.0..=600_000.0).contains(&lower) || upper < lower || upper > 600_000.0 {
                    self.error(
                        value,
                        "bad uniform delay",
                        "need 0 <= lower <= upper <= 600000",
                    );
                    return None;
                }
                Some(Distribution::Uniform {
                    lower: lower as u64,
                    upper: upper as u64,
                })
            }
            Some("lognormal") => {
                self.object(
                    value,
                    "delayDistribution",
                    &["type", "median", "sigma", "maxValue"],
                );
                let (median, sigma) = (num(self, "median")?, num(self, "sigma")?);
                Some(Distribution::LogNormal {
                    median,
                    sigma,
                    max: num(self, "maxValue"),
                })
            }
            other => {
                self.error(
                    value,
                    format!("unknown delay distribution `{}`", other.unwrap_or("")),
                    "expected type uniform or lognormal",
                );
                None
            }
        }
    }

    fn response_headers(&mut self, node: &Node, templated: bool) -> Vec<(String, Vec<Template>)> {
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
            let mut templates = Vec::new();
            for v in values {
                let text = match &v.kind {
                    assure_fhir::model::Kind::Number(n) => n.to_string(),
                    assure_fhir::model::Kind::Bool(b) => b.to_string(),
                    _ => match self.string(v, name) {
                        Some(t) => t,
                        None => continue,
                    },
                };
                if let Some(t) = self.template(v, &text, templated, &format!("header `{name}`")) {
                    templates.push(t);
                }
            }
            out.push((name.to_string(), templates));
        }
        out
    }

    fn body_file(&mut self, node: &Node, name: &str, templated: bool) -> Option<ResponseBody> {
        if templated && name.contains("{{") {
            return self
                .template(node, name, true, "`bodyFileName`")
                .map(ResponseBody::FileTemplate);
        }
        let bytes = match files::read_from(self.files_dirs, name) {
            Ok(b) => b,
            Err(e) => {
                self.error(
                    node,
                    "body file cannot be read",
                    format!("`{name}` under __files/: {e}"),
                )
                .help
                .push("a body file is a regular file inside the stub set's __files/ folder".into());
                return None;
            }
        };
        let template = if templated {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            Some(self.template(node, &text, true, &format!("body file `{name}`"))?)
        } else {
            None
        };
        Some(ResponseBody::File {
            bytes: Arc::new(bytes),
            template,
        })
    }
}
