//! JSONPath as WireMock (Jayway) reads it, evaluated by `serde_json_path` (RFC 9535).
//! Jayway's own forms are translated: `=~ /re/i` becomes `match()`, `.size()` and
//! `.length()` become `length()`, `in`/`nin`/`empty` become comparisons. Two Jayway
//! semantics are kept: a filter on an object tests the object itself, and a definite
//! path selects one value rather than a list.

use serde_json::Value;

#[derive(Debug, Clone)]
pub struct JsonPath {
    pub source: String,
    parts: Vec<Part>,
    definite: bool,
}

#[derive(Debug, Clone)]
enum Part {
    Query(serde_json_path::JsonPath),
    Filter(serde_json_path::JsonPath),
    /// A trailing `.length()` / `.size()`.
    Length,
}

/// What a path selected: one value for a definite path, else a list.
#[derive(Debug, Clone, PartialEq)]
pub enum Selected {
    One(Value),
    Many(Vec<Value>),
}

impl Selected {
    pub fn into_value(self) -> Value {
        match self {
            Selected::One(v) => v,
            Selected::Many(list) => Value::Array(list),
        }
    }
}

/// Why an expression was refused, and at which byte of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    pub message: String,
    pub offset: usize,
}

enum Segment {
    /// RFC 9535 text for this segment.
    Plain(String, bool),
    Filter(String),
    Length,
}

impl JsonPath {
    pub fn parse(text: &str) -> Result<JsonPath, PathError> {
        let segments = split(text)?;
        let mut parts = Vec::new();
        let mut query = String::from("$");
        let mut definite = true;
        let compile = |q: &str, at: usize| {
            serde_json_path::JsonPath::parse(q).map_err(|e| PathError {
                message: e.message().to_owned(),
                offset: at,
            })
        };
        let count = segments.len();
        for (i, (seg, at)) in segments.into_iter().enumerate() {
            match seg {
                Segment::Plain(s, is_definite) => {
                    query.push_str(&s);
                    definite &= is_definite;
                }
                Segment::Filter(cond) => {
                    if query.len() > 1 {
                        parts.push(Part::Query(compile(&query, at)?));
                    }
                    query = String::from("$");
                    let translated = translate_condition(&cond);
                    parts.push(Part::Filter(compile(&format!("$[?{translated}]"), at)?));
                    definite = false;
                }
                Segment::Length if i + 1 == count => {
                    if query.len() > 1 {
                        parts.push(Part::Query(compile(&query, at)?));
                    }
                    query = String::from("$");
                    parts.push(Part::Length);
                }
                Segment::Length => {
                    return Err(PathError {
                        message: "a function must end the path".into(),
                        offset: at,
                    })
                }
            }
        }
        if query.len() > 1 || parts.is_empty() {
            parts.push(Part::Query(compile(&query, text.len())?));
        }
        if parts.iter().any(|p| matches!(p, Part::Length)) {
            definite = true;
        }
        Ok(JsonPath {
            source: text.to_owned(),
            parts,
            definite,
        })
    }

    pub fn select(&self, root: &Value) -> Selected {
        let mut nodes: Vec<Value> = vec![root.clone()];
        for part in &self.parts {
            let mut next = Vec::new();
            for node in &nodes {
                match part {
                    Part::Query(q) => next.extend(q.query(node).all().into_iter().cloned()),
                    Part::Filter(f) => match node {
                        Value::Array(_) => next.extend(f.query(node).all().into_iter().cloned()),
                        Value::Object(_) => {
                            let wrapped = Value::Array(vec![node.clone()]);
                            next.extend(f.query(&wrapped).all().into_iter().cloned());
                        }
                        _ => {}
                    },
                    Part::Length => {
                        let n = match node {
                            Value::Array(a) => a.len(),
                            Value::Object(o) => o.len(),
                            Value::String(s) => s.chars().count(),
                            _ => continue,
                        };
                        next.push(Value::from(n));
                    }
                }
            }
            nodes = next;
        }
        if self.definite {
            Selected::One(nodes.into_iter().next().unwrap_or(Value::Null))
        } else {
            Selected::Many(nodes)
        }
    }
}

fn quote(name: &str) -> String {
    format!("['{}']", name.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Splits a Jayway path into segments, each with its byte offset.
fn split(text: &str) -> Result<Vec<(Segment, usize)>, PathError> {
    let err = |message: &str, offset: usize| PathError {
        message: message.to_owned(),
        offset,
    };
    let s = text.trim();
    let b = s.as_bytes();
    let mut at = match b.first() {
        Some(b'$') => 1,
        // Jayway reads a path without `$` as relative to the root.
        Some(_) => 0,
        None => return Err(err("an empty JSONPath", 0)),
    };
    let mut out = Vec::new();
    if at == 0 && b[0] != b'.' && b[0] != b'[' {
        let end = s.find(['.', '[']).unwrap_or(s.len());
        out.push((Segment::Plain(quote(&s[..end]), true), 0));
        at = end;
    }
    while at < b.len() {
        let start = at;
        if s[at..].starts_with("..") {
            at += 2;
            if b.get(at) == Some(&b'*') {
                out.push((Segment::Plain("..*".into(), false), start));
                at += 1;
            } else if b.get(at) == Some(&b'[') {
                let (inner, end) = bracket(s, at).ok_or_else(|| err("unclosed `[`", at))?;
                out.push((Segment::Plain(format!("..[{inner}]"), false), start));
                at = end;
            } else {
                let end = name_end(s, at);
                if end == at {
                    return Err(err("a name must follow `..`", at));
                }
                out.push((
                    Segment::Plain(format!("..{}", quote(&s[at..end])), false),
                    start,
                ));
                at = end;
            }
        } else if b[at] == b'.' {
            at += 1;
            if b.get(at) == Some(&b'*') {
                out.push((Segment::Plain(".*".into(), false), start));
                at += 1;
                continue;
            }
            let end = name_end(s, at);
            if end == at {
                return Err(err("a name must follow `.`", at));
            }
            let name = &s[at..end];
            if s[end..].starts_with("()") {
                match name {
                    "length" | "size" => out.push((Segment::Length, start)),
                    _ => {
                        return Err(err(
                            &format!("the function `{name}()` is not supported"),
                            at,
                        ))
                    }
                }
                at = end + 2;
                continue;
            }
            out.push((Segment::Plain(quote(name), true), start));
            at = end;
        } else if b[at] == b'[' {
            let (inner, end) = bracket(s, at).ok_or_else(|| err("unclosed `[`", at))?;
            let inner_trim = inner.trim();
            if let Some(cond) = inner_trim.strip_prefix('?') {
                let cond = cond.trim();
                let cond = cond
                    .strip_prefix('(')
                    .and_then(|c| c.strip_suffix(')'))
                    .unwrap_or(cond);
                out.push((Segment::Filter(cond.to_owned()), start));
            } else {
                let definite =
                    !(inner_trim == "*" || inner_trim.contains(':') || inner_trim.contains(','));
                out.push((Segment::Plain(format!("[{inner_trim}]"), definite), start));
            }
            at = end;
        } else {
            return Err(err("expected `.`, `..` or `[`", at));
        }
    }
    Ok(out)
}

fn name_end(s: &str, from: usize) -> usize {
    s[from..]
        .find(['.', '[', '(', ' '])
        .map_or(s.len(), |i| from + i)
}

/// The text inside `[...]` starting at `open`, and the byte after the `]`; quotes and
/// nested brackets and parentheses are skipped over.
fn bracket(s: &str, open: usize) -> Option<(&str, usize)> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s[open..].char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '/' if depth > 0 && s[open..open + i].trim_end().ends_with("=~") => quote = Some('/'),
            '[' | '(' => depth += 1,
            ']' | ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&s[open + 1..open + i], open + i + 1));
                }
            }
            _ => {}
        }
    }
    None
}

/// Jayway filter syntax to RFC 9535.
fn translate_condition(cond: &str) -> String {
    use std::sync::LazyLock;
    static OPERAND: &str = r#"(@[A-Za-z0-9_.\-\[\]'"*]*|\$[A-Za-z0-9_.\-\[\]'"*]*)"#;
    static REGEX: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(&format!(r"{OPERAND}\s*=~\s*/((?:\\/|[^/])*)/([a-zA-Z]*)")).unwrap()
    });
    static SIZE: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(&format!(r"{OPERAND}\.(?:size|length)\(\)")).unwrap());
    static IN: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(&format!(r"{OPERAND}\s+(in|nin)\s+\[([^\]]*)\]")).unwrap()
    });
    static EMPTY: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(&format!(r"{OPERAND}\s+empty\s+(true|false)")).unwrap());
    let c = REGEX.replace_all(cond, |caps: &regex::Captures<'_>| {
        let flags = if caps[3].contains('i') { "(?i)" } else { "" };
        let re = caps[2].replace("\\/", "/").replace('\'', "\\'");
        format!("match({}, '{flags}{re}')", &caps[1])
    });
    let c = SIZE.replace_all(&c, "length($1)");
    let c = IN.replace_all(&c, |caps: &regex::Captures<'_>| {
        let (operand, negate) = (&caps[1], &caps[2] == "nin");
        let items: Vec<String> = caps[3]
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(|i| format!("{operand} {} {i}", if negate { "!=" } else { "==" }))
            .collect();
        if items.is_empty() {
            return if negate {
                "true".into()
            } else {
                "false".into()
            };
        }
        format!("({})", items.join(if negate { " && " } else { " || " }))
    });
    let c = EMPTY.replace_all(&c, |caps: &regex::Captures<'_>| {
        let op = if &caps[2] == "true" { "==" } else { "!=" };
        format!("length({}) {op} 0", &caps[1])
    });
    c.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(path: &str, doc: Value) -> Selected {
        JsonPath::parse(path).unwrap().select(&doc)
    }

    #[test]
    fn definite_paths_select_one_value() {
        assert_eq!(
            sel("$.a.b", json!({"a": {"b": 1}})),
            Selected::One(json!(1))
        );
        assert_eq!(
            sel("$.a.c", json!({"a": {"b": 1}})),
            Selected::One(Value::Null)
        );
        assert_eq!(
            sel("$['a'][0]", json!({"a": [5, 6]})),
            Selected::One(json!(5))
        );
        assert_eq!(
            sel("$.a[-1]", json!({"a": [5, 6]})),
            Selected::One(json!(6))
        );
        assert_eq!(
            sel("$.a.length()", json!({"a": [5, 6]})),
            Selected::One(json!(2))
        );
    }

    #[test]
    fn jayway_filters_and_functions() {
        let doc = json!({"things": [{"name": "RequiredThing"}, {"name": "Wiremock"}]});
        let hit =
            |p: &str, d: &Value| !matches!(sel(p, d.clone()), Selected::Many(l) if l.is_empty());
        assert!(hit("$.things[?(@.name == 'RequiredThing')]", &doc));
        assert!(!hit("$.things[?(@.name == 'Other')]", &doc));
        assert!(hit("$.things[?(@.name =~ /required.*/i)]", &doc));
        assert!(!hit("$.things[?(@.name =~ /required.*/)]", &doc));
        assert!(hit("$[?(@.things.size() == 2)]", &doc));
        assert!(!hit("$[?(@.things.size() == 3)]", &doc));
        assert!(hit("$.things[?(@.name in ['x', 'Wiremock'])]", &doc));
        assert!(!hit(
            "$.things[?(@.name nin ['RequiredThing', 'Wiremock'])]",
            &doc
        ));
        // A filter on an object tests the object itself.
        let single = json!({"things": {"name": "RequiredThing"}});
        assert!(hit("$.things[?(@.name == 'RequiredThing')]", &single));
        assert_eq!(
            sel("$..name", doc.clone()),
            Selected::Many(vec![json!("RequiredThing"), json!("Wiremock")])
        );
        assert!(JsonPath::parse("$.a[").is_err());
        assert!(JsonPath::parse("$.a.keys().b").is_err());
    }
}
