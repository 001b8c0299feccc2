//! A JSONPath subset for `matchesJsonPath`: `$.a.b`, `$['a']`, `$.a[0]`, `$.a[*]`,
//! `$..a`, and filters `[?(@.x == 'y')]` with `==`, `!=`, `<`, `<=`, `>`, `>=` or a bare
//! existence test `[?(@.x)]`. Anything else is refused at load time, so a stub never
//! matches by accident because part of its expression was ignored.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    pub source: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
    Wildcard,
    Descend(String),
    Filter(Filter),
}

#[derive(Debug, Clone, PartialEq)]
struct Filter {
    /// Relative path from `@`; only fields and indexes.
    path: Vec<Step>,
    test: Option<(Op, Value)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Why an expression was refused, and at which byte of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    pub message: String,
    pub offset: usize,
}

impl JsonPath {
    pub fn parse(text: &str) -> Result<JsonPath, PathError> {
        let mut p = Cursor { s: text, at: 0 };
        p.skip_ws();
        if !p.eat("$") {
            return Err(p.err("a JSONPath starts with `$`"));
        }
        let steps = p.steps(false)?;
        p.skip_ws();
        if p.at < text.len() {
            return Err(p.err("unsupported JSONPath syntax"));
        }
        Ok(JsonPath {
            source: text.to_owned(),
            steps,
        })
    }

    /// Every value the path selects; `null` values count as nothing selected.
    pub fn select<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        let mut current = vec![root];
        for step in &self.steps {
            let mut next = Vec::new();
            for v in current {
                apply(step, v, &mut next);
            }
            current = next;
        }
        current.retain(|v| !v.is_null());
        current
    }
}

fn apply<'a>(step: &Step, v: &'a Value, out: &mut Vec<&'a Value>) {
    match step {
        Step::Field(name) => out.extend(v.get(name.as_str())),
        Step::Index(i) => {
            if let Value::Array(items) = v {
                let idx = if *i < 0 { items.len() as i64 + i } else { *i };
                out.extend(usize::try_from(idx).ok().and_then(|i| items.get(i)));
            }
        }
        Step::Wildcard => match v {
            Value::Array(items) => out.extend(items.iter()),
            Value::Object(map) => out.extend(map.values()),
            _ => {}
        },
        Step::Descend(name) => descend(name, v, out),
        Step::Filter(filter) => match v {
            Value::Array(items) => out.extend(items.iter().filter(|i| filter.accepts(i))),
            // As Jayway does for a single object: the filter tests the object itself.
            Value::Object(_) if filter.accepts(v) => out.push(v),
            _ => {}
        },
    }
}

fn descend<'a>(name: &str, v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(map) => {
            out.extend(map.get(name));
            for child in map.values() {
                descend(name, child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|c| descend(name, c, out)),
        _ => {}
    }
}

impl Filter {
    fn accepts(&self, item: &Value) -> bool {
        let mut current = vec![item];
        for step in &self.path {
            let mut next = Vec::new();
            for v in current {
                apply(step, v, &mut next);
            }
            current = next;
        }
        match &self.test {
            None => current.iter().any(|v| !v.is_null()),
            Some((op, literal)) => current.iter().any(|v| compare(v, *op, literal)),
        }
    }
}

fn compare(actual: &Value, op: Op, literal: &Value) -> bool {
    let ordering = match (actual, literal) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    match op {
        Op::Eq => ordering.map_or(actual == literal, |o| o.is_eq()),
        Op::Ne => ordering.map_or(actual != literal, |o| o.is_ne()),
        Op::Lt => ordering.is_some_and(|o| o.is_lt()),
        Op::Le => ordering.is_some_and(|o| o.is_le()),
        Op::Gt => ordering.is_some_and(|o| o.is_gt()),
        Op::Ge => ordering.is_some_and(|o| o.is_ge()),
    }
}

struct Cursor<'a> {
    s: &'a str,
    at: usize,
}

impl Cursor<'_> {
    fn err(&self, message: &str) -> PathError {
        PathError {
            message: message.to_owned(),
            offset: self.at,
        }
    }

    fn rest(&self) -> &str {
        &self.s[self.at..]
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.at = self.s.len() - trimmed.len();
    }

    fn name(&mut self) -> Result<String, PathError> {
        let len = self
            .rest()
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(self.rest().len());
        if len == 0 {
            return Err(self.err("expected a member name"));
        }
        let name = self.rest()[..len].to_owned();
        self.at += len;
        Ok(name)
    }

    /// Steps until the end, or (inside a filter) until something that is not a step.
    fn steps(&mut self, in_filter: bool) -> Result<Vec<Step>, PathError> {
        let mut steps = Vec::new();
        loop {
            if self.rest().starts_with("..") {
                if in_filter {
                    return Err(self.err("`..` is not supported inside a filter"));
                }
                self.at += 2;
                steps.push(Step::Descend(self.name()?));
            } else if self.eat(".") {
                if self.eat("*") {
                    steps.push(Step::Wildcard);
                } else {
                    steps.push(Step::Field(self.name()?));
                }
            } else if self.rest().starts_with('[') {
                let start = self.at;
                self.at += 1;
                self.skip_ws();
                let step = self.bracket()?;
                if in_filter && !matches!(step, Step::Field(_) | Step::Index(_)) {
                    self.at = start;
                    return Err(self.err("only fields and indexes are supported inside a filter"));
                }
                self.skip_ws();
                if !self.eat("]") {
                    return Err(self.err("expected `]`"));
                }
                steps.push(step);
            } else {
                return Ok(steps);
            }
        }
    }

    fn bracket(&mut self) -> Result<Step, PathError> {
        if self.eat("*") {
            return Ok(Step::Wildcard);
        }
        if self.rest().starts_with('\'') || self.rest().starts_with('"') {
            return match self.literal()? {
                Value::String(s) => Ok(Step::Field(s)),
                _ => Err(self.err("expected a quoted member name")),
            };
        }
        if self.eat("?(") {
            self.skip_ws();
            if !self.eat("@") {
                return Err(self.err("a filter must test `@`"));
            }
            let path = self.steps(true)?;
            self.skip_ws();
            let test = if self.eat(")") {
                None
            } else {
                let op = self.op()?;
                self.skip_ws();
                let literal = self.literal()?;
                self.skip_ws();
                if !self.eat(")") {
                    return Err(
                        self.err("expected `)`: only one comparison per filter is supported")
                    );
                }
                Some((op, literal))
            };
            return Ok(Step::Filter(Filter { path, test }));
        }
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_digit() || c == '-'))
            .unwrap_or(self.rest().len());
        match self.rest()[..len].parse::<i64>() {
            Ok(i) => {
                self.at += len;
                Ok(Step::Index(i))
            }
            Err(_) => Err(self.err("unsupported JSONPath syntax inside `[]`")),
        }
    }

    fn op(&mut self) -> Result<Op, PathError> {
        for (token, op) in [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ] {
            if self.eat(token) {
                return Ok(op);
            }
        }
        Err(self.err("expected a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`) or `)`"))
    }

    fn literal(&mut self) -> Result<Value, PathError> {
        let rest = self.rest().to_owned();
        if let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') {
            let body = &rest[1..];
            let end = body
                .find(quote)
                .ok_or_else(|| self.err("unterminated string"))?;
            let s = body[..end].to_owned();
            self.at += end + 2;
            return Ok(Value::String(s));
        }
        for (word, value) in [
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("null", Value::Null),
        ] {
            if self.eat(word) {
                return Ok(value);
            }
        }
        let len = rest
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '.' | 'e' | 'E' | '+')))
            .unwrap_or(rest.len());
        match serde_json::from_str::<serde_json::Number>(&rest[..len]) {
            Ok(n) if len > 0 => {
                self.at += len;
                Ok(Value::Number(n))
            }
            _ => Err(self.err("expected a string, number, true, false or null")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(path: &str, v: &Value) -> Vec<Value> {
        JsonPath::parse(path)
            .unwrap()
            .select(v)
            .into_iter()
            .cloned()
            .collect()
    }

    #[test]
    fn selects_fields_indexes_wildcards_and_descendants() {
        let v = json!({"a": {"b": [1, 2, {"c": "x"}]}, "n": null});
        assert_eq!(sel("$.a.b[0]", &v), vec![json!(1)]);
        assert_eq!(sel("$['a']['b'][-1].c", &v), vec![json!("x")]);
        assert_eq!(sel("$.a.b[*]", &v).len(), 3);
        assert_eq!(sel("$..c", &v), vec![json!("x")]);
        assert!(sel("$.a.z", &v).is_empty());
        assert!(sel("$.n", &v).is_empty());
    }

    #[test]
    fn filters_compare_and_test_existence() {
        let v = json!({"id": [{"system": "s", "value": "1"}, {"system": "t", "n": 3}]});
        assert_eq!(sel("$.id[?(@.system == 's')].value", &v), vec![json!("1")]);
        assert_eq!(sel("$.id[?(@.system != 's')].n", &v), vec![json!(3)]);
        assert_eq!(sel("$.id[?(@.n >= 3)]", &v).len(), 1);
        assert_eq!(sel("$.id[?(@.n < 3)]", &v).len(), 0);
        assert_eq!(sel("$.id[?(@.value)]", &v).len(), 1);
        let root = json!({"resourceType": "Patient"});
        assert_eq!(sel("$[?(@.resourceType == 'Patient')]", &root).len(), 1);
        assert_eq!(sel("$[?(@.resourceType == 'Bundle')]", &root).len(), 0);
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        for (path, offset) in [
            ("a.b", 0),
            ("$.a[?(@.x == 1 && @.y == 2)]", 15),
            ("$.a[1:2]", 5),
            ("$.a.length()", 10),
            ("$.a[?(@..x)]", 7),
        ] {
            let err = JsonPath::parse(path).unwrap_err();
            assert_eq!(err.offset, offset, "{path}: {}", err.message);
        }
    }
}
