//! Checks a user opts into (`--security-checks`, `--no-html-in-markdown`,
//! `--no-example-urls`): what a value may contain beyond what its type allows.
//!
//! Narrative: "The XHTML content SHALL NOT contain a head, a body element, external
//! stylesheet references, deprecated elements, scripts, forms, base/link/xlink,
//! frames, iframes, objects or event related attributes (e.g. onClick)" (R4
//! narrative.html#security); txt-1 reports those. The string and markdown rules are
//! the HL7 Java validator's options, not requirements of the specification, so they
//! apply only when asked for.

use super::walk::{example_url, Walker};
use crate::model::Node;
use crate::outcome::{IssueCode, Severity};

/// Elements whose presence in markdown means active content.
const ACTIVE_ELEMENTS: &[&str] = &[
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "base", "link",
    "meta", "style",
];

impl Walker<'_> {
    /// The opted-in rules on one primitive value of type `code`.
    pub(crate) fn value_policies(&mut self, code: &str, node: &Node, path: &str, id: &str) {
        let o = &self.v.options;
        if !(o.security_checks || o.no_html_in_markdown || o.no_example_urls) {
            return;
        }
        let Some(text) = node.as_str() else { return };
        let (security, no_html, no_examples) =
            (o.security_checks, o.no_html_in_markdown, o.no_example_urls);
        let mut found: Vec<String> = Vec::new();
        let mut examples = None;
        match code {
            "xhtml" => {
                if security {
                    found.extend(xhtml_unsafe_links(text));
                }
            }
            "markdown" => {
                if no_html {
                    if let Some(tag) = html_tags(text).next() {
                        found.push(format!(
                            "the markdown contains an HTML tag `<{}`: HTML is not allowed in markdown here",
                            tag.name
                        ));
                    }
                } else if security {
                    found.extend(active_markdown(text));
                }
            }
            "base64Binary" => {}
            _ => {
                if security {
                    if let Some(tag) = html_tags(text).next() {
                        found.push(format!(
                            "the string contains an HTML tag `<{}`, which is not allowed in strings when checking security",
                            tag.name
                        ));
                    }
                    if is_uri_type(code) && runs_code(text) {
                        found.push(format!("the URL `{text}` runs code when followed"));
                    }
                }
                if no_examples && is_uri_type(code) && example_url(text) {
                    examples = Some(format!("example URLs are not allowed here (`{text}`)"));
                }
            }
        }
        for message in found {
            self.issue(
                Severity::Error,
                IssueCode::Security,
                message,
                node,
                path,
                Some(id),
            );
        }
        if let Some(message) = examples {
            self.issue(
                Severity::Error,
                IssueCode::Value,
                message,
                node,
                path,
                Some(id),
            );
        }
    }

    /// `Reference.reference` is a string, but it is a URL all the same.
    pub(crate) fn reference_policies(&mut self, node: &Node, path: &str, id: &str) {
        if !self.v.options.no_example_urls {
            return;
        }
        let Some(r) = node.get("reference") else {
            return;
        };
        if let Some(text) = r.as_str().filter(|t| example_url(t)) {
            self.issue(
                Severity::Error,
                IssueCode::Value,
                format!("example URLs are not allowed here (`{text}`)"),
                r,
                &format!("{path}.reference"),
                Some(id),
            );
        }
    }
}

fn is_uri_type(code: &str) -> bool {
    matches!(code, "uri" | "url" | "canonical")
}

/// A scheme that makes a browser run what follows.
fn runs_code(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("javascript:")
        || lower.starts_with("vbscript:")
        || (lower.starts_with("data:") && lower[5..].trim_start().starts_with("text/html"))
}

/// An HTML tag as a renderer would read one: `<name ...>`, `</name>` or `<name/>`,
/// where the name starts with a letter.
pub(crate) struct Tag<'t> {
    pub name: &'t str,
    pub attributes: &'t str,
    pub closing: bool,
}

pub(crate) fn html_tags(text: &str) -> impl Iterator<Item = Tag<'_>> {
    let mut rest = text;
    std::iter::from_fn(move || loop {
        let at = rest.find('<')?;
        let after = &rest[at + 1..];
        rest = after;
        let closing = after.starts_with('/');
        let body = after.strip_prefix('/').unwrap_or(after);
        let name_len = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == ':'))
            .unwrap_or(body.len());
        if name_len == 0 || !body.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let name = &body[..name_len];
        let tail = &body[name_len..];
        let Some(close) = tail.find('>') else {
            continue;
        };
        let inside = &tail[..close];
        // A name must end the tag or be followed by whitespace or `/`; no new tag
        // may open inside it.
        let fits = inside.is_empty()
            || inside.starts_with(|c: char| c.is_whitespace() || c == '/') && !inside.contains('<');
        if fits {
            rest = &tail[close + 1..];
            return Some(Tag {
                name,
                attributes: inside,
                closing,
            });
        }
    })
}

/// Active content in markdown: script-like elements, event handler attributes, and
/// links (HTML or markdown syntax) whose URL runs code.
fn active_markdown(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for tag in html_tags(text).filter(|t| !t.closing) {
        let name = tag.name.to_ascii_lowercase();
        if ACTIVE_ELEMENTS.contains(&name.as_str()) {
            out.push(format!(
                "the markdown contains active content: a <{name}> element"
            ));
        } else if let Some(handler) = event_handler(tag.attributes) {
            out.push(format!(
                "the markdown contains active content: the event handler `{handler}` on <{name}>"
            ));
        } else if attribute_urls(tag.attributes).any(runs_code) {
            out.push(format!(
                "the markdown contains a link that runs code, on <{name}>"
            ));
        }
    }
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let target = rest.split(')').next().unwrap_or(rest);
        if runs_code(target) {
            out.push(format!("the markdown links to `{target}`, which runs code"));
        }
    }
    out
}

/// The `name=value` pairs of a tag (values quoted, or not; a bare name has "").
pub(crate) fn attributes(mut s: &str) -> impl Iterator<Item = (&str, &str)> {
    std::iter::from_fn(move || {
        s = s.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if s.is_empty() {
            return None;
        }
        let name_end = s
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(s.len());
        let name = &s[..name_end];
        s = s[name_end..].trim_start();
        let Some(rest) = s.strip_prefix('=') else {
            return Some((name, ""));
        };
        let rest = rest.trim_start();
        let (value, after) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => match rest[1..].find(q) {
                Some(end) => (&rest[1..end + 1], &rest[end + 2..]),
                None => (&rest[1..], ""),
            },
            _ => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        s = after;
        Some((name, value))
    })
}

/// `onclick=`, `onload =`: the first event handler attribute.
fn event_handler(tag_attributes: &str) -> Option<&str> {
    attributes(tag_attributes).map(|(n, _)| n).find(|n| {
        let lower = n.to_ascii_lowercase();
        lower.len() > 2
            && lower.starts_with("on")
            && lower[2..].bytes().all(|b| b.is_ascii_lowercase())
    })
}

/// Values of `href` and `src` attributes.
fn attribute_urls(tag_attributes: &str) -> impl Iterator<Item = &str> {
    attributes(tag_attributes)
        .filter(|(n, _)| n.eq_ignore_ascii_case("href") || n.eq_ignore_ascii_case("src"))
        .map(|(_, v)| v)
}

/// Narrative links and images whose URL runs code.
fn xhtml_unsafe_links(text: &str) -> Vec<String> {
    html_tags(text)
        .flat_map(|t| attribute_urls(t.attributes).map(move |u| (t.name, u)))
        .filter(|(_, u)| runs_code(u))
        .map(|(name, u)| format!("the narrative's <{name}> links to `{u}`, which runs code"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<&str> {
        html_tags(text).map(|t| t.name).collect()
    }

    #[test]
    fn finds_tags_as_a_renderer_would() {
        assert_eq!(names("Standard <script>x</script>"), ["script", "script"]);
        assert_eq!(names("<resource type>\\<id>"), ["resource", "id"]);
        assert_eq!(names("<br/> and <img src='x'>"), ["br", "img"]);
        assert!(names("x < 5 and y > 3").is_empty());
        assert!(names("a<5>b, <-> and <>").is_empty());
        assert!(names("no tags at all").is_empty());
    }

    #[test]
    fn finds_active_content_in_markdown() {
        assert!(active_markdown("*bold* and <b>bold</b>").is_empty());
        assert_eq!(active_markdown("<script>alert(1)</script>").len(), 1);
        assert_eq!(active_markdown("<img src=x onerror=alert(1)>").len(), 1);
        assert_eq!(active_markdown("[click](javascript:alert(1))").len(), 1);
        assert!(active_markdown("[spec](https://hl7.org/fhir)").is_empty());
        assert_eq!(event_handler(" src=x onError='y'"), Some("onError"));
        assert_eq!(event_handler(" alt=\"only\""), None);
        assert_eq!(event_handler(" alt=\"x onload=y\" title=t"), None);
        let pairs: Vec<_> = attributes(" a=1 b='2 3' c=\"4\" d /").collect();
        assert_eq!(pairs, [("a", "1"), ("b", "2 3"), ("c", "4"), ("d", "")]);
    }

    #[test]
    fn urls_that_run_code() {
        assert!(runs_code("javascript:alert(1)"));
        assert!(runs_code(" VBScript:x"));
        assert!(runs_code("data:text/html,<b>x</b>"));
        assert!(!runs_code("data:image/png;base64,AA=="));
        assert!(!runs_code("https://example.org/javascript:"));
        assert_eq!(
            xhtml_unsafe_links(r#"<div><a href="javascript:x()">x</a><img src="a.png"/></div>"#)
                .len(),
            1
        );
    }
}
