//! Bindings: codes, Codings and CodeableConcepts against the bound value set, and
//! Codings against code systems that are loaded in full.

use super::walk::Walker;
use super::Plan;
use crate::model::Node;
use crate::outcome::{IssueCode, Severity};
use crate::terminology::Membership;

impl Walker<'_> {
    pub(crate) fn binding(&mut self, plan: &Plan, el: usize, node: &Node, path: &str, code: &str) {
        let codings: Vec<(Option<&str>, &str)> = match code {
            "code" | "string" | "uri" => node.as_str().map(|c| (None, c)).into_iter().collect(),
            "Coding" => coding(node).into_iter().collect(),
            "CodeableConcept" => node
                .get("coding")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .filter_map(coding)
                .collect(),
            _ => return,
        };
        if code == "Coding" {
            self.check_display(node, path);
        }
        if code == "CodeableConcept" {
            for c in node.get("coding").map(Node::items).unwrap_or_default() {
                self.check_display(c, path);
            }
        }
        // A code the profile itself fixes is its author's declaration: where the
        // packages' own code system or value set leaves it out, say so once.
        let declared: Vec<(&str, &str)> = codings
            .iter()
            .filter_map(|(s, c)| Some((s.as_deref()?, *c)))
            .filter(|(s, c)| {
                self.applied
                    .iter()
                    .flat_map(|a| &a.plans)
                    .any(|p| p.declared_codes.iter().any(|(ds, dc)| ds == s && dc == c))
            })
            .collect();
        if code == "Coding" || code == "CodeableConcept" {
            for (system, c) in &codings {
                let Some(system) = system else { continue };
                if declared.contains(&(*system, *c)) {
                    if self.v.terminology().code_in_system(system, c) == Some(false) {
                        self.note_once(
                            &format!("declared {system}#{c}"),
                            format!("{system}#{c} is fixed by the profile but not defined by its code system: the packages disagree, so it is not reported"),
                            node,
                            path,
                        );
                    }
                    continue;
                }
                if self.v.terminology().code_in_system(system, c) == Some(false) {
                    self.issue(
                        Severity::Error,
                        IssueCode::CodeInvalid,
                        format!(
                            "unknown code `{c}` in the code system {system}{}",
                            decided_by(self.v.terminology().decided_by(system))
                        ),
                        node,
                        path,
                        Some(&plan.def(el).id),
                    );
                }
            }
        }
        let def = plan.def(el);
        let Some(binding) = &def.binding else { return };
        let severity = match binding.strength.as_deref() {
            Some("required") => Severity::Error,
            Some("extensible") => Severity::Warning,
            _ => return,
        };
        let Some(vs) = binding.value_set.clone() else {
            return;
        };
        if codings.is_empty() || !declared.is_empty() {
            return;
        }
        let mut unknown = None;
        let mut server = None;
        for (system, c) in &codings {
            match self.v.terminology().validate_code(&vs, *system, c) {
                Membership::In | Membership::Decided { member: true, .. } => return,
                Membership::NotIn => {}
                Membership::Decided { by, message, .. } => server = Some((by, message)),
                Membership::Unknown(why) => unknown = Some(why),
            }
        }
        let id = def.id.clone();
        match unknown {
            Some(why) => {
                let key = format!("binding {vs}");
                self.note_once(
                    &key,
                    format!("not checked: codes against {vs}: {why}"),
                    node,
                    path,
                );
            }
            None => {
                let shown: Vec<String> = codings
                    .iter()
                    .map(|(s, c)| match s {
                        Some(s) => format!("{s}#{c}"),
                        None => c.to_string(),
                    })
                    .collect();
                let per = match server {
                    Some((by, Some(m))) => format!("; decided by {by}: {m}"),
                    Some((by, None)) => format!("; decided by {by}"),
                    None => String::new(),
                };
                self.issue(
                    severity,
                    IssueCode::CodeInvalid,
                    format!(
                        "{} is not in the value set {vs} ({} binding{per})",
                        shown.join(", "),
                        binding.strength.as_deref().unwrap_or_default()
                    ),
                    node,
                    path,
                    Some(&id),
                );
            }
        }
    }
}

/// `` (decided by <server>)`` when a terminology server answered.
fn decided_by(server: Option<String>) -> String {
    server.map_or_else(String::new, |s| format!(" (decided by {s})"))
}

fn coding(node: &Node) -> Option<(Option<&str>, &str)> {
    let code = node.get("code").and_then(Node::as_str)?;
    Some((node.get("system").and_then(Node::as_str), code))
}

impl Walker<'_> {
    /// A Coding's display must be one the code system gives the code.
    fn check_display(&mut self, coding: &Node, path: &str) {
        let (Some(system), Some(code), Some(display)) = (
            coding.get("system").and_then(Node::as_str),
            coding.get("code").and_then(Node::as_str),
            coding.get("display").and_then(Node::as_str),
        ) else {
            return;
        };
        let Some(valid) = self.v.terminology().displays(system, code) else {
            return;
        };
        if valid.is_empty() || valid.iter().any(|v| same_text(v, display)) {
            return;
        }
        let shown: Vec<String> = valid.iter().map(|v| format!("`{v}`")).collect();
        self.issue(
            Severity::Error,
            IssueCode::CodeInvalid,
            format!(
                "wrong display `{display}` for {system}#{code}: valid are {}{}",
                shown.join(", "),
                decided_by(self.v.terminology().decided_by(system))
            ),
            coding,
            path,
            None,
        );
    }
}

/// Equal ignoring case and runs of whitespace.
fn same_text(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    norm(a) == norm(b)
}
