//! Decoding a mapping's `request`: method, URL matchers (including path templates),
//! query, form, header, cookie, auth, body and multipart matchers, and host, port,
//! scheme and client address. The value matchers themselves are in
//! `decode_matcher.rs`.

use assure_fhir::model::Node;
use fancy_regex::Regex;

use super::decode::{kind_name, Decoder};
use super::mapping::*;

const REQUEST_FIELDS: &[&str] = &[
    "method",
    "url",
    "urlPath",
    "urlPattern",
    "urlPathPattern",
    "urlPathTemplate",
    "pathParameters",
    "queryParameters",
    "formParameters",
    "headers",
    "cookies",
    "basicAuthCredentials",
    "bodyPatterns",
    "multipartPatterns",
    "host",
    "port",
    "scheme",
    "clientIp",
];

impl Decoder<'_> {
    /// A request pattern alone (the admin API's count, find and remove).
    pub(super) fn request_pattern(&mut self, node: &Node) -> RequestPattern {
        self.request(node)
    }

    pub(super) fn request(&mut self, node: &Node) -> RequestPattern {
        let mut req = RequestPattern::default();
        let mut url_field: Option<&str> = None;
        let mut path_params = None;
        for (key, value) in self.object(node, "request", REQUEST_FIELDS) {
            let url = match &**key {
                "method" => {
                    req.method = self.string(value, key).filter(|m| m != "ANY");
                    continue;
                }
                "queryParameters" => {
                    req.query = self.named_multi(value, key);
                    continue;
                }
                "formParameters" => {
                    req.form = self.named_multi(value, key);
                    continue;
                }
                "headers" => {
                    req.headers = self.named_multi(value, key);
                    continue;
                }
                "pathParameters" => {
                    req.path_params = self.named_single(value, key);
                    path_params = Some(value);
                    continue;
                }
                "cookies" => {
                    req.cookies = self.named_single(value, key);
                    continue;
                }
                "basicAuthCredentials" => {
                    self.object(value, "basicAuthCredentials", &["username", "password"]);
                    let get = |d: &mut Self, f: &str| {
                        value
                            .get(f)
                            .and_then(|v| d.string(v, f))
                            .unwrap_or_default()
                    };
                    req.basic_auth = Some((get(self, "username"), get(self, "password")));
                    continue;
                }
                "bodyPatterns" => {
                    req.body = self.pattern_list(value, key);
                    continue;
                }
                "multipartPatterns" => {
                    req.multipart = self.multipart(value);
                    continue;
                }
                "host" => {
                    req.host = self.value_pattern(value, "host");
                    continue;
                }
                "clientIp" => {
                    req.client_ip = self.value_pattern(value, "clientIp");
                    continue;
                }
                "port" => {
                    req.port = self.integer(value, key, 0, 65535).map(|p| p as u16);
                    continue;
                }
                "scheme" => {
                    req.scheme = self.string(value, key);
                    continue;
                }
                "url" => self.string(value, key).map(UrlMatch::Url),
                "urlPath" => self.string(value, key).map(UrlMatch::Path),
                "urlPattern" => self.regex(value, key).map(UrlMatch::Pattern),
                "urlPathPattern" => self.regex(value, key).map(UrlMatch::PathPattern),
                "urlPathTemplate" => self.path_template(value),
                _ => continue,
            };
            if let Some(previous) = url_field.replace(key) {
                self.key_error(
                    key,
                    value,
                    format!("`{key}` and `{previous}` both given"),
                    "second URL matcher",
                )
                .help
                .push(
                    "a request has at most one of url, urlPath, urlPattern, urlPathPattern, urlPathTemplate".into(),
                );
            }
            req.url = url;
        }
        if let Some(node) = path_params {
            self.check_path_params(node, &req);
        }
        req
    }

    fn multipart(&mut self, node: &Node) -> Vec<MultipartPattern> {
        if !node.is_array() {
            self.error(
                node,
                "`multipartPatterns` must be an array",
                format!("found {}", kind_name(node)),
            );
            return Vec::new();
        }
        let mut out = Vec::new();
        for item in node.items() {
            let mut p = MultipartPattern {
                all: false,
                headers: Vec::new(),
                body: Vec::new(),
            };
            for (key, value) in self.object(
                item,
                "multipart pattern",
                &[
                    "matchingType",
                    "headers",
                    "bodyPatterns",
                    "name",
                    "filename",
                ],
            ) {
                match &**key {
                    "matchingType" => match self.string(value, key).as_deref() {
                        Some("ALL") => p.all = true,
                        Some("ANY") => p.all = false,
                        Some(other) => {
                            self.error(
                                value,
                                format!("unknown matchingType `{other}`"),
                                "expected ALL or ANY",
                            );
                        }
                        None => {}
                    },
                    "headers" => p.headers = self.named_multi(value, key),
                    "bodyPatterns" => p.body = self.pattern_list(value, key),
                    _ => {}
                }
            }
            out.push(p);
        }
        out
    }

    /// `/Patient/{id}/_history/{vid}`: each `{name}` is one whole path segment.
    fn path_template(&mut self, node: &Node) -> Option<UrlMatch> {
        let text = self.string(node, "urlPathTemplate")?;
        let mut pattern = String::from("^");
        let mut names: Vec<String> = Vec::new();
        for (i, segment) in text.split('/').enumerate() {
            if i > 0 {
                pattern.push('/');
            }
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) if !name.is_empty() && !names.iter().any(|n| n == name) => {
                    names.push(name.to_owned());
                    pattern.push_str("([^/]+)");
                }
                Some(name) => {
                    let problem = if name.is_empty() {
                        "an empty parameter name"
                    } else {
                        "a repeated parameter name"
                    };
                    self.error(
                        node,
                        "bad `urlPathTemplate`",
                        format!("`{segment}` is {problem}"),
                    );
                    return None;
                }
                None if segment.contains(['{', '}']) => {
                    self.error(
                        node,
                        "bad `urlPathTemplate`",
                        format!("`{segment}`: a parameter must be a whole segment, like `{{id}}`"),
                    );
                    return None;
                }
                None => pattern.push_str(&fancy_regex::escape(segment)),
            }
        }
        pattern.push('$');
        let regex = Regex::new(&pattern).ok()?;
        Some(UrlMatch::PathTemplate {
            template: text,
            regex,
            names,
        })
    }

    fn check_path_params(&mut self, node: &Node, req: &RequestPattern) {
        let names: &[String] = match &req.url {
            Some(UrlMatch::PathTemplate { names, .. }) => names,
            _ => {
                self.error(
                    node,
                    "`pathParameters` needs a `urlPathTemplate`",
                    "no path template names these parameters",
                );
                return;
            }
        };
        for (name, value) in node.members() {
            if !names.iter().any(|n| **n == **name) {
                let d = self.key_error(
                    name,
                    value,
                    format!("`{name}` is not a parameter of the path template"),
                    "not in urlPathTemplate",
                );
                d.help
                    .push(format!("the template has: {}", names.join(", ")));
            }
        }
    }
}
