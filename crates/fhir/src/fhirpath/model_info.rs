//! The type model FHIRPath navigates by: element names, their types, choice elements
//! and the type hierarchy, built from StructureDefinitions (R4 or STU3).

use crate::model::Node;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TypeKind {
    Primitive,
    Complex,
    Resource,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ElementDef {
    /// Type codes; several for a choice element (`value[x]`).
    pub types: Vec<String>,
    pub choice: bool,
    pub many: bool,
    /// Full element path (`Patient.contact`), the lookup key of a backbone element.
    pub path: String,
    /// For `contentReference`: the path whose children this element reuses.
    pub content_ref: Option<String>,
}

/// Serializable so the package index can keep each package's model (see
/// `package::index`).
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct ModelInfo {
    kinds: Map<TypeKind>,
    /// Parent of each type, and `BackboneElement` for backbone element paths.
    bases: Map<String>,
    /// Children by owner key (type name or backbone path), then by element name.
    children: Map<Map<ElementDef>>,
}

/// Looked up for every step of every path evaluated: a fast hasher, not SipHash.
type Map<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// The extension that names the FHIR type a FHIRPath system type stands for.
const FHIR_TYPE_EXT: &str = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";

/// The FHIR type an `ElementDefinition.type` stands for: its code, with FHIRPath
/// system types (`id` and `url` of elements in R4) read back as the FHIR type the
/// `structuredefinition-fhir-type` extension names, or else the primitive they map to.
pub(crate) fn type_code(t: &Node) -> Option<&str> {
    let code = t.get("code").and_then(Node::as_str)?;
    if !code.starts_with("http://hl7.org/fhirpath/") {
        return Some(code);
    }
    let named = t
        .get("extension")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .find(|x| x.get("url").and_then(Node::as_str) == Some(FHIR_TYPE_EXT))
        .and_then(|x| x.get("valueUrl").or_else(|| x.get("valueUri")))
        .and_then(Node::as_str);
    Some(named.unwrap_or_else(|| system_code_to_fhir(code)))
}

/// The FHIR primitive a FHIRPath system type code (`System.String`) stands for.
fn system_code_to_fhir(code: &str) -> &str {
    match code.rsplit('.').next().unwrap_or(code) {
        "Boolean" => "boolean",
        "Integer" => "integer",
        "Decimal" => "decimal",
        "Date" => "date",
        "DateTime" => "dateTime",
        "Time" => "time",
        _ => "string",
    }
}

impl ModelInfo {
    /// The model of every base type definition (primitive, complex, resource) in a
    /// package set; `None` when it has none (a set of profiles only).
    pub fn from_packages(set: &crate::package::PackageSet) -> Option<ModelInfo> {
        let nodes: Vec<_> = set
            .resources()
            .filter(|r| {
                r.resource_type() == "StructureDefinition" && r.derivation() != Some("constraint")
            })
            .filter(|r| {
                matches!(
                    r.kind(),
                    Some("primitive-type" | "complex-type" | "resource")
                )
            })
            .filter_map(|r| r.node().ok())
            .collect();
        (!nodes.is_empty())
            .then(|| ModelInfo::from_structure_definitions(nodes.iter().map(|n| n.as_ref())))
    }

    /// Builds the model from StructureDefinition resources; profiles (constraints) and
    /// logical models are skipped, only the base definitions of types count.
    pub fn from_structure_definitions<'n>(sds: impl IntoIterator<Item = &'n Node>) -> ModelInfo {
        let mut m = ModelInfo::default();
        for sd in sds {
            m.add(sd);
        }
        m
    }

    fn add(&mut self, sd: &Node) {
        let s = |n: &Node, k: &str| n.get(k).and_then(Node::as_str).map(str::to_string);
        if sd.resource_type() != Some("StructureDefinition")
            || s(sd, "derivation").as_deref() == Some("constraint")
        {
            return;
        }
        let kind = match s(sd, "kind").as_deref() {
            Some("primitive-type") => TypeKind::Primitive,
            Some("complex-type") => TypeKind::Complex,
            Some("resource") => TypeKind::Resource,
            _ => return,
        };
        let (Some(name), Some(sd_type)) = (s(sd, "name"), s(sd, "type")) else {
            return;
        };
        // The type name is `type` in R4; STU3 base SDs have it too. `name` covers
        // the odd SD whose `type` differs.
        let ty = if sd_type.is_empty() { name } else { sd_type };
        self.kinds.insert(ty.clone(), kind);
        if let Some(base) = s(sd, "baseDefinition") {
            if let Some(b) = base.rsplit('/').next() {
                self.bases.insert(ty.clone(), b.to_string());
            }
        }
        let elements = sd
            .get("snapshot")
            .or_else(|| sd.get("differential"))
            .and_then(|x| x.get("element"))
            .map(Node::items)
            .unwrap_or_default();
        for e in elements {
            let Some(path) = s(e, "path") else { continue };
            let Some((owner, last)) = path.rsplit_once('.') else {
                continue;
            };
            if !owner.starts_with(ty.as_str()) || kind == TypeKind::Primitive {
                continue;
            }
            let choice = last.ends_with("[x]");
            let name = last.trim_end_matches("[x]").to_string();
            let types: Vec<String> = e
                .get("type")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .filter_map(type_code)
                .map(str::to_string)
                .collect();
            let many = matches!(s(e, "max").as_deref(), Some(m) if m != "0" && m != "1");
            let content_ref = s(e, "contentReference").map(|r| {
                let r = r.rsplit('#').next().unwrap_or(&r).to_string();
                r
            });
            if types
                .iter()
                .any(|t| t == "BackboneElement" || t == "Element")
            {
                let base = types[0].clone();
                self.bases.insert(path.clone(), base);
            }
            self.children.entry(owner.to_string()).or_default().insert(
                name,
                ElementDef {
                    types,
                    choice,
                    many,
                    path,
                    content_ref,
                },
            );
        }
    }

    /// Adds a later package's model: its definitions win, as if its
    /// StructureDefinitions had been added after this model's.
    pub fn extend(&mut self, later: ModelInfo) {
        self.kinds.extend(later.kinds);
        self.bases.extend(later.bases);
        for (owner, elements) in later.children {
            self.children.entry(owner).or_default().extend(elements);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    pub fn kind(&self, ty: &str) -> Option<TypeKind> {
        self.kinds.get(ty).copied()
    }

    pub fn has_type(&self, ty: &str) -> bool {
        self.kinds.contains_key(ty)
    }

    pub fn base(&self, ty: &str) -> Option<&str> {
        self.bases.get(ty).map(String::as_str)
    }

    /// Whether `ty` is `ancestor` or derives from it.
    pub fn is_subtype(&self, ty: &str, ancestor: &str) -> bool {
        let mut cur = Some(ty);
        let mut steps = 0;
        while let Some(t) = cur {
            if t == ancestor {
                return true;
            }
            steps += 1;
            if steps > 32 {
                return false;
            }
            cur = self.base(t);
        }
        false
    }

    /// The element `name` under owner `key` (a type name or a backbone path),
    /// following the base types for inherited elements.
    pub fn child(&self, key: &str, name: &str) -> Option<&ElementDef> {
        let mut cur = Some(key);
        let mut steps = 0;
        while let Some(k) = cur {
            if let Some(e) = self.children.get(k).and_then(|c| c.get(name)) {
                return Some(e);
            }
            steps += 1;
            if steps > 32 {
                return None;
            }
            cur = self.base(k);
        }
        None
    }

    /// The key under which the children of an element of this definition are found.
    pub fn child_key<'a>(&'a self, def: &'a ElementDef, ty: &'a str) -> &'a str {
        if let Some(r) = &def.content_ref {
            return r;
        }
        if (ty == "BackboneElement" || ty == "Element") && self.children.contains_key(&def.path) {
            return &def.path;
        }
        ty
    }

    /// Names of all elements an owner key has, its bases' included.
    pub fn child_names(&self, key: &str) -> Vec<(&str, &ElementDef)> {
        let mut out = Vec::new();
        let mut cur = Some(key);
        let mut steps = 0;
        while let Some(k) = cur {
            if let Some(c) = self.children.get(k) {
                out.extend(c.iter().map(|(n, d)| (n.as_str(), d)));
            }
            steps += 1;
            if steps > 32 {
                break;
            }
            cur = self.base(k);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_json;

    fn sd(json: &str) -> Node {
        parse_json(json).unwrap()
    }

    #[test]
    fn builds_elements_choices_and_bases() {
        let obs = sd(
            r##"{"resourceType":"StructureDefinition","name":"Obs","type":"Obs","kind":"resource",
            "derivation":"specialization","baseDefinition":"http://x/DomainResource",
            "snapshot":{"element":[{"path":"Obs"},
              {"path":"Obs.value[x]","max":"1","type":[{"code":"Quantity"},{"code":"string"}]},
              {"path":"Obs.part","max":"*","type":[{"code":"BackboneElement"}]},
              {"path":"Obs.part.code","max":"1","type":[{"code":"code"}]},
              {"path":"Obs.part.sub","max":"*","contentReference":"#Obs.part"}]}}"##,
        );
        let profile = sd(
            r#"{"resourceType":"StructureDefinition","name":"P","type":"Obs","kind":"resource","derivation":"constraint"}"#,
        );
        let m = ModelInfo::from_structure_definitions([&obs, &profile]);
        let v = m.child("Obs", "value").unwrap();
        assert!(v.choice);
        assert_eq!(v.types, ["Quantity", "string"]);
        let part = m.child("Obs", "part").unwrap();
        assert!(part.many);
        assert_eq!(m.child_key(part, "BackboneElement"), "Obs.part");
        let sub = m.child("Obs.part", "sub").unwrap();
        assert_eq!(m.child_key(sub, ""), "Obs.part");
        assert!(m.child("Obs", "nope").is_none());
        assert!(m.is_subtype("Obs", "DomainResource"));
        assert!(!m.is_subtype("Obs", "Quantity"));
        assert_eq!(m.kind("Obs"), Some(TypeKind::Resource));
    }
}
