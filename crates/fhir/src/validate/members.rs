//! The members of an object against the child elements of its definition: unknown
//! names, JSON arrays, choice types, `null`, primitive `_` siblings, cardinality, and
//! each value walked against its element (or its slices).

use std::collections::HashMap;
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
        let mut groups: HashMap<usize, Vec<Item<'_>>> = HashMap::new();
        let mut ext_counts: HashMap<usize, usize> = HashMap::new();
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
            let code = match choice {
                Some(suffix) => match codes.iter().find(|t| crate::xml::upper_first(t) == suffix) {
                    Some(t) => t.clone(),
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
                None => codes.first().cloned().unwrap_or_default(),
            };
            let many = plan.elements[c].many;
            let child_path = format!("{path}.{name}");
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
                self.primitive_extensions(&code, &items, &child_path, &def_path, many, root);
                *ext_counts.entry(c).or_default() = items.len();
                continue;
            }
            let sibling = node.get(&format!("_{name}"));
            for (i, item) in items.into_iter().enumerate() {
                let p = if many {
                    format!("{child_path}[{i}]")
                } else {
                    child_path.clone()
                };
                if matches!(item.kind, Kind::Null) {
                    let covered = sibling.is_some_and(|s| {
                        let ext = if many { s.items().get(i) } else { Some(s) };
                        ext.is_some_and(|e| !matches!(e.kind, Kind::Null))
                    });
                    if !covered || !primitive::is_primitive(&code) {
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
                groups.entry(c).or_default().push(Item {
                    node: item,
                    path: p,
                    code: code.clone(),
                });
            }
        }
        let children = plan.elements[el].children.clone();
        for c in children {
            let items = groups.remove(&c).unwrap_or_default();
            let count = items.len().max(ext_counts.get(&c).copied().unwrap_or(0));
            self.cardinality(
                plan,
                c,
                count,
                node,
                &format!("{path}.{}", plan.elements[c].name),
            );
            if items.is_empty() {
                // An absent element holds none of its slices: a required one is missing.
                if count == 0 {
                    let at = format!("{path}.{}", plan.elements[c].name);
                    for &s in &plan.elements[c].slices {
                        self.cardinality(plan, s, 0, node, &at);
                    }
                }
                continue;
            }
            if plan.elements[c].slices.is_empty() {
                for it in &items {
                    self.element(plan, c, it.node, &it.path, root, Some(&it.code));
                }
            } else {
                self.sliced(plan, c, &items, node, root);
            }
        }
        self.holder = saved_holder;
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
        let id = def.id.clone();
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
                    Some(&id),
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
                    Some(&id),
                );
            }
        }
    }
}
