//! GP Connect steps: a request's JWT and Spine Security Proxy headers, the mutations
//! negative scenarios make to them, and the GP Connect error convention.

use assure_fhir::model::Node;
use cucumber::step::Context;

use super::data::scalar_text;
use super::{arg, StepDef, GIVEN_WHEN, THEN};
use crate::client::gpconnect::{self, Consumer, GpcRequest};
use crate::outcome::{fail, Finding, FindingKind, StepResult, Stop};
use crate::step_fn;
use crate::world::AssureWorld;

/// The profile every GP Connect error body declares.
pub const OUTCOME_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1";
/// Where the Spine error codes (BAD_REQUEST, INVALID_NHS_NUMBER...) come from.
pub const SPINE_ERROR_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1";
/// The system every GP Connect 1.x error example writes (the value set's URL); a
/// provider that follows the examples is as right as one that follows the CodeSystem.
pub const SPINE_ERROR_SYSTEM_IN_EXAMPLES: &str =
    "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1";

pub fn steps() -> Vec<StepDef> {
    vec![
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the request is a GP Connect {Q} request",
            usage: r#"the request is a GP Connect "<interaction>" request"#,
            help: "Makes the next request a GP Connect one: an unsigned JWT (scope from the interaction, `exp` = `iat` + 300 s, built at send time), the Ssp-TraceID/From/To/InteractionID headers and Accept application/fhir+json. Interactions: metadata, patient search|read|register, practitioner search|read, organization search|read, location read, structured record, slot search, appointment book|read|amend|cancel|search, document metadata|patient search|search|retrieve. Inputs: gpc_consumer_asid, gpc_provider_asid, gpc_consumer_ods, gpc_practitioner_sds_user_id, gpc_practitioner_role_profile_id (others have defaults).",
            example: r#"Given the request is a GP Connect "patient search" request"#,
            func: step_fn!(gp_connect_request),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the JWT claim {Q} is removed",
            usage: r#"the JWT claim "<claim>" is removed"#,
            help: "Leaves a claim out of the next GP Connect request's JWT.",
            example: r#"Given the JWT claim "reason_for_request" is removed"#,
            func: step_fn!(remove_claim),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r#"the JWT claim {Q} is ([\[{"\-0-9tfn].*)"#,
            usage: r#"the JWT claim "<claim>" is <JSON>"#,
            help: "Sets a claim of the next GP Connect request's JWT to a JSON value (`iat`/`exp` set this way are sent as written); `{variables}` are expanded.",
            example: r#"Given the JWT claim "requested_scope" is "patient/*.write""#,
            func: step_fn!(set_claim),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the JWT expires (-?\d+) seconds? after it was issued",
            usage: "the JWT expires <n> seconds after it was issued",
            help: "Sets `exp` to `iat` + n seconds (the specification requires exactly 300).",
            example: "Given the JWT expires 301 seconds after it was issued",
            func: step_fn!(lifetime),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the Spine header {Q} is removed",
            usage: r#"the Spine header "<name>" is removed"#,
            help: "Leaves a Spine Security Proxy header (or `Authorization`) out of the next GP Connect request.",
            example: r#"Given the Spine header "Ssp-TraceID" is removed"#,
            func: step_fn!(remove_header),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the Spine header {Q} is {Q}",
            usage: r#"the Spine header "<name>" is "<value>""#,
            help: "Sets a Spine Security Proxy header (or `Authorization`) of the next GP Connect request; `{variables}` are expanded.",
            example: r#"Given the Spine header "Ssp-InteractionID" is "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1""#,
            func: step_fn!(set_header),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response is a GP Connect error with code {Q} and status (\d{3})",
            usage: r#"the response is a GP Connect error with code "<Spine error code>" and status <n>"#,
            help: "Checks the status, and that the body is an OperationOutcome declaring GPConnect-OperationOutcome-1 with an error issue coded from Spine-ErrorOrWarningCode-1.",
            example: r#"Then the response is a GP Connect error with code "BAD_REQUEST" and status 400"#,
            func: step_fn!(gp_connect_error),
        },
    ]
}

/// The consumer from the scenario's variables, else the suite inputs.
fn consumer(w: &AssureWorld) -> Result<Consumer, Stop> {
    Consumer::from_inputs(&w.ctx().base_url, |name| {
        w.vars
            .get(name)
            .or_else(|| w.ctx().inputs.get(name))
            .cloned()
    })
    .map_err(Stop::Error)
}

/// The interaction a scenario names, with "did you mean" for a typo.
pub(super) fn interaction(name: &str) -> Result<gpconnect::Interaction, Stop> {
    gpconnect::interaction(name).ok_or_else(|| {
        let names = gpconnect::interactions().iter().map(|i| i.name);
        let mut message = format!("unknown GP Connect interaction `{name}`");
        if let Some(best) = crate::diagnostic::closest(name, names).first() {
            message.push_str(&format!(" (did you mean `{best}`?)"));
        }
        Stop::Error(message)
    })
}

async fn gp_connect_request(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let name = arg(ctx, 1);
    let interaction = interaction(&name)?;
    let who = consumer(w)?;
    let now = chrono::Utc::now().timestamp();
    w.gpconnect = Some(GpcRequest::new(interaction, &who, now));
    w.set_header("Accept", "application/fhir+json".into());
    Ok(())
}

fn pending(w: &mut AssureWorld) -> Result<&mut GpcRequest, Stop> {
    w.gpconnect.as_mut().ok_or_else(|| {
        Stop::error(
            "no GP Connect request to change: start with `the request is a GP Connect \"<interaction>\" request`",
        )
    })
}

async fn remove_claim(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    pending(w)?.remove_claim(&arg(ctx, 1));
    Ok(())
}

async fn set_claim(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let text = w.expand(&arg(ctx, 2))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Stop::error(format!("the claim value is not JSON: {e}")))?;
    pending(w)?.set_claim(&arg(ctx, 1), value);
    Ok(())
}

async fn lifetime(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let secs: i64 = arg(ctx, 1)
        .parse()
        .map_err(|_| Stop::error("the number of seconds is out of range"))?;
    pending(w)?.lifetime = secs;
    Ok(())
}

async fn remove_header(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    pending(w)?.remove_header(&arg(ctx, 1));
    Ok(())
}

async fn set_header(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let value = w.expand(&arg(ctx, 2))?;
    pending(w)?.set_header(&arg(ctx, 1), value);
    Ok(())
}

/// The Spine error codes of an OperationOutcome's issues.
fn spine_codes(oo: &Node) -> Vec<String> {
    let issues = oo.get("issue").map_or(&[][..], Node::items);
    issues
        .iter()
        .filter_map(|i| i.get("details")?.get("coding"))
        .flat_map(Node::items)
        .filter(|c| {
            matches!(
                c.get("system").and_then(Node::as_str),
                Some(SPINE_ERROR_SYSTEM | SPINE_ERROR_SYSTEM_IN_EXAMPLES)
            )
        })
        .filter_map(|c| c.get("code").map(scalar_text))
        .collect()
}

async fn gp_connect_error(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let code = arg(ctx, 1);
    let status: u16 = arg(ctx, 2).parse().unwrap_or_default();
    let actual = w.response()?.received.status;
    if actual != status {
        return fail(
            Finding::new(
                FindingKind::Status,
                format!("a GP Connect {code} error answers {status}"),
            )
            .expected(status.to_string(), actual.to_string()),
        );
    }
    let oo = w.json()?;
    let kind = oo.resource_type().unwrap_or("no resourceType");
    if kind != "OperationOutcome" {
        return fail(
            Finding::new(
                FindingKind::Body,
                "a GP Connect error body is an OperationOutcome",
            )
            .expected("OperationOutcome", kind),
        );
    }
    let profiles: Vec<String> = oo
        .get("meta")
        .and_then(|m| m.get("profile"))
        .map(|p| p.items().iter().map(scalar_text).collect())
        .unwrap_or_default();
    if !profiles.iter().any(|p| p == OUTCOME_PROFILE) {
        return fail(
            Finding::new(
                FindingKind::Body,
                "the OperationOutcome does not declare the GP Connect profile",
            )
            .expected(OUTCOME_PROFILE, format_list(&profiles, "no meta.profile")),
        );
    }
    let codes = spine_codes(oo);
    if !codes.contains(&code) {
        return fail(
            Finding::new(
                FindingKind::Body,
                format!("no issue carries the Spine error code `{code}` ({SPINE_ERROR_SYSTEM})"),
            )
            .expected(code, format_list(&codes, "no Spine error code")),
        );
    }
    Ok(())
}

fn format_list(items: &[String], empty: &str) -> String {
    if items.is_empty() {
        empty.to_owned()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spine_codes_come_from_the_spine_code_system_or_its_value_set_url() {
        let oo = assure_fhir::model::parse_json(
            r#"{"resourceType": "OperationOutcome", "issue": [
                {"details": {"coding": [{"system": "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1", "code": "BAD_REQUEST"},
                                        {"system": "http://example.org", "code": "OTHER"}]}},
                {"details": {"text": "no coding"}},
                {"details": {"coding": [{"system": "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1", "code": "LEGACY"}]}}]}"#,
        )
        .unwrap();
        // GP Connect's own error examples write the value set's URL as the system.
        assert_eq!(spine_codes(&oo), ["BAD_REQUEST", "LEGACY"]);
        let empty =
            assure_fhir::model::parse_json(r#"{"resourceType": "OperationOutcome"}"#).unwrap();
        assert!(spine_codes(&empty).is_empty());
    }
}
