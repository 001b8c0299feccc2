//! FHIRPath parser: precedence climbing over the lexer's tokens, checking function
//! names and argument counts as it goes (those are semantic errors).

use super::ast::{Ast, AstKind, BinOp, TypeSpec};
use super::decimal::Decimal;
use super::error::{ExprPos, FhirPathError};
use super::funcs;
use super::lexer::{tokenize, Tok, Token};
use super::quantity::{self, Quantity};
use super::temporal::{TKind, Temporal};
use super::value::Value;

/// Nesting limit: deeper expressions are refused rather than overflow the stack.
const MAX_DEPTH: usize = 100;
/// Size limit: every tree node may be a level of recursion when it is evaluated or
/// dropped, so long chains (`a.b.c...`, `a | b | c ...`) are bounded too.
const MAX_NODES: usize = 2_000;

pub fn parse(text: &str) -> Result<Ast, FhirPathError> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        text,
        tokens,
        at: 0,
        depth: 0,
        nodes: 0,
    };
    let ast = p.expr(0)?;
    let t = p.peek();
    if t.tok != Tok::Eof {
        return Err(p.err_at("unexpected text after the expression", t.start));
    }
    Ok(ast)
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
    nodes: usize,
}

/// Binding power of an infix operator token (higher binds tighter).
fn infix(tok: &Tok) -> Option<(u8, BinOp)> {
    let op = match tok {
        Tok::Punct(p) => match *p {
            "*" => (10, BinOp::Mul),
            "/" => (10, BinOp::Div),
            "+" => (9, BinOp::Add),
            "-" => (9, BinOp::Sub),
            "&" => (9, BinOp::Concat),
            "|" => (7, BinOp::Union),
            "<" => (6, BinOp::Lt),
            "<=" => (6, BinOp::Le),
            ">" => (6, BinOp::Gt),
            ">=" => (6, BinOp::Ge),
            "=" => (5, BinOp::Eq),
            "!=" => (5, BinOp::Ne),
            "~" => (5, BinOp::Equiv),
            "!~" => (5, BinOp::NotEquiv),
            _ => return None,
        },
        Tok::Ident(w) => match w.as_str() {
            "div" => (10, BinOp::IntDiv),
            "mod" => (10, BinOp::Mod),
            "in" => (4, BinOp::In),
            "contains" => (4, BinOp::Contains),
            "and" => (3, BinOp::And),
            "or" => (2, BinOp::Or),
            "xor" => (2, BinOp::Xor),
            "implies" => (1, BinOp::Implies),
            _ => return None,
        },
        _ => return None,
    };
    Some(op)
}

const TYPE_OP_POWER: u8 = 8;
const PREFIX_POWER: u8 = 11;

impl Parser<'_> {
    fn peek(&self) -> Token {
        self.tokens[self.at.min(self.tokens.len() - 1)].clone()
    }

    fn next(&mut self) -> Token {
        let t = self.peek();
        self.nodes += 1;
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        t
    }

    fn err_at(&self, message: impl Into<String>, at: usize) -> FhirPathError {
        FhirPathError::syntax(message, ExprPos::at(self.text, at))
    }

    fn expect(&mut self, p: &'static str) -> Result<Token, FhirPathError> {
        let t = self.next();
        if t.tok == Tok::Punct(p) {
            Ok(t)
        } else {
            Err(self.err_at(format!("expected `{p}`"), t.start))
        }
    }

    fn expr(&mut self, min_power: u8) -> Result<Ast, FhirPathError> {
        self.depth += 1;
        if self.nodes > MAX_NODES {
            let at = self.peek().start;
            return Err(self.err_at("expression too long", at));
        }
        if self.depth > MAX_DEPTH {
            let at = self.peek().start;
            return Err(self.err_at("expression nested too deeply", at));
        }
        let mut left = self.prefix()?;
        loop {
            let t = self.peek();
            if let Tok::Ident(w) = &t.tok {
                if (w == "is" || w == "as") && TYPE_OP_POWER > min_power {
                    self.next();
                    let spec = self.type_spec()?;
                    let pos = left.pos;
                    let e = Box::new(left);
                    left = Ast {
                        kind: if w == "is" {
                            AstKind::Is(e, spec)
                        } else {
                            AstKind::As(e, spec)
                        },
                        pos,
                    };
                    continue;
                }
            }
            let Some((power, op)) = infix(&t.tok) else {
                break;
            };
            if power <= min_power {
                break;
            }
            self.next();
            let right = self.expr(power)?;
            let pos = left.pos;
            left = Ast {
                kind: AstKind::Binary {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                pos,
            };
        }
        self.depth -= 1;
        Ok(left)
    }

    fn type_spec(&mut self) -> Result<TypeSpec, FhirPathError> {
        let first = self.identifier()?;
        if self.peek().tok == Tok::Punct(".") {
            self.next();
            let name = self.identifier()?;
            return Ok(TypeSpec {
                namespace: Some(first),
                name,
            });
        }
        Ok(TypeSpec {
            namespace: None,
            name: first,
        })
    }

    fn identifier(&mut self) -> Result<String, FhirPathError> {
        let t = self.next();
        match t.tok {
            Tok::Ident(s) | Tok::Delimited(s) => Ok(s),
            _ => Err(self.err_at("expected an identifier", t.start)),
        }
    }

    fn prefix(&mut self) -> Result<Ast, FhirPathError> {
        let t = self.peek();
        if let Tok::Punct(p @ ("+" | "-")) = t.tok {
            self.next();
            let operand = self.expr(PREFIX_POWER)?;
            if p == "+" {
                return Ok(operand);
            }
            return Ok(Ast {
                kind: AstKind::Negate(Box::new(operand)),
                pos: t.start,
            });
        }
        let mut node = self.term()?;
        self.postfix(&mut node)?;
        Ok(node)
    }

    /// `.member`, `.call(...)` and `[index]` after a term.
    fn postfix(&mut self, node: &mut Ast) -> Result<(), FhirPathError> {
        loop {
            let t = self.peek();
            if self.nodes > MAX_NODES {
                return Err(self.err_at("expression too long", t.start));
            }
            match t.tok {
                Tok::Punct(".") => {
                    self.next();
                    let focus = Some(Box::new(std::mem::replace(
                        node,
                        Ast {
                            kind: AstKind::Empty,
                            pos: 0,
                        },
                    )));
                    *node = self.invocation(focus)?;
                }
                Tok::Punct("[") => {
                    self.next();
                    let index = self.expr(0)?;
                    self.expect("]")?;
                    let pos = node.pos;
                    let focus = Box::new(std::mem::replace(
                        node,
                        Ast {
                            kind: AstKind::Empty,
                            pos: 0,
                        },
                    ));
                    *node = Ast {
                        kind: AstKind::Indexer {
                            focus,
                            index: Box::new(index),
                        },
                        pos,
                    };
                }
                _ => return Ok(()),
            }
        }
    }

    /// A name, a function call or `$this`/`$index`/`$total`.
    fn invocation(&mut self, focus: Option<Box<Ast>>) -> Result<Ast, FhirPathError> {
        let t = self.next();
        // Errors about a step point at its name, not at the start of the path.
        let pos = t.start;
        let (name, delimited) = match t.tok {
            Tok::Ident(s) => (s, false),
            Tok::Delimited(s) => (s, true),
            Tok::Special(s) if focus.is_none() => {
                let kind = match s.as_str() {
                    "this" => AstKind::This,
                    "index" => AstKind::Index,
                    _ => AstKind::Total,
                };
                return Ok(Ast { kind, pos });
            }
            _ => return Err(self.err_at("expected a name or a function call", t.start)),
        };
        if !delimited && self.peek().tok == Tok::Punct("(") {
            self.next();
            let mut args = Vec::new();
            if self.peek().tok != Tok::Punct(")") {
                loop {
                    args.push(self.expr(0)?);
                    if self.peek().tok == Tok::Punct(",") {
                        self.next();
                        continue;
                    }
                    break;
                }
            }
            self.expect(")")?;
            funcs::check_arity(&name, args.len())
                .map_err(|m| FhirPathError::semantic(m, ExprPos::at(self.text, t.start)))?;
            return Ok(Ast {
                kind: AstKind::Call { focus, name, args },
                pos,
            });
        }
        Ok(Ast {
            kind: AstKind::Member { focus, name },
            pos,
        })
    }

    fn term(&mut self) -> Result<Ast, FhirPathError> {
        let t = self.peek();
        let lit = |v: Value| {
            Ok(Ast {
                kind: AstKind::Literal(v),
                pos: t.start,
            })
        };
        match &t.tok {
            Tok::Punct("(") => {
                self.next();
                let e = self.expr(0)?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Punct("{") => {
                self.next();
                self.expect("}")?;
                Ok(Ast {
                    kind: AstKind::Empty,
                    pos: t.start,
                })
            }
            Tok::Str(s) => {
                self.next();
                lit(Value::String(s.clone()))
            }
            Tok::Number(n) => {
                self.next();
                self.number(n, t.start)
            }
            Tok::Long(n) => {
                self.next();
                match n.parse::<i64>() {
                    Ok(v) => lit(Value::Integer(v)),
                    Err(_) => Err(self.err_at("long literal out of range", t.start)),
                }
            }
            Tok::Date(s) | Tok::DateTime(s) | Tok::Time(s) => {
                self.next();
                let kind = match t.tok {
                    Tok::Date(_) => TKind::Date,
                    Tok::DateTime(_) => TKind::DateTime,
                    _ => TKind::Time,
                };
                if kind == TKind::Time && s.contains(['Z', '+', '-']) {
                    return Ok(Ast {
                        kind: AstKind::BadLiteral(format!(
                            "a time literal cannot have a time zone: @T{s}"
                        )),
                        pos: t.start,
                    });
                }
                match Temporal::parse(s, kind) {
                    Some(v) => lit(Value::Temporal(v)),
                    None => Err(self.err_at(format!("invalid date/time literal @{s}"), t.start)),
                }
            }
            Tok::EnvVar(name) => {
                self.next();
                Ok(Ast {
                    kind: AstKind::EnvVar(name.clone()),
                    pos: t.start,
                })
            }
            Tok::Ident(w) if w == "true" || w == "false" => {
                self.next();
                lit(Value::Boolean(w == "true"))
            }
            Tok::Ident(_) | Tok::Delimited(_) | Tok::Special(_) => self.invocation(None),
            Tok::Eof => Err(self.err_at("unexpected end of expression", t.start)),
            _ => Err(self.err_at("expected an expression", t.start)),
        }
    }

    /// An integer or decimal, or a quantity when a unit follows.
    fn number(&mut self, n: &str, start: usize) -> Result<Ast, FhirPathError> {
        let unit = match self.peek().tok {
            Tok::Str(u) => {
                self.next();
                Some(u)
            }
            Tok::Ident(w) => match quantity::calendar_word(&w) {
                Some(c) => {
                    self.next();
                    Some(c.to_string())
                }
                None => None,
            },
            _ => None,
        };
        let Some(dec) = Decimal::parse(n) else {
            return Err(self.err_at("number literal out of range", start));
        };
        let value = match unit {
            Some(u) => Value::Quantity(Quantity::new(dec, u)),
            None if !n.contains('.') => match n.parse::<i64>() {
                Ok(i) if i <= i32::MAX as i64 => Value::Integer(i),
                _ => return Err(self.err_at("integer literal out of range", start)),
            },
            None => Value::Decimal(dec),
        };
        Ok(Ast {
            kind: AstKind::Literal(value),
            pos: start,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::error::ErrorKind;
    use super::*;

    fn shape(text: &str) -> String {
        fn go(a: &Ast) -> String {
            match &a.kind {
                AstKind::Binary { op, left, right } => {
                    format!("({:?} {} {})", op, go(left), go(right))
                }
                AstKind::Member { focus, name } => match focus {
                    Some(f) => format!("{}.{name}", go(f)),
                    None => name.clone(),
                },
                AstKind::Call { focus, name, args } => {
                    let args: Vec<String> = args.iter().map(go).collect();
                    let f = focus.as_ref().map(|f| go(f) + ".").unwrap_or_default();
                    format!("{f}{name}({})", args.join(","))
                }
                AstKind::Negate(e) => format!("-{}", go(e)),
                AstKind::Literal(v) => format!("{v:?}"),
                AstKind::Is(e, t) => format!("({} is {})", go(e), t.name),
                other => format!("{other:?}"),
            }
        }
        go(&parse(text).unwrap())
    }

    #[test]
    fn precedence() {
        assert_eq!(shape("a + b * c"), "(Add a (Mul b c))");
        assert_eq!(shape("a or b and c"), "(Or a (And b c))");
        assert_eq!(shape("a | b = c"), "(Eq (Union a b) c)");
        assert_eq!(shape("a.b is T"), "(a.b is T)");
        assert_eq!(shape("-1.abs()"), "-Integer(1).abs()");
        assert_eq!(shape("a implies b xor c"), "(Implies a (Xor b c))");
        assert_eq!(
            shape("Patient.name.where(use = 'x')"),
            "Patient.name.where((Eq use String(\"x\")))"
        );
    }

    #[test]
    fn quantities_and_keywords_as_names() {
        assert!(shape("4 days").contains("Quantity"));
        assert!(shape("2.5 'mg'").contains("\"mg\""));
        assert_eq!(shape("`div`.x"), "div.x");
    }

    #[test]
    fn errors() {
        let e = parse("2 + 2 /").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax);
        assert_eq!(e.pos.col, 8);
        assert_eq!(parse("a.nope()").unwrap_err().kind, ErrorKind::Semantic);
        assert_eq!(parse("a.where()").unwrap_err().kind, ErrorKind::Semantic);
        assert_eq!(parse("(a").unwrap_err().kind, ErrorKind::Syntax);
        assert!(parse("a b").is_err());
        assert!(parse(&"(".repeat(10_000)).is_err());
        assert!(parse(&format!("a{}", ".b".repeat(5_000))).is_err());
        assert!(parse(&vec!["1"; 5_000].join(" | ")).is_err());
        assert!(parse(&format!("a{}", ".b".repeat(50))).is_ok());
        assert!(parse("99999999999").is_err());
    }
}
