//! FHIRPath steps: assert on the last response with the same engine that evaluates
//! profile invariants. Expressions are parsed when the suite is loaded, so a typo is
//! a diagnostic before anything runs, and evaluated with types when the core package
//! is in the FHIR package cache.

use assure_fhir::fhirpath::{self, Env, Expr};
use cucumber::step::Context;

use super::{arg, StepDef, THEN};
use crate::outcome::{fail, Finding, FindingKind, StepResult, Stop};
use crate::step_fn;
use crate::world::AssureWorld;

pub fn steps() -> Vec<StepDef> {
    vec![
        StepDef {
            kinds: THEN,
            pattern: r"the FHIRPath {Q} is true",
            usage: r#"the FHIRPath "<expression>" is true"#,
            help: "Evaluates FHIRPath on the response body (as %resource); the result must be the single boolean true.",
            example: r#"Then the FHIRPath "entry.resource.ofType(Patient).identifier.where(system='https://fhir.nhs.uk/Id/nhs-number').exists()" is true"#,
            func: step_fn!(is_true),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the FHIRPath {Q} evaluates to {Q}",
            usage: r#"the FHIRPath "<expression>" evaluates to "<values>""#,
            help: "Evaluates FHIRPath on the response body; the result's values, joined with `, `, must equal the text.",
            example: r#"Then the FHIRPath "name.where(use='official').family" evaluates to "Smith""#,
            func: step_fn!(evaluates_to),
        },
        StepDef {
            kinds: THEN,
            pattern: r"every {Q} satisfies {Q}",
            usage: r#"every "<items>" satisfies "<criteria>""#,
            help: "Evaluates the first FHIRPath on the response body; each item must make the second (evaluated on the item) true. No items at all: not applicable, never a pass.",
            example: r#"Then every "entry.resource.ofType(Slot)" satisfies "status = 'free'""#,
            func: step_fn!(every_satisfies),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the test data has {Q}",
            usage: r#"the test data has "<expression>""#,
            help: "A precondition: the FHIRPath must find something (non-empty, not false) in the response body, else the checks that depend on it cannot be made and the scenario is not applicable.",
            example: r#"Then the test data has "entry.resource.ofType(AllergyIntolerance).where(clinicalStatus = 'resolved')""#,
            func: step_fn!(test_data_has),
        },
    ]
}

/// The FHIRPath arguments (1-based capture groups) of the steps that take some.
pub fn fhirpath_arguments(pattern: &str) -> &'static [usize] {
    if pattern.starts_with("the FHIRPath {Q}") || pattern.starts_with("the test data has {Q}") {
        &[1]
    } else if pattern.starts_with("every {Q} satisfies {Q}") {
        &[1, 2]
    } else if pattern.starts_with("the response is one of the GP Connect errors {Q}, or") {
        &[2]
    } else {
        &[]
    }
}

/// Checks a FHIRPath argument when the suite loads: the parse error and its column
/// within the expression.
pub fn check_expression(text: &str) -> Result<(), (String, usize)> {
    Expr::parse(text).map(|_| ()).map_err(|e| {
        (
            format!("{} error: {}", e.kind, e.message),
            e.pos.col as usize,
        )
    })
}

pub(super) fn evaluate(w: &AssureWorld, text: &str) -> Result<Vec<String>, Stop> {
    let expr = Expr::parse(text).map_err(|e| Stop::error(format!("invalid FHIRPath: {e}")))?;
    let resource = w.json()?;
    let mut env = Env::new();
    if let Some(model) = w.ctx().fhir().model.clone() {
        env = env.with_model(model);
    }
    let items = fhirpath::evaluate(&expr, resource, &env)
        .map_err(|e| Stop::error(format!("FHIRPath `{text}` failed: {e}")))?;
    Ok(items
        .iter()
        .map(|i| {
            i.to_json()
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| i.to_json().to_string())
        })
        .collect())
}

/// Items of `items` that do not make `criteria` true, of how many.
async fn every_satisfies(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let items = w.expand(&arg(ctx, 1))?;
    let criteria = w.expand(&arg(ctx, 2))?;
    let count = evaluate(w, &format!("({items}).count()"))?;
    if count == ["0"] {
        return Err(Stop::not_applicable(format!(
            "`{items}` finds nothing in the response, so there is nothing to hold to `{criteria}`"
        )));
    }
    let failing = evaluate(
        w,
        &format!("({items}).where(iif(({criteria}) = true, false, true))"),
    )?;
    if failing.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = failing
        .iter()
        .take(3)
        .map(|i| i.chars().take(300).collect())
        .collect();
    fail(
        Finding::new(
            FindingKind::Body,
            format!(
                "{} of {} items of `{items}` do not satisfy `{criteria}`",
                failing.len(),
                count.first().map_or("?", String::as_str)
            ),
        )
        .expected(
            format!("every item satisfies `{criteria}`"),
            shown.join("; "),
        ),
    )
}

async fn test_data_has(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let text = w.expand(&arg(ctx, 1))?;
    let values = evaluate(w, &text)?;
    if values.is_empty() || values == ["false"] {
        return Err(Stop::not_applicable(format!(
            "the test data has no `{text}`, so the checks that need it cannot be made here (choose inputs whose data has it)"
        )));
    }
    Ok(())
}

async fn is_true(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let text = w.expand(&arg(ctx, 1))?;
    let values = evaluate(w, &text)?;
    if values == ["true"] {
        Ok(())
    } else {
        let actual = if values.is_empty() {
            "empty".to_owned()
        } else {
            values.join(", ")
        };
        fail(
            Finding::new(FindingKind::Body, format!("FHIRPath `{text}` is not true"))
                .expected("true", actual),
        )
    }
}

async fn evaluates_to(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let text = w.expand(&arg(ctx, 1))?;
    let expected = w.expand(&arg(ctx, 2))?;
    let actual = evaluate(w, &text)?.join(", ");
    if actual == expected {
        Ok(())
    } else {
        fail(
            Finding::new(
                FindingKind::Body,
                format!("FHIRPath `{text}` gives another result"),
            )
            .expected(expected, actual),
        )
    }
}
