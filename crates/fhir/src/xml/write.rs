//! [`Node`] in the JSON shape -> FHIR XML, for round trips: primitives become `value`
//! attributes (with their `_name` id and extensions folded back in), element ids and
//! extension urls become attributes, resources are wrapped in their element.

use super::types::{Content, TypeInfo, TypeProvider};
use super::XmlError;
use crate::model::{Kind, Node};

/// Writes one resource as FHIR XML (indented by two spaces).
pub fn write_resource(node: &Node, types: &dyn TypeProvider) -> Result<String, XmlError> {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    Writer { types }.resource(node, 0, &mut out, true)?;
    out.push('\n');
    Ok(out)
}

struct Writer<'a> {
    types: &'a dyn TypeProvider,
}

fn err(node: &Node, message: String) -> XmlError {
    XmlError {
        message,
        pos: node.pos,
    }
}

impl Writer<'_> {
    fn resource(
        &self,
        node: &Node,
        depth: usize,
        out: &mut String,
        root: bool,
    ) -> Result<(), XmlError> {
        let rt = node
            .resource_type()
            .ok_or_else(|| err(node, "a resource needs a `resourceType`".into()))?;
        let info = self
            .types
            .type_info(rt)
            .ok_or_else(|| err(node, format!("unknown resource type {rt}")))?;
        indent(out, depth);
        out.push('<');
        out.push_str(rt);
        if root {
            out.push_str(" xmlns=\"http://hl7.org/fhir\"");
        }
        out.push('>');
        self.members(node, &info, rt, depth + 1, out, &["resourceType"])?;
        indent(out, depth);
        out.push_str("</");
        out.push_str(rt);
        out.push('>');
        Ok(())
    }

    /// The members of an object at `path` in `info`, skipping those written as
    /// attributes.
    fn members(
        &self,
        node: &Node,
        info: &TypeInfo,
        path: &str,
        depth: usize,
        out: &mut String,
        skip: &[&str],
    ) -> Result<(), XmlError> {
        for (key, value) in node.members() {
            let key: &str = key;
            if skip.contains(&key) {
                continue;
            }
            let (name, extra) = match key.strip_prefix('_') {
                // `_name` is written with `name`, unless `name` is absent.
                Some(base) if node.get(base).is_some() => continue,
                Some(base) => (base, Some(value)),
                None => (key, node.get(&format!("_{key}"))),
            };
            let value = if key.starts_with('_') {
                None
            } else {
                Some(value)
            };
            let child = info
                .child(path, name)
                .ok_or_else(|| err(node, format!("unknown element {path}.{name}")))?;
            let count = value
                .map(|v| if v.is_array() { v.items().len() } else { 1 })
                .unwrap_or(0)
                .max(
                    extra
                        .map(|e| if e.is_array() { e.items().len() } else { 1 })
                        .unwrap_or(0),
                );
            for i in 0..count {
                self.element(
                    name,
                    pick(value, i),
                    pick(extra, i),
                    &child.content,
                    depth,
                    out,
                )?;
            }
        }
        Ok(())
    }

    fn element(
        &self,
        name: &str,
        value: Option<&Node>,
        extra: Option<&Node>,
        content: &Content,
        depth: usize,
        out: &mut String,
    ) -> Result<(), XmlError> {
        match content {
            Content::Primitive(code) => {
                indent(out, depth);
                out.push('<');
                out.push_str(name);
                if let Some(id) = extra.and_then(|e| e.get("id")).and_then(Node::as_str) {
                    attr(out, "id", id);
                }
                if let Some(v) = value {
                    let text = match &v.kind {
                        Kind::String(s) => s.to_string(),
                        Kind::Number(n) => n.to_string(),
                        Kind::Bool(b) => b.to_string(),
                        _ => return Err(err(v, format!("{name} should be a primitive value"))),
                    };
                    attr(out, "value", &text);
                }
                let children = extra.filter(|e| e.members().iter().any(|(k, _)| &**k != "id"));
                match (children, self.types.type_info(code)) {
                    (Some(e), Some(info)) => {
                        out.push('>');
                        self.members(e, &info, code, depth + 1, out, &["id"])?;
                        indent(out, depth);
                        out.push_str("</");
                        out.push_str(name);
                        out.push('>');
                    }
                    _ => out.push_str("/>"),
                }
            }
            Content::Xhtml => {
                let v = value.ok_or_else(|| XmlError {
                    message: format!("{name} has no XHTML"),
                    pos: Default::default(),
                })?;
                indent(out, depth);
                out.push_str(
                    v.as_str()
                        .ok_or_else(|| err(v, "div should be a string".into()))?,
                );
            }
            Content::Resource => {
                let Some(v) = value else { return Ok(()) };
                indent(out, depth);
                out.push('<');
                out.push_str(name);
                out.push('>');
                self.resource(v, depth + 1, out, false)?;
                indent(out, depth);
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
            Content::Complex { type_name, path } => {
                let Some(v) = value else { return Ok(()) };
                let info = self
                    .types
                    .type_info(type_name)
                    .ok_or_else(|| err(v, format!("no definition of the type {type_name}")))?;
                indent(out, depth);
                out.push('<');
                out.push_str(name);
                let mut skip = vec!["id"];
                if let Some(id) = v.get("id").and_then(Node::as_str) {
                    attr(out, "id", id);
                }
                if type_name == "Extension" {
                    skip.push("url");
                    if let Some(url) = v.get("url").and_then(Node::as_str) {
                        attr(out, "url", url);
                    }
                }
                if v.members().iter().all(|(k, _)| skip.contains(&&**k)) {
                    out.push_str("/>");
                    return Ok(());
                }
                out.push('>');
                self.members(v, &info, path, depth + 1, out, &skip)?;
                indent(out, depth);
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
        }
        Ok(())
    }
}

/// Item `i` of an array, or the value itself when it is not an array; nulls are none.
fn pick(n: Option<&Node>, i: usize) -> Option<&Node> {
    let n = n?;
    let item = if n.is_array() {
        n.items().get(i)
    } else {
        Some(n)
    };
    item.filter(|x| !matches!(x.kind, Kind::Null))
}

fn indent(out: &mut String, depth: usize) {
    if !out.ends_with('\n') && !out.is_empty() {
        out.push('\n');
    }
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out.push('"');
}
