//! The FHIRPath syntax tree. Each node keeps the byte offset of its first token so
//! evaluation errors can point into the expression.

use super::value::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Ast {
    pub kind: AstKind,
    pub pos: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Mul,
    Div,
    IntDiv,
    Mod,
    Add,
    Sub,
    Concat,
    Union,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    Equiv,
    NotEquiv,
    In,
    Contains,
    And,
    Or,
    Xor,
    Implies,
}

/// A type name as written: `Patient`, `FHIR.string`, `System.Integer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSpec {
    pub namespace: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AstKind {
    /// `{}`
    Empty,
    Literal(Value),
    /// A literal that is well-formed but cannot be a value (a time with a zone).
    BadLiteral(String),
    /// `%name`
    EnvVar(String),
    This,
    Index,
    Total,
    /// A member name, or a type name at the start of a path. `focus` is `None` for
    /// the first step, which applies to `$this`.
    Member {
        focus: Option<Box<Ast>>,
        name: String,
    },
    Call {
        focus: Option<Box<Ast>>,
        name: String,
        args: Vec<Ast>,
    },
    Indexer {
        focus: Box<Ast>,
        index: Box<Ast>,
    },
    Negate(Box<Ast>),
    Binary {
        op: BinOp,
        left: Box<Ast>,
        right: Box<Ast>,
    },
    Is(Box<Ast>, TypeSpec),
    As(Box<Ast>, TypeSpec),
}

impl Ast {
    /// Reads an argument written as a type name (`ofType(FHIR.string)`).
    pub fn as_type_spec(&self) -> Option<TypeSpec> {
        match &self.kind {
            AstKind::Member { focus: None, name } => Some(TypeSpec {
                namespace: None,
                name: name.clone(),
            }),
            AstKind::Member {
                focus: Some(f),
                name,
            } => match &f.kind {
                AstKind::Member {
                    focus: None,
                    name: ns,
                } => Some(TypeSpec {
                    namespace: Some(ns.clone()),
                    name: name.clone(),
                }),
                _ => None,
            },
            _ => None,
        }
    }
}
