//! The typed view of snapshot elements that the validator and FHIRPath model use.

use crate::model::{Kind, Node};

/// `max`: a number or unbounded (`*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Max {
    Count(u32),
    Unbounded,
}

impl Max {
    pub fn parse(text: &str) -> Option<Max> {
        match text {
            "*" => Some(Max::Unbounded),
            n => n.parse().ok().map(Max::Count),
        }
    }
}

impl std::fmt::Display for Max {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Max::Count(n) => write!(f, "{n}"),
            Max::Unbounded => f.write_str("*"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeRef {
    pub code: String,
    pub profiles: Vec<String>,
    pub target_profiles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub strength: Option<String>,
    pub value_set: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    pub key: String,
    pub severity: Option<String>,
    pub human: Option<String>,
    pub expression: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Discriminator {
    pub kind: String,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Slicing {
    pub discriminators: Vec<Discriminator>,
    pub ordered: bool,
    pub rules: Option<String>,
}

/// One element of a snapshot. `node` is the full element as FHIR JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementDefinition {
    pub id: String,
    pub path: String,
    pub slice_name: Option<String>,
    pub min: u32,
    pub max: Max,
    pub types: Vec<TypeRef>,
    /// `fixed[x]`: the JSON name (`fixedUri`) and value.
    pub fixed: Option<(String, Node)>,
    pub pattern: Option<(String, Node)>,
    pub binding: Option<Binding>,
    pub constraints: Vec<Constraint>,
    pub slicing: Option<Slicing>,
    pub content_reference: Option<String>,
    pub must_support: bool,
    pub is_modifier: bool,
    pub node: Node,
}

fn text(node: &Node, key: &str) -> Option<String> {
    node.get(key).and_then(Node::as_str).map(str::to_string)
}

fn texts(node: &Node, key: &str) -> Vec<String> {
    match node.get(key) {
        Some(n) if n.is_array() => n
            .items()
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Some(n) => n.as_str().map(str::to_string).into_iter().collect(),
        None => Vec::new(),
    }
}

/// The member whose name starts with `prefix` followed by an upper-case type name.
pub(crate) fn choice_member<'a>(node: &'a Node, prefix: &str) -> Option<(&'a str, &'a Node)> {
    node.members().iter().find_map(|(k, v)| {
        let rest = k.strip_prefix(prefix)?;
        rest.starts_with(|c: char| c.is_ascii_uppercase())
            .then_some((&**k, v))
    })
}

impl ElementDefinition {
    pub fn from_node(node: &Node) -> ElementDefinition {
        ElementDefinition::from_owned(node.clone())
    }

    /// [`ElementDefinition::from_node`], keeping `node` itself.
    pub fn from_owned(node: Node) -> ElementDefinition {
        let mut def = ElementDefinition::read(&node);
        def.node = node;
        def
    }

    fn read(node: &Node) -> ElementDefinition {
        let path = text(node, "path").unwrap_or_default();
        let min = match node.get("min").map(|n| &n.kind) {
            Some(Kind::Number(n)) => n.parse().unwrap_or(0),
            _ => 0,
        };
        let max = text(node, "max")
            .and_then(|m| Max::parse(&m))
            .unwrap_or(Max::Unbounded);
        let types = node
            .get("type")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .map(|t| TypeRef {
                code: text(t, "code").unwrap_or_default(),
                profiles: texts(t, "profile"),
                target_profiles: texts(t, "targetProfile"),
            })
            .collect();
        let binding = node.get("binding").map(|b| Binding {
            strength: text(b, "strength"),
            value_set: text(b, "valueSet")
                .or_else(|| text(b, "valueSetUri"))
                .or_else(|| {
                    b.get("valueSetReference")
                        .and_then(|r| text(r, "reference"))
                }),
        });
        let constraints = node
            .get("constraint")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .map(|c| Constraint {
                key: text(c, "key").unwrap_or_default(),
                severity: text(c, "severity"),
                human: text(c, "human"),
                expression: text(c, "expression"),
                source: text(c, "source"),
            })
            .collect();
        let slicing = node.get("slicing").map(|s| Slicing {
            discriminators: s
                .get("discriminator")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .map(|d| Discriminator {
                    kind: text(d, "type").unwrap_or_default(),
                    path: text(d, "path").unwrap_or_default(),
                })
                .collect(),
            ordered: s.get("ordered").and_then(Node::as_bool).unwrap_or(false),
            rules: text(s, "rules"),
        });
        let owned = |m: Option<(&str, &Node)>| m.map(|(k, v)| (k.to_string(), v.clone()));
        ElementDefinition {
            id: text(node, "id").unwrap_or_else(|| path.clone()),
            path,
            slice_name: text(node, "sliceName"),
            min,
            max,
            types,
            fixed: owned(choice_member(node, "fixed")),
            pattern: owned(choice_member(node, "pattern")),
            binding,
            constraints,
            slicing,
            content_reference: text(node, "contentReference"),
            must_support: node
                .get("mustSupport")
                .and_then(Node::as_bool)
                .unwrap_or(false),
            is_modifier: node
                .get("isModifier")
                .and_then(Node::as_bool)
                .unwrap_or(false),
            node: Node::new(Kind::Null, node.pos),
        }
    }
}
