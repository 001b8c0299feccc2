//! Merging one differential element into its snapshot element, after checking that
//! it only narrows: cardinality within the base's, types among the base's.

use super::generate::Ctx;
use super::{remove_member, set_member, string_node, ElementDefinition, Max, SnapshotProblem};
use crate::model::{Kind, Node};

pub(crate) type Problem = (SnapshotProblem, String);

/// Type codes a constraint may replace with any more specific type.
const OPEN_TYPES: &[&str] = &[
    "*",
    "Resource",
    "DomainResource",
    "Element",
    "BackboneElement",
];

pub(crate) fn check_and_merge(
    ctx: &Ctx<'_>,
    target: &mut Node,
    diff: &Node,
) -> Result<(), Problem> {
    let base = ElementDefinition::from_node(target);
    let wanted = ElementDefinition::from_node(diff);
    let mut keep_max = false;
    if let Some(max) = diff.get("max").and_then(Node::as_str) {
        let max = Max::parse(max).ok_or_else(|| {
            (
                SnapshotProblem::Invalid,
                format!("max `{max}` is not a number or *"),
            )
        })?;
        if max > base.max {
            let message = format!("max {max} is wider than the base's {}", base.max);
            if !ctx.lenient {
                return Err((SnapshotProblem::CardinalityWidened, message));
            }
            ctx.note(&base.id, &format!("{message}; the base's is kept"));
            keep_max = true;
        }
    }
    // A slice may have a lower min than the sliced element: the slices share it.
    if diff.get("min").is_some()
        && wanted.slice_name.is_none()
        && base.slice_name.is_none()
        && wanted.min < base.min
    {
        return Err((
            SnapshotProblem::CardinalityWidened,
            format!("min {} is wider than the base's {}", wanted.min, base.min),
        ));
    }
    if diff.get("type").is_some() && !base.types.is_empty() {
        for t in &wanted.types {
            // R4 writes the types of `id` and `url` as FHIRPath system types.
            let known = base.types.iter().any(|b| {
                b.code == t.code
                    || OPEN_TYPES.contains(&b.code.as_str())
                    || b.code.starts_with("http://hl7.org/fhirpath/System.")
            });
            if !known {
                let codes: Vec<&str> = base.types.iter().map(|b| b.code.as_str()).collect();
                return Err((
                    SnapshotProblem::TypeNotInBase,
                    format!(
                        "type {} is not among the base's types ({})",
                        t.code,
                        codes.join(", ")
                    ),
                ));
            }
        }
    }
    for (key, value) in diff.members() {
        if keep_max && &**key == "max" {
            continue;
        }
        merge_member(ctx, target, key, value);
    }
    // A constrained element points at the profile's text, not the base's.
    target.pos = diff.pos;
    if diff.get("type").is_some() {
        add_profile_constraints(ctx, target, &wanted);
    }
    let merged = ElementDefinition::from_node(target);
    if let Max::Count(max) = merged.max {
        if merged.min > max {
            return Err((
                SnapshotProblem::Invalid,
                format!("min {} is more than max {max}", merged.min),
            ));
        }
    }
    Ok(())
}

fn merge_member(ctx: &Ctx<'_>, target: &mut Node, key: &str, value: &Node) {
    match key {
        "id" | "path" => {}
        "constraint" => {
            let mut list = target
                .get("constraint")
                .map(|c| c.items().to_vec())
                .unwrap_or_default();
            for c in value.items() {
                let key = c.get("key").and_then(Node::as_str);
                if list
                    .iter()
                    .any(|have| have.get("key").and_then(Node::as_str) == key)
                {
                    continue;
                }
                let mut c = c.clone();
                if c.get("source").is_none() && !ctx.url.is_empty() {
                    set_member(&mut c, "source", string_node(&ctx.url, value));
                }
                list.push(c);
            }
            set_member(
                target,
                "constraint",
                Node::new(Kind::Array(list), value.pos),
            );
        }
        "condition" | "alias" | "mapping" => {
            let mut list = target
                .get(key)
                .map(|c| c.items().to_vec())
                .unwrap_or_default();
            for item in value.items() {
                if !list.iter().any(|have| have.to_value() == item.to_value()) {
                    list.push(item.clone());
                }
            }
            set_member(target, key, Node::new(Kind::Array(list), value.pos));
        }
        "binding" | "slicing" => {
            let mut merged = target
                .get(key)
                .cloned()
                .unwrap_or_else(|| Node::new(Kind::Object(Vec::new()), value.pos));
            for (k, v) in value.members() {
                set_member(&mut merged, k, v.clone());
            }
            // A value set named by a newer member replaces one named by another.
            if key == "binding" {
                for old in ["valueSet", "valueSetUri", "valueSetReference"] {
                    if value.get(old).is_none()
                        && ["valueSet", "valueSetUri", "valueSetReference"]
                            .iter()
                            .any(|n| value.get(n).is_some())
                    {
                        remove_member(&mut merged, old);
                    }
                }
            }
            set_member(target, key, merged);
        }
        k if k.starts_with("fixed") || k.starts_with("pattern") => {
            let stale: Vec<String> = target
                .members()
                .iter()
                .map(|(k, _)| k.to_string())
                .filter(|k| k.starts_with("fixed") || k.starts_with("pattern"))
                .collect();
            for s in stale {
                remove_member(target, &s);
            }
            set_member(target, k, value.clone());
        }
        _ => set_member(target, key, value.clone()),
    }
}

/// A type narrowed to one profile brings the invariants of that profile's root
/// (`SimpleQuantity` adds `sqty-1`).
fn add_profile_constraints(ctx: &Ctx<'_>, target: &mut Node, wanted: &ElementDefinition) {
    let [only] = wanted.types.as_slice() else {
        return;
    };
    let [profile] = only.profiles.as_slice() else {
        return;
    };
    let Some(sd) = ctx.set.resolve_in(profile, ctx.release) else {
        return;
    };
    if Some(sd.index()) == ctx.index {
        return;
    }
    let Ok(snapshot) = ctx.set.snapshot_of(sd) else {
        return;
    };
    let Some(root) = snapshot.elements.first() else {
        return;
    };
    let mut list = target
        .get("constraint")
        .map(|c| c.items().to_vec())
        .unwrap_or_default();
    let before = list.len();
    for c in root
        .node
        .get("constraint")
        .map(Node::items)
        .unwrap_or_default()
    {
        let key = c.get("key").and_then(Node::as_str);
        if !list
            .iter()
            .any(|have| have.get("key").and_then(Node::as_str) == key)
        {
            list.push(c.clone());
        }
    }
    if list.len() > before {
        let pos = target.pos;
        set_member(target, "constraint", Node::new(Kind::Array(list), pos));
    }
}
