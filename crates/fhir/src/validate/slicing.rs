//! Slicing: which slice each repeat belongs to (by discriminator, or by trial
//! validation where a discriminator cannot be read statically), slice cardinality,
//! and closed slicing.

use std::sync::Arc;

use super::walk::{Item, Walker};
use super::Plan;
use crate::model::{Kind, Node};
use crate::outcome::{IssueCode, Severity};
use crate::snapshot::{Discriminator, Max};

impl Walker<'_> {
    pub(crate) fn sliced(
        &mut self,
        plan: &Arc<Plan>,
        entry: usize,
        items: &[Item<'_>],
        parent: &Node,
        root: &Node,
    ) {
        let slices = plan.elements[entry].slices.clone();
        let slicing = plan.def(entry).slicing.clone();
        let discriminators = slicing
            .as_ref()
            .map(|s| s.discriminators.clone())
            .unwrap_or_default();
        let closed = slicing.as_ref().and_then(|s| s.rules.as_deref()) == Some("closed");
        let base_path = items
            .first()
            .map(|i| i.path.split('[').next().unwrap_or(&i.path).to_string())
            .unwrap_or_default();
        let mut counts = vec![0usize; slices.len()];
        for it in items {
            let matched = slices
                .iter()
                .position(|&s| self.in_slice(plan, s, it, &discriminators, root));
            match matched {
                Some(k) => {
                    counts[k] += 1;
                    self.element(plan, slices[k], it.node, &it.path, root, Some(it.code));
                }
                None => {
                    if closed {
                        let id = plan.def(entry).id.as_str();
                        self.issue(
                            Severity::Error,
                            IssueCode::Structure,
                            format!("this element does not match any known slice of {id}, and the slicing is closed"),
                            it.node,
                            &it.path,
                            Some(id),
                        );
                    }
                    self.element(plan, entry, it.node, &it.path, root, Some(it.code));
                }
            }
        }
        for (k, &s) in slices.iter().enumerate() {
            self.cardinality(plan, s, counts[k], parent, &base_path);
        }
    }

    fn in_slice(
        &self,
        plan: &Arc<Plan>,
        slice: usize,
        it: &Item<'_>,
        discriminators: &[Discriminator],
        root: &Node,
    ) -> bool {
        if discriminators.is_empty() {
            return self.trial(plan, slice, it, root);
        }
        discriminators.iter().all(|d| {
            let answer = match d.path.strip_suffix("resolve()") {
                Some(prefix) => self.resolved_discriminator(plan, slice, it, d, prefix, root),
                None => self.discriminator(plan, slice, it, d),
            };
            answer.unwrap_or_else(|| self.trial(plan, slice, it, root))
        })
    }

    /// A `type` or `profile` discriminator on the resource a reference resolves to
    /// (`item.resolve()`): the target's type is one the slice's reference allows, or
    /// the target conforms to one of its target profiles. `None`: not resolvable here.
    fn resolved_discriminator(
        &self,
        plan: &Arc<Plan>,
        slice: usize,
        it: &Item<'_>,
        d: &Discriminator,
        prefix: &str,
        root: &Node,
    ) -> Option<bool> {
        let prefix = prefix.strip_suffix('.').unwrap_or(prefix);
        let prefix = if prefix.is_empty() { "$this" } else { prefix };
        let (p, e) = self.find_element(plan, slice, prefix)?;
        let index = self.ref_index()?;
        let mut targets = Vec::new();
        for r in navigate(it.node, prefix)? {
            let text = r.get("reference").and_then(Node::as_str)?;
            match index.resolve(root, text, &self.v.known) {
                super::references::Target::Found(t) => targets.push(t),
                _ => return None,
            }
        }
        if targets.is_empty() {
            return None;
        }
        let allowed = self.allowed_targets(&p, e);
        if allowed.is_empty() {
            return None;
        }
        let model = self.v.env().model.clone();
        let fits =
            |ty: &str, rt: &str| ty == rt || model.as_ref().is_some_and(|m| m.is_subtype(rt, ty));
        Some(targets.iter().all(|t| {
            let rt = t.resource_type().unwrap_or_default();
            match d.kind.as_str() {
                "profile" => allowed.iter().any(|(ty, profile)| {
                    fits(ty, rt) && profile.as_deref().is_none_or(|pr| self.conforms(t, pr))
                }),
                _ => allowed.iter().any(|(ty, _)| fits(ty, rt)),
            }
        }))
    }

    /// `None`: the discriminator cannot be read statically.
    fn discriminator(
        &self,
        plan: &Arc<Plan>,
        slice: usize,
        it: &Item<'_>,
        d: &Discriminator,
    ) -> Option<bool> {
        let (p, e) = self.find_element(plan, slice, &d.path)?;
        let values = navigate(it.node, &d.path)?;
        let def = p.def(e);
        match d.kind.as_str() {
            "value" | "pattern" => {
                if let Some((_, fixed)) = &def.fixed {
                    return Some(values.iter().any(|v| super::compare::equal(v, fixed)));
                }
                if let Some((_, pattern)) = &def.pattern {
                    return Some(
                        values
                            .iter()
                            .any(|v| super::compare::matches_pattern(v, pattern)),
                    );
                }
                None
            }
            "exists" => {
                let must = def.min > 0;
                let must_not = def.max == Max::Count(0);
                match (must, must_not) {
                    (true, _) => Some(!values.is_empty()),
                    (_, true) => Some(values.is_empty()),
                    _ => None,
                }
            }
            "type" => {
                let codes = super::walk::type_codes(&p, e);
                if d.path == "$this" {
                    let actual = it.node.resource_type().unwrap_or(it.code);
                    return Some(codes.iter().any(|c| c == actual || c == it.code));
                }
                let actual: Vec<&str> = values.iter().filter_map(|v| v.resource_type()).collect();
                if actual.is_empty() {
                    return None;
                }
                Some(actual.iter().any(|a| codes.iter().any(|c| c == a)))
            }
            _ => None,
        }
    }

    fn trial(&self, plan: &Arc<Plan>, slice: usize, it: &Item<'_>, root: &Node) -> bool {
        let mut w = self.child();
        w.element(plan, slice, it.node, &it.path, root, Some(it.code));
        w.error_count() == 0
    }

    /// The element a discriminator path names, below a slice, following type
    /// profiles (an extension slice's `url` is fixed in the extension's definition).
    fn find_element(
        &self,
        plan: &Arc<Plan>,
        slice: usize,
        path: &str,
    ) -> Option<(Arc<Plan>, usize)> {
        let mut cur = (plan.clone(), slice);
        for seg in path.split('.') {
            if seg == "$this" {
                continue;
            }
            if seg.contains('(') {
                return None;
            }
            let next = cur.0.child(cur.1, seg).map(|(c, _)| c);
            cur = match next {
                Some(c) => (cur.0.clone(), c),
                None => {
                    let profile = cur
                        .0
                        .def(cur.1)
                        .types
                        .iter()
                        .flat_map(|t| t.profiles.iter())
                        .next()?
                        .clone();
                    let tp = self.v.plan(&profile)?;
                    let c = tp.child(0, seg)?.0;
                    (tp, c)
                }
            };
        }
        Some(cur)
    }
}

/// The values at a simple dotted path (arrays flattened, `value` finds `valueX`).
fn navigate<'n>(node: &'n Node, path: &str) -> Option<Vec<&'n Node>> {
    let mut cur = vec![node];
    for seg in path.split('.') {
        if seg == "$this" {
            continue;
        }
        if seg.contains('(') {
            return None;
        }
        let mut next = Vec::new();
        for n in cur {
            let found = n.get(seg).or_else(|| {
                n.members().iter().find_map(|(k, v)| {
                    let rest = k.strip_prefix(seg)?;
                    rest.starts_with(|c: char| c.is_ascii_uppercase())
                        .then_some(v)
                })
            });
            match found.map(|f| &f.kind) {
                Some(Kind::Array(items)) => next.extend(items.iter()),
                Some(_) => next.extend(found),
                None => {}
            }
        }
        cur = next;
    }
    Some(cur)
}
