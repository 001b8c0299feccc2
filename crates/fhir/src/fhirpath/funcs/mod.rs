//! The function library: the arity table the parser checks, the dispatcher, and the
//! arithmetic shared by operators and functions.

mod collections;
mod convert;
mod fhir;
mod math;
mod strings;
pub(crate) mod xhtml;

use super::ast::{Ast, BinOp};
use super::decimal::Decimal;
use super::error::FhirPathError;
use super::eval::{Ctx, Evaluator};
use super::value::{Collection, Item, Value};

/// Name, least and most arguments.
const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("empty", 0, 0),
    ("exists", 0, 1),
    ("all", 1, 1),
    ("allTrue", 0, 0),
    ("anyTrue", 0, 0),
    ("allFalse", 0, 0),
    ("anyFalse", 0, 0),
    ("subsetOf", 1, 1),
    ("supersetOf", 1, 1),
    ("count", 0, 0),
    ("distinct", 0, 0),
    ("isDistinct", 0, 0),
    ("where", 1, 1),
    ("select", 1, 1),
    ("repeat", 1, 1),
    ("repeatAll", 1, 1),
    ("ofType", 1, 1),
    ("single", 0, 0),
    ("first", 0, 0),
    ("last", 0, 0),
    ("tail", 0, 0),
    ("skip", 1, 1),
    ("take", 1, 1),
    ("intersect", 1, 1),
    ("exclude", 1, 1),
    ("union", 1, 1),
    ("combine", 1, 1),
    ("iif", 2, 3),
    ("toBoolean", 0, 0),
    ("convertsToBoolean", 0, 0),
    ("toInteger", 0, 0),
    ("convertsToInteger", 0, 0),
    ("toLong", 0, 0),
    ("convertsToLong", 0, 0),
    ("toDecimal", 0, 0),
    ("convertsToDecimal", 0, 0),
    ("toString", 0, 0),
    ("convertsToString", 0, 0),
    ("toDate", 0, 0),
    ("convertsToDate", 0, 0),
    ("toDateTime", 0, 0),
    ("convertsToDateTime", 0, 0),
    ("toTime", 0, 0),
    ("convertsToTime", 0, 0),
    ("toQuantity", 0, 1),
    ("convertsToQuantity", 0, 1),
    ("indexOf", 1, 1),
    ("lastIndexOf", 1, 1),
    ("substring", 1, 2),
    ("startsWith", 1, 1),
    ("endsWith", 1, 1),
    ("contains", 1, 1),
    ("upper", 0, 0),
    ("lower", 0, 0),
    ("replace", 2, 2),
    ("matches", 1, 2),
    ("matchesFull", 1, 2),
    ("replaceMatches", 2, 3),
    ("length", 0, 0),
    ("toChars", 0, 0),
    ("trim", 0, 0),
    ("split", 1, 1),
    ("join", 0, 1),
    ("encode", 1, 1),
    ("decode", 1, 1),
    ("escape", 1, 1),
    ("unescape", 1, 1),
    ("abs", 0, 0),
    ("ceiling", 0, 0),
    ("exp", 0, 0),
    ("floor", 0, 0),
    ("ln", 0, 0),
    ("log", 1, 1),
    ("power", 1, 1),
    ("round", 0, 1),
    ("sqrt", 0, 0),
    ("truncate", 0, 0),
    ("children", 0, 0),
    ("descendants", 0, 0),
    ("trace", 1, 2),
    ("now", 0, 0),
    ("timeOfDay", 0, 0),
    ("today", 0, 0),
    ("aggregate", 1, 2),
    ("sort", 0, 16),
    ("is", 1, 1),
    ("as", 1, 1),
    ("not", 0, 0),
    ("type", 0, 0),
    ("lowBoundary", 0, 1),
    ("highBoundary", 0, 1),
    ("precision", 0, 0),
    ("comparable", 1, 1),
    ("sum", 0, 0),
    ("min", 0, 0),
    ("max", 0, 0),
    ("avg", 0, 0),
    ("extension", 1, 1),
    // Not in the specification, but an R4 core SearchParameter uses it.
    ("hasExtension", 1, 1),
    ("hasValue", 0, 0),
    ("getValue", 0, 0),
    ("resolve", 0, 0),
    ("memberOf", 1, 1),
    ("subsumes", 1, 1),
    ("subsumedBy", 1, 1),
    ("conformsTo", 1, 1),
    ("htmlChecks", 0, 0),
    // The STU3 core invariants spell it in lower case.
    ("htmlchecks", 0, 0),
];

/// Checks a call against the table: unknown names and wrong counts are semantic errors.
pub fn check_arity(name: &str, count: usize) -> Result<(), String> {
    match FUNCTIONS.iter().find(|(n, _, _)| *n == name) {
        None => Err(format!("unknown function `{name}`")),
        Some((_, lo, hi)) if count < *lo || count > *hi => Err(if lo == hi {
            format!("`{name}` takes {lo} argument(s), found {count}")
        } else {
            format!("`{name}` takes {lo} to {hi} arguments, found {count}")
        }),
        Some(_) => Ok(()),
    }
}

pub type R<T> = Result<T, FhirPathError>;

/// Functions whose arguments are type names or are evaluated per item.
const LAZY: [&str; 5] = ["ofType", "is", "as", "trace", "exists"];

/// One call: the evaluator, the focus, the unevaluated arguments, the context.
pub struct Call<'e, 'a> {
    pub ev: &'e Evaluator<'a, 'e>,
    pub name: &'e str,
    pub input: Collection<'a>,
    /// Whether the call had an explicit focus (`x.f()`) rather than `$this`.
    pub has_focus: bool,
    pub args: &'e [Ast],
    pub ctx: &'e Ctx<'a>,
    pub pos: usize,
    /// Arguments evaluated up front (all but the lazy functions' arguments).
    pub pre: Vec<Collection<'a>>,
}

impl<'a> Call<'_, 'a> {
    pub fn err(&self, message: impl Into<String>) -> FhirPathError {
        self.ev.exec_err(message, self.pos)
    }

    /// Evaluates argument `i` in the caller's context (not per item).
    pub fn arg(&self, i: usize) -> R<Collection<'a>> {
        if let Some(done) = self.pre.get(i) {
            return Ok(done.clone());
        }
        match self.args.get(i) {
            Some(a) => self.ev.eval(a, self.ctx),
            None => Ok(vec![]),
        }
    }

    pub fn arg_value(&self, i: usize) -> R<Option<Value>> {
        let c = self.arg(i)?;
        let pos = self.args.get(i).map_or(self.pos, |a| a.pos);
        self.ev.singleton_value(&c, pos)
    }

    pub fn arg_string(&self, i: usize) -> R<Option<String>> {
        match self.arg_value(i)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.err(format!(
                "`{}` expects a string argument, not {}",
                self.name,
                v.type_name()
            ))),
        }
    }

    pub fn arg_int(&self, i: usize) -> R<Option<i64>> {
        match self.arg_value(i)? {
            None => Ok(None),
            Some(Value::Integer(n)) => Ok(Some(n)),
            Some(v) => Err(self.err(format!(
                "`{}` expects an integer argument, not {}",
                self.name,
                v.type_name()
            ))),
        }
    }

    /// Evaluates argument `i` with `item` as `$this`.
    pub fn eval_with(
        &self,
        i: usize,
        item: &Item<'a>,
        index: usize,
        total: Option<&Collection<'a>>,
    ) -> R<Collection<'a>> {
        let ctx = Ctx {
            this: vec![item.clone()],
            index: Some(index as i64),
            total: total.cloned(),
        };
        self.ev.eval(&self.args[i], &ctx)
    }

    /// The focus as one System value, or `None` when empty.
    pub fn input_value(&self) -> R<Option<Value>> {
        self.ev.singleton_value(&self.input, self.pos)
    }

    /// The focus as one string; other types are an error.
    pub fn input_string(&self) -> R<Option<String>> {
        match self.ev.singleton(&self.input, self.pos)? {
            None => Ok(None),
            Some(item) => match item.to_value() {
                Some(Value::String(s)) => Ok(Some(s)),
                _ => Err(FhirPathError::semantic(
                    format!(
                        "`{}` applies to strings, not {}",
                        self.name,
                        item.type_name()
                    ),
                    self.ev.pos(self.pos),
                )),
            },
        }
    }
}

pub fn one<'a>(v: Value) -> R<Collection<'a>> {
    Ok(vec![Item::Value(v)])
}

pub fn opt<'a>(v: Option<Value>) -> R<Collection<'a>> {
    Ok(v.map(Item::Value).into_iter().collect())
}

pub fn boolean<'a>(b: bool) -> R<Collection<'a>> {
    one(Value::Boolean(b))
}

pub fn call<'a>(
    ev: &Evaluator<'a, '_>,
    name: &str,
    input: Collection<'a>,
    has_focus: bool,
    args: &[Ast],
    ctx: &Ctx<'a>,
    pos: usize,
) -> R<Collection<'a>> {
    let mut c = Call {
        ev,
        name,
        input,
        has_focus,
        args,
        ctx,
        pos,
        pre: Vec::new(),
    };
    if let Some(r) = collections::lambda(&c)? {
        return Ok(r);
    }
    // Evaluating arguments here, in a small frame, keeps the large dispatch frames
    // below off the recursion path.
    if !LAZY.contains(&name) {
        for a in args {
            c.pre.push(ev.eval(a, ctx)?);
        }
    }
    if let Some(r) = collections::call(&c)? {
        return Ok(r);
    }
    if let Some(r) = strings::call(&c)? {
        return Ok(r);
    }
    if let Some(r) = math::call(&c)? {
        return Ok(r);
    }
    if let Some(r) = convert::call(&c)? {
        return Ok(r);
    }
    if let Some(r) = fhir::call(&c)? {
        return Ok(r);
    }
    Err(FhirPathError::semantic(
        format!("function `{name}` is not supported"),
        ev.pos(pos),
    ))
}

/// `+ - * / div mod` on two System values. `Ok(None)` is an empty result.
pub fn arithmetic(op: BinOp, a: &Value, b: &Value) -> Result<Option<Value>, String> {
    use Value::*;
    let overflow = || "arithmetic overflow".to_string();
    let mismatch = || {
        format!(
            "cannot apply {op:?} to {} and {}",
            a.type_name(),
            b.type_name()
        )
    };
    match (a, b) {
        (Integer(x), Integer(y)) => match op {
            BinOp::Add => x
                .checked_add(*y)
                .map(Integer)
                .ok_or_else(overflow)
                .map(Some),
            BinOp::Sub => x
                .checked_sub(*y)
                .map(Integer)
                .ok_or_else(overflow)
                .map(Some),
            BinOp::Mul => x
                .checked_mul(*y)
                .map(Integer)
                .ok_or_else(overflow)
                .map(Some),
            BinOp::IntDiv => Ok(x.checked_div(*y).map(Integer)),
            BinOp::Mod => Ok(x.checked_rem(*y).map(Integer)),
            BinOp::Div => Ok(super::decimal::Decimal::from_int(*x)
                .checked_div(&super::decimal::Decimal::from_int(*y))
                .map(Decimal)),
            _ => Err(mismatch()),
        },
        (Integer(_) | Decimal(_), Integer(_) | Decimal(_)) => {
            let x = as_dec(a);
            let y = as_dec(b);
            match op {
                BinOp::Add => x
                    .checked_add(&y)
                    .map(Decimal)
                    .ok_or_else(overflow)
                    .map(Some),
                BinOp::Sub => x
                    .checked_sub(&y)
                    .map(Decimal)
                    .ok_or_else(overflow)
                    .map(Some),
                BinOp::Mul => x
                    .checked_mul(&y)
                    .map(Decimal)
                    .ok_or_else(overflow)
                    .map(Some),
                BinOp::Div => Ok(x.checked_div(&y).map(Decimal)),
                BinOp::IntDiv => match x.checked_div(&y) {
                    None => Ok(None),
                    Some(q) => q
                        .truncate(0)
                        .to_i64_exact()
                        .map(|i| Some(Integer(i)))
                        .ok_or_else(overflow),
                },
                BinOp::Mod => {
                    if y.is_zero() {
                        return Ok(None);
                    }
                    let q = x.checked_div(&y).ok_or_else(overflow)?.truncate(0);
                    let r = x
                        .checked_sub(&q.checked_mul(&y).ok_or_else(overflow)?)
                        .ok_or_else(overflow)?;
                    Ok(Some(Decimal(r)))
                }
                _ => Err(mismatch()),
            }
        }
        (String(x), String(y)) if op == BinOp::Add => Ok(Some(String(format!("{x}{y}")))),
        (Temporal(t), Quantity(q)) if matches!(op, BinOp::Add | BinOp::Sub) => {
            convert::add_duration(t, q, op == BinOp::Sub).map(|t| Some(Temporal(t)))
        }
        // Without a model a date is a string; one that reads as a date counts as one.
        (String(s), Quantity(q)) if matches!(op, BinOp::Add | BinOp::Sub) => {
            let kind = if s.contains('T') {
                super::temporal::TKind::DateTime
            } else {
                super::temporal::TKind::Date
            };
            let t = super::temporal::Temporal::parse(s, kind).ok_or_else(mismatch)?;
            convert::add_duration(&t, q, op == BinOp::Sub).map(|t| Some(Temporal(t)))
        }
        (Quantity(x), Quantity(y)) => match op {
            BinOp::Add => x.add(y, false).map(Quantity).map(Some).ok_or_else(mismatch),
            BinOp::Sub => x.add(y, true).map(Quantity).map(Some).ok_or_else(mismatch),
            BinOp::Mul => x.multiply(y).map(Quantity).map(Some).ok_or_else(mismatch),
            BinOp::Div if y.value.is_zero() => Ok(None),
            BinOp::Div => x.divide(y).map(Quantity).map(Some).ok_or_else(mismatch),
            _ => Err(mismatch()),
        },
        (Quantity(x), Integer(_) | Decimal(_)) if matches!(op, BinOp::Mul | BinOp::Div) => {
            let y = as_dec(b);
            let v = if op == BinOp::Mul {
                x.value.checked_mul(&y)
            } else {
                x.value.checked_div(&y)
            };
            Ok(v.map(|v| Quantity(super::quantity::Quantity::new(v, x.unit.clone()))))
        }
        (Integer(_) | Decimal(_), Quantity(y)) if op == BinOp::Mul => {
            let v = as_dec(a).checked_mul(&y.value);
            Ok(v.map(|v| Quantity(super::quantity::Quantity::new(v, y.unit.clone()))))
        }
        _ => Err(mismatch()),
    }
}

pub fn as_dec(v: &Value) -> Decimal {
    match v {
        Value::Integer(i) => Decimal::from_int(*i),
        Value::Decimal(d) => *d,
        _ => Decimal::ZERO,
    }
}
