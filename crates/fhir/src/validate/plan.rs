//! A profile compiled once for validation: its snapshot elements as a tree (children
//! and slices by index), JSON array-ness, and invariants parsed into FHIRPath.

use std::collections::HashMap;
use std::sync::Arc;

use crate::fhirpath::model_info::type_code;
use crate::fhirpath::Expr;
use crate::model::Node;
use crate::outcome::Severity;
use crate::snapshot::{ElementDefinition, Max, Snapshot};

/// An invariant with its expression parsed (or why it could not be).
#[derive(Debug)]
pub struct Invariant {
    pub key: String,
    pub severity: Severity,
    pub human: String,
    pub expr: Result<Arc<Expr>, String>,
    /// The expression is ele-1's "a value or children" (R4 `or`, STU3 `|`), which
    /// runs on every element: an element that plainly has a child passes without
    /// the FHIRPath engine (see `Walker::invariants`).
    pub value_or_children: bool,
    /// A later invariant of the element has the same expression (txt-1 and txt-2
    /// are both `htmlChecks()`): its answer is kept for it.
    pub repeated: bool,
}

/// One snapshot element, ready to walk.
#[derive(Debug)]
pub struct PlanElement {
    /// The last path segment (`value[x]`, `identifier`).
    pub name: String,
    /// Whether instances carry a JSON array here (`base.max` is not 1).
    pub many: bool,
    pub children: Vec<usize>,
    /// Slices (by index) when this element is a slicing entry.
    pub slices: Vec<usize>,
    pub invariants: Vec<Invariant>,
    /// The type codes, with FHIRPath system types (`id`, `url` of elements in R4)
    /// mapped back to the FHIR type they stand for.
    pub codes: Vec<String>,
}

/// A compiled profile. `Send + Sync`; shared with `Arc`.
#[derive(Debug)]
pub struct Plan {
    pub url: String,
    pub type_name: String,
    /// `resource`, `complex-type`, `primitive-type` or `logical`.
    pub kind: String,
    pub derivation: String,
    pub snapshot: Arc<Snapshot>,
    pub elements: Vec<PlanElement>,
    /// The regex a primitive type's `value` carries, anchored.
    pub value_regex: Option<regex::Regex>,
    /// `(holder path, extension url)` for each extension this profile names on an
    /// element (`Condition.code.coding`, its `extension` slice's type profile).
    pub declared_extensions: Vec<(String, String)>,
    /// `(system, code)` of each code this profile fixes or patterns
    /// (`fixedCode` beside a `fixedUri` system, or a Coding/CodeableConcept value).
    pub declared_codes: Vec<(String, String)>,
    /// An extension definition's contexts: `(type, expression)`, FHIRPath ones parsed.
    pub contexts: Vec<Context>,
    /// An extension definition's `contextInvariant`s, parsed.
    pub context_invariants: Vec<(String, Result<Expr, String>)>,
}

/// Where an extension may be used.
#[derive(Debug)]
pub struct Context {
    /// `element`, `extension` or `fhirpath` (STU3: `resource`, `datatype`, ...).
    pub kind: String,
    pub expression: String,
    /// The parsed expression of a `fhirpath` context.
    pub fhirpath: Option<Result<Expr, String>>,
}

impl Plan {
    pub fn def(&self, i: usize) -> &ElementDefinition {
        &self.snapshot.elements[i]
    }

    /// The element at `path` that is not a slice (for `contentReference`).
    pub fn by_path(&self, path: &str) -> Option<usize> {
        self.snapshot
            .elements
            .iter()
            .position(|e| e.path == path && e.slice_name.is_none())
    }

    /// The child of `parent` named `name` (`value[x]` matches `valueQuantity`), with
    /// the type code the name selects for a choice.
    pub fn child<'n>(&self, parent: usize, name: &'n str) -> Option<(usize, Option<&'n str>)> {
        for &c in &self.elements[parent].children {
            let el = &self.elements[c];
            if el.name == name {
                return Some((c, None));
            }
            if let Some(prefix) = el.name.strip_suffix("[x]") {
                if let Some(rest) = name.strip_prefix(prefix) {
                    if rest.starts_with(|ch: char| ch.is_ascii_uppercase()) {
                        return Some((c, Some(rest)));
                    }
                }
            }
        }
        None
    }

    pub fn compile(snapshot: Arc<Snapshot>) -> Plan {
        let sd = snapshot.definition();
        let text = |k: &str| {
            sd.get(k)
                .and_then(Node::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let mut elements: Vec<PlanElement> = snapshot
            .elements
            .iter()
            .map(|e| PlanElement {
                name: e.path.rsplit('.').next().unwrap_or(&e.path).to_string(),
                many: base_many(e),
                children: Vec::new(),
                slices: Vec::new(),
                invariants: compile_invariants(&e.constraints),
                codes: type_codes(e),
            })
            .collect();
        link(&snapshot.elements, &mut elements);
        let value_regex = snapshot
            .elements
            .iter()
            .find(|e| e.path.ends_with(".value") && e.path.matches('.').count() == 1)
            .and_then(|e| regex_extension(&e.node))
            .and_then(|r| super::primitive::fhir_regex(&r));
        let declared_extensions = snapshot
            .elements
            .iter()
            .flat_map(|e| {
                let holder = e
                    .path
                    .strip_suffix(".extension")
                    .or_else(|| e.path.strip_suffix(".modifierExtension"));
                holder.into_iter().flat_map(|h| {
                    e.types
                        .iter()
                        .filter(|t| t.code == "Extension")
                        .flat_map(|t| &t.profiles)
                        .map(move |u| (h.to_string(), u.clone()))
                })
            })
            .collect();
        let declared_codes = declared_codes(&snapshot.elements);
        let extension = snapshot.type_name == "Extension" && text("derivation") == "constraint";
        let contexts = if extension { contexts(sd) } else { Vec::new() };
        let context_invariants = if extension {
            sd.get("contextInvariant")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .filter_map(Node::as_str)
                .map(|t| (t.to_string(), Expr::parse(t).map_err(|e| e.to_string())))
                .collect()
        } else {
            Vec::new()
        };
        Plan {
            contexts,
            context_invariants,
            declared_extensions,
            declared_codes,
            url: snapshot.url.clone(),
            type_name: snapshot.type_name.clone(),
            kind: text("kind"),
            derivation: text("derivation"),
            value_regex,
            elements,
            snapshot,
        }
    }
}

/// R4 `context[]`, or STU3 `contextType` with `context` strings.
fn contexts(sd: &Node) -> Vec<Context> {
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
        .map(|(kind, expression)| Context {
            fhirpath: (kind == "fhirpath")
                .then(|| Expr::parse(&expression).map_err(|e| e.to_string())),
            kind,
            expression,
        })
        .collect()
}

fn declared_codes(elements: &[ElementDefinition]) -> Vec<(String, String)> {
    let value = |e: &ElementDefinition| e.fixed.clone().or_else(|| e.pattern.clone());
    let mut out = Vec::new();
    for e in elements {
        let Some((_, v)) = value(e) else { continue };
        let mut push = |c: &Node| {
            if let (Some(s), Some(k)) = (
                c.get("system").and_then(Node::as_str),
                c.get("code").and_then(Node::as_str),
            ) {
                out.push((s.to_string(), k.to_string()));
            }
        };
        if let Some(code) = v.as_str().filter(|_| e.path.ends_with(".code")) {
            let system_id = format!("{}.system", e.id.rsplit_once('.').map_or("", |(p, _)| p));
            let system = elements
                .iter()
                .find(|s| s.id == system_id)
                .and_then(value)
                .and_then(|(_, s)| s.as_str().map(str::to_string));
            if let Some(system) = system {
                out.push((system, code.to_string()));
            }
        } else if v.get("coding").is_some() {
            v.get("coding")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .for_each(&mut push);
        } else {
            push(&v);
        }
    }
    out
}

fn base_many(e: &ElementDefinition) -> bool {
    let base_max = e
        .node
        .get("base")
        .and_then(|b| b.get("max"))
        .and_then(Node::as_str)
        .and_then(Max::parse);
    match base_max.unwrap_or(e.max) {
        Max::Count(n) => n > 1,
        Max::Unbounded => true,
    }
}

fn compile_invariants(constraints: &[crate::snapshot::Constraint]) -> Vec<Invariant> {
    let mut out: Vec<Invariant> = constraints.iter().map(compile_invariant).collect();
    for (i, c) in constraints.iter().enumerate() {
        out[i].repeated = c.expression.is_some()
            && constraints[i + 1..]
                .iter()
                .any(|later| later.expression == c.expression);
    }
    out
}

fn compile_invariant(c: &crate::snapshot::Constraint) -> Invariant {
    let severity = match c.severity.as_deref() {
        Some("warning") => Severity::Warning,
        _ => Severity::Error,
    };
    let expr = match &c.expression {
        Some(text) => parsed(text),
        None => Err("the constraint has no FHIRPath expression".to_string()),
    };
    let compact: String = c
        .expression
        .as_deref()
        .unwrap_or_default()
        .chars()
        .filter(|ch| !ch.is_whitespace())
        .collect();
    Invariant {
        key: c.key.clone(),
        severity,
        human: c.human.clone().unwrap_or_default(),
        value_or_children: matches!(
            compact.as_str(),
            "hasValue()or(children().count()>id.count())"
                | "hasValue()|(children().count()>id.count())"
        ),
        expr,
        repeated: false,
    }
}

/// The type codes of an element, with FHIRPath system types (`id`, `url` of
/// elements in R4) mapped back to the FHIR type they stand for.
fn type_codes(def: &ElementDefinition) -> Vec<String> {
    let raw = def.node.get("type").map(Node::items).unwrap_or_default();
    raw.iter()
        .filter_map(type_code)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// An invariant's expression, parsed once per process: snapshots repeat the
/// inherited constraints (ele-1, ext-1, dom-*) on every element.
fn parsed(text: &str) -> Result<Arc<Expr>, String> {
    type Parsed = HashMap<String, Result<Arc<Expr>, String>>;
    static PARSED: std::sync::Mutex<Option<Parsed>> = std::sync::Mutex::new(None);
    if let Some(hit) = PARSED
        .lock()
        .ok()
        .and_then(|p| p.as_ref().and_then(|p| p.get(text).cloned()))
    {
        return hit;
    }
    let expr = Expr::parse(text).map(Arc::new).map_err(|e| e.to_string());
    if let Ok(mut p) = PARSED.lock() {
        p.get_or_insert_with(HashMap::new)
            .insert(text.to_string(), expr.clone());
    }
    expr
}

/// The `regex` extension on an element's type (R4) or on the element (STU3).
fn regex_extension(node: &Node) -> Option<String> {
    const URL: &str = "http://hl7.org/fhir/StructureDefinition/regex";
    let find = |n: &Node| {
        n.get("extension")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .find(|x| x.get("url").and_then(Node::as_str) == Some(URL))
            .and_then(|x| x.get("valueString"))
            .and_then(Node::as_str)
            .map(str::to_string)
    };
    let types = node.get("type").map(Node::items).unwrap_or_default();
    types
        .iter()
        .find_map(|t| find(t).or_else(|| t.get("_code").and_then(find)))
        .or_else(|| find(node))
}

/// Builds the children and slice lists. Snapshots list elements in tree order, so
/// a stack of open ancestors finds each element's parent.
fn link(defs: &[ElementDefinition], elements: &mut [PlanElement]) {
    let depth = |i: usize| defs[i].path.matches('.').count();
    let mut stack: Vec<usize> = Vec::new();
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    for (i, d) in defs.iter().enumerate() {
        by_id.insert(d.id.as_str(), i);
        if i == 0 {
            stack.push(0);
            continue;
        }
        while stack.last().is_some_and(|&t| depth(t) >= depth(i)) {
            stack.pop();
        }
        let Some(&parent) = stack.last() else {
            stack.push(i);
            continue;
        };
        let entry = d.slice_name.as_ref().and_then(|slice| {
            // `a:s/t` re-slices `a:s`; `a:s` slices the unsliced `a` under the same parent.
            match slice.rsplit_once('/') {
                Some((outer, _)) => {
                    let id = format!("{}:{}", d.id.rsplit_once(':')?.0, outer);
                    by_id.get(id.as_str()).copied()
                }
                None => elements[parent]
                    .children
                    .iter()
                    .rev()
                    .copied()
                    .find(|&c| defs[c].path == d.path),
            }
        });
        match entry {
            Some(e) if e != i => elements[e].slices.push(i),
            _ => elements[parent].children.push(i),
        }
        stack.push(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_json;

    fn snapshot(elements: &str) -> Arc<Snapshot> {
        let list = parse_json(elements).unwrap();
        Arc::new(Snapshot {
            url: "http://x/sd".into(),
            type_name: "Patient".into(),
            elements: list
                .items()
                .iter()
                .map(ElementDefinition::from_node)
                .collect(),
            generated: false,
            problems: Vec::new(),
            definition: Arc::new(parse_json(r#"{"kind":"resource"}"#).unwrap()),
            deferred: Arc::new([]),
        })
    }

    #[test]
    fn children_slices_and_arrays() {
        let plan = Plan::compile(snapshot(
            r#"[{"id":"Patient","path":"Patient","min":0,"max":"*"},
            {"id":"Patient.identifier","path":"Patient.identifier","min":0,"max":"*","slicing":{"rules":"open"}},
            {"id":"Patient.identifier.system","path":"Patient.identifier.system","min":0,"max":"1"},
            {"id":"Patient.identifier:nhs","path":"Patient.identifier","sliceName":"nhs","min":1,"max":"1","base":{"path":"Patient.identifier","min":0,"max":"*"}},
            {"id":"Patient.identifier:nhs.system","path":"Patient.identifier.system","min":1,"max":"1"},
            {"id":"Patient.deceased[x]","path":"Patient.deceased[x]","min":0,"max":"1","constraint":[{"key":"x-1","severity":"error","expression":"exists("}]}]"#,
        ));
        assert_eq!(plan.elements[0].children, vec![1, 5]);
        assert_eq!(plan.elements[1].slices, vec![3]);
        assert_eq!(plan.elements[3].children, vec![4]);
        assert!(plan.elements[1].many && plan.elements[3].many);
        assert!(!plan.elements[5].many);
        assert_eq!(plan.child(0, "deceasedBoolean"), Some((5, Some("Boolean"))));
        assert_eq!(plan.child(0, "deceasedboolean"), None);
        assert!(plan.elements[5].invariants[0].expr.is_err());
    }
}
