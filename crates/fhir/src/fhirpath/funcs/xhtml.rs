//! `htmlChecks()`: the rules FHIR sets for narrative XHTML (invariants txt-1 and
//! txt-2): a `div` in the XHTML namespace, well-formed, only the basic formatting
//! elements and attributes, no active content, and some non-whitespace content.

/// The elements narrative may use. A `match`: this runs for every tag of every
/// narrative, and a list would be searched name by name.
fn element_ok(name: &str) -> bool {
    matches!(
        name,
        "a" | "abbr"
            | "acronym"
            | "address"
            | "area"
            | "b"
            | "bdo"
            | "big"
            | "blockquote"
            | "br"
            | "caption"
            | "cite"
            | "code"
            | "col"
            | "colgroup"
            | "dd"
            | "dfn"
            | "div"
            | "dl"
            | "dt"
            | "em"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "hr"
            | "i"
            | "img"
            | "kbd"
            | "li"
            | "map"
            | "ol"
            | "p"
            | "pre"
            | "q"
            | "samp"
            | "small"
            | "span"
            | "strong"
            | "sub"
            | "sup"
            | "table"
            | "tbody"
            | "td"
            | "tfoot"
            | "th"
            | "thead"
            | "tr"
            | "tt"
            | "ul"
            | "var"
    )
}

/// Attributes any element may carry.
fn common_attr(name: &str) -> bool {
    matches!(
        name,
        "title"
            | "style"
            | "class"
            | "id"
            | "lang"
            | "xml:lang"
            | "xml:space"
            | "dir"
            | "accesskey"
            | "tabindex"
    )
}

/// Attributes particular elements may carry.
fn element_attr_ok(element: &str, attr: &str) -> bool {
    let allowed: &[&str] = match element {
        "div" => &["xmlns"],
        "a" => &["href", "name"],
        "img" => &[
            "src", "alt", "longdesc", "height", "width", "border", "hspace", "vspace", "usemap",
        ],
        "table" => &[
            "summary",
            "width",
            "border",
            "frame",
            "rules",
            "cellspacing",
            "cellpadding",
        ],
        "td" | "th" => &[
            "abbr", "axis", "headers", "scope", "rowspan", "colspan", "align", "char", "charoff",
            "valign", "width", "height", "nowrap",
        ],
        "tr" | "thead" | "tbody" | "tfoot" | "col" | "colgroup" => {
            &["align", "char", "charoff", "valign", "span", "width"]
        }
        "ol" | "ul" | "li" => &["type", "start", "value", "compact"],
        "area" => &["shape", "coords", "href", "nohref", "alt"],
        "map" => &["name"],
        "q" | "blockquote" => &["cite"],
        "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => &["align"],
        _ => &[],
    };
    allowed.contains(&attr)
}

const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// Whether `text` is acceptable narrative XHTML.
pub fn html_ok(text: &str) -> bool {
    check(text.trim()).is_ok()
}

fn check(s: &str) -> Result<(), &'static str> {
    let mut stack: Vec<&str> = Vec::new();
    let mut content = false;
    let mut rest = s;
    let mut first = true;
    while !rest.is_empty() {
        let Some(open) = byte_at(rest, b'<') else {
            content |= !rest.trim().is_empty();
            text_ok(rest)?;
            break;
        };
        let (text, tail) = rest.split_at(open);
        let blank = text.trim().is_empty();
        content |= !blank;
        text_ok(text)?;
        if first && !blank {
            return Err("text before the div");
        }
        if let Some(after) = tail.strip_prefix("<!--") {
            let end = after.find("-->").ok_or("unterminated comment")?;
            rest = &after[end + 3..];
            continue;
        }
        let close = byte_at(tail, b'>').ok_or("unterminated tag")?;
        let tag = &tail[1..close];
        rest = &tail[close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            if stack.pop() != Some(name) {
                return Err("mismatched end tag");
            }
            if stack.is_empty() && !rest.trim().is_empty() {
                return Err("content after the div");
            }
            continue;
        }
        if stack.is_empty() && !first {
            return Err("more than one root element");
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name_end = tag.find(|c: char| c.is_whitespace()).unwrap_or(tag.len());
        let (name, attrs) = tag.split_at(name_end);
        if first && name != "div" {
            return Err("narrative must be a div");
        }
        if !element_ok(name) {
            return Err("element not allowed in narrative");
        }
        let ns = attributes(name, attrs)?;
        if first && ns != Some(XHTML_NS) {
            return Err("the div must be in the XHTML namespace");
        }
        if name == "img" {
            content = true;
        }
        first = false;
        if !self_closing {
            stack.push(name);
        } else if stack.is_empty() {
            return Err("empty div");
        }
    }
    if !stack.is_empty() || first {
        return Err("unclosed element");
    }
    if !content {
        return Err("no content");
    }
    Ok(())
}

/// Checks attributes; returns the `xmlns` value if present.
fn attributes<'s>(element: &str, mut s: &'s str) -> Result<Option<&'s str>, &'static str> {
    let mut ns = None;
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Ok(ns);
        }
        let eq = byte_at(s, b'=').ok_or("attribute without a value")?;
        let name = s[..eq].trim();
        let after = s[eq + 1..].trim_start();
        let quote = after.chars().next().ok_or("attribute without a value")?;
        if quote != '"' && quote != '\'' {
            return Err("unquoted attribute");
        }
        let end = byte_at(&after[1..], quote as u8).ok_or("unterminated attribute")? + 1;
        let value = &after[1..end];
        s = &after[end + 1..];
        if !(common_attr(name) || element_attr_ok(element, name)) {
            return Err("attribute not allowed in narrative");
        }
        if starts_with_ignoring_case(value.trim_start(), "javascript:")
            || contains_ignoring_case(value, "expression(")
        {
            return Err("active content");
        }
        text_ok(value)?;
        if name == "xmlns" {
            ns = Some(value);
        }
    }
}

/// The `href` of every `<a>` element, in document order.
pub fn hyperlinks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = memchr::memmem::find(rest.as_bytes(), b"<a") {
        rest = &rest[i + 2..];
        if !rest.starts_with(|c: char| c.is_whitespace()) {
            continue;
        }
        let Some(end) = rest.find('>') else { break };
        let tag = &rest[..end];
        let mut attrs = tag;
        while let Some(h) = attrs.find("href") {
            let before_ok = h == 0 || attrs[..h].ends_with(|c: char| c.is_whitespace());
            let after = attrs[h + 4..].trim_start();
            attrs = &attrs[h + 4..];
            let Some(value) = after.strip_prefix('=').map(str::trim_start) else {
                continue;
            };
            let Some(quote) = value.chars().next().filter(|q| *q == '"' || *q == '\'') else {
                continue;
            };
            if let (true, Some(close)) = (before_ok, value[1..].find(quote)) {
                out.push(&value[1..close + 1]);
                break;
            }
        }
        rest = &rest[end..];
    }
    out
}

/// Schemes a reader's browser can follow from narrative; anything else (`urn:`,
/// `oid:`) is an identifier, not a link.
pub fn hyperlinkable(href: &str) -> bool {
    let scheme_end = href.find(':');
    let scheme = match scheme_end {
        Some(i)
            if href[..i]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && href[..i].starts_with(|c: char| c.is_ascii_alphabetic()) =>
        {
            href[..i].to_ascii_lowercase()
        }
        // No scheme: relative or a fragment.
        _ => return true,
    };
    matches!(
        scheme.as_str(),
        "http" | "https" | "ftp" | "ftps" | "mailto" | "tel" | "sms" | "fax" | "data" | "news"
    )
}

/// Entities must be well-formed (`&amp;`, `&#160;`), and no raw `<` in text.
fn text_ok(s: &str) -> Result<(), &'static str> {
    let mut rest = s;
    while let Some(i) = byte_at(rest, b'&') {
        let after = &rest[i + 1..];
        let end = byte_at(after, b';').ok_or("bad entity")?;
        let name = &after[..end];
        let ok = match name.strip_prefix('#') {
            Some(n) => match n.strip_prefix(['x', 'X']) {
                Some(hex) => !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()),
                None => !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()),
            },
            None => !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
        };
        if !ok {
            return Err("bad entity");
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

/// Where ASCII byte `b` first occurs.
fn byte_at(s: &str, b: u8) -> Option<usize> {
    memchr::memchr(b, s.as_bytes())
}

fn starts_with_ignoring_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn contains_ignoring_case(s: &str, needle: &str) -> bool {
    s.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIV: &str = r#"<div xmlns="http://www.w3.org/1999/xhtml">"#;

    #[test]
    fn accepts_ordinary_narrative() {
        assert!(html_ok(&format!(
            "{DIV}<p>Peter &amp; <b>Jim</b></p></div>"
        )));
        assert!(html_ok(&format!(
            "{DIV}<table class=\"grid\"><tr><td colspan=\"2\">x<br/></td></tr></table></div>"
        )));
        assert!(html_ok(&format!("{DIV}<img src=\"#a\" alt=\"\"/></div>")));
        assert!(html_ok(&format!("{DIV}<!-- note -->text</div>")));
    }

    #[test]
    fn finds_hyperlinks_and_their_schemes() {
        let div = format!(
            "{DIV}<a name=\"x\">n</a><a href=\"urn:uuid:1\">u</a> <a class='c' href='http://x.org/a'>h</a><abbr>a</abbr></div>"
        );
        assert_eq!(hyperlinks(&div), vec!["urn:uuid:1", "http://x.org/a"]);
        assert!(!hyperlinkable("urn:uuid:1"));
        assert!(!hyperlinkable("oid:1.2.3"));
        assert!(hyperlinkable("http://x.org/a"));
        assert!(hyperlinkable("MAILTO:a@b.org"));
        assert!(hyperlinkable("#frag"));
        assert!(hyperlinkable("Patient/1"));
        assert!(html_ok(&format!(
            "{DIV}<pre xml:space=\"preserve\">a</pre></div>"
        )));
    }

    #[test]
    fn rejects_bad_narrative() {
        assert!(!html_ok("<div><p>no namespace</p></div>"));
        assert!(!html_ok(&format!("{DIV}<script>x()</script></div>")));
        assert!(!html_ok(&format!("{DIV}<p onclick=\"x()\">a</p></div>")));
        assert!(!html_ok(&format!(
            "{DIV}<a href=\"javascript:x()\">a</a></div>"
        )));
        assert!(!html_ok(&format!(
            "{DIV}<a href=\" JavaScript:x()\">a</a></div>"
        )));
        assert!(!html_ok(&format!(
            "{DIV}<p style=\"width: EXPRESSION(1)\">a</p></div>"
        )));
        assert!(html_ok(&format!(
            "{DIV}<p style=\"width: 1em\" title='javascript'>a</p></div>"
        )));
        assert!(!html_ok(&format!("{DIV}<p>unclosed</div>")));
        assert!(!html_ok(&format!("{DIV}   </div>")));
        assert!(!html_ok(&format!("{DIV}a & b</div>")));
        assert!(!html_ok("<p>not a div</p>"));
        assert!(!html_ok(&format!("{DIV}x</div><div>y</div>")));
        assert!(!html_ok(&format!("{DIV}<iframe src=\"x\"></iframe></div>")));
        assert!(!html_ok(""));
    }
}
