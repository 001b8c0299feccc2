//! Decoding a mapping's `request`: method, URL matchers (including path templates),
//! query, header and body matchers, with regexes and JSONPath compiled here.

use assure_fhir::model::{Kind, Node};
use fancy_regex::Regex;

use super::decode::{kind_name, Decoder};
use super::jsonpath::JsonPath;
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
    "headers",
    "bodyPatterns",
];
const VALUE_FIELDS: &[&str] = &[
    "equalTo",
    "contains",
    "matches",
    "doesNotMatch",
    "absent",
    "caseInsensitive",
];
const BODY_FIELDS: &[&str] = &[
    "equalToJson",
    "ignoreExtraElements",
    "ignoreArrayOrder",
    "matchesJsonPath",
    "contains",
    "equalTo",
    "caseInsensitive",
    "matches",
    "doesNotMatch",
];
const JSONPATH_FIELDS: &[&str] = &[
    "expression",
    "equalTo",
    "contains",
    "matches",
    "doesNotMatch",
    "absent",
    "caseInsensitive",
];

impl Decoder<'_> {
    pub(super) fn request(&mut self, node: &Node) -> RequestPattern {
        let mut req = RequestPattern::default();
        let mut url_field: Option<&str> = None;
        let mut path_params = None;
        for (key, value) in self.object(node, "request", REQUEST_FIELDS) {
            let url = match &**key {
                "method" => {
                    req.method = self
                        .string(value, key)
                        .map(|s| s.to_uppercase())
                        .filter(|m| m != "ANY");
                    continue;
                }
                "queryParameters" => {
                    req.query = self.named_matchers(value, "queryParameters");
                    continue;
                }
                "pathParameters" => {
                    req.path_params = self.named_matchers(value, "pathParameters");
                    path_params = Some(value);
                    continue;
                }
                "headers" => {
                    req.headers = self.named_matchers(value, "headers");
                    continue;
                }
                "bodyPatterns" => {
                    if !value.is_array() {
                        self.error(
                            value,
                            "`bodyPatterns` must be an array",
                            format!("found {}", kind_name(value)),
                        );
                    }
                    req.body = value
                        .items()
                        .iter()
                        .filter_map(|p| self.body_pattern(p))
                        .collect();
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

    fn named_matchers(&mut self, node: &Node, what: &str) -> Vec<(String, ValueMatcher)> {
        if !node.is_object() {
            self.error(
                node,
                format!("`{what}` must be an object of name: matcher"),
                format!("found {}", kind_name(node)),
            );
            return Vec::new();
        }
        node.members()
            .iter()
            .filter_map(|(name, m)| {
                Some((
                    name.to_string(),
                    self.value_matcher(m, VALUE_FIELDS, "matcher")?,
                ))
            })
            .collect()
    }

    fn value_matcher(&mut self, node: &Node, allowed: &[&str], what: &str) -> Option<ValueMatcher> {
        let mut kind = None;
        let mut case_insensitive = false;
        for (key, value) in self.object(node, what, allowed) {
            let k = match &**key {
                "equalTo" => self.string(value, key).map(ValueKind::EqualTo),
                "contains" => self.string(value, key).map(ValueKind::Contains),
                "matches" => self.regex(value, key).map(ValueKind::Matches),
                "doesNotMatch" => self.regex(value, key).map(ValueKind::DoesNotMatch),
                "absent" => Some(ValueKind::Absent(self.boolean(value, key))),
                "caseInsensitive" => {
                    case_insensitive = self.boolean(value, key);
                    continue;
                }
                _ => continue,
            };
            if kind.is_some() {
                self.key_error(
                    key,
                    value,
                    format!("more than one operator in this {what}"),
                    "second operator",
                );
            }
            kind = kind.or(k);
        }
        if kind.is_none()
            && node.is_object()
            && node.members().iter().all(|(k, _)| allowed.contains(&&**k))
        {
            self.error(
                node,
                format!("{what} has no operator"),
                "expected equalTo, contains, matches, doesNotMatch or absent",
            );
        }
        Some(ValueMatcher {
            kind: kind?,
            case_insensitive,
        })
    }

    fn body_pattern(&mut self, node: &Node) -> Option<BodyPattern> {
        if let Some(expected) = node.get("equalToJson") {
            self.object(
                node,
                "body pattern",
                &["equalToJson", "ignoreExtraElements", "ignoreArrayOrder"],
            );
            let flag =
                |d: &mut Self, name: &str| node.get(name).is_some_and(|v| d.boolean(v, name));
            let (ignore_extra_elements, ignore_array_order) = (
                flag(self, "ignoreExtraElements"),
                flag(self, "ignoreArrayOrder"),
            );
            // WireMock takes the expected JSON inline or as a string holding JSON.
            let expected = match expected.as_str() {
                Some(text) => match serde_json::from_str(text) {
                    Ok(v) => v,
                    Err(e) => {
                        self.error(
                            expected,
                            "`equalToJson` string is not valid JSON",
                            e.to_string(),
                        );
                        return None;
                    }
                },
                None => expected.to_value(),
            };
            return Some(BodyPattern::EqualToJson {
                expected,
                ignore_extra_elements,
                ignore_array_order,
            });
        }
        if let Some(path) = node.get("matchesJsonPath") {
            self.object(node, "body pattern", &["matchesJsonPath"]);
            return self.json_path(path);
        }
        self.value_matcher(node, BODY_FIELDS, "body pattern")
            .map(BodyPattern::Text)
    }

    fn json_path(&mut self, node: &Node) -> Option<BodyPattern> {
        let (expr_node, matcher) = match node.get("expression") {
            Some(expr) => {
                let mut fields = JSONPATH_FIELDS.to_vec();
                fields.retain(|f| *f != "expression");
                let only_ops = Node::new(
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
                    self.value_matcher(&only_ops, &fields, "matchesJsonPath"),
                )
            }
            None => (node, None),
        };
        let text = self.string(expr_node, "matchesJsonPath")?;
        match JsonPath::parse(&text) {
            Ok(path) => Some(BodyPattern::MatchesJsonPath { path, matcher }),
            Err(e) => {
                let label = format!(
                    "{} (at character {} of the expression)",
                    e.message,
                    e.offset + 1
                );
                self.error(expr_node, "unsupported JSONPath", label)
                    .help.push("supported: $.a.b, $['a'], $.a[0], $.a[*], $..a, [?(@.x == 'y')] with == != < <= > >=".into());
                None
            }
        }
    }
}
