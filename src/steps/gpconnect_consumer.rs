//! GP Connect consumer checks: the access token and Spine headers on a request the
//! consumer under test sent to a counterpart, judged against the 1.x specification.

use cucumber::step::Context;
use serde_json::Value;

use super::{arg, StepDef, GIVEN_WHEN, THEN};
use crate::client::gpconnect::{
    self, Interaction, ODS_SYSTEM, SDS_ROLE_SYSTEM, SDS_USER_SYSTEM, TOKEN_LIFETIME_SECS,
};
use crate::outcome::{fail, Finding, FindingKind, StepResult, Stop};
use crate::step_fn;
use crate::world::AssureWorld;

pub fn steps() -> Vec<StepDef> {
    vec![
        StepDef {
            kinds: THEN,
            pattern: r"the received request carries a GP Connect access token for {Q}",
            usage: r#"the received request carries a GP Connect access token for "<interaction>""#,
            help: "Checks the received Authorization header: an unsigned JWT with every claim the specification requires, of the right types, exp 300 s after iat, and the scope of the interaction.",
            example: r#"Then the received request carries a GP Connect access token for "structured record""#,
            func: step_fn!(token_is_valid),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the received request has the Spine headers for {Q}",
            usage: r#"the received request has the Spine headers for "<interaction>""#,
            help: "Checks Ssp-TraceID (a UUID), Ssp-From, Ssp-To and an Ssp-InteractionID that names the interaction.",
            example: r#"Then the received request has the Spine headers for "structured record""#,
            func: step_fn!(spine_headers),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the received request asks for a FHIR format, or sends no Accept header",
            usage: "the received request asks for a FHIR format, or sends no Accept header",
            help: "Checks the received Accept header names FHIR JSON or XML (application/fhir+json, application/fhir+xml, with or without parameters); without one, a GP Connect provider answers in the format of the request's Content-Type.",
            example: "Then the received request asks for a FHIR format, or sends no Accept header",
            func: step_fn!(accepts_fhir),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the counterpart {Q} answers the next (\d+ )?requests? with status (\d{3}) and the GP Connect error {Q}",
            usage: r#"the counterpart "<stub set>" answers the next [<n>] request(s) with status <nnn> and the GP Connect error "<Spine error code>""#,
            help: "Scripts the next answer (or the next n answers, for a consumer that retries) of the counterpart as a GP Connect error: that HTTP status and a GPConnect-OperationOutcome-1 whose issue carries the code from Spine-ErrorOrWarningCode-1.",
            example: r#"Given the counterpart "gpconnect-provider" answers the next request with status 404 and the GP Connect error "PATIENT_NOT_FOUND""#,
            func: step_fn!(script_error),
        },
    ]
}

/// The OperationOutcome a GP Connect provider answers an error with.
pub fn error_outcome(code: &str) -> Value {
    let issue_code = match code {
        "PATIENT_NOT_FOUND" | "REFERENCE_NOT_FOUND" | "NO_RECORD_FOUND" => "not-found",
        "INVALID_RESOURCE"
        | "INVALID_PARAMETER"
        | "BAD_REQUEST"
        | "INVALID_NHS_NUMBER"
        | "INVALID_IDENTIFIER_SYSTEM"
        | "INVALID_IDENTIFIER_VALUE" => "invalid",
        "NO_RELATIONSHIP" | "ACCESS DENIED" | "ACCESS_DENIED" | "NO_PATIENT_CONSENT" => "forbidden",
        "DUPLICATE_REJECTED" => "duplicate",
        "NOT_IMPLEMENTED" => "not-supported",
        _ => "exception",
    };
    serde_json::json!({
        "resourceType": "OperationOutcome",
        "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1"]},
        "issue": [{
            "severity": "error",
            "code": issue_code,
            "details": {"coding": [{
                "system": "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1",
                "code": code,
                "display": code.replace('_', " ").to_lowercase()
            }]},
            "diagnostics": format!("{code} (scripted by the conformance harness)")
        }]
    })
}

async fn script_error(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let name = w.expand(&arg(ctx, 1))?;
    let times: usize = match arg(ctx, 2).trim() {
        "" => 1,
        n => n
            .parse()
            .ok()
            .filter(|n| (1..=10).contains(n))
            .ok_or_else(|| Stop::error("the number of requests must be 1 to 10"))?,
    };
    let status: u16 = arg(ctx, 3)
        .parse()
        .map_err(|_| Stop::error("the status must be a three-digit number"))?;
    let code = w.expand(&arg(ctx, 4))?;
    let body = serde_json::to_vec(&error_outcome(&code))
        .map_err(|e| Stop::error(format!("cannot write the OperationOutcome: {e}")))?;
    let counterpart = super::counterpart::counterpart(w, &name)?;
    for _ in 0..times {
        counterpart.answer_next(crate::counterpart::Scripted::Respond {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/fhir+json;charset=utf-8".into(),
            )],
            body: body.clone(),
        });
    }
    Ok(())
}

/// The interaction's scope, alone or followed by a confidentiality scope: "Where
/// multiple values are required, they MUST be provided as a space separated string."
fn scope_fits(scope: &str, wanted: &str) -> bool {
    let mut values = scope.split(' ');
    values.next() == Some(wanted)
        && match values.next() {
            None => true,
            Some(conf) => matches!(conf, "conf/N" | "conf/R") && values.next().is_none(),
        }
}

/// Every problem with the claims, so one run tells a supplier all of them.
pub fn token_problems(
    claims: &serde_json::Map<String, Value>,
    interaction: &Interaction,
) -> Vec<String> {
    let mut problems = Vec::new();
    for name in ["iss", "sub", "aud", "reason_for_request", "requested_scope"] {
        match claims.get(name) {
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(_) => problems.push(format!("`{name}` must be a non-empty string")),
            None => problems.push(format!("`{name}` is missing")),
        }
    }
    let (iat, exp) = (
        claims.get("iat").and_then(Value::as_i64),
        claims.get("exp").and_then(Value::as_i64),
    );
    match (iat, exp) {
        (Some(iat), Some(exp)) if exp - iat != TOKEN_LIFETIME_SECS => problems.push(format!(
            "`exp` must be `iat` + {TOKEN_LIFETIME_SECS} s, not + {} s",
            exp - iat
        )),
        (Some(iat), Some(_)) if iat > chrono::Utc::now().timestamp() + 60 => {
            problems.push("`iat` is in the future".into())
        }
        (Some(_), Some(_)) => {}
        _ => {
            problems.push("`iat` and `exp` must both be integers (seconds since the epoch)".into())
        }
    }
    if claims
        .get("reason_for_request")
        .and_then(Value::as_str)
        .is_some_and(|r| r != "directcare")
    {
        problems.push("`reason_for_request` must be `directcare`".into());
    }
    if let Some(scope) = claims.get("requested_scope").and_then(Value::as_str) {
        if !scope_fits(scope, interaction.scope) {
            problems.push(format!(
                "`requested_scope` is `{scope}`; `{}` needs `{}`, optionally followed by a space and `conf/N` or `conf/R`",
                interaction.name, interaction.scope
            ));
        }
    }
    let resource = |name: &str, ty: &str, problems: &mut Vec<String>| -> Option<Value> {
        match claims.get(name) {
            Some(v) if v.get("resourceType").and_then(Value::as_str) == Some(ty) => Some(v.clone()),
            Some(_) => {
                problems.push(format!("`{name}` must be a {ty} resource"));
                None
            }
            None => {
                problems.push(format!("`{name}` is missing"));
                None
            }
        }
    };
    let has_identifier = |v: &Value, system: &str| {
        v.get("identifier")
            .and_then(Value::as_array)
            .is_some_and(|ids| {
                ids.iter().any(|i| {
                    i.get("system").and_then(Value::as_str) == Some(system)
                        && i.get("value").is_some()
                })
            })
    };
    if let Some(device) = resource("requesting_device", "Device", &mut problems) {
        if device
            .get("identifier")
            .and_then(Value::as_array)
            .is_none_or(|ids| ids.is_empty())
        {
            problems.push("`requesting_device` needs an identifier".into());
        }
    }
    if let Some(org) = resource("requesting_organization", "Organization", &mut problems) {
        if !has_identifier(&org, ODS_SYSTEM) {
            problems.push(format!(
                "`requesting_organization` needs an ODS code identifier ({ODS_SYSTEM})"
            ));
        }
    }
    if let Some(who) = resource("requesting_practitioner", "Practitioner", &mut problems) {
        if who.get("id").and_then(Value::as_str) != claims.get("sub").and_then(Value::as_str) {
            problems.push("`requesting_practitioner.id` must equal `sub`".into());
        }
        for system in [SDS_USER_SYSTEM, SDS_ROLE_SYSTEM] {
            if !has_identifier(&who, system) {
                problems.push(format!(
                    "`requesting_practitioner` needs an identifier with system {system}"
                ));
            }
        }
        if who
            .get("name")
            .and_then(Value::as_array)
            .is_none_or(|n| n.is_empty())
        {
            problems.push("`requesting_practitioner` needs a name".into());
        }
    }
    problems
}

async fn token_is_valid(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let interaction = super::gpconnect::interaction(&w.expand(&arg(ctx, 1))?)?;
    let entry = w
        .received
        .as_ref()
        .ok_or_else(|| Stop::error("no request received yet"))?;
    let header = entry.header("Authorization").ok_or_else(|| {
        Finding::new(
            FindingKind::Request,
            "the consumer sent no Authorization header",
        )
        .expected("Bearer <unsigned JWT>", "absent")
    })?;
    let token = header.strip_prefix("Bearer ").ok_or_else(|| {
        Finding::new(FindingKind::Request, "Authorization is not a Bearer token")
            .expected("Bearer <JWT>", header.to_owned())
    })?;
    let (head, claims) = gpconnect::decode_unsigned(token.trim()).map_err(|e| {
        Finding::new(
            FindingKind::Request,
            format!("the access token is not a JWT: {e}"),
        )
    })?;
    let mut problems = Vec::new();
    if head.get("alg").and_then(Value::as_str) != Some("none") || !token.trim().ends_with('.') {
        problems.push(
            "GP Connect 1.x tokens are unsigned: `alg` must be `none` with an empty signature"
                .to_owned(),
        );
    }
    problems.extend(token_problems(&claims, &interaction));
    if problems.is_empty() {
        Ok(())
    } else {
        fail(Finding::new(
            FindingKind::Request,
            format!(
                "the access token is not what GP Connect requires: {}",
                problems.join("; ")
            ),
        ))
    }
}

async fn accepts_fhir(w: &mut AssureWorld, _: &Context) -> StepResult {
    let entry = w
        .received
        .as_ref()
        .ok_or_else(|| Stop::error("no request received yet"))?;
    let Some(accept) = entry.header("Accept") else {
        return Ok(());
    };
    let fhir = accept.split(',').any(|media| {
        let media = media.split(';').next().unwrap_or_default().trim();
        media.eq_ignore_ascii_case("application/fhir+json")
            || media.eq_ignore_ascii_case("application/fhir+xml")
    });
    if fhir {
        Ok(())
    } else {
        fail(
            Finding::new(
                FindingKind::Request,
                "the consumer asks for a format that is not FHIR",
            )
            .expected("application/fhir+json or application/fhir+xml", accept),
        )
    }
}

async fn spine_headers(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let interaction = super::gpconnect::interaction(&w.expand(&arg(ctx, 1))?)?;
    let entry = w
        .received
        .as_ref()
        .ok_or_else(|| Stop::error("no request received yet"))?;
    let mut problems = Vec::new();
    let uuid = regex::Regex::new(
        r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
    )
    .expect("static regex");
    match entry.header("Ssp-TraceID") {
        Some(t) if uuid.is_match(t) => {}
        Some(t) => problems.push(format!("Ssp-TraceID `{t}` is not a UUID")),
        None => problems.push("Ssp-TraceID is missing".into()),
    }
    for name in ["Ssp-From", "Ssp-To"] {
        if entry.header(name).is_none_or(|v| v.trim().is_empty()) {
            problems.push(format!("{name} is missing"));
        }
    }
    let expected = interaction.interaction_id();
    match entry.header("Ssp-InteractionID") {
        Some(id) if id == expected => {}
        Some(id) => problems.push(format!(
            "Ssp-InteractionID is `{id}`; `{}` is `{expected}`",
            interaction.name
        )),
        None => problems.push("Ssp-InteractionID is missing".into()),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        fail(Finding::new(
            FindingKind::Request,
            format!("the Spine headers are wrong: {}", problems.join("; ")),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_may_carry_a_confidentiality_scope() {
        for ok in [
            "patient/*.read",
            "patient/*.read conf/N",
            "patient/*.read conf/R",
        ] {
            assert!(scope_fits(ok, "patient/*.read"), "{ok}");
        }
        for bad in [
            "patient/*.write",
            "patient/*.read conf/X",
            "patient/*.read  conf/N",
            "patient/*.read conf/N conf/R",
            "conf/N patient/*.read",
            "",
        ] {
            assert!(!scope_fits(bad, "patient/*.read"), "{bad}");
        }
    }
}
