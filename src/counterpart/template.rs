//! The `response-template` transformer: a small Handlebars subset, parsed once at load
//! time (unknown helpers and paths are load errors) and rendered per request.
//!
//! Supported: `{{request.baseUrl}}`, `{{request.path}}`, `{{request.url}}`,
//! `{{request.method}}`, `{{request.id}}` (one UUID per request, the same each time it
//! is used), `{{request.body}}`, `{{request.query.NAME}}`, `{{request.headers.NAME}}`
//! (or `request.headers.[X-Name]`), `{{request.path.NAME}}` (a `urlPathTemplate`
//! parameter), `{{now}}` (RFC 3339; `format='epoch'|'unix'|'rfc1123'`),
//! `{{randomValue type='UUID'}}` (also `ALPHANUMERIC`, `ALPHABETIC`, `NUMERIC`,
//! `HEXADECIMAL` with `length=N`), `{{urlEncode request.query.NAME}}`, and the block
//! `{{#jsonMerge request.body}}{"id": "..."}{{/jsonMerge}}` (deep merge, block wins).
//! Values are inserted as they are: no HTML escaping, `{{{x}}}` is the same as `{{x}}`.

use chrono::{DateTime, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Value(Expr),
    JsonMerge { base: Expr, body: Vec<Part> },
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Request(Field),
    Now(NowFormat),
    Random { kind: RandomKind, length: usize },
    UrlEncode(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Field {
    BaseUrl,
    Path,
    Url,
    Method,
    Id,
    Body,
    Query(String),
    Header(String),
    PathParam(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum NowFormat {
    Rfc3339,
    Epoch,
    Unix,
    Rfc1123,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RandomKind {
    Uuid,
    Alphanumeric,
    Alphabetic,
    Numeric,
    Hexadecimal,
}

/// What a template can see of the request being answered.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub base_url: String,
    pub path: String,
    /// Path and query as sent.
    pub url: String,
    pub method: String,
    pub id: String,
    pub body: String,
    /// Decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// `urlPathTemplate` parameters, decoded.
    pub path_params: Vec<(String, String)>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    /// Byte offset of the offending `{{` in the template text.
    pub offset: usize,
}

/// Characters `urlEncode` leaves alone, as in `encodeURIComponent`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

impl Template {
    /// Text served as it is.
    pub fn literal(text: impl Into<String>) -> Template {
        Template {
            parts: vec![Part::Text(text.into())],
        }
    }

    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut at = 0;
        let (parts, closed) = parse_parts(text, &mut at, None)?;
        if let Some((name, offset)) = closed {
            return Err(TemplateError {
                message: format!("`{{{{/{name}}}}}` closes no open block"),
                offset,
            });
        }
        Ok(Template { parts })
    }

    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }

    pub fn render(&self, ctx: &RequestContext) -> String {
        render_parts(&self.parts, ctx)
    }
}

type Parsed = (Vec<Part>, Option<(String, usize)>);

/// Parses until the end or a `{{/name}}`, which it returns with its offset.
fn parse_parts(text: &str, at: &mut usize, open: Option<&str>) -> Result<Parsed, TemplateError> {
    let mut parts = Vec::new();
    while *at < text.len() {
        let Some(rel) = text[*at..].find("{{") else {
            parts.push(Part::Text(text[*at..].to_owned()));
            *at = text.len();
            break;
        };
        let start = *at + rel;
        if rel > 0 {
            parts.push(Part::Text(text[*at..start].to_owned()));
        }
        let triple = text[start..].starts_with("{{{");
        let (open_len, close) = if triple { (3, "}}}") } else { (2, "}}") };
        let err = |message: String| TemplateError {
            message,
            offset: start,
        };
        let inner_start = start + open_len;
        let end = text[inner_start..]
            .find(close)
            .map(|e| inner_start + e)
            .ok_or_else(|| err(format!("`{}` is never closed", &text[start..inner_start])))?;
        let inner = text[inner_start..end].trim();
        *at = end + close.len();
        if inner.starts_with('!') {
            continue;
        }
        if let Some(name) = inner.strip_prefix('/') {
            let name = name.trim();
            if open == Some(name) {
                return Ok((parts, Some((name.to_owned(), start))));
            }
            return Err(err(format!("`{{{{/{name}}}}}` closes no open block")));
        }
        if let Some(block) = inner.strip_prefix('#') {
            let tokens = tokenize(block).map_err(err)?;
            let (name, args) = tokens
                .split_first()
                .ok_or_else(|| err("empty block".into()))?;
            if name != "jsonMerge" {
                return Err(err(format!(
                    "unsupported block helper `{name}` (supported: jsonMerge)"
                )));
            }
            let [arg] = args else {
                return Err(err(
                    "`jsonMerge` takes one argument, e.g. `request.body`".into()
                ));
            };
            let base = path_expr(arg).map_err(err)?;
            let (body, closed) = parse_parts(text, at, Some("jsonMerge"))?;
            if closed.is_none() {
                return Err(err(
                    "`{{#jsonMerge}}` is never closed by `{{/jsonMerge}}`".into()
                ));
            }
            parts.push(Part::JsonMerge { base, body });
            continue;
        }
        let tokens = tokenize(inner).map_err(err)?;
        parts.push(Part::Value(expr(&tokens).map_err(err)?));
    }
    if let Some(name) = open {
        return Err(TemplateError {
            message: format!("`{{{{#{name}}}}}` is never closed"),
            offset: text.len(),
        });
    }
    Ok((parts, None))
}

fn tokenize(inner: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut chars = inner.trim().chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut token = String::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '\'' || c == '"' => quote = Some(c),
                None if c.is_whitespace() => break,
                None if c == '(' || c == ')' => {
                    return Err("sub-expressions `( )` are not supported".into())
                }
                None => {}
            }
            token.push(c);
            chars.next();
        }
        if quote.is_some() {
            return Err("unterminated string".into());
        }
        tokens.push(token);
    }
    Ok(tokens)
}

fn unquote(s: &str) -> Option<&str> {
    let q = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    s.strip_prefix(q)?.strip_suffix(q)
}

/// `key=value` hash arguments, values unquoted.
fn hash<'a>(args: &'a [String], allowed: &[&str]) -> Result<Vec<(&'a str, &'a str)>, String> {
    args.iter()
        .map(|a| {
            let (k, v) = a
                .split_once('=')
                .ok_or_else(|| format!("expected `name=value`, found `{a}`"))?;
            if !allowed.contains(&k) {
                return Err(format!(
                    "unknown option `{k}` (supported: {})",
                    allowed.join(", ")
                ));
            }
            Ok((k, unquote(v).unwrap_or(v)))
        })
        .collect()
}

fn expr(tokens: &[String]) -> Result<Expr, String> {
    let (head, args) = tokens.split_first().ok_or("empty `{{}}`")?;
    match head.as_str() {
        "now" => {
            let mut format = NowFormat::Rfc3339;
            for (_, v) in hash(args, &["format"])? {
                format = match v {
                    "epoch" => NowFormat::Epoch,
                    "unix" => NowFormat::Unix,
                    "rfc1123" => NowFormat::Rfc1123,
                    "rfc3339" | "iso8601" => NowFormat::Rfc3339,
                    other => return Err(format!(
                        "unsupported `now` format `{other}` (supported: epoch, unix, rfc1123, rfc3339)"
                    )),
                };
            }
            Ok(Expr::Now(format))
        }
        "randomValue" => {
            let (mut kind, mut length) = (None, 16);
            for (k, v) in hash(args, &["type", "length"])? {
                if k == "length" {
                    length = v
                        .parse()
                        .map_err(|_| format!("`length` must be a number, found `{v}`"))?;
                    continue;
                }
                kind = Some(match v {
                    "UUID" => RandomKind::Uuid,
                    "ALPHANUMERIC" => RandomKind::Alphanumeric,
                    "ALPHABETIC" => RandomKind::Alphabetic,
                    "NUMERIC" => RandomKind::Numeric,
                    "HEXADECIMAL" => RandomKind::Hexadecimal,
                    other => return Err(format!("unsupported randomValue type `{other}`")),
                });
            }
            let kind = kind.ok_or("`randomValue` needs `type=`, e.g. type='UUID'")?;
            Ok(Expr::Random { kind, length })
        }
        "urlEncode" => match args {
            [arg] => Ok(Expr::UrlEncode(Box::new(path_expr(arg)?))),
            _ => Err("`urlEncode` takes one argument".into()),
        },
        path if args.is_empty() => path_expr(path),
        other => Err(format!(
            "unsupported helper `{other}` (supported: now, randomValue, urlEncode, jsonMerge)"
        )),
    }
}

fn path_expr(path: &str) -> Result<Expr, String> {
    let rest = path.strip_prefix("request.").ok_or_else(|| {
        format!("unknown value `{path}`: templates can use `request.*`, `now`, `randomValue`")
    })?;
    let bracketed = |s: &str| {
        let s = s
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap_or(s);
        s.to_owned()
    };
    let field = match rest {
        "baseUrl" => Field::BaseUrl,
        "path" => Field::Path,
        "url" => Field::Url,
        "method" => Field::Method,
        "id" => Field::Id,
        "body" => Field::Body,
        _ => {
            if let Some(name) = rest.strip_prefix("query.") {
                Field::Query(bracketed(name))
            } else if let Some(name) = rest.strip_prefix("headers.") {
                Field::Header(bracketed(name))
            } else if let Some(name) = rest.strip_prefix("path.") {
                Field::PathParam(bracketed(name))
            } else {
                return Err(format!(
                    "unknown value `{path}` (supported: request.baseUrl, request.path, request.url, \
                     request.method, request.id, request.body, request.query.NAME, request.headers.NAME, \
                     request.path.NAME)"
                ));
            }
        }
    };
    Ok(Expr::Request(field))
}

fn render_parts(parts: &[Part], ctx: &RequestContext) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Text(t) => out.push_str(t),
            Part::Value(e) => out.push_str(&eval(e, ctx)),
            Part::JsonMerge { base, body } => {
                let overlay_text = render_parts(body, ctx);
                let base = serde_json::from_str::<serde_json::Value>(&eval(base, ctx));
                let overlay = serde_json::from_str::<serde_json::Value>(&overlay_text);
                match (base, overlay) {
                    (Ok(mut base), Ok(overlay)) => {
                        merge(&mut base, overlay);
                        out.push_str(&base.to_string());
                    }
                    // A base that is not JSON (a bad request body) leaves the block as is.
                    _ => out.push_str(&overlay_text),
                }
            }
        }
    }
    out
}

fn merge(base: &mut serde_json::Value, overlay: serde_json::Value) {
    match (base, overlay) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

fn eval(e: &Expr, ctx: &RequestContext) -> String {
    match e {
        Expr::Request(field) => match field {
            Field::BaseUrl => ctx.base_url.clone(),
            Field::Path => ctx.path.clone(),
            Field::Url => ctx.url.clone(),
            Field::Method => ctx.method.clone(),
            Field::Id => ctx.id.clone(),
            Field::Body => ctx.body.clone(),
            Field::Query(name) => first(&ctx.query, name, false),
            Field::Header(name) => first(&ctx.headers, name, true),
            Field::PathParam(name) => first(&ctx.path_params, name, false),
        },
        Expr::Now(format) => match format {
            NowFormat::Rfc3339 => ctx.now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            NowFormat::Epoch => ctx.now.timestamp_millis().to_string(),
            NowFormat::Unix => ctx.now.timestamp().to_string(),
            NowFormat::Rfc1123 => ctx.now.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        },
        Expr::Random { kind, length } => random(*kind, *length),
        Expr::UrlEncode(inner) => utf8_percent_encode(&eval(inner, ctx), COMPONENT).to_string(),
    }
}

fn first(pairs: &[(String, String)], name: &str, ignore_case: bool) -> String {
    pairs
        .iter()
        .find(|(k, _)| {
            if ignore_case {
                k.eq_ignore_ascii_case(name)
            } else {
                k == name
            }
        })
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn random(kind: RandomKind, length: usize) -> String {
    let alphabet: &[u8] = match kind {
        RandomKind::Uuid => return uuid::Uuid::new_v4().to_string(),
        RandomKind::Alphanumeric => {
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        }
        RandomKind::Alphabetic => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        RandomKind::Numeric => b"0123456789",
        RandomKind::Hexadecimal => b"0123456789abcdef",
    };
    let mut out = String::with_capacity(length);
    while out.len() < length {
        for b in uuid::Uuid::new_v4().as_bytes() {
            if out.len() < length {
                out.push(alphabet[usize::from(*b) % alphabet.len()] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext {
            base_url: "http://127.0.0.1:8080".into(),
            path: "/Patient".into(),
            url: "/Patient?family=O%27Brien".into(),
            method: "POST".into(),
            id: "abc".into(),
            body: r#"{"resourceType":"Patient","id":"x","meta":{"source":"s"}}"#.into(),
            query: vec![("family".into(), "O'Brien & Co".into())],
            headers: vec![("X-Request-ID".into(), "r-1".into())],
            path_params: vec![("id".into(), "p1".into())],
            now: DateTime::parse_from_rfc3339("2026-11-26T23:30:00Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    fn render(t: &str) -> String {
        Template::parse(t).unwrap().render(&ctx())
    }

    #[test]
    fn renders_request_values_and_helpers() {
        assert_eq!(
            render("{{request.baseUrl}}{{request.path}}"),
            "http://127.0.0.1:8080/Patient"
        );
        assert_eq!(
            render("{{{request.url}}} {{request.method}} {{request.id}}"),
            "/Patient?family=O%27Brien POST abc"
        );
        assert_eq!(
            render("{{request.query.family}}|{{request.query.none}}|"),
            "O'Brien & Co||"
        );
        assert_eq!(
            render("{{request.headers.x-request-id}} {{request.headers.[X-Request-ID]}}"),
            "r-1 r-1"
        );
        assert_eq!(
            render("{{urlEncode request.query.family}}"),
            "O'Brien%20%26%20Co"
        );
        assert_eq!(render("{{request.path.id}}|{{request.path.none}}|"), "p1||");
        assert_eq!(
            render("{{now}} {{now format='rfc1123'}}"),
            "2026-11-26T23:30:00.000Z Thu, 26 Nov 2026 23:30:00 GMT"
        );
        assert_eq!(render("{{!-- a comment --}}x"), "x");
        let uuid = render("{{randomValue type='UUID'}}");
        assert_eq!(uuid.len(), 36);
        assert_ne!(uuid, render("{{randomValue type='UUID'}}"));
        assert_eq!(render("{{randomValue type='NUMERIC' length=40}}").len(), 40);
    }

    #[test]
    fn merges_json_into_the_request_body() {
        let out = render(
            r#"{{#jsonMerge request.body}}{"id": "{{request.id}}", "meta": {"versionId": "1"}}{{/jsonMerge}}"#,
        );
        assert_eq!(
            out,
            r#"{"resourceType":"Patient","id":"abc","meta":{"source":"s","versionId":"1"}}"#
        );
    }

    #[test]
    fn refuses_unknown_helpers_and_paths() {
        for (t, offset) in [
            ("ab {{request.nope}}", 3),
            ("{{lookup request.headers 'x'}}", 0),
            ("x {{#each request.query}}{{/each}}", 2),
            ("{{request.path", 0),
            ("{{#jsonMerge request.body}}{}", 29),
            ("{{/jsonMerge}}", 0),
            ("{{randomValue type='GUID'}}", 0),
            ("{{now offset='1 days'}}", 0),
        ] {
            let err = Template::parse(t).unwrap_err();
            assert_eq!(err.offset, offset, "{t}: {}", err.message);
        }
    }
}
