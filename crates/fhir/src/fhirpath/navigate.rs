//! Navigation over the instance tree (members, choice elements, primitive `_name`
//! siblings) and type tests (`is`, `as`, `ofType`) for the evaluator.

use super::ast::TypeSpec;
use super::error::FhirPathError;
use super::eval::Evaluator;
use super::value::{Collection, Item, NodeItem, TypeRef, Value};
use crate::model::{Kind, Node};

type R<T> = Result<T, FhirPathError>;

const PRIMITIVES: [&str; 20] = [
    "boolean",
    "integer",
    "string",
    "decimal",
    "uri",
    "url",
    "canonical",
    "base64Binary",
    "instant",
    "date",
    "dateTime",
    "time",
    "code",
    "oid",
    "id",
    "markdown",
    "unsignedInt",
    "positiveInt",
    "uuid",
    "integer64",
];

impl<'a> Evaluator<'a, '_> {
    /// `Patient` at the start of `Patient.name` names the context's type.
    /// A path that names a type the context is not yields nothing; strict mode
    /// reports it before evaluation (see `check.rs`).
    pub(super) fn type_prefix(&self, this: &[Item<'a>], name: &str) -> Option<Collection<'a>> {
        let starts_upper = name.starts_with(|c: char| c.is_ascii_uppercase());
        let [Item::Node(n)] = this else {
            return None;
        };
        let ty = n.type_name();
        let matches = ty == name || self.model.is_some_and(|m| m.is_subtype(ty, name));
        (starts_upper && matches).then(|| this.to_vec())
    }

    /// Appends the children called `name` of `item` to `out`.
    pub fn children(&self, item: &Item<'a>, name: &str, out: &mut Collection<'a>) {
        let n = match item {
            Item::Node(n) => n,
            Item::Value(Value::TypeInfo {
                namespace,
                name: tn,
            }) => {
                match name {
                    "namespace" => out.push(Item::Value(Value::String(namespace.clone()))),
                    "name" => out.push(Item::Value(Value::String(tn.clone()))),
                    _ => {}
                }
                return;
            }
            Item::Value(_) => return,
        };
        let Some(obj) = n.object() else { return };
        if let (Some(model), false) = (self.model, n.ty.key.is_empty()) {
            if let Some(def) = model.child(n.ty.key, name) {
                if def.choice {
                    // The members held under this name (`valueQuantity`, `_valueCode`),
                    // taken in the order of the element's types.
                    let held: Vec<&str> = held_names(obj)
                        .filter(|k| {
                            k.strip_prefix(name)
                                .is_some_and(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
                        })
                        .collect();
                    if held.is_empty() {
                        return;
                    }
                    for t in &def.types {
                        let member = held.iter().find(|k| is_choice_of(k, name, t)).copied();
                        if let Some(member) = member {
                            self.push_member(obj, member, TypeRef::named(t), out);
                        }
                    }
                } else {
                    let t = def.types.first().map_or("", String::as_str);
                    let key = model.child_key(def, t);
                    // A backbone element (or a content reference to one) has its own key.
                    let tname = if key != t || def.content_ref.is_some() {
                        "BackboneElement"
                    } else {
                        t
                    };
                    self.push_member(obj, name, TypeRef { name: tname, key }, out);
                }
                return;
            }
        }
        if obj.get(name).is_some()
            || obj
                .members()
                .iter()
                .any(|(k, _)| k.strip_prefix('_') == Some(name))
        {
            self.push_member(obj, name, TypeRef::UNKNOWN, out);
            return;
        }
        // A choice element without a model: `value` finds `valueQuantity`.
        for (k, _) in obj.members() {
            if let Some(suffix) = k.strip_prefix(name) {
                if suffix.starts_with(|c: char| c.is_ascii_uppercase()) {
                    let ty = PRIMITIVES
                        .iter()
                        .copied()
                        .find(|p| p.eq_ignore_ascii_case(suffix))
                        .unwrap_or(suffix);
                    self.push_member(obj, k, TypeRef::named(ty), out);
                }
            }
        }
    }

    pub(super) fn push_member(
        &self,
        obj: &'a Node,
        name: &str,
        ty: TypeRef<'a>,
        out: &mut Collection<'a>,
    ) {
        let value = obj.get(name);
        let meta = obj
            .members()
            .iter()
            .find(|(k, _)| k.strip_prefix('_') == Some(name))
            .map(|(_, v)| v);
        let fix = |v: &'a Node| -> TypeRef<'a> {
            match v.resource_type() {
                Some(rt) => TypeRef::named(rt),
                None => ty,
            }
        };
        match (value.map(|v| &v.kind), meta) {
            (Some(Kind::Array(items)), _) => {
                let metas = meta.map(Node::items).unwrap_or_default();
                for (i, v) in items.iter().enumerate() {
                    let m = metas.get(i).filter(|m| m.is_object());
                    let v = (!matches!(v.kind, Kind::Null)).then_some(v);
                    if v.is_none() && m.is_none() {
                        continue;
                    }
                    let t = v.map_or(ty, fix);
                    out.push(Item::Node(NodeItem {
                        value: v,
                        meta: m,
                        ty: t,
                    }));
                }
            }
            (None | Some(Kind::Null), Some(m)) if m.is_array() => {
                for m in m.items().iter().filter(|m| m.is_object()) {
                    out.push(Item::Node(NodeItem {
                        value: None,
                        meta: Some(m),
                        ty,
                    }));
                }
            }
            (Some(Kind::Null) | None, None) => {}
            _ => {
                let v = value.filter(|v| !matches!(v.kind, Kind::Null));
                let t = v.map_or(ty, fix);
                out.push(Item::Node(NodeItem {
                    value: v,
                    meta,
                    ty: t,
                }));
            }
        }
    }

    /// Resolves a type name to (namespace, name), checking it exists when a model is
    /// present. Unknown names are an execution error.
    pub fn resolve_type(&self, spec: &TypeSpec, pos: usize) -> R<(bool, String)> {
        const SYSTEM: [&str; 9] = [
            "Boolean", "Integer", "Decimal", "String", "Date", "DateTime", "Time", "Quantity",
            "Long",
        ];
        let fhir_known = |n: &str| self.model.is_some_and(|m| m.has_type(n));
        match spec.namespace.as_deref() {
            Some("System") => Ok((true, spec.name.clone())),
            Some("FHIR") => {
                if self.model.is_some() && !fhir_known(&spec.name) {
                    return Err(self.exec_err(format!("unknown type FHIR.{}", spec.name), pos));
                }
                Ok((false, spec.name.clone()))
            }
            Some(other) => Err(self.exec_err(format!("unknown type namespace {other}"), pos)),
            None => {
                if fhir_known(&spec.name) {
                    Ok((false, spec.name.clone()))
                } else if SYSTEM.contains(&spec.name.as_str()) {
                    Ok((true, spec.name.clone()))
                } else if self.model.is_some() && spec.name != "BackboneElement" {
                    Err(self.exec_err(format!("unknown type {}", spec.name), pos))
                } else {
                    Ok((false, spec.name.clone()))
                }
            }
        }
    }

    /// `is`: the item's type is the named one or derives from it.
    pub fn type_matches(&self, item: &Item<'a>, spec: &TypeSpec, pos: usize) -> R<bool> {
        self.type_matches_mode(item, spec, pos, false)
    }

    /// With `exact_primitives`, a FHIR primitive matches only its own type name: `as`
    /// and `ofType` do not turn a `code` into a `string`.
    pub fn type_matches_mode(
        &self,
        item: &Item<'a>,
        spec: &TypeSpec,
        pos: usize,
        exact_primitives: bool,
    ) -> R<bool> {
        let (system, name) = self.resolve_type(spec, pos)?;
        if let (Item::Node(n), true, false) = (item, exact_primitives, system) {
            let t = n.type_name();
            let primitive = self.model.map_or(n.is_primitive_value(), |m| {
                m.kind(t) == Some(super::model_info::TypeKind::Primitive)
            });
            if primitive {
                return Ok(t == name);
            }
        }
        Ok(match item {
            Item::Value(v) => system && v.type_name() == name,
            Item::Node(n) => {
                let t = n.type_name();
                // Without a model an unqualified `Quantity` may well mean the FHIR type.
                let guessed = self.model.is_none() && spec.namespace.is_none();
                if system && !guessed {
                    return Ok(false);
                }
                t == name || self.model.is_some_and(|m| m.is_subtype(t, &name))
            }
        })
    }

    pub fn filter_type(
        &self,
        input: Collection<'a>,
        spec: &TypeSpec,
        pos: usize,
    ) -> R<Collection<'a>> {
        if input.len() > 1 && !self.env.lenient_as {
            return Err(self.exec_err("`as` needs a single item; use ofType()", pos));
        }
        let mut out = Vec::new();
        for item in input {
            if self.type_matches_mode(&item, spec, pos, true)? {
                out.push(item);
            }
        }
        Ok(out)
    }
}

/// The element names an object holds: `_given` holds `given`.
pub(crate) fn held_names(obj: &Node) -> impl Iterator<Item = &str> {
    obj.members().iter().map(|(k, _)| {
        let k: &str = k;
        k.strip_prefix('_').unwrap_or(k)
    })
}

/// `member` is `name` followed by type code `t` with its first letter capitalised.
fn is_choice_of(member: &str, name: &str, t: &str) -> bool {
    let Some(rest) = member.strip_prefix(name) else {
        return false;
    };
    let mut a = rest.chars();
    let mut b = t.chars();
    match (a.next(), b.next()) {
        (Some(x), Some(y)) => y.to_uppercase().eq(std::iter::once(x)) && a.eq(b),
        _ => false,
    }
}
