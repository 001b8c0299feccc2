//! Rewrites WireMock template paths into what the JSON request model can answer,
//! before Handlebars compiles them: header names are looked up without regard to
//! case, `{{request.path}}` is the whole path while `request.path.[0]` is a segment,
//! and a query parameter, header or cookie is WireMock's "one or many": its first
//! value where a single value is wanted, the list where a list is (`each`, `size`).

/// Helpers that take WireMock's one-or-many values as lists.
const LIST_AWARE: &[&str] = &[
    "each",
    "size",
    "arrayJoin",
    "join",
    "pickRandom",
    "toJson",
    "with",
    "lookup",
    "arrayAdd",
    "arrayRemove",
    "contains",
    "val",
    "__first",
    "__last",
];

const MULTI: &[&str] = &["query", "headers", "cookies"];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Space(String),
    Str(String),
    Word(String),
    Open,
    Close,
}

fn lex(s: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            let start = i;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            out.push(Tok::Space(chars[start..i].iter().collect()));
        } else if c == '\'' || c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(chars.len());
            out.push(Tok::Str(chars[start..i].iter().collect()));
        } else if c == '(' {
            out.push(Tok::Open);
            i += 1;
        } else if c == ')' {
            out.push(Tok::Close);
            i += 1;
        } else {
            let start = i;
            let mut bracket = false;
            while i < chars.len() {
                let ch = chars[i];
                if ch == '[' {
                    bracket = true;
                } else if ch == ']' {
                    bracket = false;
                } else if !bracket && (ch.is_whitespace() || ch == '(' || ch == ')') {
                    break;
                } else if !bracket && (ch == '\'' || ch == '"') && i > start {
                    // `key='value'`: the value is its own token.
                    break;
                }
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        }
    }
    out
}

/// Segments of a path like `request.headers.[X-Name].0`.
fn segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut bracket = false;
    for c in path.chars() {
        match c {
            '[' if cur.is_empty() => bracket = true,
            ']' if bracket => bracket = false,
            '.' | '/' if !bracket => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn join(segs: &[String]) -> String {
    segs.iter()
        .map(|s| {
            let plain = s.chars().all(|c| c.is_alphanumeric() || "_-$:".contains(c));
            if plain && s.chars().next().is_some_and(|c| !c.is_ascii_digit()) {
                s.clone()
            } else {
                format!("[{s}]")
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

enum Rewritten {
    Same,
    Path(String),
    /// A call to wrap: `(helper path)`.
    Call(&'static str, String),
}

fn rewrite_path(word: &str) -> Rewritten {
    // `key=value` hashes rewrite their value.
    if !word.starts_with("request") {
        return Rewritten::Same;
    }
    let mut segs = segments(word);
    if segs.first().map(String::as_str) != Some("request") || segs.len() < 2 {
        return Rewritten::Same;
    }
    if segs.len() == 2 && segs[1] == "path" {
        return Rewritten::Path("request.__path".into());
    }
    if segs[1] == "headers" && segs.len() > 2 {
        segs[2] = segs[2].to_ascii_lowercase();
    }
    if MULTI.contains(&segs[1].as_str()) && segs.len() >= 3 {
        match segs.get(3).map(String::as_str) {
            None => return Rewritten::Call("__first", join(&segs)),
            Some("first") => {
                segs[3] = "0".into();
                return Rewritten::Path(join(&segs));
            }
            Some("last" | "-1") if segs.len() == 4 => {
                return Rewritten::Call("__last", join(&segs[..3]));
            }
            _ => {}
        }
    }
    Rewritten::Path(join(&segs))
}

/// One mustache's inside, rewritten.
fn rewrite_inner(inner: &str) -> String {
    let toks = lex(inner);
    let words = toks.iter().filter(|t| !matches!(t, Tok::Space(_))).count();
    // `{{request.query.a}}` alone: a value wanted.
    if words == 1 {
        if let Some(Tok::Word(w)) = toks.iter().find(|t| !matches!(t, Tok::Space(_))) {
            return match rewrite_path(w) {
                Rewritten::Same => inner.to_owned(),
                Rewritten::Path(p) => inner.replacen(w.as_str(), &p, 1),
                Rewritten::Call(h, p) => inner.replacen(w.as_str(), &format!("{h} {p}"), 1),
            };
        }
    }
    // Frames: the helper each open parenthesis (and the mustache) calls.
    let mut frames: Vec<(Option<String>, usize)> = vec![(None, 0)];
    let mut out = String::new();
    for t in toks {
        match t {
            Tok::Space(s) => out.push_str(&s),
            Tok::Str(s) => {
                if let Some(f) = frames.last_mut() {
                    f.1 += 1;
                }
                out.push_str(&s);
            }
            Tok::Open => {
                if let Some(f) = frames.last_mut() {
                    f.1 += 1;
                }
                frames.push((None, 0));
                out.push('(');
            }
            Tok::Close => {
                frames.pop();
                if frames.is_empty() {
                    frames.push((None, 0));
                }
                out.push(')');
            }
            Tok::Word(w) => {
                let frame = frames.last_mut().map(|f| {
                    f.1 += 1;
                    (f.0.clone(), f.1)
                });
                let (helper, position) = frame.unwrap_or((None, 1));
                if position == 1 {
                    if let Some(f) = frames.last_mut() {
                        f.0 = Some(w.clone());
                    }
                    out.push_str(&w);
                    continue;
                }
                let (prefix, value) = match w.split_once('=') {
                    Some((k, v)) if !k.contains('.') && !k.contains('[') => (format!("{k}="), v),
                    _ => (String::new(), w.as_str()),
                };
                let list_aware = helper
                    .as_deref()
                    .is_some_and(|h| LIST_AWARE.contains(&h.trim_start_matches(['#', '^'])));
                out.push_str(&prefix);
                match rewrite_path(value) {
                    Rewritten::Same => out.push_str(value),
                    Rewritten::Path(p) => out.push_str(&p),
                    Rewritten::Call(_, p) if list_aware && prefix.is_empty() => out.push_str(&p),
                    Rewritten::Call(h, p) => out.push_str(&format!("({h} {p})")),
                }
            }
        }
    }
    out
}

/// Rewrites every mustache of a template text.
pub fn rewrite(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let escaped = rest[..start].ends_with('\\');
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        if escaped || rest.starts_with("{{!") || rest.starts_with("{{{{") {
            let end = if rest.starts_with("{{!--") {
                rest.find("--}}").map(|i| i + 4)
            } else {
                rest.find("}}").map(|i| i + 2)
            };
            let end = end.unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        let open = if rest.starts_with("{{{") { 3 } else { 2 };
        let close = if open == 3 { "}}}" } else { "}}" };
        let Some(end) = rest[open..].find(close) else {
            out.push_str(rest);
            return out;
        };
        let inner = &rest[open..open + end];
        out.push_str(&rest[..open]);
        let lead: String = inner
            .chars()
            .take_while(|c| matches!(c, '~' | '#' | '^' | '&' | ' '))
            .collect();
        let body = &inner[lead.len()..];
        if body.starts_with('/')
            || body.starts_with('>')
            || body.starts_with("else") && lead.is_empty() && body.trim() == "else"
        {
            out.push_str(inner);
        } else if lead.contains('#') {
            // A block: its helper is the first word; a path there is a section.
            out.push_str(&lead);
            out.push_str(&rewrite_block(body));
        } else {
            out.push_str(&lead);
            let (body, tail) = split_tilde(body);
            out.push_str(&rewrite_inner(body));
            out.push_str(tail);
        }
        out.push_str(close);
        rest = &rest[open + end + close.len()..];
    }
    out.push_str(rest);
    out
}

fn split_tilde(body: &str) -> (&str, &str) {
    match body.strip_suffix('~') {
        Some(b) => (b, "~"),
        None => (body, ""),
    }
}

fn rewrite_block(body: &str) -> String {
    let (body, tail) = split_tilde(body);
    // `{{#each list as |item|}}`: block parameters stay as they are.
    let (call, params) = match body.find(" as |") {
        Some(i) => (&body[..i], &body[i..]),
        None => (body, ""),
    };
    let toks = lex(call);
    let words = toks.iter().filter(|t| !matches!(t, Tok::Space(_))).count();
    let rewritten = if words <= 1 {
        call.to_owned()
    } else {
        rewrite_inner(call)
    };
    format!("{rewritten}{params}{tail}")
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn rewrites_wiremock_paths() {
        assert_eq!(rewrite("{{request.path}}"), "{{request.__path}}");
        assert_eq!(rewrite("{{request.path.[0]}}"), "{{request.path.[0]}}");
        assert_eq!(
            rewrite("{{request.headers.X-Trace}}"),
            "{{__first request.headers.x-trace}}"
        );
        assert_eq!(
            rewrite("{{request.headers.[X-Trace].[1]}}"),
            "{{request.headers.x-trace.[1]}}"
        );
        assert_eq!(
            rewrite("{{urlEncode request.query.a}}"),
            "{{urlEncode (__first request.query.a)}}"
        );
        assert_eq!(
            rewrite("{{size request.query.a}}"),
            "{{size request.query.a}}"
        );
        assert_eq!(
            rewrite("{{#each request.query.a}}x{{/each}}"),
            "{{#each request.query.a}}x{{/each}}"
        );
        assert_eq!(
            rewrite("{{request.query.a.last}}"),
            "{{__last request.query.a}}"
        );
        assert_eq!(
            rewrite("{{request.query.a.first}}"),
            "{{request.query.a.[0]}}"
        );
        assert_eq!(
            rewrite("{{#if (eq request.query.a 'x')}}y{{else}}n{{/if}}"),
            "{{#if (eq (__first request.query.a) 'x')}}y{{else}}n{{/if}}"
        );
        assert_eq!(rewrite("{{now format='yyyy'}}"), "{{now format='yyyy'}}");
        assert_eq!(rewrite("\\{{request.path}}"), "\\{{request.path}}");
        assert_eq!(rewrite("{{! request.path }}"), "{{! request.path }}");
    }
}
