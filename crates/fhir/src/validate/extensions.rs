//! Extensions: where a definition allows an extension to be used (its `context`),
//! and what an extension whose definition is not loaded means.

use super::walk::Walker;
use super::Plan;
use crate::model::Node;
use crate::outcome::{IssueCode, Severity};

impl Walker<'_> {
    /// An extension whose definition is not loaded: a warning, or an error when the
    /// validator is asked to treat unknown extensions as errors.
    pub(crate) fn unknown_extension(&mut self, url: &str, node: &Node, path: &str) {
        if self.v.options.unknown_extensions_are_errors {
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
        let contexts = contexts(&ext.snapshot.structure_definition);
        if contexts.is_empty() {
            return;
        }
        let allowed = contexts.iter().any(|(kind, expr)| match kind.as_str() {
            "extension" => self.ext_urls.last().is_some_and(|u| u == expr),
            "fhirpath" => true,
            _ => self.holder_matches(expr),
        }) || self.declared_here(&ext.url, path);
        if !allowed {
            let shown: Vec<&str> = contexts.iter().map(|(_, e)| e.as_str()).collect();
            let msg = format!(
                "the extension {} is not allowed here (this element is [{}]; allowed: {})",
                ext.url,
                self.holder.join(", "),
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
        let subtype = |ty: &str, ancestor: &str| {
            ty == ancestor || model.as_ref().is_some_and(|m| m.is_subtype(ty, ancestor))
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

/// `(type, expression)` of each context: R4 `context[]`, or STU3 `contextType` with
/// `context` strings.
fn contexts(sd: &Node) -> Vec<(String, String)> {
    let stu3_kind = sd.get("contextType").and_then(Node::as_str);
    sd.get("context")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| match (c.as_str(), stu3_kind) {
            (Some(text), Some(kind)) => Some((kind.to_string(), text.to_string())),
            (Some(_), None) => None,
            (None, _) => Some((
                c.get("type").and_then(Node::as_str)?.to_string(),
                c.get("expression").and_then(Node::as_str)?.to_string(),
            )),
        })
        .collect()
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
