//! Profile steps: check the last response against published profiles with the
//! project's validator, never by reading `meta.profile` alone. Issues go into the
//! report with the element path and the line in the captured response.

use assure_fhir::model::Node;
use assure_fhir::outcome::Issue;
use cucumber::step::Context;

use super::{arg, StepDef, THEN};
use crate::outcome::{fail, Finding, FindingKind, StepResult, Stop, ValidationIssue};
use crate::step_fn;
use crate::world::AssureWorld;

pub fn steps() -> Vec<StepDef> {
    vec![
        StepDef {
            kinds: THEN,
            pattern: r"the response conforms to {Q}",
            usage: r#"the response conforms to "<profile>""#,
            help: "Validates the response body against its base definition and the profile (canonical URL), and against every profile it claims in meta.profile.",
            example: r#"Then the response conforms to "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient""#,
            func: step_fn!(conforms_to),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response conforms to its meta\.profile",
            usage: "the response conforms to its meta.profile",
            help: "Validates the response body against its base definition and every profile it claims in meta.profile (which must claim one).",
            example: "Then the response conforms to its meta.profile",
            func: step_fn!(conforms_to_claims),
        },
        StepDef {
            kinds: THEN,
            pattern: r"every entry in the Bundle conforms to {Q}",
            usage: r#"every entry in the Bundle conforms to "<profile>""#,
            help: "Validates each resource the search matched (`search.mode` match or absent) against the profile and what it claims in meta.profile; the Bundle's own rules are left to `the response conforms to ...`. No match at all: not applicable.",
            example: r#"Then every entry in the Bundle conforms to "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient""#,
            func: step_fn!(entries_conform),
        },
    ]
}

fn located(w: &AssureWorld, issues: Vec<Issue>) -> Vec<ValidationIssue> {
    let exchange = w.last.as_ref().map(|l| l.exchange_id.clone());
    issues
        .into_iter()
        .map(|i| ValidationIssue {
            severity: i.severity.code().to_owned(),
            code: i.code.code().to_owned(),
            message: i.message,
            expression: (!i.expression.is_empty()).then_some(i.expression),
            line: (i.line > 0).then_some(i.line),
            col: (i.col > 0).then_some(i.col),
            profile: i.profile,
            element: i.element_id,
            exchange: exchange.clone(),
        })
        .collect()
}

/// Validates `resource` and turns errors into a finding; warnings ride along. A
/// profile that is not loaded (named by the step or claimed by the resource) makes the
/// check inconclusive: validating without it would prove nothing about it.
async fn check(w: &AssureWorld, resource: &Node, profiles: &[&str], what: &str) -> StepResult {
    let issues = validate_off_executor(w, resource, profiles, what).await?;
    let errors = issues.iter().filter(|i| i.severity.is_error()).count();
    if errors == 0 {
        return Ok(());
    }
    let first = issues
        .iter()
        .find(|i| i.severity.is_error())
        .map(|i| i.message.clone())
        .unwrap_or_default();
    let mut failure = Finding::new(
        FindingKind::Conformance,
        format!("{what} does not conform: {errors} error(s); first: {first}"),
    );
    failure.issues = located(w, issues);
    fail(failure)
}

/// The validator's issues, computed on the blocking pool: loading packages and
/// validating a large Bundle take long enough to stall every other scenario if they
/// ran on the executor the scenarios share.
async fn validate_off_executor(
    w: &AssureWorld,
    resource: &Node,
    profiles: &[&str],
    what: &str,
) -> Result<Vec<Issue>, Stop> {
    let ctx = w.ctx().clone();
    let resource = resource.clone();
    let profiles: Vec<String> = profiles.iter().map(|p| p.to_string()).collect();
    let what = what.to_owned();
    tokio::task::spawn_blocking(move || {
        let Some(validator) = ctx.validator() else {
            let why = ctx.fhir().warnings.join("; ");
            return Err(Stop::inconclusive(format!(
                "cannot validate: no FHIR packages are loaded ({why})"
            )));
        };
        let profiles: Vec<&str> = profiles.iter().map(String::as_str).collect();
        let missing = unloaded_profiles(validator, &resource, &profiles);
        if !missing.is_empty() {
            return Err(Stop::inconclusive(format!(
                "cannot check {what} against {}: not loaded from the suite's packages ({})",
                missing.join(", "),
                ctx.packages.join(", ")
            )));
        }
        Ok(validator.validate(&resource, &profiles))
    })
    .await
    .map_err(|e| Stop::error(format!("internal error: validation did not finish: {e}")))?
}

/// The profiles among `named` and the resource's `meta.profile` claims that the
/// validator has no definition for.
fn unloaded_profiles(
    validator: &assure_fhir::validate::Validator,
    resource: &Node,
    named: &[&str],
) -> Vec<String> {
    let claims = resource
        .get("meta")
        .and_then(|m| m.get("profile"))
        .map(|p| {
            p.items()
                .iter()
                .filter_map(Node::as_str)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let mut missing: Vec<String> = Vec::new();
    for url in named.iter().copied().chain(claims) {
        if validator.plan(url).is_none() && !missing.iter().any(|m| m == url) {
            missing.push(url.to_owned());
        }
    }
    missing
}

async fn conforms_to(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let profile = w.expand(&arg(ctx, 1))?;
    let json = w.json()?;
    check(w, json, &[profile.as_str()], "the response").await
}

async fn conforms_to_claims(w: &mut AssureWorld, _: &Context) -> StepResult {
    let json = w.json()?;
    let claims = json
        .get("meta")
        .and_then(|m| m.get("profile"))
        .map_or(0, |p| p.items().len());
    if claims == 0 {
        // FHIR does not require a claim; with none there is nothing to hold it to.
        return Err(Stop::not_applicable(
            "the response claims no profile in meta.profile",
        ));
    }
    check(w, json, &[], "the response").await
}

async fn entries_conform(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let profile = w.expand(&arg(ctx, 1))?;
    let json = w.json()?;
    if json.resource_type() != Some("Bundle") {
        return fail(
            Finding::new(FindingKind::Conformance, "the response is not a Bundle")
                .expected("Bundle", json.resource_type().unwrap_or("no resourceType")),
        );
    }
    // The Bundle's own rules are the search's requirement, not the entries' profile's:
    // checked here they would fail a second requirement for one defect.
    // Included resources and OperationOutcomes (search.mode include/outcome) are not
    // what the search found, so the profile is not theirs to meet.
    let found: Vec<(usize, &Node)> = json
        .get("entry")
        .map_or(&[][..], Node::items)
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.get("search")
                .and_then(|s| s.get("mode"))
                .and_then(Node::as_str)
                .is_none_or(|m| m == "match")
        })
        .filter_map(|(i, e)| e.get("resource").map(|r| (i, r)))
        .collect();
    if found.is_empty() {
        return Err(Stop::not_applicable(format!(
            "the Bundle holds no matching resource, so there is nothing to hold to {profile}"
        )));
    }
    for (i, resource) in found {
        check(w, resource, &[profile.as_str()], &format!("entry[{i}]")).await?;
    }
    Ok(())
}
