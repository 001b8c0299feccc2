//! WireMock's JSON helpers: `jsonPath`, `parseJson`, `toJson`, `formatJson`,
//! `jsonArrayAdd`, `jsonMerge`, `jsonRemove`, `jsonSort`.

use handlebars::Handlebars;
use serde_json::Value;

use super::super::jackson;
use super::super::jsonpath::{JsonPath, Selected};
use super::helpers::{display, register_all, Call, Simple};

pub(super) fn register(h: &mut Handlebars<'static>) {
    register_all(
        h,
        &[
            ("parseJson", parse_json),
            ("toJson", to_json),
            ("formatJson", format_json),
            ("jsonArrayAdd", json_array_add),
            ("jsonMerge", json_merge),
            ("jsonRemove", json_remove),
            ("jsonSort", json_sort),
        ],
    );
    h.register_helper("jsonPath", Box::new(Simple(json_path, print)));
}

/// A value given as JSON text, or already a value (a parsed object, a list).
fn json_arg(v: Option<&Value>, what: &str) -> Result<Value, String> {
    match v {
        Some(Value::String(s)) => {
            serde_json::from_str(s.trim()).map_err(|_| format!("{what} is not valid JSON ('{s}')"))
        }
        Some(Value::Null) | None => Err(format!("{what} is missing")),
        Some(other) => Ok(other.clone()),
    }
}

/// How WireMock prints JSON it selected: strings as they are, the rest pretty.
pub fn print(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(_) | Value::Bool(_) => v.to_string(),
        other => jackson::pretty(other),
    }
}

fn json_path(c: &mut Call) -> Result<Value, String> {
    let doc = c.param(0).cloned().unwrap_or(Value::Null);
    let expr = c.text(1).unwrap_or_default();
    let path = JsonPath::parse(&expr)
        .map_err(|e| format!("{expr} is not a valid JSONPath expression: {}", e.message))?;
    let doc = match &doc {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(v) => v,
            Err(_) if s.trim().is_empty() => Value::Null,
            Err(_) => return Err(format!("{s} is not valid JSON")),
        },
        other => other.clone(),
    };
    let found = match path.select(&doc) {
        Selected::One(v) => v,
        Selected::Many(list) => Value::Array(list),
    };
    if found.is_null() {
        return Ok(c
            .opt("default")
            .cloned()
            .unwrap_or(Value::String(String::new())));
    }
    // Objects and lists stay values for other helpers, and print as Jackson would.
    Ok(match found {
        Value::Object(_) | Value::Array(_) => found,
        other => other,
    })
}

fn parse_json(c: &mut Call) -> Result<Value, String> {
    let (text, var) = match &c.block {
        Some(b) => (Some(Value::String(b.clone())), c.text(0)),
        None => (c.param(0).cloned(), c.text(1)),
    };
    let parsed = json_arg(text.as_ref(), "input")?;
    match var {
        Some(var) => {
            c.assign(var, parsed);
            Ok(Value::String(String::new()))
        }
        None => Ok(parsed),
    }
}

fn to_json(c: &mut Call) -> Result<Value, String> {
    let v = c.param(0).cloned().unwrap_or(Value::Null);
    Ok(Value::String(jackson::pretty(&v)))
}

fn format_json(c: &mut Call) -> Result<Value, String> {
    let input = match &c.block {
        Some(b) => Value::String(b.clone()),
        None => c.param(0).cloned().unwrap_or(Value::Null),
    };
    let v = json_arg(Some(&input), "Input")?;
    Ok(Value::String(match c.opt_text("format").as_deref() {
        Some("compact") => v.to_string(),
        _ => jackson::pretty(&v),
    }))
}

fn json_array_add(c: &mut Call) -> Result<Value, String> {
    let mut target = json_arg(c.param(0), "Target JSON")?;
    let item = match &c.block {
        Some(b) => json_arg(Some(&Value::String(b.clone())), "Item JSON")?,
        None => json_arg(c.param(1), "Item JSON")?,
    };
    let flatten = c.flag("flatten");
    let max = c
        .opt("maxItems")
        .and_then(|v| display(v).parse::<usize>().ok());
    let add = |list: &mut Vec<Value>| {
        match (&item, flatten) {
            (Value::Array(items), true) => list.extend(items.iter().cloned()),
            _ => list.push(item.clone()),
        }
        if let Some(max) = max {
            while list.len() > max {
                list.remove(0);
            }
        }
    };
    match c.opt_text("jsonPath") {
        Some(p) => {
            let path = JsonPath::parse(&p).map_err(|e| e.message)?;
            let pointer = pointer_of(&path, &target).ok_or("jsonPath selects no array")?;
            match target.pointer_mut(&pointer) {
                Some(Value::Array(list)) => add(list),
                _ => return Err("jsonPath must select an array".into()),
            }
        }
        None => match &mut target {
            Value::Array(list) => add(list),
            _ => return Err("Target JSON is not a JSON array".into()),
        },
    }
    Ok(Value::String(target.to_string()))
}

/// The JSON pointer of the first value `path` selects.
fn pointer_of(path: &JsonPath, root: &Value) -> Option<String> {
    let wanted = match path.select(root) {
        Selected::One(v) => v,
        Selected::Many(list) => list.into_iter().next()?,
    };
    find_pointer(root, &wanted, String::new())
}

fn find_pointer(at: &Value, wanted: &Value, here: String) -> Option<String> {
    if at == wanted {
        return Some(here);
    }
    match at {
        Value::Object(o) => o.iter().find_map(|(k, v)| {
            find_pointer(
                v,
                wanted,
                format!("{here}/{}", k.replace('~', "~0").replace('/', "~1")),
            )
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_pointer(v, wanted, format!("{here}/{i}"))),
        _ => None,
    }
}

fn merge(base: &mut Value, overlay: Value, remove_nulls: bool) {
    match (base, overlay) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                if remove_nulls && v.is_null() {
                    b.remove(&k);
                    continue;
                }
                match b.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        merge(existing, v, remove_nulls)
                    }
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn json_merge(c: &mut Call) -> Result<Value, String> {
    let mut base = json_arg(c.param(0), "Base JSON")
        .map_err(|e| e.replace("Base JSON is missing", "Base JSON is not valid JSON ('')"))?;
    let overlay = match &c.block {
        Some(b) => json_arg(Some(&Value::String(b.clone())), "JSON to merge")?,
        None => json_arg(c.param(1), "JSON to merge")?,
    };
    if !base.is_object() {
        return Err("Base JSON is not a JSON object".into());
    }
    if !overlay.is_object() {
        return Err("JSON to merge is not a JSON object".into());
    }
    merge(&mut base, overlay, c.flag("removeNulls"));
    Ok(Value::String(base.to_string()))
}

fn json_remove(c: &mut Call) -> Result<Value, String> {
    let mut target = json_arg(c.param(0), "Input JSON")?;
    let expr = c.text(1).unwrap_or_default();
    let path = JsonPath::parse(&expr).map_err(|e| e.message)?;
    let doomed: Vec<Value> = match path.select(&target) {
        Selected::One(v) if !v.is_null() => vec![v],
        Selected::One(_) => Vec::new(),
        Selected::Many(list) => list,
    };
    for d in doomed {
        if let Some(p) = find_pointer(&target, &d, String::new()) {
            let (parent, last) = p.rsplit_once('/').unwrap_or(("", ""));
            match target.pointer_mut(parent) {
                Some(Value::Object(o)) => {
                    o.remove(&last.replace("~1", "/").replace("~0", "~"));
                }
                Some(Value::Array(a)) => {
                    if let Ok(i) = last.parse::<usize>() {
                        if i < a.len() {
                            a.remove(i);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Ok(Value::String(target.to_string()))
}

fn json_sort(c: &mut Call) -> Result<Value, String> {
    let mut target = json_arg(c.param(0), "Input JSON")?;
    let expr = c.text(1).unwrap_or_default();
    let (array_path, field) = match expr.find("[*]") {
        Some(i) => (&expr[..i], expr[i + 3..].trim_start_matches('.')),
        None => return Err("the path must select array items with [*]".into()),
    };
    let desc = c.opt_text("order").as_deref() == Some("desc");
    let nulls_last = c.opt_text("nulls").as_deref() == Some("last");
    let list_pointer = if array_path == "$" {
        String::new()
    } else {
        let p = JsonPath::parse(array_path).map_err(|e| e.message)?;
        pointer_of(&p, &target).ok_or("the path selects no array")?
    };
    let Some(Value::Array(list)) = target.pointer_mut(&list_pointer) else {
        return Err("the path must select an array".into());
    };
    let key = |v: &Value| -> Value {
        if field.is_empty() {
            return v.clone();
        }
        field
            .split('.')
            .try_fold(v, |v, k| v.get(k))
            .cloned()
            .unwrap_or(Value::Null)
    };
    list.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        let ord = match (&ka, &kb) {
            (Value::Null, Value::Null) => return std::cmp::Ordering::Equal,
            (Value::Null, _) => {
                return if nulls_last {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Less
                }
            }
            (_, Value::Null) => {
                return if nulls_last {
                    std::cmp::Ordering::Less
                } else {
                    std::cmp::Ordering::Greater
                }
            }
            (Value::Number(x), Value::Number(y)) => x
                .as_f64()
                .partial_cmp(&y.as_f64())
                .unwrap_or(std::cmp::Ordering::Equal),
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            (x, y) => display(x).cmp(&display(y)),
        };
        if desc {
            ord.reverse()
        } else {
            ord
        }
    });
    Ok(Value::String(target.to_string()))
}
