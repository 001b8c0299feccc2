//! Data steps: JSON values by pointer or simple path, variables and captures.

use assure_fhir::model::{Kind, Node};
use cucumber::step::Context;

use super::{arg, table_rows, StepDef, ANY, GIVEN_WHEN, THEN};
use crate::outcome::{fail, Finding, FindingKind, StepResult, Stop};
use crate::step_fn;
use crate::world::AssureWorld;

pub fn steps() -> Vec<StepDef> {
    vec![
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the variable {Q} is {Q}",
            usage: r#"the variable "<name>" is "<value>""#,
            help: "Sets a variable that later steps use as `{name}`.",
            example: r#"Given the variable "nhs" is "9000000009""#,
            func: step_fn!(set_variable),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the JSON value at {Q} is {Q}",
            usage: r#"the JSON value at "<path>" is "<text>""#,
            help: "Checks a scalar in the response body (path: `a.b[0].c` or a JSON Pointer `/a/b/0/c`) as text.",
            example: r#"Then the JSON value at "fhirVersion" is "4.0.1""#,
            func: step_fn!(value_is),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the JSON value at {Q} equals (.+)",
            usage: r#"the JSON value at "<path>" equals <JSON>"#,
            help: "Checks a value in the response body equals a JSON literal (number, boolean, object...).",
            example: r#"Then the JSON value at "total" equals 1"#,
            func: step_fn!(value_equals),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the JSON value at {Q} exists",
            usage: r#"the JSON value at "<path>" exists"#,
            help: "Checks the response body has a value at the path.",
            example: r#"Then the JSON value at "meta.versionId" exists"#,
            func: step_fn!(value_exists),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the JSON value at {Q} does not exist",
            usage: r#"the JSON value at "<path>" does not exist"#,
            help: "Checks the response body has no value at the path.",
            example: r#"Then the JSON value at "entry" does not exist"#,
            func: step_fn!(value_absent),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the JSON value at {Q} matches {Q}",
            usage: r#"the JSON value at "<path>" matches "<regex>""#,
            help: "Checks a scalar in the response body against a regular expression.",
            example: r#"Then the JSON value at "id" matches "^[A-Za-z0-9\-\.]{1,64}$""#,
            func: step_fn!(value_matches),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the JSON value at {Q} does not match {Q}",
            usage: r#"the JSON value at "<path>" does not match "<regex>""#,
            help: "Checks a scalar in the response body does not match a regular expression.",
            example: r#"Then the JSON value at "entry[0].resource.id" does not match "^{first}$""#,
            func: step_fn!(value_does_not_match),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the JSON array at {Q} has an item matching {Q}",
            usage: r#"the JSON array at "<path>" has an item matching "<regex>""#,
            help: "Checks some scalar item of an array in the response body matches a regular expression.",
            example: r#"Then the JSON array at "format" has an item matching "^(json|application/fhir\+json)$""#,
            func: step_fn!(array_has_match),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the JSON values are:",
            usage: "the JSON values are:",
            help: "Checks several scalars at once from a data table with columns | path | value |.",
            example: "Then the JSON values are:\n  | path         | value  |\n  | rest[0].mode | server |",
            func: step_fn!(values_table),
        },
        StepDef {
            kinds: THEN,
            pattern: r"I capture the JSON value at {Q} as {Q}",
            usage: r#"I capture the JSON value at "<path>" as "<variable>""#,
            help: "Stores a scalar from the response body in a variable for later steps.",
            example: r#"Then I capture the JSON value at "meta.versionId" as "version""#,
            func: step_fn!(capture_value),
        },
        StepDef {
            kinds: ANY,
            pattern: r"the value {Q} is {Q}",
            usage: r#"the value "<text>" is "<text>""#,
            help: "Compares two texts after `{variable}` expansion (e.g. a captured value with an input).",
            example: r#"Then the value "{version}" is "2""#,
            func: step_fn!(compare_values),
        },
    ]
}

/// Follows `a.b[0].c` or a JSON Pointer (`/a/b/0/c`); a malformed path is a mistake
/// in the scenario, not in the target.
pub fn select<'a>(root: &'a Node, path: &str) -> Result<Option<&'a Node>, Stop> {
    crate::outcome::select(root, path).map_err(Stop::Error)
}

/// A scalar as text; objects and arrays as compact JSON.
pub fn scalar_text(node: &Node) -> String {
    match &node.kind {
        Kind::String(s) => s.to_string(),
        Kind::Number(n) => n.to_string(),
        Kind::Bool(b) => b.to_string(),
        Kind::Null => "null".to_owned(),
        _ => node.to_value().to_string(),
    }
}

fn required<'a>(w: &'a AssureWorld, path: &str) -> Result<&'a Node, Stop> {
    select(w.json()?, path)?.ok_or_else(|| {
        Finding::new(
            FindingKind::Body,
            format!("the response body has no value at `{path}`"),
        )
        .expected("a value", "nothing")
        .at(path)
        .into()
    })
}

async fn set_variable(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let value = w.expand(&arg(ctx, 2))?;
    w.vars.insert(arg(ctx, 1), value);
    Ok(())
}

fn check_text(w: &AssureWorld, path: &str, expected: &str) -> StepResult {
    let actual = scalar_text(required(w, path)?);
    if actual == expected {
        Ok(())
    } else {
        fail(
            Finding::new(FindingKind::Body, format!("unexpected value at `{path}`"))
                .expected(expected, actual)
                .at(path),
        )
    }
}

async fn value_is(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let expected = w.expand(&arg(ctx, 2))?;
    check_text(w, &arg(ctx, 1), &expected)
}

async fn value_equals(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let path = arg(ctx, 1);
    let literal = w.expand(&arg(ctx, 2))?;
    let expected: serde_json::Value = serde_json::from_str(&literal)
        .map_err(|e| Stop::error(format!("`{literal}` is not a JSON literal: {e}")))?;
    let actual = required(w, &path)?.to_value();
    if actual == expected {
        Ok(())
    } else {
        fail(
            Finding::new(FindingKind::Body, format!("unexpected value at `{path}`"))
                .expected(expected.to_string(), actual.to_string())
                .at(path),
        )
    }
}

async fn value_exists(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    required(w, &arg(ctx, 1)).map(|_| ())
}

async fn value_absent(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let path = arg(ctx, 1);
    match select(w.json()?, &path)? {
        None => Ok(()),
        Some(n) => fail(
            Finding::new(
                FindingKind::Body,
                format!("the response body has a value at `{path}`"),
            )
            .expected("nothing", scalar_text(n))
            .at(path),
        ),
    }
}

async fn value_matches(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let path = arg(ctx, 1);
    let pattern = w.expand(&arg(ctx, 2))?;
    let re = regex::Regex::new(&pattern)
        .map_err(|e| Stop::error(format!("invalid regular expression: {e}")))?;
    let actual = scalar_text(required(w, &path)?);
    if re.is_match(&actual) {
        Ok(())
    } else {
        fail(
            Finding::new(
                FindingKind::Body,
                format!("value at `{path}` does not match"),
            )
            .expected(format!("matches /{pattern}/"), actual)
            .at(path),
        )
    }
}

async fn value_does_not_match(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let path = arg(ctx, 1);
    let pattern = w.expand(&arg(ctx, 2))?;
    let re = regex::Regex::new(&pattern)
        .map_err(|e| Stop::error(format!("invalid regular expression: {e}")))?;
    let actual = scalar_text(required(w, &path)?);
    if re.is_match(&actual) {
        fail(
            Finding::new(FindingKind::Body, format!("value at `{path}` matches"))
                .expected(format!("does not match /{pattern}/"), actual)
                .at(path),
        )
    } else {
        Ok(())
    }
}

async fn array_has_match(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let path = arg(ctx, 1);
    let pattern = w.expand(&arg(ctx, 2))?;
    let re = regex::Regex::new(&pattern)
        .map_err(|e| Stop::error(format!("invalid regular expression: {e}")))?;
    let node = required(w, &path)?;
    if !node.is_array() {
        return fail(
            Finding::new(
                FindingKind::Body,
                format!("the value at `{path}` is not an array"),
            )
            .expected("an array", scalar_text(node))
            .at(path),
        );
    }
    let items: Vec<String> = node.items().iter().map(scalar_text).collect();
    if items.iter().any(|i| re.is_match(i)) {
        Ok(())
    } else {
        fail(
            Finding::new(FindingKind::Body, format!("no item of `{path}` matches"))
                .expected(format!("an item matching /{pattern}/"), items.join(", "))
                .at(path),
        )
    }
}

async fn values_table(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    for row in table_rows(ctx, 2)? {
        let expected = w.expand(&row[1])?;
        check_text(w, &row[0], &expected)?;
    }
    Ok(())
}

async fn capture_value(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let value = scalar_text(required(w, &arg(ctx, 1))?);
    w.vars.insert(arg(ctx, 2), value);
    Ok(())
}

async fn compare_values(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let left = w.expand(&arg(ctx, 1))?;
    let right = w.expand(&arg(ctx, 2))?;
    if left == right {
        Ok(())
    } else {
        fail(Finding::new(FindingKind::Body, "the values differ").expected(right, left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_pointers_select_the_same_value() {
        let root =
            assure_fhir::parse_json(r#"{"entry": [{"resource": {"id": "a"}}], "n": 1}"#).unwrap();
        let by_path = select(&root, "entry[0].resource.id").unwrap().unwrap();
        assert_eq!(by_path.as_str(), Some("a"));
        assert_eq!(
            select(&root, "/entry/0/resource/id").unwrap(),
            Some(by_path)
        );
        assert!(select(&root, "entry[1].resource").unwrap().is_none());
        assert!(select(&root, "entry[x]").is_err());
        assert_eq!(scalar_text(select(&root, "n").unwrap().unwrap()), "1");
    }
}
