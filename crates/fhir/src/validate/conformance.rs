//! Rules on conformance resources that their definitions cannot state: a
//! SearchParameter agrees with the one it is derived from, and a CapabilityStatement's
//! search parameters agree with the definitions they name.

use super::walk::Walker;
use crate::model::Node;
use crate::outcome::{IssueCode, Severity};
use crate::snapshot::{SnapshotError, SnapshotProblem};

impl Walker<'_> {
    pub(crate) fn conformance_rules(&mut self, rt: &str, node: &Node, path: &str) {
        match rt {
            "SearchParameter" => self.search_parameter(node, path),
            "CapabilityStatement" => self.capability_search_params(node, path),
            "StructureDefinition" => self.structure_definition(node, path),
            _ => {}
        }
    }

    fn loaded(&self, canonical: &str, rt: &str) -> Option<std::sync::Arc<Node>> {
        self.v
            .packages()
            .resolve(canonical)
            .filter(|r| r.resource_type() == rt)
            .and_then(|r| r.node().ok())
    }

    fn search_parameter(&mut self, node: &Node, path: &str) {
        let Some(from_url) = node.get("derivedFrom").and_then(Node::as_str) else {
            return;
        };
        let Some(from) = self.loaded(from_url, "SearchParameter") else {
            self.not_loaded(&format!("SearchParameter {from_url}"), node, path);
            return;
        };
        let ty = node.get("type").and_then(Node::as_str);
        let from_ty = from.get("type").and_then(Node::as_str);
        if let (Some(ty), Some(from_ty)) = (ty, from_ty) {
            if ty != from_ty {
                self.issue(
                    Severity::Error,
                    IssueCode::Invalid,
                    format!("the type {ty} differs from the type {from_ty} of {from_url}, which this parameter is derived from"),
                    node,
                    &format!("{path}.type"),
                    None,
                );
            }
        }
        let from_bases = strings(&from, "base");
        for base in strings(node, "base") {
            if !from_bases.iter().any(|b| *b == base || *b == "Resource") {
                self.issue(
                    Severity::Error,
                    IssueCode::Invalid,
                    format!("the resource type {base} is not a base of {from_url}, which this parameter is derived from"),
                    node,
                    &format!("{path}.base"),
                    None,
                );
            }
        }
    }

    fn capability_search_params(&mut self, node: &Node, path: &str) {
        for (r, rest) in node
            .get("rest")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let resources = rest.get("resource").map(Node::items).unwrap_or_default();
            for (i, res) in resources.iter().enumerate() {
                let params = res.get("searchParam").map(Node::items).unwrap_or_default();
                for (j, param) in params.iter().enumerate() {
                    let at = format!("{path}.rest[{r}].resource[{i}].searchParam[{j}]");
                    let (Some(url), Some(ty)) = (
                        param.get("definition").and_then(Node::as_str),
                        param.get("type").and_then(Node::as_str),
                    ) else {
                        continue;
                    };
                    let Some(def) = self.loaded(url, "SearchParameter") else {
                        self.not_loaded(&format!("SearchParameter {url}"), param, &at);
                        continue;
                    };
                    if let Some(def_ty) = def.get("type").and_then(Node::as_str) {
                        if def_ty != ty {
                            self.issue(
                                Severity::Error,
                                IssueCode::Invalid,
                                format!("the search parameter {url} is of type {def_ty}, but the type here is {ty}"),
                                param,
                                &at,
                                None,
                            );
                        }
                    }
                }
            }
        }
    }
}

impl Walker<'_> {
    /// A profile's differential must apply to its base (the snapshot can be
    /// generated), and each type profile it names must be a profile of that type.
    fn structure_definition(&mut self, node: &Node, path: &str) {
        if node.get("derivation").and_then(Node::as_str) != Some("constraint") {
            return;
        }
        let diff = node
            .get("differential")
            .and_then(|d| d.get("element"))
            .map(Node::items)
            .unwrap_or_default();
        for (i, el) in diff.iter().enumerate() {
            for (t, ty) in el
                .get("type")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let Some(code) = ty.get("code").and_then(Node::as_str) else {
                    continue;
                };
                for (k, profile) in ty
                    .get("profile")
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                {
                    let Some(url) = profile.as_str() else {
                        continue;
                    };
                    let found = self.v.packages().resolve(url);
                    let Some(of) = found
                        .filter(|r| r.resource_type() == "StructureDefinition")
                        .and_then(|r| r.sd_type())
                    else {
                        continue;
                    };
                    let model = self.v.env().model.clone();
                    // Only an abstract resource type admits its subtypes' profiles; a
                    // specialization (Count of Quantity) is another type.
                    let subtype = matches!(code, "Resource" | "DomainResource")
                        && model.as_ref().is_some_and(|m| m.is_subtype(of, code));
                    if of != code && !subtype {
                        self.issue(
                            Severity::Error,
                            IssueCode::Invalid,
                            format!("the profile {url} is for the type {of}, but the element {} has the type {code}", el.get("path").and_then(Node::as_str).unwrap_or_default()),
                            profile,
                            &format!("{path}.differential.element[{i}].type[{t}].profile[{k}]"),
                            None,
                        );
                    }
                }
            }
        }
        let release = self.v.release();
        let origin = "the StructureDefinition being validated";
        match crate::snapshot::generate_detached(self.v.packages(), node, release, origin) {
            Ok(snapshot) => self.differential_against_base(node, diff, &snapshot, path),
            Err(SnapshotError::Differential(d)) if d.problem == SnapshotProblem::MissingBase => {
                let base = node
                    .get("baseDefinition")
                    .and_then(Node::as_str)
                    .unwrap_or("(none)");
                self.not_loaded(&format!("base definition {base}"), node, path);
            }
            Err(SnapshotError::Differential(d)) => {
                let at = diff
                    .iter()
                    .position(|e| e.pos.line == d.line && e.pos.col == d.col)
                    .map_or(path.to_string(), |i| {
                        format!("{path}.differential.element[{i}]")
                    });
                let shown = diff
                    .iter()
                    .find(|e| e.pos.line == d.line && e.pos.col == d.col);
                self.issue(
                    Severity::Error,
                    IssueCode::Invalid,
                    format!(
                        "the snapshot cannot be generated: element {}: {}",
                        d.element, d.message
                    ),
                    shown.unwrap_or(node),
                    &at,
                    None,
                );
            }
            Err(SnapshotError::Package(e)) => {
                self.note_once(
                    "sd-snapshot",
                    format!("the snapshot was not generated: {e}"),
                    node,
                    path,
                );
            }
        }
    }
}

impl Walker<'_> {
    /// Each differential path names an element of the type (a choice renamed to one
    /// of its types), and no fixed value contradicts the base's.
    fn differential_against_base(
        &mut self,
        sd: &Node,
        diff: &[Node],
        snapshot: &crate::snapshot::Snapshot,
        path: &str,
    ) {
        let base = sd
            .get("baseDefinition")
            .and_then(Node::as_str)
            .and_then(|b| self.v.packages().snapshot(b).ok());
        for (i, el) in diff.iter().enumerate() {
            let at = format!("{path}.differential.element[{i}]");
            let Some(p) = el.get("path").and_then(Node::as_str) else {
                continue;
            };
            if !snapshot.elements.iter().any(|e| e.path == p) && !choice_rename(snapshot, p) {
                self.issue(
                    Severity::Error,
                    IssueCode::Invalid,
                    format!("the path {p} is not an element of {}", snapshot.type_name),
                    el,
                    &at,
                    None,
                );
            }
            let Some(base) = &base else { continue };
            let id = el.get("id").and_then(Node::as_str).unwrap_or(p);
            let Some(base_el) = base.element(id) else {
                continue;
            };
            for (key, value) in el.members() {
                if !key.starts_with("fixed") {
                    continue;
                }
                let Some(base_value) = base_el.node.get(key) else {
                    continue;
                };
                if !super::compare::equal(value, base_value) {
                    let msg = format!(
                        "{id}: the value {} contradicts the value {} that the base definition fixes",
                        super::compare::show(value),
                        super::compare::show(base_value)
                    );
                    self.issue(Severity::Error, IssueCode::Invalid, msg, value, &at, None);
                }
            }
        }
    }
}

/// Whether `path` names an element of the snapshot, any segment possibly a choice
/// renamed to one of its types (`Observation.valueQuantity` for `value[x]`).
fn choice_rename(snapshot: &crate::snapshot::Snapshot, path: &str) -> bool {
    let mut segments = path.split('.');
    let mut at = segments.next().unwrap_or_default().to_string();
    for seg in segments {
        let direct = format!("{at}.{seg}");
        if snapshot.elements.iter().any(|e| e.path == direct) {
            at = direct;
            continue;
        }
        let renamed = snapshot.elements.iter().find(|e| {
            let Some(stem) = e.path.strip_suffix("[x]") else {
                return false;
            };
            let Some(ty) = stem
                .strip_prefix(at.as_str())
                .and_then(|s| s.strip_prefix('.'))
                .and_then(|name| seg.strip_prefix(name))
            else {
                return false;
            };
            e.types.iter().any(|t| {
                let mut c = t.code.chars();
                c.next().is_some_and(|f| {
                    ty.len() == t.code.len()
                        && ty.starts_with(f.to_ascii_uppercase())
                        && ty[1..] == *c.as_str()
                })
            })
        });
        match renamed {
            Some(e) => at = e.path.clone(),
            None => return false,
        }
    }
    snapshot.elements.iter().any(|e| e.path == at)
}

fn strings<'n>(node: &'n Node, key: &str) -> Vec<&'n str> {
    node.get(key)
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|n| n.as_str())
        .collect()
}
