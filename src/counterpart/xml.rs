//! XML for `equalToXml`, `matchesXPath` and the `xPath` template helper: documents
//! read with sxd-document into a small owned tree (comparable, `Send`), XPath 1.0
//! evaluated with sxd-xpath, and element nodes written back as XML text.

use sxd_document::dom;
use sxd_xpath::nodeset::Node;

/// An element or text, namespace-resolved, comments and processing instructions
/// dropped, whitespace-only text dropped and other text trimmed (XMLUnit's
/// `ignoreWhitespace`, as WireMock configures it).
#[derive(Debug, Clone, PartialEq)]
pub enum XNode {
    Element {
        ns: Option<String>,
        /// The name as written (prefix included), for messages.
        qname: String,
        local: String,
        attrs: Vec<(Option<String>, String, String)>,
        children: Vec<XNode>,
    },
    Text(String),
}

/// Parses `text`; `Err` says why it is not XML.
pub fn parse_tree(text: &str) -> Result<XNode, String> {
    let package = sxd_document::parser::parse(text).map_err(|e| e.to_string())?;
    let doc = package.as_document();
    let root = doc
        .root()
        .children()
        .into_iter()
        .find_map(|c| c.element())
        .ok_or("no root element")?;
    Ok(element_tree(root))
}

fn element_tree(e: dom::Element<'_>) -> XNode {
    let name = e.name();
    let qname = match e.preferred_prefix() {
        Some(p) => format!("{p}:{}", name.local_part()),
        None => name.local_part().to_owned(),
    };
    let mut attrs: Vec<(Option<String>, String, String)> = e
        .attributes()
        .iter()
        .map(|a| {
            let n = a.name();
            (
                n.namespace_uri().map(str::to_owned),
                n.local_part().to_owned(),
                a.value().to_owned(),
            )
        })
        .collect();
    attrs.sort();
    let mut children = Vec::new();
    let mut text = String::new();
    let flush = |text: &mut String, children: &mut Vec<XNode>| {
        let t = text.trim();
        if !t.is_empty() {
            children.push(XNode::Text(t.to_owned()));
        }
        text.clear();
    };
    for child in e.children() {
        match child {
            dom::ChildOfElement::Element(c) => {
                flush(&mut text, &mut children);
                children.push(element_tree(c));
            }
            dom::ChildOfElement::Text(t) => text.push_str(t.text()),
            _ => {}
        }
    }
    flush(&mut text, &mut children);
    XNode::Element {
        ns: name.namespace_uri().map(str::to_owned),
        qname,
        local: name.local_part().to_owned(),
        attrs,
        children,
    }
}

/// How `equalToXml` compares.
#[derive(Debug, Clone, Default)]
pub struct XmlOptions {
    pub placeholders: bool,
    pub placeholder_open: String,
    pub placeholder_close: String,
    /// XMLUnit comparison types not to check (`NAMESPACE_URI`, `ELEMENT_TAG_NAME`, ...).
    pub exempted: Vec<String>,
    pub namespace_aware: bool,
}

/// XMLUnit "similar": same elements (by namespace and local name), same attributes
/// (any order), same children in order, same text.
pub fn similar(expected: &XNode, actual: &XNode, o: &XmlOptions) -> bool {
    match (expected, actual) {
        (XNode::Text(e), XNode::Text(a)) => text_equal(e, a, o),
        (
            XNode::Element {
                ns: ens,
                local: el,
                qname: eq,
                attrs: ea,
                children: ec,
            },
            XNode::Element {
                ns: ans,
                local: al,
                qname: aq,
                attrs: aa,
                children: ac,
            },
        ) => {
            let exempt = |k: &str| o.exempted.iter().any(|x| x == k);
            let names_ok = if o.namespace_aware {
                (exempt("NAMESPACE_URI") || ens == ans) && (exempt("ELEMENT_TAG_NAME") || el == al)
            } else {
                exempt("ELEMENT_TAG_NAME") || eq == aq
            };
            let attrs_ok = exempt("ATTR_VALUE")
                || (ea.len() == aa.len()
                    && ea.iter().all(|(n, l, v)| {
                        aa.iter()
                            .any(|(an, al, av)| an == n && al == l && text_equal(v, av, o))
                    }));
            let children_ok = exempt("CHILD_NODELIST_LENGTH") && exempt("CHILD_LOOKUP")
                || (ec.len() == ac.len() && ec.iter().zip(ac).all(|(e, a)| similar(e, a, o)));
            names_ok && attrs_ok && children_ok
        }
        (XNode::Text(e), XNode::Element { .. }) if o.placeholders => {
            placeholder(e, o).is_some_and(|p| p == "ignore")
        }
        _ => false,
    }
}

fn placeholder<'a>(text: &'a str, o: &XmlOptions) -> Option<&'a str> {
    let inner = text
        .trim()
        .strip_prefix(o.placeholder_open.as_str())?
        .strip_suffix(o.placeholder_close.as_str())?;
    inner.strip_prefix("xmlunit.")
}

fn text_equal(expected: &str, actual: &str, o: &XmlOptions) -> bool {
    if expected == actual {
        return true;
    }
    if !o.placeholders || o.exempted.iter().any(|x| x == "TEXT_VALUE") {
        return o.exempted.iter().any(|x| x == "TEXT_VALUE");
    }
    let Some(p) = placeholder(expected, o) else {
        return false;
    };
    if p == "ignore" {
        return true;
    }
    if p == "isNumber" {
        return actual.trim().parse::<f64>().is_ok();
    }
    if p == "isDateTime" {
        return super::dates::parse_any(actual.trim()).is_some();
    }
    if let Some(re) = p
        .strip_prefix("matchesRegex(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return fancy_regex::Regex::new(&format!("^(?:{re})$"))
            .ok()
            .and_then(|re| re.is_match(actual).ok())
            .unwrap_or(false);
    }
    false
}

/// Checks an XPath 1.0 expression compiles (at load time).
pub fn check_xpath(expr: &str) -> Result<(), String> {
    match sxd_xpath::Factory::new().build(expr) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err("empty XPath expression".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// What an XPath expression selected, as WireMock sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum XPathResult {
    /// Each node: its name (elements), its text, its attributes, and how it prints.
    Nodes(Vec<XPathNode>),
    Text(String),
    Number(f64),
    Boolean(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub struct XPathNode {
    pub name: String,
    pub text: String,
    pub attributes: Vec<(String, String)>,
    /// Elements print as XML, other nodes as their text.
    pub printed: String,
}

/// Evaluates `expr` over the XML document `text`, with namespace prefixes bound.
pub fn evaluate(
    text: &str,
    expr: &str,
    namespaces: &[(String, String)],
) -> Result<XPathResult, String> {
    let package = sxd_document::parser::parse(text).map_err(|e| e.to_string())?;
    let doc = package.as_document();
    let xpath = sxd_xpath::Factory::new()
        .build(expr)
        .map_err(|e| e.to_string())?
        .ok_or("empty XPath expression")?;
    let mut context = sxd_xpath::Context::new();
    for (prefix, uri) in namespaces {
        context.set_namespace(prefix, uri);
    }
    let value = xpath
        .evaluate(&context, doc.root())
        .map_err(|e| e.to_string())?;
    Ok(match value {
        sxd_xpath::Value::Nodeset(nodes) => XPathResult::Nodes(
            nodes
                .document_order()
                .into_iter()
                .map(describe_node)
                .collect(),
        ),
        sxd_xpath::Value::String(s) => XPathResult::Text(s),
        sxd_xpath::Value::Number(n) => XPathResult::Number(n),
        sxd_xpath::Value::Boolean(b) => XPathResult::Boolean(b),
    })
}

fn describe_node(node: Node<'_>) -> XPathNode {
    let text = node.string_value();
    match node {
        Node::Element(e) => XPathNode {
            name: e.name().local_part().to_owned(),
            attributes: e
                .attributes()
                .iter()
                .map(|a| (a.name().local_part().to_owned(), a.value().to_owned()))
                .collect(),
            printed: write_element(e),
            text,
        },
        Node::Attribute(a) => XPathNode {
            name: a.name().local_part().to_owned(),
            attributes: Vec::new(),
            printed: text.clone(),
            text,
        },
        _ => XPathNode {
            name: String::new(),
            attributes: Vec::new(),
            printed: text.clone(),
            text,
        },
    }
}

fn escape(text: &str, attr: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' if !attr => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A document laid out as WireMock shows XML: one element per line, two-space
/// indents, an element holding only text on one line.
pub fn pretty(text: &str) -> Option<String> {
    let package = sxd_document::parser::parse(text).ok()?;
    let doc = package.as_document();
    let root = doc
        .root()
        .children()
        .into_iter()
        .find_map(|c| c.element())?;
    let mut out = String::new();
    pretty_into(root, 0, &mut out);
    Some(out.trim_end().to_owned())
}

fn pretty_into(e: dom::Element<'_>, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    let name = prefixed(e.preferred_prefix(), e.name().local_part());
    let mut open = format!("{pad}<{name}");
    for ns in e.namespaces_in_scope() {
        let declared_here = e
            .parent()
            .and_then(|p| p.element())
            .is_none_or(|p| p.namespace_uri_for_prefix(ns.prefix()) != Some(ns.uri()));
        if declared_here && ns.prefix() != "xml" {
            open.push_str(&format!(
                " xmlns:{}=\"{}\"",
                ns.prefix(),
                escape(ns.uri(), true)
            ));
        }
    }
    for a in e.attributes() {
        let an = prefixed(a.preferred_prefix(), a.name().local_part());
        open.push_str(&format!(" {an}=\"{}\"", escape(a.value(), true)));
    }
    let children: Vec<dom::ChildOfElement<'_>> = e
        .children()
        .into_iter()
        .filter(|c| !matches!(c, dom::ChildOfElement::Text(t) if t.text().trim().is_empty()))
        .collect();
    if children.is_empty() {
        out.push_str(&format!("{open}/>\n"));
        return;
    }
    if let [dom::ChildOfElement::Text(t)] = children.as_slice() {
        out.push_str(&format!(
            "{open}>{}</{name}>\n",
            escape(t.text().trim(), false)
        ));
        return;
    }
    out.push_str(&format!("{open}>\n"));
    for c in children {
        match c {
            dom::ChildOfElement::Element(c) => pretty_into(c, depth + 1, out),
            dom::ChildOfElement::Text(t) => {
                out.push_str(&format!("{pad}  {}\n", escape(t.text().trim(), false)))
            }
            dom::ChildOfElement::Comment(c) => {
                out.push_str(&format!("{pad}  <!--{}-->\n", c.text()))
            }
            dom::ChildOfElement::ProcessingInstruction(_) => {}
        }
    }
    out.push_str(&format!("{pad}</{name}>\n"));
}

/// An element as XML text, prefixes as written.
pub fn write_element(e: dom::Element<'_>) -> String {
    let mut out = String::new();
    write_into(e, &mut out);
    out
}

fn prefixed(prefix: Option<&str>, local: &str) -> String {
    match prefix {
        Some(p) if !p.is_empty() => format!("{p}:{local}"),
        _ => local.to_owned(),
    }
}

fn write_into(e: dom::Element<'_>, out: &mut String) {
    let name = prefixed(e.preferred_prefix(), e.name().local_part());
    out.push('<');
    out.push_str(&name);
    for a in e.attributes() {
        let an = prefixed(a.preferred_prefix(), a.name().local_part());
        out.push_str(&format!(" {an}=\"{}\"", escape(a.value(), true)));
    }
    let children = e.children();
    if children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for c in children {
        match c {
            dom::ChildOfElement::Element(c) => write_into(c, out),
            dom::ChildOfElement::Text(t) => out.push_str(&escape(t.text(), false)),
            dom::ChildOfElement::Comment(c) => out.push_str(&format!("<!--{}-->", c.text())),
            dom::ChildOfElement::ProcessingInstruction(_) => {}
        }
    }
    out.push_str(&format!("</{name}>"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> XmlOptions {
        XmlOptions {
            placeholders: true,
            placeholder_open: "${".into(),
            placeholder_close: "}".into(),
            exempted: Vec::new(),
            namespace_aware: true,
        }
    }

    #[test]
    fn similar_ignores_whitespace_prefixes_and_attribute_order() {
        let e = parse_tree(r#"<a:x xmlns:a="urn:a" p="1" q="2"><y>t</y></a:x>"#).unwrap();
        let same =
            parse_tree("<b:x xmlns:b=\"urn:a\" q=\"2\" p=\"1\">\n  <y> t </y>\n</b:x>").unwrap();
        let other = parse_tree(r#"<a:x xmlns:a="urn:b" p="1" q="2"><y>t</y></a:x>"#).unwrap();
        let text = parse_tree(r#"<a:x xmlns:a="urn:a" p="1" q="2"><y>u</y></a:x>"#).unwrap();
        assert!(similar(&e, &same, &opts()));
        assert!(!similar(&e, &other, &opts()));
        assert!(!similar(&e, &text, &opts()));
        let ignore = parse_tree("<x><y>${xmlunit.ignore}</y></x>").unwrap();
        let any = parse_tree("<x><y>whatever</y></x>").unwrap();
        assert!(similar(&ignore, &any, &opts()));
    }

    #[test]
    fn xpath_selects_text_and_elements() {
        let doc = "<outer><inner id=\"1\">Stuff</inner></outer>";
        let XPathResult::Nodes(n) = evaluate(doc, "/outer/inner/text()", &[]).unwrap() else {
            panic!()
        };
        assert_eq!(n[0].printed, "Stuff");
        let XPathResult::Nodes(n) = evaluate(doc, "/outer/inner", &[]).unwrap() else {
            panic!()
        };
        assert_eq!(n[0].printed, "<inner id=\"1\">Stuff</inner>");
        assert_eq!(n[0].attributes, vec![("id".into(), "1".into())]);
        let ns = [("s".to_owned(), "urn:s".to_owned())];
        let XPathResult::Nodes(n) =
            evaluate("<s:a xmlns:s=\"urn:s\"><s:b>x</s:b></s:a>", "//s:b", &ns).unwrap()
        else {
            panic!()
        };
        assert_eq!(n.len(), 1);
        assert!(check_xpath("//[").is_err());
    }
}
