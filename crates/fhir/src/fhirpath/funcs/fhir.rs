//! FHIR additions (`extension`, `hasValue`, `getValue`, `resolve`, `memberOf`,
//! `conformsTo`, `htmlChecks`), type functions, `trace` and the clock.

use super::{boolean, one, Call, R};
use crate::fhirpath::error::FhirPathError;
use crate::fhirpath::temporal::{TKind, Temporal, DAY};
use crate::fhirpath::value::{Collection, Item, Value};
use crate::model::Node;

pub fn call<'a>(c: &Call<'_, 'a>) -> R<Option<Collection<'a>>> {
    let r = match c.name {
        "extension" | "hasExtension" => {
            let Some(url) = c.arg_string(0)? else {
                return Ok(Some(vec![]));
            };
            let mut exts = Vec::new();
            for item in &c.input {
                c.ev.children(item, "extension", &mut exts);
            }
            let found: Collection<'a> = exts
                .into_iter()
                .filter(|e| match e {
                    Item::Node(n) => {
                        n.object().and_then(|o| o.get("url")).and_then(Node::as_str) == Some(&url)
                    }
                    _ => false,
                })
                .collect();
            if c.name == "hasExtension" {
                boolean(!found.is_empty())
            } else {
                Ok(found)
            }
        }
        "hasValue" => boolean(match c.input.as_slice() {
            [Item::Node(n)] => n.is_primitive_value(),
            [Item::Value(_)] => true,
            _ => false,
        }),
        "getValue" => Ok(match c.input.as_slice() {
            [item @ Item::Node(n)] if n.is_primitive_value() => {
                item.to_value().map(Item::Value).into_iter().collect()
            }
            [item @ Item::Value(_)] => vec![item.clone()],
            _ => vec![],
        }),
        "resolve" => {
            let mut out = Vec::new();
            for item in &c.input {
                let reference = match item {
                    Item::Node(n) => match n.value {
                        Some(v) if v.is_object() => v.get("reference").and_then(Node::as_str),
                        Some(v) => v.as_str(),
                        None => None,
                    },
                    _ => None,
                };
                if let Some(found) = reference
                    .and_then(|r| resolve(c.ev.resource, r).or_else(|| resolve(c.ev.root, r)))
                {
                    out.push(c.ev.resource_item(found));
                }
            }
            Ok(out)
        }
        "memberOf" => member_of(c),
        "subsumes" | "subsumedBy" => subsumption(c),
        "conformsTo" => conforms_to(c),
        "htmlChecks" | "htmlchecks" => {
            let Some(item) = c.ev.singleton(&c.input, c.pos)? else {
                return Ok(Some(vec![]));
            };
            match item.to_value() {
                Some(Value::String(s)) => boolean(super::xhtml::html_ok(&s)),
                _ => boolean(false),
            }
        }
        "trace" => {
            let name = c.arg_string(0)?.unwrap_or_default();
            if let Some(sink) = &c.ev.env.trace {
                let shown = if c.args.len() > 1 {
                    let mut out = Vec::new();
                    for (i, item) in c.input.iter().enumerate() {
                        out.extend(c.eval_with(1, item, i, None)?);
                    }
                    out
                } else {
                    c.input.clone()
                };
                let text: Vec<String> = shown.iter().map(Item::to_display).collect();
                sink(&name, &text);
            }
            Ok(c.input.clone())
        }
        "now" => one(Value::Temporal(*c.ev.now.get_or_init(Temporal::now))),
        "today" => one(Value::Temporal(
            c.ev.now
                .get_or_init(Temporal::now)
                .with_prec(DAY, TKind::Date),
        )),
        "timeOfDay" => {
            let mut t = *c.ev.now.get_or_init(Temporal::now);
            t.kind = TKind::Time;
            t.tz = None;
            one(Value::Temporal(t))
        }
        "is" => {
            let spec = c.args[0]
                .as_type_spec()
                .ok_or_else(|| c.err("is() needs a type name"))?;
            match c.ev.singleton(&c.input, c.pos)? {
                None => Ok(vec![]),
                Some(item) => boolean(c.ev.type_matches(item, &spec, c.pos)?),
            }
        }
        "as" => {
            let spec = c.args[0]
                .as_type_spec()
                .ok_or_else(|| c.err("as() needs a type name"))?;
            c.ev.filter_type(c.input.clone(), &spec, c.pos)
        }
        "type" => Ok(c
            .input
            .iter()
            .map(|item| {
                let (namespace, name) = match item {
                    Item::Node(n) => ("FHIR", n.type_name().to_string()),
                    Item::Value(v) => ("System", v.type_name().to_string()),
                };
                Item::Value(Value::TypeInfo {
                    namespace: namespace.to_string(),
                    name,
                })
            })
            .collect()),
        _ => return Ok(None),
    };
    r.map(Some)
}

/// Finds a referenced resource: `#id` among the contained resources, else a Bundle
/// entry by `fullUrl` or by `Type/id`.
fn resolve<'a>(root: &'a Node, reference: &str) -> Option<&'a Node> {
    let contained = || root.get("contained").map(Node::items).unwrap_or_default();
    if let Some(id) = reference.strip_prefix('#') {
        return contained()
            .iter()
            .find(|r| r.get("id").and_then(Node::as_str) == Some(id));
    }
    let matches_type_id = |r: &Node| {
        let (Some(t), Some(id)) = (r.resource_type(), r.get("id").and_then(Node::as_str)) else {
            return false;
        };
        let tail = format!("{t}/{id}");
        reference == tail || reference.ends_with(&format!("/{tail}"))
    };
    if root.resource_type() == Some("Bundle") {
        let entries = root.get("entry").map(Node::items).unwrap_or_default();
        for e in entries {
            let full = e.get("fullUrl").and_then(Node::as_str);
            let res = e.get("resource");
            if full == Some(reference) || res.is_some_and(matches_type_id) {
                return res;
            }
        }
    }
    contained().iter().find(|r| matches_type_id(r))
}

/// The codes an item carries: a code, a Coding, or a CodeableConcept's codings.
fn codings<'a>(item: &Item<'a>) -> Vec<(Option<&'a str>, String)> {
    let mut out = Vec::new();
    match item {
        Item::Value(Value::String(s)) => out.push((None, s.clone())),
        Item::Value(_) => {}
        Item::Node(n) => match n.value {
            Some(v) if v.as_str().is_some() => {
                out.push((None, v.as_str().unwrap_or_default().to_string()))
            }
            Some(v) if v.is_object() => {
                let list: Vec<&Node> = match v.get("coding") {
                    Some(cs) => cs.items().iter().collect(),
                    None => vec![v],
                };
                for cd in list {
                    if let Some(code) = cd.get("code").and_then(Node::as_str) {
                        out.push((cd.get("system").and_then(Node::as_str), code.to_string()));
                    }
                }
            }
            _ => {}
        },
    }
    out
}

/// Any of the answers true is true; else any unknown is empty; else false.
fn any_of<'a>(answers: impl IntoIterator<Item = Option<bool>>) -> R<Collection<'a>> {
    let (mut unknown, mut seen) = (false, false);
    for a in answers {
        seen = true;
        match a {
            Some(true) => return boolean(true),
            Some(false) => {}
            None => unknown = true,
        }
    }
    if unknown || !seen {
        Ok(vec![])
    } else {
        boolean(false)
    }
}

fn member_of<'a>(c: &Call<'_, 'a>) -> R<Collection<'a>> {
    let Some(vs) = c.arg_string(0)? else {
        return Ok(vec![]);
    };
    let Some(term) = &c.ev.env.terminology else {
        return Ok(vec![]);
    };
    let Some(item) = c.ev.singleton(&c.input, c.pos)? else {
        return Ok(vec![]);
    };
    let codes = codings(item);
    any_of(
        codes
            .iter()
            .map(|(system, code)| term.member_of(*system, code, &vs)),
    )
}

/// `subsumes` / `subsumedBy`: between codes of the same system, by the terminology.
fn subsumption<'a>(c: &Call<'_, 'a>) -> R<Collection<'a>> {
    let Some(term) = &c.ev.env.terminology else {
        return Ok(vec![]);
    };
    let other = c.arg(0)?;
    let (Some(a), Some(b)) = (
        c.ev.singleton(&c.input, c.pos)?,
        c.ev.singleton(&other, c.pos)?,
    ) else {
        return Ok(vec![]);
    };
    let (xs, ys) = (codings(a), codings(b));
    let mut answers = Vec::new();
    for (sx, x) in &xs {
        for (sy, y) in &ys {
            let (Some(sx), Some(sy)) = (sx, sy) else {
                continue;
            };
            if sx != sy {
                continue;
            }
            answers.push(if c.name == "subsumes" {
                term.subsumes(sx, x, y)
            } else {
                term.subsumes(sx, y, x)
            });
        }
    }
    any_of(answers)
}

fn conforms_to<'a>(c: &Call<'_, 'a>) -> R<Collection<'a>> {
    let Some(url) = c.arg_string(0)? else {
        return Ok(vec![]);
    };
    let Some(item) = c.ev.singleton(&c.input, c.pos)? else {
        return Ok(vec![]);
    };
    let Item::Node(n) = item else {
        return boolean(false);
    };
    if let (Some(hook), Some(node)) = (&c.ev.env.conforms_to, n.value) {
        if let Some(b) = hook(node, &url) {
            return boolean(b);
        }
    }
    // The core type profiles are decided by the type alone.
    if let Some(name) = url.strip_prefix("http://hl7.org/fhir/StructureDefinition/") {
        match c.ev.model {
            Some(model) if model.has_type(name) => {
                return boolean(model.is_subtype(n.type_name(), name));
            }
            // Without a model, a resource conforms to its own type's profile only.
            None if n.value.and_then(Node::resource_type).is_some()
                && name.starts_with(|ch: char| ch.is_ascii_uppercase())
                && !name.contains('/') =>
            {
                return boolean(n.type_name() == name);
            }
            _ => {}
        }
    }
    Err(FhirPathError::execution(
        format!("cannot check conformance to unknown profile {url}"),
        c.ev.pos(c.pos),
    ))
}
