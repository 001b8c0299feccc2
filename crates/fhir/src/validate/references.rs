//! `--check-references`: literal references resolved among contained resources,
//! Bundle entries, the resources of a Parameters and the other inputs, and each
//! target checked against the types and profiles its element allows.
//!
//! "If the reference is not an absolute URL, ... the reference is resolved relative
//! to the ... fullUrl of the entry" and "Contained resources ... SHALL be referred
//! to ... by a fragment identifier" (R4 bundle.html#references, references.html#contained).

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use super::walk::Walker;
use super::Plan;
use crate::model::Node;
use crate::outcome::{IssueCode, Severity};

/// Where each resource of a document sits, by the resource's address.
#[derive(Default)]
pub(crate) struct RefIndex<'n> {
    scopes: HashMap<usize, (&'n Node, Scope<'n>)>,
}

#[derive(Clone, Copy, Default)]
struct Scope<'n> {
    /// The resource this one is contained in (`#id` resolves there).
    container: Option<&'n Node>,
    /// The Bundle this resource is an entry of (or whose entry contains it), and
    /// that entry's `fullUrl`.
    bundle: Option<&'n Node>,
    full_url: Option<&'n str>,
    /// The Parameters this resource is a parameter of.
    parameters: Option<&'n Node>,
}

/// What a reference leads to.
pub(crate) enum Target<'n> {
    Found(&'n Node),
    /// It should be among the resources given (local, relative, or a Bundle's urn)
    /// and is not.
    Missing,
    /// An absolute URL outside what was given: not checked.
    Elsewhere,
}

fn addr(node: &Node) -> usize {
    node as *const Node as usize
}

impl<'n> RefIndex<'n> {
    pub fn build(doc: &'n Node) -> RefIndex<'n> {
        let mut index = RefIndex::default();
        index.visit(doc, Scope::default());
        index
    }

    fn visit(&mut self, res: &'n Node, scope: Scope<'n>) {
        self.scopes.insert(addr(res), (res, scope));
        for c in res.get("contained").map(Node::items).unwrap_or_default() {
            self.visit(
                c,
                Scope {
                    container: Some(res),
                    ..scope
                },
            );
        }
        match res.resource_type() {
            Some("Bundle") => {
                for e in res.get("entry").map(Node::items).unwrap_or_default() {
                    if let Some(r) = e.get("resource") {
                        let full_url = e.get("fullUrl").and_then(Node::as_str);
                        self.visit(
                            r,
                            Scope {
                                bundle: Some(res),
                                full_url,
                                ..Scope::default()
                            },
                        );
                    }
                }
            }
            Some("Parameters") => {
                for r in parameter_resources(res) {
                    self.visit(
                        r,
                        Scope {
                            parameters: Some(res),
                            ..Scope::default()
                        },
                    );
                }
            }
            _ => {}
        }
    }

    /// Resolves `reference`, written in the resource `from`.
    pub fn resolve(
        &self,
        from: &Node,
        reference: &str,
        known: &'n HashMap<String, Arc<Node>>,
    ) -> Target<'n> {
        let (own, scope) = match self.scopes.get(&addr(from)) {
            Some((n, s)) => (Some(*n), *s),
            None => (None, Scope::default()),
        };
        if let Some(local) = reference.strip_prefix('#') {
            // Contained resources resolve in their container; `#` is the container.
            let Some(container) = scope.container.or(own) else {
                return Target::Missing;
            };
            if local.is_empty() {
                return Target::Found(container);
            }
            return container
                .get("contained")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .find(|c| c.get("id").and_then(Node::as_str) == Some(local))
                .map_or(Target::Missing, Target::Found);
        }
        let plain = reference.split("/_history/").next().unwrap_or(reference);
        let absolute = plain.contains(':');
        let relative = (!absolute).then(|| type_and_id(plain)).flatten();
        if let Some(bundle) = scope.bundle {
            let entries = bundle.get("entry").map(Node::items).unwrap_or_default();
            let by_full_url = |url: &str| {
                entries
                    .iter()
                    .find(|e| e.get("fullUrl").and_then(Node::as_str) == Some(url))
                    .and_then(|e| e.get("resource"))
            };
            let base = scope.full_url.and_then(restful_base);
            let found = if absolute {
                by_full_url(plain)
            } else if let (Some(b), Some(_)) = (base, relative) {
                by_full_url(&format!("{b}/{plain}"))
            } else {
                relative.and_then(|(ty, id)| {
                    entries
                        .iter()
                        .filter_map(|e| e.get("resource"))
                        .find(|r| is(r, ty, id))
                })
            };
            if let Some(r) = found {
                return Target::Found(r);
            }
            if plain.starts_with("urn:") {
                return Target::Missing;
            }
        }
        if let (Some(params), Some((ty, id))) = (scope.parameters, relative) {
            if let Some(r) = parameter_resources(params).find(|r| is(r, ty, id)) {
                return Target::Found(r);
            }
        }
        if let Some(r) = relative.and_then(|_| known.get(plain)) {
            return Target::Found(r);
        }
        if relative.is_some() {
            Target::Missing
        } else {
            Target::Elsewhere
        }
    }
}

fn is(r: &Node, ty: &str, id: &str) -> bool {
    r.resource_type() == Some(ty) && r.get("id").and_then(Node::as_str) == Some(id)
}

/// `Patient/1` -> (`Patient`, `1`).
fn type_and_id(text: &str) -> Option<(&str, &str)> {
    let (ty, id) = text.split_once('/')?;
    let ok = ty.starts_with(|c: char| c.is_ascii_uppercase())
        && ty.bytes().all(|b| b.is_ascii_alphabetic())
        && !id.is_empty()
        && !id.contains('/');
    ok.then_some((ty, id))
}

fn restful_base(full_url: &str) -> Option<&str> {
    (full_url.starts_with("http://") || full_url.starts_with("https://"))
        .then(|| full_url.rsplitn(3, '/').nth(2))
        .flatten()
}

/// The resources of a Parameters, parts included.
fn parameter_resources(params: &Node) -> impl Iterator<Item = &Node> {
    let mut stack: Vec<&Node> = params
        .get("parameter")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .collect();
    std::iter::from_fn(move || {
        while let Some(p) = stack.pop() {
            stack.extend(p.get("part").map(Node::items).unwrap_or_default());
            if let Some(r) = p.get("resource") {
                return Some(r);
            }
        }
        None
    })
}

impl<'v> Walker<'v> {
    /// Resolves a Reference value and checks what it finds against the element's
    /// target types and profiles. A reference that should resolve and does not is an
    /// error only with `check_references`.
    pub(crate) fn check_reference(
        &mut self,
        plan: &Plan,
        el: usize,
        node: &Node,
        path: &str,
        root: &Node,
    ) {
        let Some(text) = node.get("reference").and_then(Node::as_str) else {
            return;
        };
        let id = plan.def(el).id.as_str();
        let resolved = match self.ref_index() {
            Some(index) => index.resolve(root, text, &self.v.known),
            None => Target::Elsewhere,
        };
        let target = match resolved {
            Target::Elsewhere => return,
            Target::Missing => {
                let restful = !text.starts_with('#') && !text.contains(':');
                let o = &self.v.options;
                if o.check_references && !(restful && o.assume_valid_rest_references) {
                    self.issue(
                        Severity::Error,
                        IssueCode::NotFound,
                        format!("cannot resolve the reference `{text}`: no such resource is contained, in the Bundle or Parameters, or among the inputs"),
                        node,
                        path,
                        Some(id),
                    );
                }
                return;
            }
            Target::Found(t) => t,
        };
        let Some(rt) = target.resource_type() else {
            return;
        };
        let allowed = self.allowed_targets(plan, el);
        if allowed.is_empty() {
            return;
        }
        let model = self.v.env().model.clone();
        let fits = |ty: &str| ty == rt || model.as_ref().is_some_and(|m| m.is_subtype(rt, ty));
        // Where the URL names the type, `reference_target` has checked it already.
        let named = !text.starts_with('#') && !text.starts_with("urn:");
        if !named && !allowed.iter().any(|(ty, _)| fits(ty)) {
            let mut types: Vec<&str> = allowed.iter().map(|(t, _)| t.as_str()).collect();
            types.sort_unstable();
            types.dedup();
            self.issue(
                Severity::Error,
                IssueCode::Structure,
                format!(
                    "`{text}` resolves to a {rt}, which is not a valid target here: it must be one of {}",
                    types.join(", ")
                ),
                node,
                path,
                Some(id),
            );
            return;
        }
        // A target type's base definition admits any instance of the type.
        let profiles: Vec<&str> = allowed
            .iter()
            .filter(|(ty, _)| fits(ty))
            .map(|(_, p)| p.as_deref())
            .collect::<Option<Vec<&str>>>()
            .unwrap_or_default();
        if profiles.is_empty() || profiles.iter().any(|p| self.conforms(target, p)) {
            return;
        }
        self.issue(
            Severity::Error,
            IssueCode::Structure,
            format!(
                "the target of `{text}` conforms to none of the profiles this reference allows: {}",
                profiles.join(", ")
            ),
            node,
            path,
            Some(id),
        );
    }

    /// `(type, constraint profile)` of each target the element's Reference types
    /// allow; the profile is `None` for a type's own definition. Empty: any resource.
    pub(crate) fn allowed_targets(&self, plan: &Plan, el: usize) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        for t in plan.def(el).types.iter().filter(|t| t.code == "Reference") {
            if t.target_profiles.is_empty() {
                return Vec::new();
            }
            for target in &t.target_profiles {
                let found = self.v.packages().resolve(target);
                let ty = found
                    .and_then(|r| r.sd_type())
                    .map(str::to_string)
                    .or_else(|| {
                        target
                            .strip_prefix("http://hl7.org/fhir/StructureDefinition/")
                            .map(str::to_string)
                    });
                let Some(ty) = ty else {
                    // An unknown profile: its type is not known, so neither is the rule.
                    return Vec::new();
                };
                let constraint = found.is_some_and(|r| r.derivation() == Some("constraint"));
                out.push((ty, constraint.then(|| target.clone())));
            }
        }
        out
    }

    /// Whether `target` validates without errors against `profile`. A target already
    /// being checked against it (references in a circle) is taken to conform.
    pub(crate) fn conforms(&self, target: &'v Node, profile: &str) -> bool {
        let key = (addr(target), profile.to_string());
        if self.checking.contains(&key) {
            return true;
        }
        if let Some(known) = self.conformance.borrow().get(&key) {
            return *known;
        }
        let mut w = self.child();
        let mut checking = (*self.checking).clone();
        checking.push(key.clone());
        w.checking = Rc::new(checking);
        let rt = target.resource_type().unwrap_or("Resource").to_string();
        w.resource(target, &rt, target, &[profile]);
        let conforms = w.error_count() == 0;
        self.conformance.borrow_mut().insert(key, conforms);
        conforms
    }

    /// The type a literal reference names (`Observation/1`, `https://x/fhir/Observation/1`)
    /// must be one of the element's target types.
    pub(crate) fn reference_target(&mut self, plan: &Plan, el: usize, node: &Node, path: &str) {
        let Some(text) = node.get("reference").and_then(Node::as_str) else {
            return;
        };
        if text.starts_with('#') || text.starts_with("urn:") {
            return;
        }
        let text = text.split("/_history/").next().unwrap_or(text);
        let text = text.split(['?', '#']).next().unwrap_or(text);
        let mut segments = text.rsplit('/');
        let (Some(_id), Some(ty)) = (segments.next(), segments.next()) else {
            return;
        };
        if !self.is_resource_type(ty) {
            return;
        }
        let mut allowed = Vec::new();
        for t in plan.def(el).types.iter().filter(|t| t.code == "Reference") {
            // A Reference type that names no target admits any resource.
            if t.target_profiles.is_empty() {
                return;
            }
            for target in &t.target_profiles {
                // The type from the package index: no plan is compiled to learn it.
                let indexed = self.v.packages().resolve(target).and_then(|r| r.sd_type());
                let of = match indexed {
                    Some(ty) => ty.to_string(),
                    None => match target.strip_prefix("http://hl7.org/fhir/StructureDefinition/") {
                        Some(base) => base.to_string(),
                        // An unknown profile: its type is not known, so neither is the rule.
                        None => return,
                    },
                };
                allowed.push(of);
            }
        }
        if allowed.is_empty() {
            return;
        }
        let model = self.v.env().model.clone();
        let fits = allowed
            .iter()
            .any(|a| a == ty || model.as_ref().is_some_and(|m| m.is_subtype(ty, a)));
        if !fits {
            allowed.sort();
            allowed.dedup();
            self.issue(
                Severity::Error,
                IssueCode::Structure,
                format!(
                    "{ty} is not a valid target of this reference: it must be one of {}",
                    allowed.join(", ")
                ),
                node,
                path,
                Some(&plan.def(el).id),
            );
        }
    }
}
