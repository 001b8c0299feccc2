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
            // A Quantity's unit is a code of its system.
            "Quantity" | "Age" | "Duration" | "Distance" | "Count" | "SimpleQuantity"
            | "MoneyQuantity" => coding(node).into_iter().collect(),
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
        if codings.is_empty() || !declared.is_empty() {
            return;
        }
        let def = plan.def(el);
        let id = def.id.as_str();
        if let Some(binding) = &def.binding {
            if let (Some(strength), Some(vs)) = (&binding.strength, &binding.value_set) {
                self.bound(vs, strength, &codings, node, path, id);
            }
        }
        // R5 additional bindings, stated in R4 as a cross-version extension.
        const ADDITIONAL: &str =
            "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.binding.additional";
        let def = plan.def(el);
        let additional: Vec<(String, String)> = def
            .node
            .get("binding")
            .and_then(|b| b.get("extension"))
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter(|x| x.get("url").and_then(Node::as_str) == Some(ADDITIONAL))
            .filter_map(|x| {
                let part = |name: &str, key: &str| {
                    x.get("extension")
                        .map(Node::items)
                        .unwrap_or_default()
                        .iter()
                        .find(|p| p.get("url").and_then(Node::as_str) == Some(name))
                        .and_then(|p| p.get(key))
                        .and_then(Node::as_str)
                        .map(str::to_string)
                };
                let strength = match part("purpose", "valueCode")?.as_str() {
                    "required" | "maximum" => "required",
                    "extensible" => "extensible",
                    _ => return None,
                };
                Some((strength.to_string(), part("valueSet", "valueCanonical")?))
            })
            .collect();
        for (strength, vs) in additional {
            self.bound(&vs, &strength, &codings, node, path, id);
        }
    }

    /// The codes against one binding: an error (required) or a warning (extensible)
    /// when none is in the value set; a note once when it cannot be told.
    fn bound(
        &mut self,
        vs: &str,
        strength: &str,
        codings: &[(Option<&str>, &str)],
        node: &Node,
        path: &str,
        id: &str,
    ) {
        let severity = match strength {
            "required" => Severity::Error,
            "extensible" => Severity::Warning,
            _ => return,
        };
        let vs = vs.to_string();
        let mut unknown = None;
        let mut server = None;
        for (system, c) in codings {
            match self.v.terminology().validate_code(&vs, *system, c) {
                Membership::In | Membership::Decided { member: true, .. } => return,
                Membership::NotIn => {}
                Membership::Decided { by, message, .. } => server = Some((by, message)),
                Membership::Unknown(why) => unknown = Some(why),
            }
        }
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
                        strength
                    ),
                    node,
                    path,
                    Some(id),
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
    if a.is_ascii() && b.is_ascii() {
        // Most displays: word by word, without building the normal forms.
        let (mut x, mut y) = (a.split_whitespace(), b.split_whitespace());
        return loop {
            match (x.next(), y.next()) {
                (None, None) => break true,
                (Some(p), Some(q)) if p.eq_ignore_ascii_case(q) => {}
                _ => break false,
            }
        };
    }
    // Unicode lowercasing depends on context (a final sigma), so whole strings.
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::same_text;

    #[test]
    fn displays_compare_ignoring_case_and_runs_of_whitespace() {
        assert!(same_text("Body  Weight", "body weight"));
        assert!(same_text(" Body\tweight\n", "BODY WEIGHT"));
        assert!(!same_text("Body weight", "Bodyweight"));
        assert!(!same_text("Body weight", "Body weight measured"));
        assert!(!same_text("", "x"));
        assert!(same_text("Ärztin  Überweisung", "ärztin überweisung"));
        assert!(!same_text("Ärztin", "Arztin"));
    }
}
