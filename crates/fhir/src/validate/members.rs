//! The members of an object against the child elements of its definition: unknown
//! names, JSON arrays, choice types, `null`, primitive `_` siblings, cardinality, and
//! each value walked against its element (or its slices).

use std::sync::Arc;

use super::walk::{type_codes, Item, Walker};
use super::{primitive, Plan};
use crate::model::{Kind, Node};
use crate::outcome::{IssueCode, Severity};
use crate::package::FhirRelease;
use crate::snapshot::Max;

impl Walker<'_> {
    /// The members of an object against the children of `el`.
    pub(crate) fn members(
        &mut self,
        plan: &Arc<Plan>,
        el: usize,
        node: &Node,
        path: &str,
        root: &Node,
    ) {
        let mut groups: Vec<(usize, Vec<Item<'_>>)> = Vec::new();
        let mut ext_counts: Vec<(usize, usize)> = Vec::new();
        // The type decides, not `kind`: some profiles of resources say complex-type.
        let resource_root = (el == 0
            && (plan.kind == "resource" || self.is_resource_type(&plan.type_name)))
            || self.resource_typed(plan, el);
        let mut holder = std::mem::take(&mut self.outer);
        holder.push(plan.def(el).path.clone());
        if el == 0 {
            holder.push(plan.type_name.clone());
        }
        let saved_holder = std::mem::replace(&mut self.holder, holder);
        let comments_allowed = self.v.release() == FhirRelease::Stu3;
        if node.get("extension").is_some() || node.get("modifierExtension").is_some() {
            self.extension_contexts(node, root, path);
        }
        for (key, value) in node.members() {
            let key: &str = key;
            if (key == "resourceType" && resource_root)
                || (key == "fhir_comments" && comments_allowed)
            {
                continue;
            }
            let (name, underscore) = match key.strip_prefix('_') {
                Some(n) => (n, true),
                None => (key, false),
            };
            let Some((c, choice)) = plan.child(el, name) else {
                self.issue(
                    Severity::Error,
                    IssueCode::Structure,
                    format!("unknown element `{key}`"),
                    value,
                    &format!("{path}.{key}"),
                    Some(&plan.def(el).id),
                );
                continue;
            };
            let codes = type_codes(plan, c);
            let code: &str = match choice {
                Some(suffix) => match codes.iter().find(|t| same_type_name(t, suffix)) {
                    Some(t) => t,
                    None => {
                        self.issue(
                            Severity::Error,
                            IssueCode::Structure,
                            format!(
                                "type {suffix} is not allowed for `{}`",
                                plan.elements[c].name
                            ),
                            value,
                            &format!("{path}.{key}"),
                            Some(&plan.def(c).id),
                        );
                        continue;
                    }
                },
                None => codes.first().map_or("", String::as_str),
            };
            let many = plan.elements[c].many;
            let child_path = join(path, ".", name);
            if value.is_array() != many {
                let msg = if many {
                    format!("`{key}` must be a JSON array")
                } else {
                    format!("`{key}` must not be a JSON array")
                };
                self.issue(
                    Severity::Error,
                    IssueCode::Structure,
                    msg,
                    value,
                    &child_path,
                    Some(&plan.def(c).id),
                );
                continue;
            }
            let items: Vec<&Node> = if many {
                value.items().iter().collect()
            } else {
                vec![value]
            };
            if many && items.is_empty() {
                self.issue(
                    Severity::Error,
                    IssueCode::Structure,
                    format!("`{key}` is an empty array"),
                    value,
                    &child_path,
                    Some(&plan.def(c).id),
                );
                continue;
            }
            if underscore {
                let def_path = plan.def(c).path.clone();
                self.value_alternatives(plan, c, node.get(name), &items, &child_path, many);
                self.primitive_extensions(code, &items, &child_path, &def_path, many, root);
                match ext_counts.iter_mut().find(|(k, _)| *k == c) {
                    Some(slot) => slot.1 = items.len(),
                    None => ext_counts.push((c, items.len())),
                }
                continue;
            }
            let sibling = node
                .members()
                .iter()
                .find(|(k, _)| k.strip_prefix('_') == Some(name))
                .map(|(_, v)| v);
            let group = match groups.iter().position(|(k, _)| *k == c) {
                Some(g) => g,
                None => {
                    groups.push((c, Vec::with_capacity(items.len())));
                    groups.len() - 1
                }
            };
            let last = items.len().saturating_sub(1);
            let mut child_path = Some(child_path);
            for (i, item) in items.into_iter().enumerate() {
                let p = match (many, i == last) {
                    (true, _) => indexed(child_path.as_deref().unwrap_or_default(), i),
                    (false, true) => child_path.take().unwrap_or_default(),
                    (false, false) => child_path.clone().unwrap_or_default(),
                };
                if matches!(item.kind, Kind::Null) {
                    let covered = sibling.is_some_and(|s| {
                        let ext = if many { s.items().get(i) } else { Some(s) };
                        ext.is_some_and(|e| !matches!(e.kind, Kind::Null))
                    });
                    if !covered || !primitive::is_primitive(code) {
                        self.issue(
                            Severity::Error,
                            IssueCode::Structure,
                            "null is not allowed here",
                            item,
                            &p,
                            Some(&plan.def(c).id),
                        );
                    }
                    continue;
                }
                groups[group].1.push(Item {
                    node: item,
                    path: p,
                    code,
                });
            }
        }
        for &c in &plan.elements[el].children {
            let items = groups
                .iter_mut()
                .find(|(k, _)| *k == c)
                .map(|(_, items)| std::mem::take(items))
                .unwrap_or_default();
            let extended = ext_counts
                .iter()
                .find(|(k, _)| *k == c)
                .map_or(0, |(_, n)| *n);
            let count = items.len().max(extended);
            self.cardinality_at(plan, c, count, node, path);
            if items.is_empty() {
                // An absent element holds none of its slices: a required one is missing.
                if count == 0 && !plan.elements[c].slices.is_empty() {
                    let at = join(path, ".", &plan.elements[c].name);
                    for &s in &plan.elements[c].slices {
                        self.cardinality(plan, s, 0, node, &at);
                    }
                }
                continue;
            }
            if plan.elements[c].slices.is_empty() {
                for it in &items {
                    self.element(plan, c, it.node, &it.path, root, Some(it.code));
                }
            } else {
                self.sliced(plan, c, &items, node, root);
            }
        }
        self.holder = saved_holder;
    }

    /// [`Walker::cardinality`] of child `c` of the object at `parent`: its path is
    /// only spelled out when there is something to report.
    fn cardinality_at(&mut self, plan: &Plan, c: usize, count: usize, at: &Node, parent: &str) {
        let def = plan.def(c);
        let over = match def.max {
            Max::Count(max) => count as u64 > u64::from(max),
            Max::Unbounded => false,
        };
        if (count as u64) < u64::from(def.min) || over {
            let path = join(parent, ".", &plan.elements[c].name);
            self.cardinality(plan, c, count, at, &path);
        }
    }

    pub fn cardinality(&mut self, plan: &Plan, c: usize, count: usize, at: &Node, path: &str) {
        let def = plan.def(c);
        let label = match &def.slice_name {
            Some(s) => format!("{} (slice {s})", def.path),
            None => def.path.clone(),
        };
        if (count as u64) < u64::from(def.min) {
            self.issue(
                Severity::Error,
                IssueCode::Required,
                format!(
                    "{label}: minimum required = {}, but only found {count}",
                    def.min
                ),
                at,
                path,
                Some(&def.id),
            );
        }
        if let Max::Count(max) = def.max {
            if count as u64 > u64::from(max) {
                self.issue(
                    Severity::Error,
                    IssueCode::Structure,
                    format!("{label}: maximum allowed = {max}, but found {count}"),
                    at,
                    path,
                    Some(&def.id),
                );
            }
        }
    }

    /// `_name` siblings of primitives: objects holding only `id` and `extension`.
    #[allow(clippy::too_many_arguments)]
    fn primitive_extensions(
        &mut self,
        code: &str,
        items: &[&Node],
        path: &str,
        def_path: &str,
        many: bool,
        root: &Node,
    ) {
        if !primitive::is_primitive(code) {
            self.issue(
                Severity::Error,
                IssueCode::Structure,
                format!("`_` extensions apply to primitive elements only, not {code}"),
                items.first().copied().unwrap_or(root),
                path,
                None,
            );
            return;
        }
        let Some(element) = self.v.plan("Element") else {
            return;
        };
        for (i, item) in items.iter().enumerate() {
            if matches!(item.kind, Kind::Null) && many {
                continue;
            }
            let p = if many {
                format!("{path}[{i}]")
            } else {
                path.to_string()
            };
            self.outer = vec![def_path.to_string(), code.to_string()];
            self.element(&element, 0, item, &p, root, Some("Element"));
            self.outer.clear();
        }
    }

    /// A primitive given only by its `_` sibling's extensions: R5's
    /// `mustHaveValue` ("the value of the data type cannot be replaced by an
    /// extension") and `valueAlternatives` ("a list of extensions that can appear in
    /// place of a primitive value"), which R4 profiles state as cross-version
    /// extensions on the element.
    fn value_alternatives(
        &mut self,
        plan: &Plan,
        c: usize,
        values: Option<&Node>,
        metas: &[&Node],
        path: &str,
        many: bool,
    ) {
        const MUST: &str =
            "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.mustHaveValue";
        const ALTERNATIVES: &str =
            "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.valueAlternatives";
        let def = plan.def(c);
        let exts = def
            .node
            .get("extension")
            .map(Node::items)
            .unwrap_or_default();
        let must = exts.iter().any(|x| {
            x.get("url").and_then(Node::as_str) == Some(MUST)
                && x.get("valueBoolean").and_then(Node::as_bool) == Some(true)
        });
        let alternatives: Vec<&str> = exts
            .iter()
            .filter(|x| x.get("url").and_then(Node::as_str) == Some(ALTERNATIVES))
            .filter_map(|x| x.get("valueCanonical").and_then(Node::as_str))
            .collect();
        if !must && alternatives.is_empty() {
            return;
        }
        let id = def.id.as_str();
        for (i, meta) in metas.iter().enumerate() {
            let value = match values {
                Some(v) if many => v.items().get(i),
                v => v,
            };
            if value.is_some_and(|v| !matches!(v.kind, Kind::Null)) {
                continue;
            }
            let p = if many {
                format!("{path}[{i}]")
            } else {
                path.to_string()
            };
            if must {
                self.issue(
                    Severity::Error,
                    IssueCode::Required,
                    "the profile says this element must have a value (mustHaveValue): extensions cannot stand in for it",
                    meta,
                    &p,
                    Some(id),
                );
                continue;
            }
            let urls: Vec<&str> = meta
                .get("extension")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .filter_map(|x| x.get("url").and_then(Node::as_str))
                .collect();
            if !urls.iter().any(|u| alternatives.contains(u)) {
                self.issue(
                    Severity::Error,
                    IssueCode::Required,
                    format!(
                        "the value is absent, and none of the extensions the profile allows in its place is present ({})",
                        alternatives.join(", ")
                    ),
                    meta,
                    &p,
                    Some(id),
                );
            }
        }
    }
}

/// `a` + `sep` + `b`, without the formatting machinery (paths are built for every
/// value of every instance).
pub(crate) fn join(a: &str, sep: &str, b: &str) -> String {
    let mut out = String::with_capacity(a.len() + sep.len() + b.len());
    out.push_str(a);
    out.push_str(sep);
    out.push_str(b);
    out
}

/// `path[i]`.
pub(crate) fn indexed(path: &str, i: usize) -> String {
    let mut digits = [0u8; 20];
    let mut n = i;
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let digits = std::str::from_utf8(&digits[at..]).unwrap_or("0");
    let mut out = String::with_capacity(path.len() + digits.len() + 2);
    out.push_str(path);
    out.push('[');
    out.push_str(digits);
    out.push(']');
    out
}

/// A choice suffix (`Quantity` of `valueQuantity`) names type code `code`.
fn same_type_name(code: &str, suffix: &str) -> bool {
    let mut a = code.chars();
    let mut b = suffix.chars();
    match (a.next(), b.next()) {
        (Some(x), Some(y)) if x.to_ascii_uppercase() == y => a.eq(b),
        _ => false,
    }
}
