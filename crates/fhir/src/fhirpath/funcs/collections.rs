//! Existence, filtering, projection, subsetting, combining, aggregates and tree
//! navigation functions.

use super::{boolean, one, opt, Call, R};
use crate::fhirpath::ast::{Ast, AstKind, BinOp};
use crate::fhirpath::compare::{item_equals, order_values};
use crate::fhirpath::error::FhirPathError;
use crate::fhirpath::eval::union;
use crate::fhirpath::eval::Ctx;
use crate::fhirpath::value::{Collection, Item, Value};
use std::cmp::Ordering;

fn contains<'a>(hay: &[Item<'a>], x: &Item<'a>) -> bool {
    hay.iter().any(|h| item_equals(h, x) == Some(true))
}

fn distinct<'a>(c: Collection<'a>) -> Collection<'a> {
    union(c, vec![])
}

/// Bounds on `repeat` (quadratic duplicate checks) and `descendants` results,
/// against runaway expressions.
const MAX_REPEAT: usize = 10_000;
const MAX_ITEMS: usize = 200_000;

pub fn call<'a>(c: &Call<'_, 'a>) -> R<Option<Collection<'a>>> {
    let input = &c.input;
    let r = match c.name {
        "empty" => boolean(input.is_empty()),
        "exists" => boolean(!input.is_empty()),
        "allTrue" | "anyTrue" | "allFalse" | "anyFalse" => {
            let mut bools = Vec::with_capacity(input.len());
            for item in input {
                match item.to_value() {
                    Some(Value::Boolean(b)) => bools.push(b),
                    _ => {
                        return Err(c.err(format!(
                            "`{}` needs booleans, found {}",
                            c.name,
                            item.type_name()
                        )))
                    }
                }
            }
            boolean(match c.name {
                "allTrue" => bools.iter().all(|b| *b),
                "anyTrue" => bools.iter().any(|b| *b),
                "allFalse" => bools.iter().all(|b| !*b),
                _ => bools.iter().any(|b| !*b),
            })
        }
        "subsetOf" => {
            let other = c.arg(0)?;
            boolean(input.iter().all(|x| contains(&other, x)))
        }
        "supersetOf" => {
            let other = c.arg(0)?;
            boolean(other.iter().all(|x| contains(input, x)))
        }
        "count" => one(Value::Integer(input.len() as i64)),
        "distinct" => Ok(distinct(input.clone())),
        "isDistinct" => boolean(distinct(input.clone()).len() == input.len()),
        "ofType" => {
            let spec = c.args[0]
                .as_type_spec()
                .ok_or_else(|| c.err("ofType() needs a type name"))?;
            let mut out = Vec::new();
            for item in input {
                if c.ev.type_matches_mode(item, &spec, c.pos, true)? {
                    out.push(item.clone());
                }
            }
            Ok(out)
        }
        "single" => match input.len() {
            0 | 1 => Ok(input.clone()),
            n => Err(c.err(format!("single() found {n} items"))),
        },
        "first" => Ok(input.first().cloned().into_iter().collect()),
        "last" => Ok(input.last().cloned().into_iter().collect()),
        "tail" => Ok(input.iter().skip(1).cloned().collect()),
        "skip" | "take" => {
            let n = c.arg_int(0)?.unwrap_or(0);
            let n = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
            Ok(if c.name == "skip" {
                input.iter().skip(n).cloned().collect()
            } else {
                input.iter().take(n).cloned().collect()
            })
        }
        "intersect" => {
            let other = c.arg(0)?;
            let kept = input
                .iter()
                .filter(|x| contains(&other, x))
                .cloned()
                .collect();
            Ok(distinct(kept))
        }
        "exclude" => {
            let other = c.arg(0)?;
            Ok(input
                .iter()
                .filter(|x| !contains(&other, x))
                .cloned()
                .collect())
        }
        "union" => Ok(union(input.clone(), c.arg(0)?)),
        "combine" => {
            let mut out = input.clone();
            out.extend(c.arg(0)?);
            Ok(out)
        }
        // Singleton evaluation: a lone non-boolean item counts as true.
        "not" => match c.ev.to_bool(input, c.pos)? {
            None => Ok(vec![]),
            Some(b) => boolean(!b),
        },
        "sum" | "min" | "max" | "avg" => aggregate_builtin(c),
        "children" => {
            let mut out = Vec::new();
            for item in input {
                children_of(c, item, &mut out)?;
            }
            Ok(out)
        }
        "descendants" => {
            let mut out = Vec::new();
            let mut frontier = input.clone();
            while !frontier.is_empty() {
                let mut next = Vec::new();
                for item in &frontier {
                    children_of(c, item, &mut next)?;
                }
                out.extend(next.iter().cloned());
                if out.len() > MAX_ITEMS {
                    return Err(c.err("descendants() produced too many items"));
                }
                frontier = next;
            }
            Ok(out)
        }
        _ => return Ok(None),
    };
    r.map(Some)
}

/// Functions whose arguments are evaluated per item (or lazily), dispatched from a
/// small frame because they sit on the evaluator's recursion path.
pub fn lambda<'a>(c: &Call<'_, 'a>) -> R<Option<Collection<'a>>> {
    let r = match c.name {
        "exists" if !c.args.is_empty() => exists(c),
        "all" => all(c),
        "where" => where_(c),
        "select" => select(c),
        "repeat" | "repeatAll" => repeat(c),
        "iif" => iif(c),
        "aggregate" => aggregate(c),
        "sort" => sort(c),
        _ => return Ok(None),
    };
    r.map(Some)
}

fn exists<'a>(c: &Call<'_, 'a>) -> R<Collection<'a>> {
    let hits = where_(c)?;
    boolean(!hits.is_empty())
}

fn all<'a>(c: &Call<'_, 'a>) -> R<Collection<'a>> {
    for (i, item) in c.input.iter().enumerate() {
        let r = c.eval_with(0, item, i, None)?;
        if c.ev.to_bool(&r, c.args[0].pos)? != Some(true) {
            return boolean(false);
        }
    }
    boolean(true)
}

fn select<'a>(c: &Call<'_, 'a>) -> R<Collection<'a>> {
    let mut out = Vec::new();
    for (i, item) in c.input.iter().enumerate() {
        out.extend(c.eval_with(0, item, i, None)?);
    }
    Ok(out)
}

fn repeat<'a>(c: &Call<'_, 'a>) -> R<Collection<'a>> {
    let mut out: Collection<'a> = Vec::new();
    let mut frontier = c.input.clone();
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for (i, item) in frontier.iter().enumerate() {
            for r in c.eval_with(0, item, i, None)? {
                if c.name == "repeatAll" || !contains(&out, &r) {
                    out.push(r.clone());
                    next.push(r);
                }
            }
        }
        if out.len() > MAX_REPEAT {
            return Err(c.err("repeat() produced too many items"));
        }
        frontier = next;
    }
    Ok(out)
}

fn aggregate<'a>(c: &Call<'_, 'a>) -> R<Collection<'a>> {
    let mut total = c.arg(1)?;
    for (i, item) in c.input.iter().enumerate() {
        total = c.eval_with(0, item, i, Some(&total))?;
    }
    Ok(total)
}

fn where_<'a>(c: &Call<'_, 'a>) -> R<Collection<'a>> {
    let mut out = Vec::new();
    for (i, item) in c.input.iter().enumerate() {
        let r = c.eval_with(0, item, i, None)?;
        if c.ev.to_bool(&r, c.args[0].pos)? == Some(true) {
            out.push(item.clone());
        }
    }
    Ok(out)
}

fn iif<'a>(c: &Call<'_, 'a>) -> R<Collection<'a>> {
    if c.input.len() > 1 {
        return Err(c.err("iif() applies to a single item at most"));
    }
    // The criterion sees an explicit focus as `$this`; otherwise the caller's context.
    let crit = match (c.has_focus, c.input.first()) {
        (true, Some(item)) => c.eval_with(0, item, 0, c.ctx.total.as_ref())?,
        (true, None) | (false, _) => c.arg(0)?,
    };
    let pos = c.args[0].pos;
    let truth = match crit.as_slice() {
        [] => None,
        [item] => match item.to_value() {
            Some(Value::Boolean(b)) => Some(b),
            _ => {
                return Err(FhirPathError::semantic(
                    "the iif() criterion must be a boolean",
                    c.ev.pos(pos),
                ))
            }
        },
        _ => {
            return Err(FhirPathError::semantic(
                "the iif() criterion must be a single boolean",
                c.ev.pos(pos),
            ))
        }
    };
    let branch = if truth == Some(true) { 1 } else { 2 };
    // The branches, like the criterion, see an explicit focus as `$this`.
    match (c.has_focus, c.input.first(), c.args.get(branch)) {
        (_, _, None) => Ok(vec![]),
        (true, Some(item), Some(_)) => c.eval_with(branch, item, 0, c.ctx.total.as_ref()),
        _ => c.arg(branch),
    }
}

fn sort<'a>(c: &Call<'_, 'a>) -> R<Collection<'a>> {
    // `-key` sorts descending; the key itself is evaluated without the minus so that
    // strings can be sorted descending too.
    let keys: Vec<(&Ast, bool)> = c
        .args
        .iter()
        .map(|a| match &a.kind {
            AstKind::Negate(inner) => (&**inner, true),
            _ => (a, false),
        })
        .collect();
    let mut keyed = Vec::with_capacity(c.input.len());
    for (i, item) in c.input.iter().enumerate() {
        let mut values = Vec::new();
        if keys.is_empty() {
            values.push(item.to_value());
        }
        for (k, _) in &keys {
            let ctx = Ctx {
                this: vec![item.clone()],
                index: Some(i as i64),
                total: None,
            };
            let r = c.ev.eval(k, &ctx)?;
            values.push(c.ev.singleton_value(&r, k.pos)?);
        }
        keyed.push((values, item.clone()));
    }
    let mut failure = None;
    keyed.sort_by(|(a, _), (b, _)| {
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            let desc = keys.get(k).is_some_and(|(_, d)| *d);
            // Empty keys sort first in either direction.
            let o = match (x, y) {
                (None, None) => Ordering::Equal,
                (None, _) => Ordering::Less,
                (_, None) => Ordering::Greater,
                (Some(x), Some(y)) => match order_values(x, y) {
                    Ok(o) if desc => o.unwrap_or(Ordering::Equal).reverse(),
                    Ok(o) => o.unwrap_or(Ordering::Equal),
                    Err(e) => {
                        failure = Some(e);
                        Ordering::Equal
                    }
                },
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    if let Some(e) = failure {
        return Err(c.err(e));
    }
    Ok(keyed.into_iter().map(|(_, i)| i).collect())
}

fn aggregate_builtin<'a>(c: &Call<'_, 'a>) -> R<Collection<'a>> {
    let mut values = Vec::with_capacity(c.input.len());
    for item in &c.input {
        values.push(
            item.to_value()
                .ok_or_else(|| c.err(format!("`{}` needs values", c.name)))?,
        );
    }
    let Some(first) = values.first().cloned() else {
        return if c.name == "sum" {
            one(Value::Integer(0))
        } else {
            Ok(vec![])
        };
    };
    match c.name {
        "sum" | "avg" => {
            let mut acc = first;
            for v in &values[1..] {
                acc = super::arithmetic(BinOp::Add, &acc, v)
                    .map_err(|e| c.err(e))?
                    .ok_or_else(|| c.err("sum failed"))?;
            }
            if c.name == "avg" {
                let n = Value::Integer(values.len() as i64);
                return opt(super::arithmetic(BinOp::Div, &acc, &n).map_err(|e| c.err(e))?);
            }
            one(acc)
        }
        _ => {
            let mut best = first;
            for v in &values[1..] {
                let o = order_values(v, &best).map_err(|e| c.err(e))?;
                let better = if c.name == "min" {
                    o == Some(Ordering::Less)
                } else {
                    o == Some(Ordering::Greater)
                };
                if better {
                    best = v.clone();
                }
            }
            one(best)
        }
    }
}

/// All child elements of an item: by the model when it knows the type, else in
/// document order.
fn children_of<'a>(c: &Call<'_, 'a>, item: &Item<'a>, out: &mut Collection<'a>) -> R<()> {
    let Item::Node(n) = item else { return Ok(()) };
    let Some(obj) = n.object() else { return Ok(()) };
    if let (Some(m), false) = (c.ev.model, n.ty.key.is_empty()) {
        // Only the names the object holds are navigated: spelling out every child of
        // the type (a choice once per allowed type) for each element would dominate
        // ele-1, which runs on every element.
        let held: Vec<&str> = crate::fhirpath::navigate::held_names(obj).collect();
        for (name, def) in m.child_names(n.ty.key) {
            let present = if def.choice {
                held.iter()
                    .any(|h| h.len() > name.len() && h.starts_with(name))
            } else {
                held.contains(&name)
            };
            if present {
                c.ev.children(item, name, out);
            }
        }
        return Ok(());
    }
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in obj.members() {
        let name = k.strip_prefix('_').unwrap_or(k);
        if name == "resourceType" || seen.contains(&name) {
            continue;
        }
        seen.push(name);
        c.ev.children(item, name, out);
    }
    Ok(())
}
