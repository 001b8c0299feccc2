//! FHIRPath for FHIR R4 and STU3: parse an expression once with [`Expr::parse`], then
//! [`evaluate`] it against many resources. Evaluation borrows from the instance tree.
//!
//! ```
//! use assure_fhir::fhirpath::{evaluate, to_json, Env, Expr};
//! let patient = assure_fhir::parse_json(
//!     r#"{"resourceType": "Patient", "name": [{"given": ["Ann", "Bo"]}]}"#,
//! ).unwrap();
//! let expr = Expr::parse("Patient.name.given.where($this.startsWith('A'))").unwrap();
//! let env = Env::new(); // add `.with_model(..)` for type-aware navigation
//! let result = evaluate(&expr, &patient, &env).unwrap();
//! assert_eq!(to_json(&result), serde_json::json!([{"type": "string", "value": "Ann"}]));
//! assert_eq!(result[0].to_display(), "Ann");
//! ```

mod ast;
mod check;
mod compare;
mod decimal;
mod error;
mod eval;
pub(crate) mod funcs;
mod lexer;
pub(crate) mod model_info;
mod navigate;
mod parser;
mod quantity;
mod temporal;
#[cfg(test)]
mod tests;
mod value;

use crate::model::Node;
use std::collections::HashMap;
use std::sync::Arc;

pub use decimal::Decimal;
pub use error::{ErrorKind, ExprPos, FhirPathError};
pub use model_info::{ElementDef, ModelInfo, TypeKind};
pub use quantity::Quantity;
pub use temporal::{TKind, Temporal};
pub use value::{Collection, Item, NodeItem, TypeRef, Value};

/// A parsed expression, ready to evaluate any number of times.
#[derive(Debug, Clone)]
pub struct Expr {
    ast: ast::Ast,
    text: String,
}

impl Expr {
    pub fn parse(text: &str) -> Result<Expr, FhirPathError> {
        Ok(Expr {
            ast: parser::parse(text)?,
            text: text.to_string(),
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Checks the expression against the model for a focus of type `root` (a type
    /// name, or an element path for a backbone element; `None` if unknown): unknown
    /// elements, impossible casts, ordering functions on unordered collections.
    pub fn check(&self, model: &ModelInfo, root: Option<&str>) -> Vec<FhirPathError> {
        let mut checker = check::Checker::new(model, &self.text);
        checker.check_root(&self.ast, root);
        checker.errors
    }

    /// In strict mode, the first static error stops evaluation.
    fn strict_check(&self, env: &Env, root: Option<&str>) -> Result<(), FhirPathError> {
        match (&env.model, env.strict) {
            (Some(model), true) => {
                let root = root.and_then(|r| check::root_key(model, r));
                match self.check(model, root.as_deref()).into_iter().next() {
                    Some(e) => Err(e),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Answers `memberOf()`, `subsumes()` and `subsumedBy()`: `Some(true/false)`, or
/// `None` when it cannot tell (the FHIRPath result is then empty).
pub trait Terminology: Send + Sync {
    fn member_of(&self, system: Option<&str>, code: &str, value_set: &str) -> Option<bool>;

    /// Whether `ancestor` subsumes (is, or is an ancestor of) `code` in `system`.
    fn subsumes(&self, system: &str, ancestor: &str, code: &str) -> Option<bool> {
        let _ = (system, ancestor, code);
        None
    }
}

/// Answers `conformsTo()`: `None` when the profile is unknown (an execution error).
pub type ConformsTo = dyn Fn(&Node, &str) -> Option<bool> + Send + Sync;

/// Receives `trace(name)` output: the name and the rendered items.
pub type TraceSink = dyn Fn(&str, &[String]) + Send + Sync;

/// A user-supplied `%variable`.
#[derive(Debug, Clone)]
pub enum Variable {
    Node(Node),
    Value(Value),
    Values(Vec<Value>),
}

/// What an evaluation may use besides the resource: the type model, variables, hooks.
#[derive(Clone, Default)]
pub struct Env {
    pub model: Option<Arc<ModelInfo>>,
    pub variables: HashMap<String, Variable>,
    pub terminology: Option<Arc<dyn Terminology>>,
    pub conforms_to: Option<Arc<ConformsTo>>,
    pub trace: Option<Arc<TraceSink>>,
    /// Reject paths the model does not know (a semantic error) instead of yielding
    /// empty collections.
    pub strict: bool,
    /// Let `as()` filter a collection of several items as `ofType()` does instead of
    /// failing. The specification says fail; FHIR R4's own invariants (dom-3 on
    /// every DomainResource) rely on filtering, so validators turn this on.
    pub lenient_as: bool,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.variables.keys().collect();
        names.sort();
        f.debug_struct("Env")
            .field("model", &self.model.as_ref().map(|_| "ModelInfo"))
            .field("variables", &names)
            .field("terminology", &self.terminology.is_some())
            .field("conforms_to", &self.conforms_to.is_some())
            .field("trace", &self.trace.is_some())
            .field("strict", &self.strict)
            .field("lenient_as", &self.lenient_as)
            .finish()
    }
}

impl Env {
    pub fn new() -> Env {
        Env::default()
    }

    #[must_use]
    pub fn with_model(mut self, model: Arc<ModelInfo>) -> Env {
        self.model = Some(model);
        self
    }

    #[must_use]
    pub fn with_variable(mut self, name: &str, value: Variable) -> Env {
        self.variables.insert(name.to_string(), value);
        self
    }
}

/// Where an evaluation happens: the element that is `$this` and `%context`, the
/// resource it belongs to (`%resource`) and the outermost resource (`%rootResource`,
/// a Bundle or a resource with contained resources), which `resolve()` searches.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub root_resource: &'a Node,
    pub resource: &'a Node,
    pub element: &'a Node,
    /// The element's FHIR type (`HumanName`), or for a backbone element its path
    /// (`Patient.contact`); `None` to take it from `resourceType` or guess it.
    pub element_type: Option<&'a str>,
}

impl<'a> Scope<'a> {
    /// A whole resource on its own.
    pub fn resource(resource: &'a Node) -> Scope<'a> {
        Scope {
            root_resource: resource,
            resource,
            element: resource,
            element_type: None,
        }
    }
}

/// Evaluates `expr` with `resource` as `%resource`, `%rootResource`, `%context` and
/// `$this`.
pub fn evaluate<'a>(
    expr: &Expr,
    resource: &'a Node,
    env: &'a Env,
) -> Result<Collection<'a>, FhirPathError> {
    evaluate_in(expr, Scope::resource(resource), env)
}

/// Evaluates `expr` on one element of `resource` (as for an invariant declared on
/// that element): `element` is `$this` and `%context`, `resource` is `%resource`.
pub fn evaluate_on<'a>(
    expr: &Expr,
    resource: &'a Node,
    element: &'a Node,
    element_type: Option<&'a str>,
    env: &'a Env,
) -> Result<Collection<'a>, FhirPathError> {
    let scope = Scope {
        root_resource: resource,
        resource,
        element,
        element_type,
    };
    evaluate_in(expr, scope, env)
}

/// Evaluates `expr` in a full [`Scope`].
pub fn evaluate_in<'a>(
    expr: &Expr,
    scope: Scope<'a>,
    env: &'a Env,
) -> Result<Collection<'a>, FhirPathError> {
    // A backbone element's path wins over a member that happens to be called
    // `resourceType` (ExampleScenario.instance has one).
    let ty = match (scope.element_type, scope.element.resource_type()) {
        (Some(t), Some(rt)) if !t.contains('.') => TypeRef::named(rt),
        (None, Some(rt)) => TypeRef::named(rt),
        (Some(t), _) => {
            let backbone = env
                .model
                .as_ref()
                .is_some_and(|m| !m.has_type(t) && t.contains('.'));
            TypeRef {
                name: if backbone { "BackboneElement" } else { t },
                key: t,
            }
        }
        (None, None) => TypeRef::UNKNOWN,
    };
    expr.strict_check(env, Some(ty.key).filter(|k| !k.is_empty()))?;
    eval::run(
        &expr.ast,
        &expr.text,
        scope,
        Item::node(scope.element, ty),
        env,
    )
}

/// The truth of a result as FHIRPath defines it for a singleton boolean: `Some(b)`
/// for `[b]`, `None` for empty; anything else non-empty counts as `true`.
pub fn as_boolean(result: &[Item<'_>]) -> Option<bool> {
    match result {
        [] => None,
        [item] => match item.to_value() {
            Some(Value::Boolean(b)) => Some(b),
            _ => Some(true),
        },
        _ => Some(true),
    }
}

/// `[{"type": ..., "value": ...}]`, as `assure fhirpath --format json` prints it.
pub fn to_json(result: &[Item<'_>]) -> serde_json::Value {
    serde_json::Value::Array(
        result
            .iter()
            .map(|i| serde_json::json!({"type": i.type_name(), "value": i.to_json()}))
            .collect(),
    )
}
