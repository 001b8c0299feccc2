//! The string helpers of Handlebars.java that WireMock ships (`capitalize`, `upper`,
//! `join`, `substring`, ...), its conditional helpers (`eq`, `neq`, `gt`, `lt`, `and`,
//! `or`, `not`, usable inline, in sub-expressions and as blocks with `{{else}}`), and
//! WireMock's `contains` and `matches`.

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError,
    Renderable, ScopedJson,
};
use serde_json::Value;

use super::helpers::{display, register_all, Call};

pub(super) fn register(h: &mut Handlebars<'static>) {
    register_all(
        h,
        &[
            ("capitalize", capitalize),
            ("capitalizeFirst", capitalize_first),
            ("lower", lower),
            ("upper", upper),
            ("defaultIfEmpty", default_if_empty),
            ("join", join),
            ("arrayJoin", array_join),
            ("ljust", ljust),
            ("rjust", rjust),
            ("center", center),
            ("substring", substring),
            ("replace", replace),
            ("cut", cut),
            ("abbreviate", abbreviate),
            ("slugify", slugify),
            ("stripTags", strip_tags),
            ("yesno", yesno),
            ("split", split),
        ],
    );
    let conditions: &[(&str, Cond)] = &[
        ("eq", |c| {
            Ok(c.param(0) == c.param(1) || loose_eq(c.param(0), c.param(1)))
        }),
        ("neq", |c| {
            Ok(!(c.param(0) == c.param(1) || loose_eq(c.param(0), c.param(1))))
        }),
        (
            "gt",
            |c| Ok(compare(c) == Some(std::cmp::Ordering::Greater)),
        ),
        ("gte", |c| {
            Ok(matches!(
                compare(c),
                Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
            ))
        }),
        ("lt", |c| Ok(compare(c) == Some(std::cmp::Ordering::Less))),
        ("lte", |c| {
            Ok(matches!(
                compare(c),
                Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
            ))
        }),
        ("and", |c| {
            Ok(!c.params.is_empty() && c.params.iter().all(truthy))
        }),
        ("or", |c| Ok(c.params.iter().any(truthy))),
        ("not", |c| Ok(!c.params.iter().any(truthy))),
        ("contains", |c| {
            Ok(match (c.param(0), c.param(1)) {
                (Some(Value::Array(list)), Some(v)) => {
                    list.contains(v) || list.iter().any(|i| display(i) == display(v))
                }
                (Some(hay), Some(needle)) => display(hay).contains(&display(needle)),
                _ => false,
            })
        }),
        ("matches", |c| {
            let (text, re) = (c.text(0).unwrap_or_default(), c.text(1).unwrap_or_default());
            let re = fancy_regex::Regex::new(&format!("^(?:{re})$")).map_err(|e| e.to_string())?;
            Ok(re.is_match(&text).unwrap_or(false))
        }),
    ];
    for (name, f) in conditions {
        h.register_helper(name, Box::new(Condition(*f)));
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::Array(a) => !a.is_empty(),
        Value::Object(_) => true,
    }
}

/// Numbers compare by value whether written `1` or `1.0`.
fn loose_eq(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64() == y.as_f64(),
        _ => false,
    }
}

fn compare(c: &Call) -> Option<std::cmp::Ordering> {
    let num = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        _ => None,
    };
    let (a, b) = (c.param(0)?, c.param(1)?);
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y),
        _ => Some(display(a).cmp(&display(b))),
    }
}

type Cond = fn(&Call) -> Result<bool, String>;

/// A condition: `true`/`false` inline, a value in sub-expressions, and a block that
/// renders its body or its `{{else}}`.
struct Condition(Cond);

fn gather_plain(h: &Helper<'_>) -> Call {
    super::helpers::plain_call(
        h.params().iter().map(|p| p.value().clone()).collect(),
        h.hash()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.value().clone()))
            .collect(),
    )
}

impl HelperDef for Condition {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let verdict = (self.0)(&gather_plain(h))
            .map_err(|e| RenderError::from(handlebars::RenderErrorReason::Other(e)))?;
        Ok(ScopedJson::Derived(Value::Bool(verdict)))
    }

    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let verdict = (self.0)(&gather_plain(h))
            .map_err(|e| RenderError::from(handlebars::RenderErrorReason::Other(e)))?;
        if !h.is_block() {
            out.write(if verdict { "true" } else { "false" })?;
            return Ok(());
        }
        let branch = if verdict { h.template() } else { h.inverse() };
        if let Some(t) = branch {
            t.render(r, ctx, rc, out)?;
        }
        Ok(())
    }
}

fn text(c: &Call) -> String {
    c.input(0).unwrap_or_default()
}

fn capitalize(c: &mut Call) -> Result<Value, String> {
    let full = c.flag("fully");
    let t = text(c);
    let words: Vec<String> = t
        .split(' ')
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => {
                    let rest: String = cs.collect();
                    let rest = if full { rest.to_lowercase() } else { rest };
                    f.to_uppercase().collect::<String>() + &rest
                }
                None => String::new(),
            }
        })
        .collect();
    Ok(Value::String(words.join(" ")))
}

fn capitalize_first(c: &mut Call) -> Result<Value, String> {
    let t = text(c);
    let mut cs = t.chars();
    Ok(Value::String(match cs.next() {
        Some(f) => f.to_uppercase().collect::<String>() + cs.as_str(),
        None => String::new(),
    }))
}

fn lower(c: &mut Call) -> Result<Value, String> {
    Ok(Value::String(text(c).to_lowercase()))
}

fn upper(c: &mut Call) -> Result<Value, String> {
    Ok(Value::String(text(c).to_uppercase()))
}

fn default_if_empty(c: &mut Call) -> Result<Value, String> {
    let v = c.param(0).cloned().unwrap_or(Value::Null);
    Ok(if truthy(&v) {
        v
    } else {
        c.param(1).cloned().unwrap_or(Value::Null)
    })
}

fn join(c: &mut Call) -> Result<Value, String> {
    // Handlebars.java: `join list separator` or `join a b c separator`.
    let (items, sep) = match c.params.as_slice() {
        [Value::Array(list), sep] => (list.clone(), display(sep)),
        [rest @ .., sep] if !rest.is_empty() => (rest.to_vec(), display(sep)),
        _ => return Ok(Value::String(String::new())),
    };
    let mut s = items.iter().map(display).collect::<Vec<_>>().join(&sep);
    if let Some(p) = c.opt_text("prefix") {
        s = p + &s;
    }
    if let Some(x) = c.opt_text("suffix") {
        s.push_str(&x);
    }
    Ok(Value::String(s))
}

/// WireMock's `arrayJoin separator list-or-values`.
fn array_join(c: &mut Call) -> Result<Value, String> {
    let sep = c.text(0).unwrap_or_default();
    let items: Vec<Value> = match &c.params[1.min(c.params.len())..] {
        [Value::Array(list)] => list.clone(),
        rest => rest.to_vec(),
    };
    let s = items.iter().map(display).collect::<Vec<_>>().join(&sep);
    Ok(Value::String(format!(
        "{}{s}{}",
        c.opt_text("prefix").unwrap_or_default(),
        c.opt_text("suffix").unwrap_or_default()
    )))
}

fn width(c: &Call) -> usize {
    c.opt("size")
        .or(c.param(1))
        .map(display)
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(0)
        .min(super::MAX_RANDOM_LENGTH)
}

fn pad_char(c: &Call) -> char {
    c.opt_text("pad")
        .and_then(|p| p.chars().next())
        .unwrap_or(' ')
}

fn ljust(c: &mut Call) -> Result<Value, String> {
    let (t, w, p) = (text(c), width(c), pad_char(c));
    let n = w.saturating_sub(t.chars().count());
    Ok(Value::String(t + &p.to_string().repeat(n)))
}

fn rjust(c: &mut Call) -> Result<Value, String> {
    let (t, w, p) = (text(c), width(c), pad_char(c));
    let n = w.saturating_sub(t.chars().count());
    Ok(Value::String(p.to_string().repeat(n) + &t))
}

fn center(c: &mut Call) -> Result<Value, String> {
    let (t, w, p) = (text(c), width(c), pad_char(c));
    let n = w.saturating_sub(t.chars().count());
    let left = n / 2;
    Ok(Value::String(
        p.to_string().repeat(left) + &t + &p.to_string().repeat(n - left),
    ))
}

fn substring(c: &mut Call) -> Result<Value, String> {
    let t: Vec<char> = c.text(0).unwrap_or_default().chars().collect();
    let idx = |i: usize| {
        c.param(i)
            .map(display)
            .and_then(|s| s.parse::<usize>().ok())
    };
    let start = idx(1).unwrap_or(0).min(t.len());
    let end = idx(2).unwrap_or(t.len()).clamp(start, t.len());
    Ok(Value::String(t[start..end].iter().collect()))
}

fn replace(c: &mut Call) -> Result<Value, String> {
    let (t, from, to) = (
        c.text(0).unwrap_or_default(),
        c.text(1).unwrap_or_default(),
        c.text(2).unwrap_or_default(),
    );
    if from.is_empty() {
        return Ok(Value::String(t));
    }
    Ok(Value::String(t.replace(&from, &to)))
}

fn cut(c: &mut Call) -> Result<Value, String> {
    let t = c.text(0).unwrap_or_default();
    let what = c.text(1).unwrap_or_else(|| " ".into());
    Ok(Value::String(t.replace(&what, "")))
}

fn abbreviate(c: &mut Call) -> Result<Value, String> {
    let t: Vec<char> = c.text(0).unwrap_or_default().chars().collect();
    let w = c
        .param(1)
        .map(display)
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(t.len());
    if t.len() <= w {
        return Ok(Value::String(t.into_iter().collect()));
    }
    let keep = w.saturating_sub(3);
    Ok(Value::String(t[..keep].iter().collect::<String>() + "..."))
}

fn slugify(c: &mut Call) -> Result<Value, String> {
    let t = text(c).to_lowercase();
    let mut out = String::new();
    for ch in t.trim().chars() {
        if ch.is_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    Ok(Value::String(out.trim_end_matches('-').to_owned()))
}

fn strip_tags(c: &mut Call) -> Result<Value, String> {
    let mut out = String::new();
    let mut inside = false;
    for ch in text(c).chars() {
        match ch {
            '<' => inside = true,
            '>' if inside => inside = false,
            ch if !inside => out.push(ch),
            _ => {}
        }
    }
    Ok(Value::String(out))
}

fn yesno(c: &mut Call) -> Result<Value, String> {
    let v = c.param(0).cloned().unwrap_or(Value::Null);
    let (yes, no, maybe) = (
        c.opt_text("yes").unwrap_or_else(|| "yes".into()),
        c.opt_text("no").unwrap_or_else(|| "no".into()),
        c.opt_text("maybe").unwrap_or_else(|| "maybe".into()),
    );
    Ok(Value::String(match v {
        Value::Null => maybe,
        v if truthy(&v) => yes,
        _ => no,
    }))
}

fn split(c: &mut Call) -> Result<Value, String> {
    let t = c.text(0).unwrap_or_default();
    let sep = c.text(1).unwrap_or_else(|| ",".into());
    Ok(Value::Array(
        t.split(sep.as_str())
            .map(|s| Value::String(s.to_owned()))
            .collect(),
    ))
}
