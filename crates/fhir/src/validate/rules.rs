//! Rules a snapshot states on values beyond their types: fixed and pattern values,
//! min/max values and lengths, the Attachment size, and invariants (FHIRPath).

use super::walk::Walker;
use super::Plan;
use super::{compare, primitive};
use crate::fhirpath::{as_boolean, evaluate_on};
use crate::model::{Kind, Node};
use crate::outcome::{IssueCode, Severity};

/// The largest string FHIR allows (1 MB).
const MAX_STRING_BYTES: usize = 1024 * 1024;

impl Walker<'_> {
    pub(crate) fn value_rules(
        &mut self,
        plan: &Plan,
        el: usize,
        node: &Node,
        path: &str,
        code: &str,
    ) {
        let def = plan.def(el);
        let id = def.id.clone();
        if let Some(text) = node.as_str() {
            // The limit is on strings: narrative and binary content are other types.
            if text.len() > MAX_STRING_BYTES && !matches!(code, "xhtml" | "base64Binary") {
                self.issue(
                    Severity::Error,
                    IssueCode::Value,
                    format!(
                        "the value is longer than the maximum of 1 MB ({} bytes)",
                        text.len()
                    ),
                    node,
                    path,
                    Some(&id),
                );
            }
            let max_len = def.node.get("maxLength").and_then(number);
            if let Some(max) = max_len {
                if text.chars().count() as f64 > max {
                    self.issue(
                        Severity::Error,
                        IssueCode::Value,
                        format!("the value is longer than the maximum length {max}"),
                        node,
                        path,
                        Some(&id),
                    );
                }
            }
        }
        let def = plan.def(el);
        if let Kind::Number(n) = &node.kind {
            let value: Option<f64> = n.parse().ok();
            let bound = |prefix: &str| {
                def.node
                    .members()
                    .iter()
                    .find(|(k, _)| k.starts_with(prefix) && k.len() > prefix.len())
                    .and_then(|(_, v)| number(v))
            };
            if let (Some(v), Some(max)) = (value, bound("maxValue")) {
                if v > max {
                    self.issue(
                        Severity::Error,
                        IssueCode::Value,
                        format!("{n} is greater than the maximum value {max}"),
                        node,
                        path,
                        Some(&id),
                    );
                }
            }
            let def = plan.def(el);
            let bound = |prefix: &str| {
                def.node
                    .members()
                    .iter()
                    .find(|(k, _)| k.starts_with(prefix) && k.len() > prefix.len())
                    .and_then(|(_, v)| number(v))
            };
            if let (Some(v), Some(min)) = (value, bound("minValue")) {
                if v < min {
                    self.issue(
                        Severity::Error,
                        IssueCode::Value,
                        format!("{n} is less than the minimum value {min}"),
                        node,
                        path,
                        Some(&id),
                    );
                }
            }
        }
        if code == "Attachment" {
            self.attachment_size(node, path);
        }
    }

    /// `Attachment.size` must be the size of the decoded `data`.
    fn attachment_size(&mut self, node: &Node, path: &str) {
        use base64::Engine as _;
        let (Some(data), Some(size)) = (
            node.get("data").and_then(Node::as_str),
            node.get("size").and_then(number),
        ) else {
            return;
        };
        let clean: String = data.chars().filter(|c| !c.is_whitespace()).collect();
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(clean.as_bytes()) {
            if bytes.len() as f64 != size {
                self.issue(
                    Severity::Error,
                    IssueCode::Value,
                    format!(
                        "the stated attachment size {size} does not match the data's size {}",
                        bytes.len()
                    ),
                    node,
                    &format!("{path}.size"),
                    None,
                );
            }
        }
    }

    pub(crate) fn fixed_pattern(&mut self, plan: &Plan, el: usize, node: &Node, path: &str) {
        let def = plan.def(el);
        if let Some((key, fixed)) = &def.fixed {
            if !compare::equal(node, fixed) {
                let msg = format!("value must be exactly {} ({key})", compare::show(fixed));
                let id = def.id.clone();
                self.issue(
                    Severity::Error,
                    IssueCode::Value,
                    msg,
                    node,
                    path,
                    Some(&id),
                );
            }
        }
        let def = plan.def(el);
        if let Some((key, pattern)) = &def.pattern {
            if !compare::matches_pattern(node, pattern) {
                let msg = format!(
                    "value must match the pattern {} ({key})",
                    compare::show(pattern)
                );
                let id = def.id.clone();
                self.issue(
                    Severity::Error,
                    IssueCode::Value,
                    msg,
                    node,
                    path,
                    Some(&id),
                );
            }
        }
    }

    pub(crate) fn invariants(
        &mut self,
        plan: &Plan,
        el: usize,
        node: &Node,
        path: &str,
        root: &Node,
        code: &str,
    ) {
        if plan.elements[el].invariants.is_empty() {
            return;
        }
        let primitive = primitive::is_primitive(code);
        let backbone = code == "BackboneElement" || code == "Element" && el != 0;
        let ty = if backbone {
            plan.def(el).path.clone()
        } else {
            code.to_string()
        };
        let env_override = self.env_override.take();
        let env = env_override.as_ref().unwrap_or_else(|| self.v.env());
        let id = plan.def(el).id.clone();
        for inv in &plan.elements[el].invariants {
            // ele-1 on a primitive is about its `_` sibling, which is checked there.
            if primitive && inv.key == "ele-1" {
                continue;
            }
            let expr = match &inv.expr {
                Ok(e) => e,
                Err(why) => {
                    let key = format!("invariant {} {}", plan.url, inv.key);
                    if self.warned.insert(key) {
                        self.issue(
                            Severity::Warning,
                            IssueCode::Processing,
                            format!("invariant {} could not be evaluated: {why}", inv.key),
                            node,
                            path,
                            Some(&id),
                        );
                    }
                    continue;
                }
            };
            match evaluate_on(expr, root, node, Some(&ty), env) {
                Ok(result) => {
                    if as_boolean(&result) == Some(false) {
                        let msg = format!("{} [{}] ({})", inv.human, inv.key, expr.text());
                        self.issue(
                            inv.severity,
                            IssueCode::Invariant,
                            msg,
                            node,
                            path,
                            Some(&id),
                        );
                    }
                }
                Err(e) => {
                    let msg = format!("invariant {} could not be evaluated: {e}", inv.key);
                    self.issue(
                        Severity::Warning,
                        IssueCode::Processing,
                        msg,
                        node,
                        path,
                        Some(&id),
                    );
                }
            }
        }
        self.env_override = env_override;
    }
}

pub(crate) fn number(node: &Node) -> Option<f64> {
    match &node.kind {
        Kind::Number(n) => n.parse().ok(),
        Kind::String(s) => s.parse().ok(),
        _ => None,
    }
}
