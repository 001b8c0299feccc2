//! FHIR XML -> [`Node`] in the JSON shape, driven by type definitions: which elements
//! repeat, which are primitives (and of what JSON type), which hold resources.

use std::sync::Arc;

use super::dom::El;
use super::types::{json_kind, Child, Content, JsonKind, TypeInfo, TypeProvider};
use super::XmlError;
use crate::model::{Kind, Node, Pos};

const FHIR_NS: &str = "http://hl7.org/fhir";

/// Reads one FHIR resource from XML text.
pub fn parse_resource(text: &str, types: &dyn TypeProvider) -> Result<Node, XmlError> {
    let root = super::dom::read(text)?;
    match root.namespace.as_deref() {
        Some(FHIR_NS) | None => {}
        Some(other) => {
            return Err(XmlError {
                message: format!(
                    "not FHIR: the root element <{}> is in namespace {other}, not {FHIR_NS}",
                    root.name
                ),
                pos: root.pos,
            })
        }
    }
    Reader { text, types }.resource(&root)
}

struct Reader<'a> {
    text: &'a str,
    types: &'a dyn TypeProvider,
}

type Members = Vec<(crate::model::Name, Node)>;

impl Reader<'_> {
    fn resource(&self, el: &El) -> Result<Node, XmlError> {
        let info = self
            .types
            .type_info(&el.name)
            .filter(|t| t.kind == "resource")
            .ok_or_else(|| XmlError {
                message: format!("not FHIR: <{}> is not a known resource type", el.name),
                pos: el.pos,
            })?;
        let mut members: Members = vec![("resourceType".into(), string(&el.name, el.pos))];
        self.children(el, &info, &info.name, &mut members)?;
        Ok(Node::new(Kind::Object(members), el.pos))
    }

    /// The element children of `el`, which sits at `path` in `info`, added to
    /// `members` with repeated names gathered into arrays.
    fn children(
        &self,
        el: &El,
        info: &Arc<TypeInfo>,
        path: &str,
        members: &mut Members,
    ) -> Result<(), XmlError> {
        let mut names: Vec<&str> = Vec::new();
        for c in &el.children {
            if !names.contains(&c.name.as_str()) {
                names.push(&c.name);
            }
        }
        for name in names {
            let group: Vec<&El> = el.children.iter().filter(|c| c.name == name).collect();
            let first = group[0];
            let Some(child) = info.child(path, name) else {
                // Unknown elements are kept (as JSON would keep an unknown property),
                // so the validator can report them.
                let values: Vec<Node> = group.iter().map(|c| lenient(c)).collect();
                members.push((name.into(), collapse(values, first.pos)));
                continue;
            };
            if !child.many && group.len() > 1 {
                return Err(XmlError {
                    message: format!(
                        "<{name}> appears {} times in {path}, but may appear at most once",
                        group.len()
                    ),
                    pos: group[1].pos,
                });
            }
            let mut values = Vec::new();
            let mut extras = Vec::new();
            for c in &group {
                let (value, extra) = self.element(c, &child)?;
                values.push(value);
                extras.push(extra);
            }
            let has_value = values.iter().any(Option::is_some);
            let has_extra = extras.iter().any(Option::is_some);
            let fill = |v: Vec<Option<Node>>| -> Vec<Node> {
                v.into_iter()
                    .map(|n| n.unwrap_or_else(|| Node::new(Kind::Null, first.pos)))
                    .collect()
            };
            if has_value {
                let values = fill(values);
                let node = if child.many {
                    Node::new(Kind::Array(values), first.pos)
                } else {
                    values
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| Node::new(Kind::Null, first.pos))
                };
                members.push((name.into(), node));
            }
            if has_extra {
                let extras = fill(extras);
                let node = if child.many {
                    Node::new(Kind::Array(extras), first.pos)
                } else {
                    extras
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| Node::new(Kind::Null, first.pos))
                };
                members.push((format!("_{name}").into(), node));
            }
        }
        Ok(())
    }

    /// One element: its JSON value, and for primitives the `_name` object holding its
    /// id and extensions.
    fn element(&self, el: &El, child: &Child) -> Result<(Option<Node>, Option<Node>), XmlError> {
        match &child.content {
            Content::Primitive(code) => {
                let value = el.attr("value").map(|v| primitive(code, v, el.pos));
                let extra = if el.attr("id").is_some() || !el.children.is_empty() {
                    let mut members: Members = Vec::new();
                    if let Some(id) = el.attr("id") {
                        members.push(("id".into(), string(id, el.pos)));
                    }
                    match self.types.type_info(code) {
                        Some(info) => self.children(el, &info, &info.name.clone(), &mut members)?,
                        None => lenient_children(el, &mut members),
                    }
                    Some(Node::new(Kind::Object(members), el.pos))
                } else {
                    None
                };
                Ok((value, extra))
            }
            Content::Xhtml => {
                let raw = self.text.get(el.span.0..el.span.1).unwrap_or_default();
                Ok((Some(string(&normalise_xhtml(raw), el.pos)), None))
            }
            Content::Resource => {
                let inner: Vec<&El> = el.children.iter().collect();
                match inner.as_slice() {
                    [one] => Ok((Some(self.resource(one)?), None)),
                    _ => Err(XmlError {
                        message: format!(
                            "<{}> must hold exactly one resource, found {}",
                            el.name,
                            inner.len()
                        ),
                        pos: el.pos,
                    }),
                }
            }
            Content::Complex { type_name, path } => {
                let info = self.types.type_info(type_name).ok_or_else(|| XmlError {
                    message: format!("no definition of the type {type_name} (for <{}>)", el.name),
                    pos: el.pos,
                })?;
                let mut members: Members = Vec::new();
                if let Some(id) = el.attr("id") {
                    members.push(("id".into(), string(id, el.pos)));
                }
                if let Some(url) = el.attr("url") {
                    members.push(("url".into(), string(url, el.pos)));
                }
                self.children(el, &info, path, &mut members)?;
                Ok((Some(Node::new(Kind::Object(members), el.pos)), None))
            }
        }
    }
}

fn string(s: &str, pos: Pos) -> Node {
    Node::new(Kind::String(s.into()), pos)
}

/// A primitive's `value` as JSON would hold it; text that is not a valid number or
/// boolean stays a string, for the validator to report.
fn primitive(code: &str, value: &str, pos: Pos) -> Node {
    match json_kind(code) {
        JsonKind::Bool if value == "true" || value == "false" => {
            Node::new(Kind::Bool(value == "true"), pos)
        }
        JsonKind::Number
            if crate::model::parse_json(value).is_ok_and(|n| matches!(n.kind, Kind::Number(_))) =>
        {
            Node::new(Kind::Number(value.into()), pos)
        }
        _ => string(value, pos),
    }
}

fn lenient(el: &El) -> Node {
    if el.children.is_empty() {
        if let Some(v) = el.attr("value") {
            return string(v, el.pos);
        }
    }
    let mut members: Members = Vec::new();
    for key in ["id", "url"] {
        if let Some(v) = el.attr(key) {
            members.push((key.into(), string(v, el.pos)));
        }
    }
    lenient_children(el, &mut members);
    Node::new(Kind::Object(members), el.pos)
}

fn lenient_children(el: &El, members: &mut Members) {
    let mut names: Vec<&str> = Vec::new();
    for c in &el.children {
        if !names.contains(&c.name.as_str()) {
            names.push(&c.name);
        }
    }
    for name in names {
        let values: Vec<Node> = el
            .children
            .iter()
            .filter(|c| c.name == name)
            .map(lenient)
            .collect();
        let pos = values.first().map(|v| v.pos).unwrap_or_default();
        members.push((name.into(), collapse(values, pos)));
    }
}

fn collapse(mut values: Vec<Node>, pos: Pos) -> Node {
    if values.len() == 1 {
        values.remove(0)
    } else {
        Node::new(Kind::Array(values), pos)
    }
}

/// Narrative as JSON carries it: character references that XML needed only as an
/// encoding choice (`&#39;`, `&apos;`, `&#xE9;`, `&quot;` in text) become the
/// characters themselves; what markup needs stays escaped.
pub fn normalise_xhtml(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut in_tag = false;
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        if c != '&' {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                _ => {}
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let Some(end) = rest.find(';').filter(|end| *end <= 12) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "apos" => Some('\''),
            "quot" => Some('"'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some('"') if in_tag => out.push_str("&quot;"),
            Some(c) if !matches!(c, '&' | '<' | '>') => out.push(c),
            Some('&') => out.push_str("&amp;"),
            Some('<') => out.push_str("&lt;"),
            Some('>') => out.push_str("&gt;"),
            _ => out.push_str(&rest[..=end]),
        }
        rest = &rest[end + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn xhtml_character_references() {
        assert_eq!(
            super::normalise_xhtml(
                "<p a=\"&quot;\">it&#39;s &amp; &#x3C; &eacute; &#233; &quot;</p>"
            ),
            "<p a=\"&quot;\">it's &amp; &lt; &eacute; é \"</p>"
        );
        // A lone ampersand before multi-byte text is kept, not split.
        assert_eq!(super::normalise_xhtml("a & ééééééé;"), "a & ééééééé;");
    }
}
