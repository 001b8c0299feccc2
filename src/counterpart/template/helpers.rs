//! WireMock's template helpers on top of Handlebars: dates, random values, numbers,
//! lists, encodings, regexes, XPath, variables. Each is a plain function over its
//! evaluated arguments; the adapter renders block content, assigns variables and
//! writes values as WireMock prints them (Java's `toString`).

use std::collections::BTreeMap;

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError,
    Renderable, ScopedJson,
};
use serde_json::{json, Value};

use super::{spend, Capped, MAX_RANGE};

/// One helper call: evaluated arguments, hash options and rendered block content.
pub(super) struct Call {
    pub params: Vec<Value>,
    pub hash: BTreeMap<String, Value>,
    pub block: Option<String>,
    vars: Vec<(String, Value)>,
}

impl Call {
    pub fn param(&self, i: usize) -> Option<&Value> {
        self.params.get(i)
    }

    /// Argument `i` as text (`None` when missing or null).
    pub fn text(&self, i: usize) -> Option<String> {
        self.params.get(i).filter(|v| !v.is_null()).map(display)
    }

    /// The block content, else argument `i`, as text.
    pub fn input(&self, i: usize) -> Option<String> {
        self.block.clone().or_else(|| self.text(i))
    }

    pub fn opt(&self, name: &str) -> Option<&Value> {
        self.hash.get(name).filter(|v| !v.is_null())
    }

    pub fn opt_text(&self, name: &str) -> Option<String> {
        self.opt(name).map(display)
    }

    pub fn flag(&self, name: &str) -> bool {
        match self.opt(name) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => false,
        }
    }

    pub fn assign(&mut self, name: String, value: Value) {
        self.vars.push((name, value));
    }
}

/// A call with arguments only (conditions need no block content).
pub(super) fn plain_call(params: Vec<Value>, hash: BTreeMap<String, Value>) -> Call {
    Call {
        params,
        hash,
        block: None,
        vars: Vec::new(),
    }
}

/// A value as WireMock prints it: lists as `[a, b]`, maps as `{k=v}`, null as nothing.
pub fn display(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(display).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{k}={}", display(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub(super) type Func = fn(&mut Call) -> Result<Value, String>;

/// A helper from a function; `Err` texts print as WireMock's `[ERROR: ...]`, unless a
/// cap was reached, which stops the render.
pub(super) struct Simple(pub Func, pub fn(&Value) -> String);

fn gather<'reg: 'rc, 'rc>(
    h: &Helper<'rc>,
    r: &'reg Handlebars<'reg>,
    ctx: &'rc Context,
    rc: &mut RenderContext<'reg, 'rc>,
) -> Result<Call, RenderError> {
    let block = match h.template() {
        Some(t) if h.is_block() => {
            let mut out = Capped { buf: String::new() };
            t.render(r, ctx, rc, &mut out)?;
            Some(out.buf)
        }
        _ => None,
    };
    Ok(Call {
        params: h.params().iter().map(|p| p.value().clone()).collect(),
        hash: h
            .hash()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.value().clone()))
            .collect(),
        block,
        vars: Vec::new(),
    })
}

fn set_vars(
    ctx: &Context,
    rc: &mut RenderContext<'_, '_>,
    vars: Vec<(String, Value)>,
) -> Result<(), RenderError> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut data = rc
        .context()
        .map_or_else(|| ctx.data().clone(), |c| c.data().clone());
    if let Value::Object(map) = &mut data {
        for (k, v) in vars {
            map.insert(k, v);
        }
    }
    rc.set_context(Context::wraps(data)?);
    Ok(())
}

pub(super) fn run(f: Func, call: &mut Call) -> Result<Value, RenderError> {
    match f(call) {
        Ok(v) => Ok(v),
        Err(e) if e.starts_with("limit: ") => {
            Err(RenderError::from(handlebars::RenderErrorReason::Other(e)))
        }
        Err(e) if e.starts_with("fatal: ") => Err(RenderError::from(
            handlebars::RenderErrorReason::Other(e["fatal: ".len()..].to_owned()),
        )),
        Err(e) => Ok(Value::String(format!("[ERROR: {e}]"))),
    }
}

impl HelperDef for Simple {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let mut call = gather(h, r, ctx, rc)?;
        let v = run(self.0, &mut call)?;
        set_vars(ctx, rc, std::mem::take(&mut call.vars))?;
        Ok(ScopedJson::Derived(v))
    }

    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let v = self.call_inner(h, r, ctx, rc)?;
        out.write(&(self.1)(v.as_json()))?;
        Ok(())
    }
}

pub(super) fn register_all(h: &mut Handlebars<'static>, list: &[(&str, Func)]) {
    for (name, f) in list {
        h.register_helper(name, Box::new(Simple(*f, display)));
    }
}

pub(super) fn register(h: &mut Handlebars<'static>) {
    register_all(
        h,
        &[
            ("__first", first),
            ("__last", last),
            ("range", range),
            ("array", array),
            ("arrayAdd", array_add),
            ("arrayRemove", array_remove),
            ("math", math),
            ("maths", math),
            ("size", size),
            ("base64", base64_helper),
            ("urlEncode", url_encode),
            ("regexExtract", regex_extract),
            ("trim", trim),
            ("hostname", hostname),
            ("systemValue", system_value),
            ("val", val),
            ("assign", assign),
            ("formData", form_data),
            ("isOdd", is_odd),
            ("isEven", is_even),
            ("stripes", stripes),
            ("xPath", xpath),
            ("soapXPath", soap_xpath),
        ],
    );
}

fn first(c: &mut Call) -> Result<Value, String> {
    Ok(match c.param(0) {
        Some(Value::Array(a)) => a.first().cloned().unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => Value::Null,
    })
}

fn last(c: &mut Call) -> Result<Value, String> {
    Ok(match c.param(0) {
        Some(Value::Array(a)) => a.last().cloned().unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => Value::Null,
    })
}

pub(super) fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn range(c: &mut Call) -> Result<Value, String> {
    let (a, b) = match (number(c.param(0)), number(c.param(1))) {
        (Some(a), Some(b)) => (a as i64, b as i64),
        _ => return Err("range needs a lower and an upper bound".into()),
    };
    let len = b.saturating_sub(a).saturating_add(1).max(0) as u64;
    if len > MAX_RANGE as u64 {
        return Err(super::limit(format!(
            "limit: range of {len} items exceeds the cap of {MAX_RANGE}"
        )));
    }
    spend(len as usize, "range")?;
    Ok(Value::Array((a..=b).map(|i| json!(i)).collect()))
}

fn array(c: &mut Call) -> Result<Value, String> {
    Ok(Value::Array(c.params.clone()))
}

fn position(c: &Call, len: usize, adding: bool) -> Result<usize, String> {
    match c.opt("position") {
        None => Ok(if adding { len } else { len.saturating_sub(1) }),
        Some(Value::String(s)) if s == "start" => Ok(0),
        Some(Value::String(s)) if s == "end" => {
            Ok(if adding { len } else { len.saturating_sub(1) })
        }
        Some(v) => {
            let p = number(Some(v)).ok_or("position must be a number, start or end")? as usize;
            if p > len || (!adding && p >= len) {
                return Err(format!("position {p} is out of bounds"));
            }
            Ok(p)
        }
    }
}

fn array_add(c: &mut Call) -> Result<Value, String> {
    let mut list = match c.param(0) {
        Some(Value::Array(a)) => a.clone(),
        _ => return Err("arrayAdd needs a list".into()),
    };
    let item = c.param(1).cloned().unwrap_or(Value::Null);
    let at = position(c, list.len(), true)?;
    list.insert(at, item);
    Ok(Value::Array(list))
}

fn array_remove(c: &mut Call) -> Result<Value, String> {
    let mut list = match c.param(0) {
        Some(Value::Array(a)) => a.clone(),
        _ => return Err("arrayRemove needs a list".into()),
    };
    if !list.is_empty() {
        let at = position(c, list.len(), false)?;
        list.remove(at);
    }
    Ok(Value::Array(list))
}

/// Numbers keep WireMock's types: whole numbers stay whole, and division of whole
/// numbers rounds half up, as Java's `BigDecimal.divide` with the dividend's scale.
fn math(c: &mut Call) -> Result<Value, String> {
    let (a, op, b) = (c.param(0), c.text(1).unwrap_or_default(), c.param(2));
    let whole = |v: Option<&Value>| match v {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    if let (Some(x), Some(y)) = (whole(a), whole(b)) {
        let r = match op.as_str() {
            "+" => x.checked_add(y),
            "-" => x.checked_sub(y),
            "*" => x.checked_mul(y),
            "/" if y == 0 => return Err("Division by zero".into()),
            "/" => {
                let q = x as f64 / y as f64;
                Some(if q >= 0.0 {
                    (q + 0.5).floor()
                } else {
                    (q - 0.5).ceil()
                } as i64)
            }
            "%" if y == 0 => return Err("Division by zero".into()),
            "%" => Some(x % y),
            other => return Err(format!("{other} is not a valid math operation")),
        };
        return r.map(|n| json!(n)).ok_or_else(|| "number too large".into());
    }
    let (x, y) = (
        number(a).ok_or("math needs numbers")?,
        number(b).ok_or("math needs numbers")?,
    );
    let r = match op.as_str() {
        "+" => x + y,
        "-" => x - y,
        "*" => x * y,
        "/" => x / y,
        "%" => x % y,
        other => return Err(format!("{other} is not a valid math operation")),
    };
    Ok(json!(r))
}

fn size(c: &mut Call) -> Result<Value, String> {
    Ok(json!(match c.param(0) {
        Some(Value::Array(a)) => a.len(),
        Some(Value::Object(o)) => o.len(),
        Some(Value::String(s)) => s.chars().count(),
        Some(Value::Null) | None => 0,
        Some(other) => display(other).chars().count(),
    }))
}

fn base64_helper(c: &mut Call) -> Result<Value, String> {
    use base64::Engine;
    let input = c.input(0).unwrap_or_default();
    let input = if c.block.is_some() {
        input.trim().to_owned()
    } else {
        input
    };
    if c.flag("decode") {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(input.trim())
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(input.trim()))
            .map_err(|e| e.to_string())?;
        return Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    }
    let engine = if c.opt("padding").is_some() && !c.flag("padding") {
        base64::engine::general_purpose::STANDARD_NO_PAD
    } else {
        base64::engine::general_purpose::STANDARD
    };
    Ok(Value::String(engine.encode(input.as_bytes())))
}

/// Java's `URLEncoder`: form encoding, space as `+`.
fn url_encode(c: &mut Call) -> Result<Value, String> {
    // WireMock's helper fails on a value that is not there (say, a query parameter
    // the request lacks), and the answer is a 500.
    let Some(input) = c.input(0) else {
        return Err("fatal: java.lang.NullPointerException: Cannot invoke \"Object.toString()\" because \"context\" is null".into());
    };
    if c.flag("decode") {
        return Ok(Value::String(super::super::request::percent_decode(
            &input.replace('+', " "),
        )));
    }
    let mut out = String::new();
    for b in input.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    Ok(Value::String(out))
}

fn regex_extract(c: &mut Call) -> Result<Value, String> {
    let text = c.text(0).unwrap_or_default();
    let pattern = c.text(1).unwrap_or_default();
    let re = fancy_regex::Regex::new(&pattern).map_err(|e| e.to_string())?;
    let caps = re.captures(&text).map_err(|e| e.to_string())?;
    let Some(caps) = caps else {
        return match c.opt("default") {
            Some(d) => Ok(d.clone()),
            None => Err(format!("fatal: Nothing matched {pattern}")),
        };
    };
    match c.text(2) {
        Some(var) => {
            let groups: Vec<Value> = (1..caps.len())
                .map(|i| Value::String(caps.get(i).map_or("", |m| m.as_str()).to_owned()))
                .collect();
            c.assign(var, Value::Array(groups));
            Ok(Value::String(String::new()))
        }
        None => Ok(Value::String(
            caps.get(0).map_or("", |m| m.as_str()).to_owned(),
        )),
    }
}

fn trim(c: &mut Call) -> Result<Value, String> {
    Ok(Value::String(
        c.input(0).unwrap_or_default().trim().to_owned(),
    ))
}

fn hostname(_: &mut Call) -> Result<Value, String> {
    let name = std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into());
    Ok(Value::String(name))
}

/// As in WireMock, only keys matching `wiremock.*` may be read.
fn system_value(c: &mut Call) -> Result<Value, String> {
    let key = c.opt_text("key").unwrap_or_default();
    if !key.to_lowercase().starts_with("wiremock.") {
        return Err(format!("Access to {key} is denied"));
    }
    let kind = c.opt_text("type").unwrap_or_else(|| "ENVIRONMENT".into());
    let v = if kind == "ENVIRONMENT" {
        std::env::var(&key).ok()
    } else {
        None
    };
    Ok(v.map(Value::String)
        .or_else(|| c.opt("default").cloned())
        .unwrap_or(Value::Null))
}

fn val(c: &mut Call) -> Result<Value, String> {
    let v = match c.param(0) {
        Some(v) if !v.is_null() => v.clone(),
        _ => c
            .opt("or")
            .or_else(|| c.opt("default"))
            .cloned()
            .unwrap_or(Value::Null),
    };
    if let Some(name) = c.opt_text("assign") {
        c.assign(name, v);
        return Ok(Value::String(String::new()));
    }
    Ok(v)
}

fn assign(c: &mut Call) -> Result<Value, String> {
    let name = c.text(0).ok_or("assign needs a variable name")?;
    let v = c.block.clone().unwrap_or_default();
    c.assign(name, Value::String(v));
    Ok(Value::String(String::new()))
}

fn form_data(c: &mut Call) -> Result<Value, String> {
    let text = c.text(0).unwrap_or_default();
    let var = c.text(1).ok_or("formData needs a variable name")?;
    let decode = c.flag("urlDecode");
    let mut map = serde_json::Map::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = if decode {
            super::super::request::percent_decode(&v.replace('+', " "))
        } else {
            v.to_owned()
        };
        if let Value::Array(list) = map
            .entry(k.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            list.push(Value::String(v));
        }
    }
    // One-or-many: a single value reads as itself.
    let map = map
        .into_iter()
        .map(|(k, v)| match v {
            Value::Array(mut a) if a.len() == 1 => (k, a.remove(0)),
            other => (k, other),
        })
        .collect();
    c.assign(var, Value::Object(map));
    Ok(Value::String(String::new()))
}

fn parity(c: &Call, odd: bool) -> Result<Value, String> {
    let n = number(c.param(0)).ok_or("a number is needed")? as i64;
    let hit = (n % 2 != 0) == odd;
    Ok(match (hit, c.text(1)) {
        (true, Some(s)) => Value::String(s),
        (true, None) => Value::String(if odd { "odd" } else { "even" }.into()),
        (false, _) => Value::String(String::new()),
    })
}

fn is_odd(c: &mut Call) -> Result<Value, String> {
    parity(c, true)
}

fn is_even(c: &mut Call) -> Result<Value, String> {
    parity(c, false)
}

fn stripes(c: &mut Call) -> Result<Value, String> {
    let n = number(c.param(0)).ok_or("a number is needed")? as i64;
    Ok(Value::String(if n % 2 == 0 {
        c.text(1).unwrap_or_default()
    } else {
        c.text(2).unwrap_or_default()
    }))
}

fn xpath_value(c: &Call, soap: bool) -> Result<Value, String> {
    use super::super::xml::{evaluate, XPathResult};
    let doc = c.text(0).unwrap_or_default();
    let mut expr = c.text(1).unwrap_or_default();
    if soap {
        expr = format!(
            "/*[local-name()='Envelope']/*[local-name()='Body']{}",
            expr.split('/')
                .map(
                    |s| if s.is_empty() || s.contains('(') || s.starts_with('@') {
                        s.to_owned()
                    } else {
                        format!("*[local-name()='{s}']")
                    }
                )
                .collect::<Vec<_>>()
                .join("/")
        );
    }
    let result = evaluate(&doc, &expr, &[]).map_err(|e| format!("{doc} is not valid XML: {e}"))?;
    Ok(match result {
        XPathResult::Nodes(nodes) if nodes.is_empty() => c.opt("default").cloned().unwrap_or(Value::Null),
        // WireMock prints a selected element with a line end after it.
        XPathResult::Nodes(nodes) if nodes.len() == 1 => {
            let n = &nodes[0];
            let element = n.printed.starts_with('<');
            Value::String(if element { format!("{}\n", n.printed) } else { n.printed.clone() })
        }
        XPathResult::Nodes(nodes) => Value::Array(
            nodes
                .into_iter()
                .map(|n| {
                    let attributes: serde_json::Map<String, Value> = n
                        .attributes
                        .into_iter()
                        .map(|(k, v)| (k, Value::String(v)))
                        .collect();
                    json!({"name": n.name, "text": n.text, "printed": n.printed, "attributes": attributes})
                })
                .collect(),
        ),
        XPathResult::Text(s) => Value::String(s),
        XPathResult::Number(n) => json!(n),
        XPathResult::Boolean(b) => json!(b),
    })
}

fn xpath(c: &mut Call) -> Result<Value, String> {
    xpath_value(c, false)
}

fn soap_xpath(c: &mut Call) -> Result<Value, String> {
    xpath_value(c, true)
}
