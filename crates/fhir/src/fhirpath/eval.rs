//! The evaluator: walks the syntax tree over borrowed instance nodes.

use super::ast::{Ast, AstKind, BinOp, TypeSpec};
use super::compare;
use super::error::{ExprPos, FhirPathError};
use super::funcs;
use super::model_info::ModelInfo;
use super::value::{Collection, Item, NodeItem, TypeRef, Value};
use super::Env;
use super::Variable;
use crate::model::{Kind, Node};

/// What stays fixed during one evaluation.
pub struct Evaluator<'a> {
    pub env: &'a Env,
    pub model: Option<&'a ModelInfo>,
    pub text: &'a str,
    pub root: &'a Node,
    /// `%context`: the root resource, or the element an invariant is evaluated on.
    pub context: Item<'a>,
    /// Depth of nested lambda evaluation, bounded so hostile input cannot overflow.
    depth: std::cell::Cell<usize>,
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

pub fn run<'a>(
    ast: &Ast,
    text: &'a str,
    root: &'a Node,
    focus: Option<Item<'a>>,
    env: &'a Env,
) -> R<Collection<'a>> {
    let mut ev = Evaluator {
        env,
        model: env.model.as_deref(),
        text,
        root,
        context: Item::Value(Value::Boolean(false)),
        depth: std::cell::Cell::new(0),
    };
    ev.context = focus.unwrap_or_else(|| ev.root_item());
    let ctx = Ctx {
        this: vec![ev.context.clone()],
        index: None,
        total: None,
    };
    ev.eval(ast, &ctx)
}

impl<'a> Evaluator<'a> {
    pub fn root_item(&self) -> Item<'a> {
        self.resource_item(self.root)
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
                self.member(input, focus.is_none(), name, ast.pos)
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
    fn member(
        &self,
        input: Collection<'a>,
        first: bool,
        name: &str,
        pos: usize,
    ) -> R<Collection<'a>> {
        if first {
            if let Some(hit) = self.type_prefix(&input, name, pos)? {
                return Ok(hit);
            }
        }
        let mut out = Vec::new();
        for item in &input {
            self.children(item, name, &mut out, pos)?;
        }
        Ok(out)
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
            "resource" => Ok(vec![self.root_item()]),
            // A contained resource's container, when the caller supplies it.
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

    /// `Patient` at the start of `Patient.name` names the context's type.
    fn type_prefix(&self, this: &[Item<'a>], name: &str, pos: usize) -> R<Option<Collection<'a>>> {
        let starts_upper = name.starts_with(|c: char| c.is_ascii_uppercase());
        if !starts_upper || this.len() != 1 {
            return Ok(None);
        }
        let Item::Node(n) = &this[0] else {
            return Ok(None);
        };
        let ty = n.type_name();
        let matches = ty == name || self.model.is_some_and(|m| m.is_subtype(ty, name));
        if matches {
            return Ok(Some(this.to_vec()));
        }
        if self.env.strict
            && self.model.is_some_and(|m| m.has_type(name))
            && n.object().and_then(|o| o.get(name)).is_none()
        {
            return Err(FhirPathError::semantic(
                format!("the context is a {ty}, not a {name}"),
                self.pos(pos),
            ));
        }
        Ok(None)
    }

    /// Appends the children called `name` of `item` to `out`.
    pub fn children(
        &self,
        item: &Item<'a>,
        name: &str,
        out: &mut Collection<'a>,
        pos: usize,
    ) -> R<()> {
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
                return Ok(());
            }
            Item::Value(_) => return Ok(()),
        };
        let Some(obj) = n.object() else { return Ok(()) };
        if let (Some(model), false) = (self.model, n.ty.key.is_empty()) {
            if let Some(def) = model.child(n.ty.key, name) {
                if def.choice {
                    for t in &def.types {
                        let member = format!("{name}{}", capitalize(t));
                        self.push_member(obj, &member, TypeRef::named(t), out);
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
                return Ok(());
            }
            if self.env.strict {
                return Err(FhirPathError::semantic(
                    format!("{} has no element `{name}`", n.type_name()),
                    self.pos(pos),
                ));
            }
        }
        if obj.get(name).is_some()
            || obj
                .members()
                .iter()
                .any(|(k, _)| k.strip_prefix('_') == Some(name))
        {
            self.push_member(obj, name, TypeRef::UNKNOWN, out);
            return Ok(());
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
        Ok(())
    }

    fn push_member(&self, obj: &'a Node, name: &str, ty: TypeRef<'a>, out: &mut Collection<'a>) {
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
        if input.len() > 1 {
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
    let mut out: Collection<'a> = Vec::with_capacity(x.len() + y.len());
    for item in x.into_iter().chain(y) {
        if !out
            .iter()
            .any(|o| compare::item_equals(o, &item) == Some(true))
        {
            out.push(item);
        }
    }
    out
}

pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
