//! The evaluator: walks the syntax tree over borrowed instance nodes.

use super::ast::{Ast, AstKind, BinOp, TypeSpec};
use super::compare;
use super::error::{ExprPos, FhirPathError};
use super::funcs;
use super::model_info::ModelInfo;
use super::value::{Collection, Item, TypeRef, Value};
use super::Env;
use super::Variable;
use crate::model::Node;

/// What stays fixed during one evaluation.
pub struct Evaluator<'a, 't> {
    pub env: &'a Env,
    pub model: Option<&'a ModelInfo>,
    /// The expression text, for error positions.
    pub text: &'t str,
    /// `%rootResource`, searched by `resolve()`.
    pub root: &'a Node,
    /// `%resource`.
    pub resource: &'a Node,
    /// `%context`: the root resource, or the element an invariant is evaluated on.
    pub context: Item<'a>,
    /// The instant `now()`, `today()` and `timeOfDay()` report, fixed for the whole
    /// evaluation as the specification asks.
    pub now: std::cell::OnceCell<super::temporal::Temporal>,
    /// Depth of nested lambda evaluation, bounded so hostile input cannot overflow.
    depth: std::cell::Cell<usize>,
    /// `descendants()` of a path from an environment variable, by syntax node: the
    /// same in every iteration of an enclosing `where()` (dom-3 asks for
    /// `%resource.descendants()` four times per contained resource).
    memo: std::cell::RefCell<Vec<(*const Ast, Collection<'a>)>>,
}

/// What changes inside `where`, `select` and friends.
#[derive(Clone)]
pub struct Ctx<'a> {
    pub this: Collection<'a>,
    pub index: Option<i64>,
    pub total: Option<Collection<'a>>,
}

type R<T> = Result<T, FhirPathError>;

/// Evaluation recursion bound: keeps within a 1 MiB thread stack in debug builds.
const MAX_EVAL_DEPTH: usize = 160;

pub fn run<'a>(
    ast: &Ast,
    text: &str,
    scope: super::Scope<'a>,
    focus: Item<'a>,
    env: &'a Env,
) -> R<Collection<'a>> {
    let ev = Evaluator {
        env,
        model: env.model.as_deref(),
        text,
        root: scope.root_resource,
        resource: scope.resource,
        context: focus.clone(),
        now: std::cell::OnceCell::new(),
        depth: std::cell::Cell::new(0),
        memo: std::cell::RefCell::new(Vec::new()),
    };
    let ctx = Ctx {
        this: vec![focus],
        index: None,
        total: None,
    };
    ev.eval(ast, &ctx)
}

impl<'a> Evaluator<'a, '_> {
    pub fn root_item(&self) -> Item<'a> {
        self.resource_item(self.root)
    }

    pub fn resource_root_item(&self) -> Item<'a> {
        self.resource_item(self.resource)
    }

    pub fn resource_item(&self, node: &'a Node) -> Item<'a> {
        let ty = node
            .resource_type()
            .map_or(TypeRef::UNKNOWN, TypeRef::named);
        Item::node(node, ty)
    }

    pub fn pos(&self, offset: usize) -> ExprPos {
        ExprPos::at(self.text, offset)
    }

    pub fn exec_err(&self, message: impl Into<String>, offset: usize) -> FhirPathError {
        FhirPathError::execution(message, self.pos(offset))
    }

    pub fn eval(&self, ast: &Ast, ctx: &Ctx<'a>) -> R<Collection<'a>> {
        let d = self.depth.get();
        if d > MAX_EVAL_DEPTH {
            return Err(self.exec_err("evaluation nested too deeply", ast.pos));
        }
        self.depth.set(d + 1);
        let r = self.eval_inner(ast, ctx);
        self.depth.set(d);
        r
    }

    fn eval_inner(&self, ast: &Ast, ctx: &Ctx<'a>) -> R<Collection<'a>> {
        match &ast.kind {
            AstKind::Empty => Ok(vec![]),
            AstKind::Literal(v) => Ok(vec![Item::Value(v.clone())]),
            AstKind::BadLiteral(m) => Err(self.exec_err(m.clone(), ast.pos)),
            AstKind::EnvVar(name) => self.env_var(name, ast.pos),
            AstKind::This => Ok(ctx.this.clone()),
            AstKind::Index => Ok(ctx
                .index
                .map(|i| Item::Value(Value::Integer(i)))
                .into_iter()
                .collect()),
            AstKind::Total => Ok(ctx.total.clone().unwrap_or_default()),
            // Sub-expressions are evaluated here and the results handed to helpers, so
            // the frames on the recursion path stay small.
            AstKind::Member { focus, name } => {
                let input = match focus {
                    Some(f) => self.eval(f, ctx)?,
                    None => ctx.this.clone(),
                };
                Ok(self.member(input, focus.is_none(), name))
            }
            AstKind::Call { focus, name, args }
                if name == "descendants"
                    && args.is_empty()
                    && focus.as_deref().is_some_and(fixed) =>
            {
                let key: *const Ast = ast;
                if let Some((_, hit)) = self.memo.borrow().iter().find(|(k, _)| *k == key) {
                    return Ok(hit.clone());
                }
                let input = match focus {
                    Some(f) => self.eval(f, ctx)?,
                    None => ctx.this.clone(),
                };
                let out = funcs::call(self, name, input, true, args, ctx, ast.pos)?;
                self.memo.borrow_mut().push((key, out.clone()));
                Ok(out)
            }
            AstKind::Call { focus, name, args } => {
                let input = match focus {
                    Some(f) => self.eval(f, ctx)?,
                    None => ctx.this.clone(),
                };
                funcs::call(self, name, input, focus.is_some(), args, ctx, ast.pos)
            }
            AstKind::Indexer { focus, index } => {
                let input = self.eval(focus, ctx)?;
                let idx = self.eval(index, ctx)?;
                self.index(input, &idx, index.pos)
            }
            AstKind::Negate(e) => {
                let v = self.eval(e, ctx)?;
                self.negate(&v, ast.pos)
            }
            AstKind::Binary { op, left, right } => match op {
                BinOp::And | BinOp::Or | BinOp::Xor | BinOp::Implies => {
                    let x = self.eval(left, ctx)?;
                    let x = self.to_bool(&x, left.pos)?;
                    if let Some(done) = short_circuit(*op, x) {
                        return Ok(boolean(Some(done)));
                    }
                    let y = self.eval(right, ctx)?;
                    let y = self.to_bool(&y, right.pos)?;
                    Ok(boolean(logic(*op, x, y)))
                }
                _ => {
                    let x = self.eval(left, ctx)?;
                    let y = self.eval(right, ctx)?;
                    self.apply(*op, x, y, left.pos, right.pos, ast.pos)
                }
            },
            AstKind::Is(e, spec) => {
                let v = self.eval(e, ctx)?;
                self.is_op(&v, spec, ast.pos)
            }
            AstKind::As(e, spec) => {
                let v = self.eval(e, ctx)?;
                self.filter_type(v, spec, ast.pos)
            }
        }
    }

    #[inline(never)]
    fn member(&self, input: Collection<'a>, first: bool, name: &str) -> Collection<'a> {
        if first {
            if let Some(hit) = self.type_prefix(&input, name) {
                return hit;
            }
        }
        let mut out = Vec::new();
        for item in &input {
            self.children(item, name, &mut out);
        }
        out
    }

    #[inline(never)]
    fn index(&self, input: Collection<'a>, idx: &[Item<'a>], pos: usize) -> R<Collection<'a>> {
        match self.singleton_value(idx, pos)? {
            None => Ok(vec![]),
            Some(Value::Integer(i)) => Ok(usize::try_from(i)
                .ok()
                .and_then(|i| input.get(i).cloned())
                .into_iter()
                .collect()),
            Some(_) => Err(self.exec_err("an index must be an integer", pos)),
        }
    }

    #[inline(never)]
    fn negate(&self, v: &[Item<'a>], pos: usize) -> R<Collection<'a>> {
        let neg = match self.singleton_value(v, pos)? {
            None => return Ok(vec![]),
            Some(Value::Integer(i)) => match i.checked_neg() {
                Some(n) => Value::Integer(n),
                None => return Err(self.exec_err("arithmetic overflow", pos)),
            },
            Some(Value::Decimal(d)) => Value::Decimal(d.neg()),
            Some(Value::Quantity(mut q)) => {
                q.value = q.value.neg();
                Value::Quantity(q)
            }
            Some(v) => return Err(self.exec_err(format!("cannot negate a {}", v.type_name()), pos)),
        };
        Ok(vec![Item::Value(neg)])
    }

    #[inline(never)]
    fn is_op(&self, v: &[Item<'a>], spec: &TypeSpec, pos: usize) -> R<Collection<'a>> {
        match self.singleton(v, pos)? {
            None => Ok(vec![]),
            Some(item) => Ok(boolean(Some(self.type_matches(item, spec, pos)?))),
        }
    }

    fn env_var(&self, name: &str, pos: usize) -> R<Collection<'a>> {
        let s = |v: &str| Ok(vec![Item::Value(Value::String(v.to_string()))]);
        match name {
            "resource" => Ok(vec![self.resource_root_item()]),
            // A caller may name the container of an embedded resource explicitly.
            "rootResource" if !self.env.variables.contains_key("rootResource") => {
                Ok(vec![self.root_item()])
            }
            "context" => Ok(vec![self.context.clone()]),
            "ucum" => s("http://unitsofmeasure.org"),
            "sct" => s("http://snomed.info/sct"),
            "loinc" => s("http://loinc.org"),
            _ => {
                if let Some(v) = self.env.variables.get(name) {
                    return Ok(match v {
                        Variable::Node(n) => vec![self.resource_item(n)],
                        Variable::Value(v) => vec![Item::Value(v.clone())],
                        Variable::Values(vs) => vs.iter().cloned().map(Item::Value).collect(),
                    });
                }
                if let Some(vs) = name.strip_prefix("vs-") {
                    return s(&format!("http://hl7.org/fhir/ValueSet/{vs}"));
                }
                if let Some(ext) = name.strip_prefix("ext-") {
                    return s(&format!("http://hl7.org/fhir/StructureDefinition/{ext}"));
                }
                Err(self.exec_err(format!("unknown variable %{name}"), pos))
            }
        }
    }

    pub fn singleton<'c>(&self, c: &'c [Item<'a>], pos: usize) -> R<Option<&'c Item<'a>>> {
        match c {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            _ => Err(self.exec_err(format!("expected a single item, found {}", c.len()), pos)),
        }
    }

    pub fn singleton_value(&self, c: &[Item<'a>], pos: usize) -> R<Option<Value>> {
        match self.singleton(c, pos)? {
            None => Ok(None),
            Some(i) => match i.to_value() {
                Some(v) => Ok(Some(v)),
                None => Err(self.exec_err(format!("a {} has no value here", i.type_name()), pos)),
            },
        }
    }

    /// Singleton evaluation of collections as a boolean.
    pub fn to_bool(&self, c: &[Item<'a>], pos: usize) -> R<Option<bool>> {
        match self.singleton(c, pos)? {
            None => Ok(None),
            Some(i) => match i.to_value() {
                Some(Value::Boolean(b)) => Ok(Some(b)),
                _ => Ok(Some(true)),
            },
        }
    }

    #[inline(never)]
    fn apply(
        &self,
        op: BinOp,
        x: Collection<'a>,
        y: Collection<'a>,
        lpos: usize,
        rpos: usize,
        pos: usize,
    ) -> R<Collection<'a>> {
        let b = |v: Option<bool>| Ok(boolean(v));
        match op {
            BinOp::Union => Ok(union(x, y)),
            BinOp::Eq => b(compare::collection_equals(&x, &y)),
            BinOp::Ne => b(compare::collection_equals(&x, &y).map(|v| !v)),
            BinOp::Equiv => b(Some(compare::collection_equivalent(&x, &y))),
            BinOp::NotEquiv => b(Some(!compare::collection_equivalent(&x, &y))),
            BinOp::In | BinOp::Contains => {
                let (needle, hay, npos) = if op == BinOp::In {
                    (x, y, lpos)
                } else {
                    (y, x, rpos)
                };
                match self.singleton(&needle, npos)? {
                    None => Ok(vec![]),
                    Some(n) => b(Some(
                        hay.iter().any(|h| compare::item_equals(n, h) == Some(true)),
                    )),
                }
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let (Some(a), Some(c)) = (
                    self.singleton_value(&x, lpos)?,
                    self.singleton_value(&y, rpos)?,
                ) else {
                    return Ok(vec![]);
                };
                let ord = compare::order_values(&a, &c).map_err(|m| self.exec_err(m, pos))?;
                b(ord.map(|o| match op {
                    BinOp::Lt => o.is_lt(),
                    BinOp::Le => o.is_le(),
                    BinOp::Gt => o.is_gt(),
                    _ => o.is_ge(),
                }))
            }
            BinOp::Concat => {
                let text = |c: &[Item<'a>], p| -> R<String> {
                    Ok(match self.singleton_value(c, p)? {
                        None => String::new(),
                        Some(Value::String(s)) => s,
                        Some(v) => {
                            return Err(self
                                .exec_err(format!("`&` needs strings, not {}", v.type_name()), p))
                        }
                    })
                };
                let s = text(&x, lpos)? + &text(&y, rpos)?;
                Ok(vec![Item::Value(Value::String(s))])
            }
            _ => {
                let (Some(a), Some(c)) = (
                    self.singleton_value(&x, lpos)?,
                    self.singleton_value(&y, rpos)?,
                ) else {
                    return Ok(vec![]);
                };
                let v = funcs::arithmetic(op, &a, &c).map_err(|m| self.exec_err(m, pos))?;
                Ok(v.map(Item::Value).into_iter().collect())
            }
        }
    }
}

fn boolean<'a>(v: Option<bool>) -> Collection<'a> {
    v.map(|b| Item::Value(Value::Boolean(b)))
        .into_iter()
        .collect()
}

/// The result of a logic operator when the left side already decides it.
fn short_circuit(op: BinOp, x: Option<bool>) -> Option<bool> {
    match (op, x) {
        (BinOp::And, Some(false)) => Some(false),
        (BinOp::Or, Some(true)) => Some(true),
        (BinOp::Implies, Some(false)) => Some(true),
        _ => None,
    }
}

/// Three-valued `and`, `or`, `xor`, `implies`.
fn logic(op: BinOp, x: Option<bool>, y: Option<bool>) -> Option<bool> {
    match op {
        BinOp::And => match (x, y) {
            (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        BinOp::Or => match (x, y) {
            (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        BinOp::Xor => x.zip(y).map(|(x, y)| x != y),
        _ => match (x, y) {
            (_, Some(true)) => Some(true),
            (Some(true), y) => y,
            _ => None,
        },
    }
}

/// `|`: both sides, duplicates removed.
pub fn union<'a>(x: Collection<'a>, y: Collection<'a>) -> Collection<'a> {
    let items: Collection<'a> = x.into_iter().chain(y).collect();
    // Strings are equal only when identical, so a large collection of them is
    // deduplicated by hashing (`isDistinct()` over a million Bundle entries).
    if items.len() > 32 {
        if let Some(keys) = string_keys(&items) {
            let mut seen = std::collections::HashSet::with_capacity(keys.len());
            return items
                .into_iter()
                .zip(keys)
                .filter(|(_, k)| seen.insert(k.clone()))
                .map(|(i, _)| i)
                .collect();
        }
    }
    let mut out: Collection<'a> = Vec::with_capacity(items.len());
    for item in items {
        if !out
            .iter()
            .any(|o| compare::item_equals(o, &item) == Some(true))
        {
            out.push(item);
        }
    }
    out
}

/// Each item's text when every item is a System String (or a primitive element
/// read as one), else `None`.
fn string_keys(items: &[Item<'_>]) -> Option<Vec<String>> {
    items
        .iter()
        .map(|i| {
            if let Item::Node(n) = i {
                if !n.is_primitive_value() {
                    return None;
                }
            }
            match i.to_value()? {
                Value::String(s) => Some(s),
                _ => None,
            }
        })
        .collect()
}

/// An expression whose value is the same wherever it is evaluated within one
/// evaluation: a path of members from an environment variable (`%resource`,
/// `%rootResource.contained`).
fn fixed(ast: &Ast) -> bool {
    match &ast.kind {
        AstKind::EnvVar(_) => true,
        AstKind::Member { focus: Some(f), .. } => fixed(f),
        _ => false,
    }
}
