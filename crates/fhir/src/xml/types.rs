//! What the XML reader and writer need to know about a type: for each element path,
//! whether it repeats and which types it may hold. Built from a type's snapshot.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::Node;

/// One element of a type's snapshot, reduced to what (de)serialisation needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementInfo {
    /// `max` is not 0 or 1.
    pub many: bool,
    /// Type codes (`string`, `CodeableConcept`, `Resource`, ...).
    pub types: Vec<String>,
    /// `#Questionnaire.item`-style reference to another element's definition.
    pub content_reference: Option<String>,
    /// Whether other elements of this type nest below this one.
    pub has_children: bool,
}

/// The elements of one type (`Patient`, `HumanName`, `string`), by full path.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeInfo {
    pub name: String,
    pub kind: String,
    elements: HashMap<String, ElementInfo>,
    /// `value[x]`-style paths, without the `[x]`.
    choices: Vec<String>,
}

/// Where type definitions come from: a [`crate::package::PackageSet`] (for one
/// release) or a test's own table.
pub trait TypeProvider {
    fn type_info(&self, type_name: &str) -> Option<Arc<TypeInfo>>;
}

/// What an element holds, once its name is matched.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// A primitive of this FHIR type (`boolean`, `decimal`, `string`...).
    Primitive(String),
    Xhtml,
    /// A resource wrapped in the element (`contained`, `Bundle.entry.resource`).
    Resource,
    /// Elements of `type_name` at `path` (a nested backbone element or a datatype).
    Complex {
        type_name: String,
        path: String,
    },
}

/// An element matched by name: the JSON name, whether it repeats, what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Child {
    pub many: bool,
    pub content: Content,
}

impl TypeInfo {
    /// Reads a type's StructureDefinition (its snapshot, else its differential).
    pub fn from_structure_definition(sd: &Node) -> Option<TypeInfo> {
        let name = sd.get("type")?.as_str()?.to_string();
        let kind = sd
            .get("kind")
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string();
        let list = sd
            .get("snapshot")
            .or_else(|| sd.get("differential"))?
            .get("element")?
            .items();
        let mut elements = HashMap::new();
        let mut choices = Vec::new();
        for e in list {
            let Some(path) = e.get("path").and_then(Node::as_str) else {
                continue;
            };
            let many = !matches!(e.get("max").and_then(Node::as_str), Some("0" | "1") | None);
            let types = e
                .get("type")
                .map(|t| t.items().iter().filter_map(type_code).collect())
                .unwrap_or_default();
            let content_reference = e
                .get("contentReference")
                .and_then(Node::as_str)
                .map(|r| r.rsplit('#').next().unwrap_or(r).to_string());
            if let Some(base) = path.strip_suffix("[x]") {
                choices.push(base.to_string());
            }
            if let Some(parent) = path.rfind('.').map(|i| &path[..i]) {
                if let Some(p) = elements.get_mut(parent) {
                    let p: &mut ElementInfo = p;
                    p.has_children = true;
                }
            }
            elements.insert(
                path.to_string(),
                ElementInfo {
                    many,
                    types,
                    content_reference,
                    has_children: false,
                },
            );
        }
        Some(TypeInfo {
            name,
            kind,
            elements,
            choices,
        })
    }

    pub fn element(&self, path: &str) -> Option<&ElementInfo> {
        self.elements.get(path)
    }

    /// Matches the child `name` of the element at `path` (which lies in this type):
    /// directly, or as a renamed choice (`valueQuantity` for `value[x]`).
    pub fn child(&self, path: &str, name: &str) -> Option<Child> {
        let full = format!("{path}.{name}");
        if let Some(e) = self.elements.get(&full) {
            return Some(self.content_of(&full, e, None));
        }
        for base in &self.choices {
            let Some(prefix) = base.strip_prefix(path).and_then(|r| r.strip_prefix('.')) else {
                continue;
            };
            if prefix.contains('.') {
                continue;
            }
            let Some(suffix) = name.strip_prefix(prefix) else {
                continue;
            };
            let choice = format!("{base}[x]");
            let e = self.elements.get(&choice)?;
            let matched = e.types.iter().find(|t| upper_first(t) == suffix)?;
            return Some(self.content_of(&choice, e, Some(matched.clone())));
        }
        None
    }

    fn content_of(&self, path: &str, e: &ElementInfo, chosen: Option<String>) -> Child {
        if let Some(target) = &e.content_reference {
            return Child {
                many: e.many,
                content: Content::Complex {
                    type_name: self.name.clone(),
                    path: target.clone(),
                },
            };
        }
        let code = chosen
            .or_else(|| e.types.first().cloned())
            .unwrap_or_default();
        let content = if e.has_children && chosen_is_structural(&code) {
            Content::Complex {
                type_name: self.name.clone(),
                path: path.to_string(),
            }
        } else if code == "xhtml" {
            Content::Xhtml
        } else if code == "Resource" || code == "DomainResource" {
            Content::Resource
        } else if is_primitive(&code) {
            Content::Primitive(code)
        } else {
            Content::Complex {
                type_name: code.clone(),
                path: code,
            }
        };
        Child {
            many: e.many,
            content,
        }
    }
}

fn chosen_is_structural(code: &str) -> bool {
    matches!(code, "" | "BackboneElement" | "Element")
}

/// A FHIR type code, with R4's `System.String` codes mapped back to FHIR types.
fn type_code(t: &Node) -> Option<String> {
    for ext in t.get("extension").map(Node::items).unwrap_or_default() {
        if ext.get("url").and_then(Node::as_str)
            == Some("http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type")
        {
            if let Some(v) = ext.get("valueUrl").or_else(|| ext.get("valueUri")) {
                return v.as_str().map(str::to_string);
            }
        }
    }
    match t.get("code").and_then(Node::as_str) {
        Some(code) => Some(match code.strip_prefix("http://hl7.org/fhirpath/System.") {
            Some("Boolean") => "boolean".into(),
            Some("Integer") => "integer".into(),
            Some("Decimal") => "decimal".into(),
            Some(_) => "string".into(),
            None => code.to_string(),
        }),
        // STU3 gives primitives' own `value` no code, only extensions on `_code`.
        None => Some("string".into()),
    }
}

pub fn is_primitive(code: &str) -> bool {
    code.starts_with(|c: char| c.is_ascii_lowercase())
}

/// How a primitive's XML `value` is written in JSON.
pub fn json_kind(code: &str) -> JsonKind {
    match code {
        "boolean" => JsonKind::Bool,
        "integer" | "decimal" | "positiveInt" | "unsignedInt" => JsonKind::Number,
        _ => JsonKind::String,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    Bool,
    Number,
    String,
}

pub fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}
