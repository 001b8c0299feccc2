//! How STU3 snapshots were written by the tools of the time (Forge, the 3.x
//! publisher), so that generated ones read the same: datatype elements unfolded,
//! each element carrying its type's invariants.

use std::collections::HashMap;

use super::generate::{id_of, unfold, Ctx};
use super::{set_member, ElementDefinition};
use crate::model::{Kind, Node};

/// STU3 snapshots (as Forge and the 3.x publisher wrote them) repeat on each element
/// the invariants of its type's root (`ref-1` on a Reference); a choice of several
/// types gets those of `Element` only, a contained resource none.
pub(crate) fn add_type_invariants(ctx: &Ctx<'_>, elements: &mut [Node]) {
    let mut roots: HashMap<String, Vec<Node>> = HashMap::new();
    for e in elements.iter_mut().skip(1) {
        let types = ElementDefinition::from_node(e).types;
        let codes: Vec<String> = match types.as_slice() {
            [] => Vec::new(),
            [one] if matches!(one.code.as_str(), "Resource" | "DomainResource") => Vec::new(),
            [one] => vec![one.code.clone()],
            _ => vec!["Element".to_string()],
        };
        let mut list = e
            .get("constraint")
            .map(|c| c.items().to_vec())
            .unwrap_or_default();
        let before = list.len();
        for code in codes {
            let invariants = roots.entry(code.clone()).or_insert_with(|| {
                ctx.set
                    .type_definition(&code, ctx.release)
                    .and_then(|t| ctx.set.snapshot_of(t).ok())
                    .and_then(|s| {
                        s.elements
                            .first()
                            .map(|r| r.node.get("constraint").map(|c| c.items().to_vec()))
                    })
                    .flatten()
                    .unwrap_or_default()
            });
            for c in invariants.iter() {
                let key = c.get("key").and_then(Node::as_str);
                if !list
                    .iter()
                    .any(|have| have.get("key").and_then(Node::as_str) == key)
                {
                    list.push(c.clone());
                }
            }
        }
        if list.len() > before {
            let pos = e.pos;
            set_member(e, "constraint", Node::new(Kind::Array(list), pos));
        }
    }
}

/// Types whose children STU3 snapshots leave folded.
const KEPT_FOLDED: &[&str] = &[
    "Extension",
    "Resource",
    "DomainResource",
    "Meta",
    "Narrative",
    "BackboneElement",
    "Element",
    "xhtml",
];

/// STU3 snapshots (Forge) unfold every datatype element of the resource's own
/// elements, stopping where a type would repeat inside itself.
pub(crate) fn expand_datatypes(ctx: &Ctx<'_>, elements: &mut Vec<Node>) {
    let mut i = 1;
    while i < elements.len() {
        let e = ElementDefinition::from_node(&elements[i]);
        let inherited = e
            .node
            .get("base")
            .and_then(|b| b.get("path"))
            .and_then(Node::as_str)
            .is_some_and(|p| p.starts_with("Resource.") || p.starts_with("DomainResource."));
        // Extensions (their own definitions, and extension elements) stay folded.
        let in_extension = e.path.starts_with("Extension.")
            || e.path.contains(".extension.")
            || e.path.contains(".modifierExtension.");
        let expandable = match e.types.first() {
            Some(first) => {
                e.types.iter().all(|t| t.code == first.code)
                    && first.code.starts_with(|c: char| c.is_ascii_uppercase())
                    && !KEPT_FOLDED.contains(&first.code.as_str())
                    && e.content_reference.is_none()
                    && !in_extension
            }
            None => false,
        };
        let has_children = elements
            .get(i + 1)
            .is_some_and(|next| id_of(next).starts_with(&format!("{}.", e.id)));
        if expandable && !inherited && !has_children && !repeats_type(elements, i, &e) {
            // A type that cannot be unfolded (not loaded) stays folded.
            let _ = unfold(ctx, elements, i);
        }
        i += 1;
    }
}

/// Whether an ancestor of element `i` has the same type (Identifier.assigner.identifier),
/// or its parent is a Reference (whose identifier stays folded).
fn repeats_type(elements: &[Node], i: usize, e: &ElementDefinition) -> bool {
    let code = e.types.first().map(|t| t.code.as_str()).unwrap_or_default();
    let mut id = e.id.as_str();
    let mut first = true;
    while let Some((parent, _)) = id.rsplit_once('.') {
        id = parent;
        if let Some(p) = elements[..i].iter().rev().find(|x| id_of(x) == parent) {
            let types = ElementDefinition::from_node(p).types;
            if types
                .iter()
                .any(|t| t.code == code || (first && t.code == "Reference"))
            {
                return true;
            }
        }
        first = false;
    }
    false
}
