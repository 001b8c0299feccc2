//! Items of a FHIRPath collection: elements borrowed from the instance tree, or
//! System values computed by the expression.

use super::decimal::Decimal;
use super::quantity::Quantity;
use super::temporal::{TKind, Temporal};
use crate::model::{Kind, Node};

/// A System value (the FHIRPath primitive types).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Boolean(bool),
    Integer(i64),
    Decimal(Decimal),
    String(String),
    Temporal(Temporal),
    Quantity(Quantity),
    /// What `type()` returns: `namespace` and `name` are its members.
    TypeInfo {
        namespace: String,
        name: String,
    },
}

impl Value {
    /// `System.` type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Boolean(_) => "Boolean",
            Value::Integer(_) => "Integer",
            Value::Decimal(_) => "Decimal",
            Value::String(_) => "String",
            Value::Temporal(t) => match t.kind {
                TKind::Date => "Date",
                TKind::DateTime => "DateTime",
                TKind::Time => "Time",
            },
            Value::Quantity(_) => "Quantity",
            Value::TypeInfo { .. } => "TypeInfo",
        }
    }

    /// Text as `toString()` gives it.
    pub fn to_text(&self) -> String {
        match self {
            Value::Boolean(b) => b.to_string(),
            Value::Integer(i) => i.to_string(),
            Value::Decimal(d) => d.to_string(),
            Value::String(s) => s.clone(),
            Value::Temporal(t) => t.to_string(),
            Value::Quantity(q) => q.to_string(),
            Value::TypeInfo { namespace, name } => format!("{namespace}.{name}"),
        }
    }
}

/// The FHIR type of an element, and the key to look its children up in the model
/// (the type name, or the element path for a backbone element).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeRef<'a> {
    pub name: &'a str,
    pub key: &'a str,
}

impl<'a> TypeRef<'a> {
    pub fn named(name: &'a str) -> TypeRef<'a> {
        TypeRef { name, key: name }
    }

    pub const UNKNOWN: TypeRef<'static> = TypeRef { name: "", key: "" };
}

/// An element of the instance tree. A primitive's value and its `_name` sibling (id,
/// extensions) are one item; either may be missing.
#[derive(Debug, Clone, Copy)]
pub struct NodeItem<'a> {
    pub value: Option<&'a Node>,
    pub meta: Option<&'a Node>,
    pub ty: TypeRef<'a>,
}

impl<'a> NodeItem<'a> {
    /// The object holding the element's children: the value for a complex element, the
    /// `_name` sibling for a primitive.
    pub fn object(&self) -> Option<&'a Node> {
        match self.value {
            Some(v) if v.is_object() => Some(v),
            _ => self.meta.filter(|m| m.is_object()),
        }
    }

    pub fn is_primitive_value(&self) -> bool {
        matches!(
            self.value.map(|v| &v.kind),
            Some(Kind::String(_) | Kind::Number(_) | Kind::Bool(_))
        )
    }

    /// The type name, inferred from the JSON when no model gave one.
    pub fn type_name(&self) -> &'a str {
        if !self.ty.name.is_empty() {
            return self.ty.name;
        }
        match self.value.map(|v| &v.kind) {
            Some(Kind::Bool(_)) => "boolean",
            Some(Kind::String(_)) => "string",
            Some(Kind::Number(n)) if n.contains(['.', 'e', 'E']) => "decimal",
            Some(Kind::Number(_)) => "integer",
            Some(Kind::Object(_)) => self
                .value
                .and_then(Node::resource_type)
                .unwrap_or("Element"),
            _ => "Element",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Item<'a> {
    Node(NodeItem<'a>),
    Value(Value),
}

pub type Collection<'a> = Vec<Item<'a>>;

const QUANTITY_TYPES: [&str; 7] = [
    "Quantity",
    "Age",
    "Duration",
    "Distance",
    "Count",
    "SimpleQuantity",
    "MoneyQuantity",
];

impl<'a> Item<'a> {
    pub fn node(value: &'a Node, ty: TypeRef<'a>) -> Item<'a> {
        Item::Node(NodeItem {
            value: Some(value),
            meta: None,
            ty,
        })
    }

    /// The System value of this item, when it has one (primitives and quantities).
    pub fn to_value(&self) -> Option<Value> {
        let n = match self {
            Item::Value(v) => return Some(v.clone()),
            Item::Node(n) => n,
        };
        let node = n.value?;
        let ty = n.type_name();
        match &node.kind {
            Kind::Bool(b) => Some(Value::Boolean(*b)),
            Kind::Number(text) => {
                let d = Decimal::parse(text)?;
                if ty == "decimal" {
                    Some(Value::Decimal(d))
                } else {
                    d.to_i64_exact()
                        .map(Value::Integer)
                        .or(Some(Value::Decimal(d)))
                }
            }
            Kind::String(s) => {
                let kind = match ty {
                    "date" => Some(TKind::Date),
                    "dateTime" | "instant" => Some(TKind::DateTime),
                    "time" => Some(TKind::Time),
                    _ => None,
                };
                if let Some(k) = kind {
                    if let Some(t) = Temporal::parse(s, k) {
                        return Some(Value::Temporal(t));
                    }
                }
                // Trees read from XML hold every primitive as text: the type decides.
                let typed = match ty {
                    "decimal" => Decimal::parse(s).map(Value::Decimal),
                    "integer" | "positiveInt" | "unsignedInt" => {
                        s.trim().parse().ok().map(Value::Integer)
                    }
                    "boolean" => match s.as_ref() {
                        "true" => Some(Value::Boolean(true)),
                        "false" => Some(Value::Boolean(false)),
                        _ => None,
                    },
                    _ => None,
                };
                Some(typed.unwrap_or_else(|| Value::String(s.to_string())))
            }
            Kind::Object(_) if QUANTITY_TYPES.contains(&ty) || ty == "Element" => {
                quantity_of(node).map(Value::Quantity)
            }
            _ => None,
        }
    }

    /// Type name for output: FHIR types as the model names them, System types in the
    /// lower-case FHIR spelling the test suite uses (`boolean`, `dateTime`).
    pub fn type_name(&self) -> String {
        match self {
            Item::Node(n) => n.type_name().to_string(),
            Item::Value(v) => system_to_fhir(v.type_name()).to_string(),
        }
    }

    /// Qualified type name, `FHIR.x` or `System.X`.
    pub fn qualified_type(&self) -> String {
        match self {
            Item::Node(n) => format!("FHIR.{}", n.type_name()),
            Item::Value(v) => format!("System.{}", v.type_name()),
        }
    }

    /// JSON rendering for machine output.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Item::Node(n) => match n.value {
                Some(v) => v.to_value(),
                None => n.meta.map(Node::to_value).unwrap_or(J::Null),
            },
            Item::Value(v) => match v {
                Value::Boolean(b) => J::Bool(*b),
                Value::Integer(i) => J::from(*i),
                Value::Decimal(d) => serde_json::from_str(&d.to_string()).unwrap_or(J::Null),
                Value::String(s) => J::String(s.clone()),
                Value::Temporal(t) => J::String(t.to_string()),
                Value::Quantity(q) => serde_json::json!({
                    "value": serde_json::from_str::<J>(&q.value.to_string()).unwrap_or(J::Null),
                    "unit": q.unit,
                }),
                Value::TypeInfo { namespace, name } => {
                    serde_json::json!({"namespace": namespace, "name": name})
                }
            },
        }
    }

    /// Human rendering: dates with `@`, quantities as `1 'mg'`, complex types as JSON.
    pub fn to_display(&self) -> String {
        match self.to_value() {
            Some(Value::Temporal(t)) if t.kind == TKind::Time => format!("@T{t}"),
            Some(Value::Temporal(t)) => format!("@{t}"),
            Some(Value::Quantity(q)) if matches!(self, Item::Value(_)) => q.to_string(),
            Some(v) if !matches!(v, Value::Quantity(_)) => v.to_text(),
            _ => self.to_json().to_string(),
        }
    }
}

fn system_to_fhir(name: &str) -> &str {
    match name {
        "Boolean" => "boolean",
        "Integer" => "integer",
        "Decimal" => "decimal",
        "String" => "string",
        "Date" => "date",
        "DateTime" => "dateTime",
        "Time" => "time",
        other => other,
    }
}

/// Reads a FHIR Quantity object; the UCUM code wins over the display unit.
pub fn quantity_of(node: &Node) -> Option<Quantity> {
    let value = match &node.get("value")?.kind {
        Kind::Number(n) | Kind::String(n) => Decimal::parse(n)?,
        _ => return None,
    };
    let ucum = node.get("system").and_then(Node::as_str) == Some("http://unitsofmeasure.org");
    let unit = match (node.get("code").and_then(Node::as_str), ucum) {
        (Some(code), true) => code.to_string(),
        _ => node
            .get("unit")
            .and_then(Node::as_str)
            .or_else(|| node.get("code").and_then(Node::as_str))
            .map(|u| super::quantity::calendar_word(u).unwrap_or(u).to_string())
            .unwrap_or_else(|| "1".to_string()),
    };
    Some(Quantity::new(value, unit))
}

/// Deep equality of two JSON trees, ignoring source positions and member order.
pub fn json_eq(a: &Node, b: &Node) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::Object(x), Kind::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| json_eq(v, w)))
        }
        (Kind::Array(x), Kind::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| json_eq(v, w))
        }
        (Kind::Number(x), Kind::Number(y)) => Decimal::parse(x)
            .zip(Decimal::parse(y))
            .is_some_and(|(x, y)| x == y),
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_json;

    #[test]
    fn node_values_follow_the_type() {
        let n = parse_json(r#"{"a": "2012-01-01", "b": 5, "c": 1.50}"#).unwrap();
        let a = n.get("a").unwrap();
        let date = Item::node(a, TypeRef::named("date")).to_value().unwrap();
        assert!(matches!(date, Value::Temporal(t) if t.kind == TKind::Date));
        let s = Item::node(a, TypeRef::named("string")).to_value().unwrap();
        assert_eq!(s, Value::String("2012-01-01".into()));
        let xml = parse_json(r#"{"n": "42", "b": "true", "d": "1.50", "x": "4x"}"#).unwrap();
        let typed = |k: &str, t: &'static str| Item::node(xml.get(k).unwrap(), TypeRef::named(t));
        assert_eq!(typed("n", "integer").to_value(), Some(Value::Integer(42)));
        assert_eq!(typed("b", "boolean").to_value(), Some(Value::Boolean(true)));
        assert_eq!(typed("d", "decimal").to_display(), "1.50");
        assert_eq!(
            typed("x", "integer").to_value(),
            Some(Value::String("4x".into()))
        );
        let b = Item::node(n.get("b").unwrap(), TypeRef::UNKNOWN);
        assert_eq!(b.to_value(), Some(Value::Integer(5)));
        assert_eq!(b.type_name(), "integer");
        let c = Item::node(n.get("c").unwrap(), TypeRef::named("decimal"));
        assert_eq!(c.to_display(), "1.50");
    }

    #[test]
    fn quantities_and_equality() {
        let q = parse_json(r#"{"value": 185, "unit": "lbs", "system": "http://unitsofmeasure.org", "code": "[lb_av]"}"#).unwrap();
        assert_eq!(quantity_of(&q).unwrap().unit, "[lb_av]");
        let other = parse_json(r#"{"code": "[lb_av]", "system": "http://unitsofmeasure.org", "unit": "lbs", "value": 185.0}"#).unwrap();
        assert!(json_eq(&q, &other));
        let diff = parse_json(r#"{"value": 186, "unit": "lbs", "system": "http://unitsofmeasure.org", "code": "[lb_av]"}"#).unwrap();
        assert!(!json_eq(&q, &diff));
        assert!(quantity_of(&parse_json(r#"{"unit": "mg"}"#).unwrap()).is_none());
        let text = parse_json(r#"{"value": "2.5", "unit": "mg"}"#).unwrap();
        assert_eq!(quantity_of(&text).unwrap().to_string(), "2.5 'mg'");
        assert!(quantity_of(&parse_json(r#"{"value": "x", "unit": "mg"}"#).unwrap()).is_none());
    }
}
