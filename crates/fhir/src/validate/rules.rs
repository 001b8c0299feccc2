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
        let id = def.id.as_str();
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
                    Some(id),
                );
            }
            // The core `minLength` extension: "The minimum number of characters that
            // must be present in the simple data type to be considered a 'valid'
            // instance".
            let min_len = def
                .node
                .get("extension")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .find(|x| {
                    x.get("url").and_then(Node::as_str)
                        == Some("http://hl7.org/fhir/StructureDefinition/minLength")
                })
                .and_then(|x| x.get("valueInteger"))
                .and_then(number);
            if let Some(min) = min_len {
                if (text.chars().count() as f64) < min {
                    self.issue(
                        Severity::Error,
                        IssueCode::Value,
                        format!("the value is shorter than the minimum length {min}"),
                        node,
                        path,
                        Some(id),
                    );
                }
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
                        Some(id),
                    );
                }
            }
        }
        self.bounds(plan, el, node, path, code);
        if code == "Attachment" {
            self.attachment_size(node, path);
        }
    }

    /// `Attachment.size` must be the size of the decoded `data`.
    fn attachment_size(&mut self, node: &Node, path: &str) {
        let (Some(data), Some(size)) = (
            node.get("data").and_then(Node::as_str),
            node.get("size").and_then(number),
        ) else {
            return;
        };
        if let Some(len) = super::primitive::base64_len(data) {
            if len as f64 != size {
                self.issue(
                    Severity::Error,
                    IssueCode::Value,
                    format!(
                        "the stated attachment size {size} does not match the data's size {len}"
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
                let id = def.id.as_str();
                self.issue(Severity::Error, IssueCode::Value, msg, node, path, Some(id));
            }
        }
        let def = plan.def(el);
        if let Some((key, pattern)) = &def.pattern {
            if !compare::matches_pattern(node, pattern) {
                let msg = format!(
                    "value must match the pattern {} ({key})",
                    compare::show(pattern)
                );
                let id = def.id.as_str();
                self.issue(Severity::Error, IssueCode::Value, msg, node, path, Some(id));
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
        let ty: &str = if backbone { &plan.def(el).path } else { code };
        let env_override = self.env_override.take();
        let env = env_override.as_ref().unwrap_or_else(|| self.v.env());
        let id = plan.def(el).id.as_str();
        let mut answers: Vec<(&str, Result<bool, _>)> = Vec::new();
        for inv in &plan.elements[el].invariants {
            // ele-1 on a primitive is about its `_` sibling, which is checked there.
            if primitive && inv.key == "ele-1" {
                continue;
            }
            if inv.value_or_children && self.v.shortcuts && plainly_has_children(env, ty, node) {
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
                            Some(id),
                        );
                    }
                    continue;
                }
            };
            // Invariants with one expression (txt-1 and txt-2 are both
            // `htmlChecks()`) give one answer: the narrative is read once.
            let known = answers
                .iter()
                .find(|(text, _)| *text == expr.text())
                .map(|(_, answer)| answer.clone());
            let answer = known.unwrap_or_else(|| {
                let answer = evaluate_on(expr, root, node, Some(ty), env)
                    .map(|result| as_boolean(&result) == Some(false));
                if inv.repeated {
                    answers.push((expr.text(), answer.clone()));
                }
                answer
            });
            match answer {
                Ok(failed) => {
                    if failed {
                        let msg = format!("{} [{}] ({})", inv.human, inv.key, expr.text());
                        self.issue(
                            inv.severity,
                            IssueCode::Invariant,
                            msg,
                            node,
                            path,
                            Some(id),
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
                        Some(id),
                    );
                }
            }
        }
        self.env_override = env_override;
    }

    /// `narrative-language-control` on a profile's Narrative element: `_no` (no
    /// language sections), `_yes` (some), `_resource` (one in the resource's
    /// language) or a language code (one in that language). A language section is
    /// an element of the narrative with a `lang` or `xml:lang` attribute.
    pub(crate) fn narrative_control(
        &mut self,
        plan: &Plan,
        el: usize,
        node: &Node,
        path: &str,
        root: &Node,
    ) {
        const URL: &str = "http://hl7.org/fhir/StructureDefinition/narrative-language-control";
        let def = plan.def(el);
        let Some(control) = def
            .node
            .get("extension")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .find(|x| x.get("url").and_then(Node::as_str) == Some(URL))
            .and_then(|x| x.get("valueCode"))
            .and_then(Node::as_str)
        else {
            return;
        };
        let Some(div) = node.get("div").and_then(Node::as_str) else {
            return;
        };
        let mut sections: Vec<&str> = super::policy::html_tags(div)
            .skip(1)
            .filter(|t| !t.closing)
            .flat_map(|t| super::policy::attributes(t.attributes))
            .filter(|(n, _)| *n == "lang" || *n == "xml:lang")
            .map(|(_, v)| v)
            .collect();
        sections.sort_unstable();
        sections.dedup();
        let has = |lang: &str| {
            sections.iter().any(|s| {
                s.eq_ignore_ascii_case(lang)
                    || s.split('-')
                        .next()
                        .is_some_and(|p| p.eq_ignore_ascii_case(lang))
            })
        };
        let problem = match control {
            "_no" if !sections.is_empty() => Some(format!(
                "the narrative has language sections ({}), which the profile prohibits here",
                sections.join(", ")
            )),
            "_yes" if sections.is_empty() => Some(
                "the narrative has no language sections, which the profile requires here"
                    .to_string(),
            ),
            "_resource" => root
                .get("language")
                .and_then(Node::as_str)
                .filter(|l| !has(l))
                .map(|l| {
                    format!(
                        "the profile requires a narrative section in the resource's language ({l})"
                    )
                }),
            "_no" | "_yes" => None,
            lang if !has(lang) => Some(format!(
                "the profile requires a narrative section in the language {lang}"
            )),
            _ => None,
        };
        if let Some(message) = problem {
            let id = def.id.as_str();
            self.issue(
                Severity::Error,
                IssueCode::Value,
                message,
                node,
                path,
                Some(id),
            );
        }
    }

    /// A narrative link to a fragment (`href="#x"`) must find its target: an
    /// element of a narrative of the resource with that `id` or `name`, or an
    /// element or contained resource of the resource with that id.
    pub(crate) fn fragment_links(
        &mut self,
        div: &str,
        node: &Node,
        path: &str,
        id: &str,
        root: &Node,
    ) {
        let wanted: Vec<&str> = crate::fhirpath::funcs::xhtml::hyperlinks(div)
            .into_iter()
            .filter_map(|h| h.strip_prefix('#'))
            .filter(|h| !h.is_empty())
            .collect();
        if wanted.is_empty() {
            return;
        }
        let mut targets: Vec<String> = Vec::new();
        collect_targets(root, &mut targets);
        for w in wanted {
            let unescaped = w.replace("&amp;", "&");
            if !targets.contains(&unescaped) {
                self.issue(
                    Severity::Error,
                    IssueCode::Value,
                    format!("the narrative links to `#{w}`, which names nothing in the resource"),
                    node,
                    path,
                    Some(id),
                );
            }
        }
    }
}

pub(crate) fn number(node: &Node) -> Option<f64> {
    match &node.kind {
        Kind::Number(n) => n.parse().ok(),
        Kind::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Ids of elements and resources, and the `id` and `name` anchors of narratives.
fn collect_targets(node: &Node, out: &mut Vec<String>) {
    match &node.kind {
        Kind::Object(members) => {
            for (k, v) in members {
                match (&**k, v.as_str()) {
                    ("id", Some(id)) => out.push(id.to_string()),
                    ("div", Some(div)) => {
                        for tag in super::policy::html_tags(div) {
                            out.extend(
                                super::policy::attributes(tag.attributes)
                                    .filter(|(n, _)| matches!(*n, "id" | "name"))
                                    .map(|(_, v)| v.replace("&amp;", "&")),
                            );
                        }
                    }
                    _ => collect_targets(v, out),
                }
            }
        }
        Kind::Array(items) => items.iter().for_each(|i| collect_targets(i, out)),
        _ => {}
    }
}

/// Whether `children().count() > id.count()` certainly holds for an object of type
/// (or backbone path) `ty`: it holds a member other than `id`, with a value, that
/// the type model knows as a child. `false` only means "ask the FHIRPath engine",
/// which stays the authority on every failure and on the rarer shapes (choice
/// members, `_` siblings alone, arrays of nulls). Tested against the engine on the
/// shapes it must leave alone (below) and on all R4 examples (`validator_corpus`,
/// `shortcuts_give_the_findings_of_the_fhirpath_engine`).
fn plainly_has_children(env: &crate::fhirpath::Env, ty: &str, node: &Node) -> bool {
    let Some(model) = env.model.as_deref() else {
        return false;
    };
    if !node.is_object() {
        return false;
    }
    let key = match node.resource_type() {
        Some(rt) if !ty.contains('.') => rt,
        _ => ty,
    };
    // `id` is counted on both sides only when the model knows it.
    if node.get("id").is_some() && model.child(key, "id").is_none() {
        return false;
    }
    node.members().iter().any(|(name, value)| {
        let with_value = match &value.kind {
            Kind::Null => false,
            Kind::Array(items) => items.first().is_some_and(|i| !matches!(i.kind, Kind::Null)),
            _ => true,
        };
        let name: &str = name;
        with_value
            && name != "id"
            && !name.starts_with('_')
            && model.child(key, name).is_some_and(|d| !d.choice)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhirpath::{Env, Expr, ModelInfo};
    use crate::model::parse_json;

    /// The shortcut answers only where the engine says true; every shape where the
    /// engine says false (or that it leaves to the engine) gets no answer.
    #[test]
    fn value_or_children_shortcut_never_contradicts_the_engine() {
        let sds: Vec<Node> = [
            r#"{"resourceType":"StructureDefinition","name":"Element","type":"Element","kind":"complex-type",
              "snapshot":{"element":[{"path":"Element"},
                {"path":"Element.id","max":"1","type":[{"code":"string"}]},
                {"path":"Element.extension","max":"*","type":[{"code":"Extension"}]}]}}"#,
            r#"{"resourceType":"StructureDefinition","name":"Name","type":"Name","kind":"complex-type",
              "baseDefinition":"http://hl7.org/fhir/StructureDefinition/Element",
              "snapshot":{"element":[{"path":"Name"},
                {"path":"Name.given","max":"*","type":[{"code":"string"}]},
                {"path":"Name.text","max":"1","type":[{"code":"string"}]},
                {"path":"Name.value[x]","max":"1","type":[{"code":"string"},{"code":"boolean"}]}]}}"#,
            r#"{"resourceType":"StructureDefinition","name":"Bare","type":"Bare","kind":"complex-type",
              "snapshot":{"element":[{"path":"Bare"},{"path":"Bare.text","max":"1","type":[{"code":"string"}]}]}}"#,
        ]
        .iter()
        .map(|t| parse_json(t).unwrap())
        .collect();
        let env = Env::new().with_model(std::sync::Arc::new(
            ModelInfo::from_structure_definitions(&sds),
        ));
        let ele1 = Expr::parse("hasValue() or (children().count() > id.count())").unwrap();
        let cases = [
            ("Name", r#"{"text":"a"}"#, true),
            ("Name", r#"{"id":"x","given":["a"]}"#, true),
            ("Name", r#"{"extension":[{"url":"u"}]}"#, true),
            ("Name", r#"{"id":"x"}"#, false),
            ("Name", r#"{"id":"x","unknown":"a"}"#, false),
            ("Name", r#"{"text":null}"#, false),
            ("Name", r#"{"given":[]}"#, false),
            ("Name", r#"{"given":[null]}"#, false),
            ("Name", r#"{"valueString":"a"}"#, false),
            ("Name", r#"{"_text":{"extension":[{"url":"u"}]}}"#, false),
            // `id` the model does not know is not counted the same way on both sides.
            ("Bare", r#"{"id":"x","text":"a"}"#, false),
            ("Name", r#""a""#, false),
        ];
        for (ty, json, answers) in cases {
            let node = parse_json(json).unwrap();
            let fast = plainly_has_children(&env, ty, &node);
            assert_eq!(fast, answers, "{ty} {json}");
            if fast {
                let result =
                    crate::fhirpath::evaluate_on(&ele1, &node, &node, Some(ty), &env).unwrap();
                assert_eq!(as_boolean(&result), Some(true), "engine on {ty} {json}");
            }
        }
        // Where the engine fails the element, the shortcut never answered.
        for json in [
            r#"{"id":"x"}"#,
            r#"{"id":"x","unknown":"a"}"#,
            r#"{"given":[]}"#,
        ] {
            let node = parse_json(json).unwrap();
            let result =
                crate::fhirpath::evaluate_on(&ele1, &node, &node, Some("Name"), &env).unwrap();
            assert_eq!(as_boolean(&result), Some(false), "engine on {json}");
        }
    }
}
