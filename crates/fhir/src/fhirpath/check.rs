//! Static checking of an expression against the type model: unknown elements (with a
//! suggestion), impossible `as`/`ofType` casts, and ordering functions applied to the
//! unordered output of `children()`/`descendants()`. Used by strict evaluation and
//! available on its own through [`super::Expr::check`].

use super::ast::{Ast, AstKind, TypeSpec};
use super::error::{ExprPos, FhirPathError};
use super::model_info::{ModelInfo, TypeKind};

/// What the checker knows about a collection: its possible FHIR types (`None` when
/// unknown) and whether its order means anything.
#[derive(Clone, Debug)]
struct Ty {
    types: Option<Vec<(String, String)>>,
    ordered: bool,
    /// The types are the declared alternatives of a choice element (`value[x]`).
    choice: bool,
}

impl Ty {
    fn any() -> Ty {
        Ty {
            types: None,
            ordered: true,
            choice: false,
        }
    }

    fn of(name: &str, key: &str) -> Ty {
        Ty {
            types: Some(vec![(name.to_string(), key.to_string())]),
            ordered: true,
            choice: false,
        }
    }
}

pub struct Checker<'m> {
    model: &'m ModelInfo,
    text: &'m str,
    pub errors: Vec<FhirPathError>,
}

const ORDERED_FNS: [&str; 5] = ["first", "last", "tail", "skip", "take"];
const SAME_TYPE_FNS: [&str; 12] = [
    "where",
    "first",
    "last",
    "tail",
    "skip",
    "take",
    "single",
    "distinct",
    "intersect",
    "exclude",
    "trace",
    "sort",
];
const LAMBDA_FNS: [&str; 9] = [
    "trace",
    "where",
    "select",
    "all",
    "exists",
    "repeat",
    "repeatAll",
    "aggregate",
    "sort",
];

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

impl<'m> Checker<'m> {
    pub fn new(model: &'m ModelInfo, text: &'m str) -> Checker<'m> {
        Checker {
            model,
            text,
            errors: Vec::new(),
        }
    }

    fn error(&mut self, message: String, pos: usize) {
        self.errors.push(FhirPathError::semantic(
            message,
            ExprPos::at(self.text, pos),
        ));
    }

    /// Checks `ast` with `$this` of type `root` (a type name or backbone path).
    pub fn check_root(&mut self, ast: &Ast, root: Option<&str>) {
        let this = match root {
            Some(r) => Ty::of(r, r),
            None => Ty::any(),
        };
        self.check(ast, &this, &this);
    }

    fn check(&mut self, ast: &Ast, this: &Ty, root: &Ty) -> Ty {
        match &ast.kind {
            AstKind::Empty | AstKind::Literal(_) | AstKind::BadLiteral(_) => Ty::any(),
            AstKind::EnvVar(n) if n == "resource" || n == "rootResource" || n == "context" => {
                root.clone()
            }
            AstKind::EnvVar(_) | AstKind::Index | AstKind::Total => Ty::any(),
            AstKind::This => this.clone(),
            AstKind::Member { focus, name } => {
                let input = match focus {
                    Some(f) => self.check(f, this, root),
                    None => this.clone(),
                };
                self.member(&input, focus.is_none(), name, ast.pos)
            }
            AstKind::Call { focus, name, args } => {
                let input = match focus {
                    Some(f) => self.check(f, this, root),
                    None => this.clone(),
                };
                self.call(&input, name, args, this, root, ast.pos)
            }
            AstKind::Indexer { focus, index } => {
                let input = self.check(focus, this, root);
                self.check(index, this, root);
                if !input.ordered {
                    self.error("indexing an unordered collection".into(), ast.pos);
                }
                input
            }
            AstKind::Negate(e) | AstKind::Is(e, _) => {
                self.check(e, this, root);
                Ty::any()
            }
            AstKind::As(e, spec) => {
                let input = self.check(e, this, root);
                self.cast(&input, spec, ast.pos)
            }
            AstKind::Binary { op, left, right } => {
                let l = self.check(left, this, root);
                let r = self.check(right, this, root);
                match (op, l.types, r.types) {
                    (super::ast::BinOp::Union, Some(mut a), Some(b)) => {
                        a.extend(b);
                        Ty {
                            types: Some(a),
                            ordered: false,
                            choice: false,
                        }
                    }
                    _ => Ty::any(),
                }
            }
        }
    }

    fn member(&mut self, input: &Ty, first: bool, name: &str, pos: usize) -> Ty {
        let Some(types) = &input.types else {
            return Ty::any();
        };
        if first && name.starts_with(|c: char| c.is_ascii_uppercase()) {
            if types
                .iter()
                .any(|(t, _)| t == name || self.model.is_subtype(t, name))
            {
                return input.clone();
            }
            if self.model.has_type(name) {
                let context: Vec<&str> = types.iter().map(|(t, _)| t.as_str()).collect();
                self.error(
                    format!("the context is {}, not {name}", context.join(" | ")),
                    pos,
                );
                return Ty::any();
            }
        }
        let mut out = Vec::new();
        let mut choice = false;
        for (_, key) in types {
            if let Some(def) = self.model.child(key, name) {
                choice |= def.choice;
                for t in &def.types {
                    if def.choice {
                        out.push((t.clone(), t.clone()));
                    } else {
                        let k = self.model.child_key(def, t).to_string();
                        let n = if k != *t || def.content_ref.is_some() {
                            "BackboneElement".to_string()
                        } else {
                            t.clone()
                        };
                        out.push((n, k));
                    }
                }
                if def.content_ref.is_some() && def.types.is_empty() {
                    let k = self.model.child_key(def, "").to_string();
                    out.push(("BackboneElement".into(), k));
                }
            }
        }
        // Elements typed `Resource` hold any resource: stop checking below them.
        if out.is_empty()
            || out
                .iter()
                .any(|(t, _)| t == "Resource" || t == "DomainResource")
        {
            if out.is_empty() {
                self.unknown_member(types, name, pos);
            }
            return Ty::any();
        }
        Ty {
            types: Some(out),
            ordered: input.ordered,
            choice,
        }
    }

    fn unknown_member(&mut self, types: &[(String, String)], name: &str, pos: usize) {
        let owner = types
            .iter()
            .map(|(t, k)| {
                if t == "BackboneElement" {
                    k.as_str()
                } else {
                    t.as_str()
                }
            })
            .collect::<Vec<_>>()
            .join(" | ");
        let mut candidates: Vec<(usize, String)> = Vec::new();
        for (_, key) in types {
            for (n, def) in self.model.child_names(key) {
                if def.choice && name.starts_with(n) && name.len() > n.len() {
                    let suffix = &name[n.len()..];
                    self.error(
                        format!("{owner} has no element `{name}`; write `{n}.ofType({suffix})`"),
                        pos,
                    );
                    return;
                }
                candidates.push((distance(n, name), n.to_string()));
            }
        }
        candidates.sort();
        let hint = match candidates.first() {
            Some((d, n)) if *d <= 2 && *d * 2 < name.len() => format!(" (did you mean `{n}`?)"),
            _ => String::new(),
        };
        self.error(format!("{owner} has no element `{name}`{hint}"), pos);
    }

    fn cast(&mut self, input: &Ty, spec: &TypeSpec, pos: usize) -> Ty {
        if spec.namespace.as_deref() == Some("System") || !self.model.has_type(&spec.name) {
            return Ty::any();
        }
        let target = &spec.name;
        // Only a choice element declares which types its value may have; a cast of
        // anything else to an unrelated type is merely empty.
        if let (Some(types), true) = (&input.types, input.choice) {
            let possible = types.iter().any(|(t, _)| {
                t == target || self.model.is_subtype(t, target) || self.model.is_subtype(target, t)
            });
            if !possible {
                let names: Vec<&str> = types.iter().map(|(t, _)| t.as_str()).collect();
                self.error(
                    format!("a {} can never be a {target}", names.join(" | ")),
                    pos,
                );
            }
        }
        Ty {
            ordered: input.ordered,
            ..Ty::of(target, target)
        }
    }

    fn call(
        &mut self,
        input: &Ty,
        name: &str,
        args: &[Ast],
        this: &Ty,
        root: &Ty,
        pos: usize,
    ) -> Ty {
        if ORDERED_FNS.contains(&name) && !input.ordered {
            self.error(
                format!("{name}() needs an ordered collection; children() and descendants() are unordered"),
                pos,
            );
        }
        let element = Ty {
            ordered: true,
            ..input.clone()
        };
        let mut arg_types = Vec::new();
        for a in args {
            let is_type_arg = matches!(name, "ofType" | "as" | "is");
            if is_type_arg {
                continue;
            }
            let scope = if LAMBDA_FNS.contains(&name) {
                &element
            } else {
                this
            };
            arg_types.push(self.check(a, scope, root));
        }
        match name {
            "ofType" | "as" => match args.first().and_then(Ast::as_type_spec) {
                Some(spec) => self.cast(input, &spec, pos),
                None => Ty::any(),
            },
            "select" => arg_types.into_iter().next().unwrap_or_else(Ty::any),
            "children" | "descendants" => Ty {
                types: None,
                ordered: false,
                choice: false,
            },
            "extension" => Ty::of("Extension", "Extension"),
            "combine" | "union" => Ty {
                types: None,
                ordered: false,
                choice: false,
            },
            n if SAME_TYPE_FNS.contains(&n) => input.clone(),
            _ => Ty::any(),
        }
    }
}

/// `root` when the model knows it (a type, or a backbone element path); checking
/// against a type the model lacks would flag every element.
pub fn root_key(model: &ModelInfo, root: &str) -> Option<String> {
    let known = matches!(
        model.kind(root),
        Some(TypeKind::Resource | TypeKind::Complex)
    ) || !model.child_names(root).is_empty();
    known.then(|| root.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ModelInfo {
        let sd = crate::model::parse_json(
            r#"{"resourceType":"StructureDefinition","name":"Obs","type":"Obs","kind":"resource",
            "snapshot":{"element":[{"path":"Obs"},
              {"path":"Obs.value[x]","max":"1","type":[{"code":"Quantity"},{"code":"string"}]},
              {"path":"Obs.status","max":"1","type":[{"code":"code"}]},
              {"path":"Obs.part","max":"*","type":[{"code":"BackboneElement"}]},
              {"path":"Obs.part.code","max":"1","type":[{"code":"code"}]}]}}"#,
        )
        .unwrap();
        let q = crate::model::parse_json(
            r#"{"resourceType":"StructureDefinition","name":"Quantity","type":"Quantity",
            "kind":"complex-type","snapshot":{"element":[{"path":"Quantity"},
              {"path":"Quantity.unit","max":"1","type":[{"code":"string"}]}]}}"#,
        )
        .unwrap();
        let p = crate::model::parse_json(
            r#"{"resourceType":"StructureDefinition","name":"Period","type":"Period","kind":"complex-type"}"#,
        )
        .unwrap();
        ModelInfo::from_structure_definitions([&sd, &q, &p])
    }

    fn errors(text: &str) -> Vec<String> {
        let m = model();
        let expr = crate::fhirpath::Expr::parse(text).unwrap();
        expr.check(&m, Some("Obs"))
            .iter()
            .map(|e| e.message.clone())
            .collect()
    }

    #[test]
    fn accepts_valid_paths() {
        assert!(errors("Obs.value.ofType(Quantity).unit").is_empty());
        assert!(errors("part.where(code = 'x').code | status").is_empty());
        assert!(errors("value.unit").is_empty());
        assert!(errors("status.as(id)").is_empty());
    }

    #[test]
    fn rejects_with_hints() {
        assert_eq!(
            errors("Obs.stauts"),
            ["Obs has no element `stauts` (did you mean `status`?)"]
        );
        assert_eq!(
            errors("Obs.valueQuantity.unit"),
            ["Obs has no element `valueQuantity`; write `value.ofType(Quantity)`"]
        );
        assert_eq!(errors("part.nope"), ["Obs.part has no element `nope`"]);
        assert_eq!(
            errors("(value as Period)"),
            ["a Quantity | string can never be a Period"]
        );
        assert_eq!(
            errors("Quantity.unit"),
            ["the context is Obs, not Quantity"]
        );
        assert_eq!(errors("children().first()").len(), 1);
    }

    #[test]
    fn root_must_be_known() {
        let m = model();
        assert_eq!(root_key(&m, "Obs").as_deref(), Some("Obs"));
        assert_eq!(root_key(&m, "Obs.part").as_deref(), Some("Obs.part"));
        assert_eq!(root_key(&m, "Nope"), None);
    }

    #[test]
    fn edit_distance() {
        assert_eq!(distance("given", "given1"), 1);
        assert_eq!(distance("name", "nmae"), 2);
        assert_eq!(distance("", "abc"), 3);
    }
}
