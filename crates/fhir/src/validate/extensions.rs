//! Extensions: where a definition allows an extension to be used (its `context`),
//! and what an extension whose definition is not loaded means.

use super::walk::Walker;
use super::Plan;
use crate::model::Node;
use crate::outcome::{IssueCode, Severity};

fn addr(node: &Node) -> usize {
    node as *const Node as usize
}

impl Walker<'_> {
    /// The extensions of `holder` whose definitions give FHIRPath contexts or context
    /// invariants: evaluated here, where the holder is at hand. An extension a
    /// FHIRPath context selects the holder for is remembered as placed; a false
    /// context invariant is an error.
    pub(crate) fn extension_contexts(&mut self, holder: &Node, root: &Node, path: &str) {
        for key in ["extension", "modifierExtension"] {
            for (i, ext) in holder
                .get(key)
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let Some(url) = ext.get("url").and_then(Node::as_str) else {
                    continue;
                };
                if !url.contains(':') {
                    continue;
                }
                let Some(plan) = self.v.plan(url).filter(|p| p.type_name == "Extension") else {
                    continue;
                };
                if plan.context_invariants.is_empty()
                    && !plan.contexts.iter().any(|c| c.fhirpath.is_some())
                {
                    continue;
                }
                let env = self.v.env();
                let placed = plan.contexts.iter().any(|c| match &c.fhirpath {
                    Some(Ok(expr)) => crate::fhirpath::evaluate(expr, root, env)
                        .map(|found| {
                            found.iter().any(|item| match item {
                                crate::fhirpath::Item::Node(n) => {
                                    n.object().is_some_and(|o| addr(o) == addr(holder))
                                }
                                _ => false,
                            })
                        })
                        .unwrap_or(false),
                    _ => false,
                });
                if placed {
                    self.fhirpath_placed.insert(addr(ext));
                }
                let at = format!("{path}.{key}[{i}]");
                for (text, expr) in &plan.context_invariants {
                    let Ok(expr) = expr else { continue };
                    let result = crate::fhirpath::evaluate_on(expr, root, holder, None, env);
                    if result.ok().as_deref().and_then(crate::fhirpath::as_boolean) == Some(false) {
                        self.issue(
                            Severity::Error,
                            IssueCode::Structure,
                            format!("the extension {url} is not allowed here: its context invariant `{text}` is false"),
                            ext,
                            &at,
                            None,
                        );
                    }
                }
            }
        }
    }

    /// An extension whose definition is not loaded: a warning, or an error when the
    /// validator is asked to treat unknown extensions as errors (not under an
    /// example domain, unless example URLs are refused).
    pub(crate) fn unknown_extension(&mut self, url: &str, node: &Node, path: &str) {
        // No definition is ever published under an example domain, so one used
        // there is not held against the instance unless example URLs are refused.
        let example = super::walk::example_extension(url) && !self.v.options.no_example_urls;
        if self.v.options.unknown_extensions_are_errors && !example {
            self.issue(
                Severity::Error,
                IssueCode::Extension,
                format!("the extension {url} is not loaded, so it is not allowed here"),
                node,
                path,
                None,
            );
        } else {
            self.not_loaded(url, node, path);
        }
    }

    /// The extension definition's `context` must name the element that holds it.
    pub(crate) fn check_extension_context(&mut self, ext: &Plan, node: &Node, path: &str) {
        if ext.derivation != "constraint" {
            return;
        }
        if ext.contexts.is_empty() {
            return;
        }
        let allowed = ext.contexts.iter().any(|c| match c.kind.as_str() {
            "extension" => self.ext_urls.last().is_some_and(|u| *u == c.expression),
            // Evaluated where the holder is known (`extension_contexts`).
            "fhirpath" => match &c.fhirpath {
                Some(Ok(_)) => self.fhirpath_placed.contains(&addr(node)),
                _ => true,
            },
            _ => self.holder_matches(&c.expression),
        }) || self.declared_here(&ext.url, path);
        if !allowed {
            let shown: Vec<&str> = ext.contexts.iter().map(|c| c.expression.as_str()).collect();
            let mut here: Vec<&str> = Vec::new();
            for h in &self.holder {
                if !here.contains(&h.as_str()) {
                    here.push(h);
                }
            }
            let msg = format!(
                "the extension {} is not allowed here (this element is [{}]; allowed: {})",
                ext.url,
                here.join(", "),
                shown.join(", ")
            );
            self.issue(Severity::Error, IssueCode::Structure, msg, node, path, None);
        }
    }

    /// A profile the resource is validated against names this extension on this
    /// element. Its author has declared the use, so the extension's own narrower
    /// context does not make the instance wrong: the CareConnect-GPC profiles put
    /// `Extension-coding-sctdescid` on codings although its context lists resources.
    fn declared_here(&self, url: &str, path: &str) -> bool {
        let Some(applied) = &self.applied else {
            return false;
        };
        let Some(rest) = path.strip_prefix(applied.at.as_str()) else {
            return false;
        };
        // `.code.coding[0].extension[1]` names the element `<type>.code.coding`.
        let mut holder = applied.resource_type.clone();
        for seg in rest.split('.').filter(|s| !s.is_empty()) {
            holder.push('.');
            holder.push_str(seg.split('[').next().unwrap_or(seg));
        }
        let Some(holder) = holder
            .strip_suffix(".extension")
            .or_else(|| holder.strip_suffix(".modifierExtension"))
        else {
            return false;
        };
        applied
            .plans
            .iter()
            .flat_map(|p| &p.declared_extensions)
            .any(|(h, u)| u == url && same_element(h, holder))
    }

    fn holder_matches(&self, expr: &str) -> bool {
        if matches!(expr, "Element" | "Base" | "*") {
            return true;
        }
        let model = self.v.env().model.clone();
        // R5's interfaces for the resources with a canonical url, which earlier
        // releases do not name: a resource with `url` and `status` is one.
        let interface = matches!(expr, "CanonicalResource" | "MetadataResource")
            && model.as_ref().is_some_and(|m| !m.has_type(expr));
        let subtype = |ty: &str, ancestor: &str| {
            ty == ancestor
                || model.as_ref().is_some_and(|m| {
                    m.is_subtype(ty, ancestor)
                        || (interface
                            && ancestor == expr
                            && self.is_resource_type(ty)
                            && m.child(ty, "url").is_some()
                            && m.child(ty, "status").is_some())
                })
        };
        let forms: Vec<String> = self
            .holder
            .iter()
            .flat_map(|h| type_relative_forms(h, model.as_deref()))
            .collect();
        forms
            .iter()
            .any(|h| match (h.split_once('.'), expr.split_once('.')) {
                (None, None) => subtype(h, expr),
                // A context one level below the holder: core definitions moved some
                // extensions between an element and its child across releases.
                (Some((ht, hp)), Some((et, ep))) => {
                    subtype(ht, et)
                        && (hp == ep
                            || ep
                                .strip_prefix(hp)
                                .is_some_and(|r| r.starts_with('.') && !r[1..].contains('.')))
                }
                _ => false,
            })
    }
}

/// A profile's element path and an instance's name the same element: a choice
/// `value[x]` is named by its type in the instance (`valueQuantity`).
fn same_element(declared: &str, instance: &str) -> bool {
    let (d, i): (Vec<&str>, Vec<&str>) =
        (declared.split('.').collect(), instance.split('.').collect());
    d.len() == i.len()
        && d.iter().zip(&i).all(|(d, i)| match d.strip_suffix("[x]") {
            Some(prefix) => i
                .strip_prefix(prefix)
                .is_some_and(|t| t.starts_with(|c: char| c.is_ascii_uppercase())),
            None => d == i,
        })
}

/// A path and the same element named from each datatype along it:
/// `Patient.address.line` is also `Address.line`.
fn type_relative_forms(path: &str, model: Option<&crate::fhirpath::ModelInfo>) -> Vec<String> {
    let mut out = vec![path.to_string()];
    let Some(model) = model else { return out };
    let segs: Vec<&str> = path.split('.').collect();
    let mut key = segs[0].to_string();
    for i in 1..segs.len() {
        let Some(def) = model.child(&key, segs[i]) else {
            break;
        };
        let Some(ty) = def.types.first() else { break };
        if i + 1 < segs.len() && !matches!(ty.as_str(), "BackboneElement" | "Element") {
            out.push(format!("{ty}.{}", segs[i + 1..].join(".")));
        }
        key = model.child_key(def, ty).to_string();
    }
    out
}
