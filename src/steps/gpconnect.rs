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
        StepDef {
            kinds: THEN,
            pattern: r"the response is one of the GP Connect errors {Q}",
            usage: r#"the response is one of the GP Connect errors "<status> <CODE> or <status> <CODE>...""#,
            help: "Checks the response is a GP Connect error (an OperationOutcome declaring GPConnect-OperationOutcome-1) matching one of the alternatives, each `<status> <Spine code>` (or `4xx`: any client error status and Spine code), separated by `or` or commas: for requirements whose sentence allows several answers.",
            example: r#"Then the response is one of the GP Connect errors "422 INVALID_PARAMETER or 400 BAD_REQUEST""#,
            func: step_fn!(one_of_gp_errors),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response is one of the GP Connect errors {Q}, or a 200 answer where the FHIRPath {Q} is true",
            usage: r#"the response is one of the GP Connect errors "<status> <CODE> or ...", or a 200 answer where the FHIRPath "<expression>" is true"#,
            help: "For rules a provider may meet either way: the response is one of the GP Connect errors (as in the step above), or a 200 answer on which the FHIRPath (evaluated on the body) is true.",
            example: r#"Then the response is one of the GP Connect errors "422 INVALID_PARAMETER", or a 200 answer where the FHIRPath "entry.resource.ofType(Patient).exists()" is true"#,
            func: step_fn!(error_or_answer),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response is a GP Connect error with a 4xx status",
            usage: "the response is a GP Connect error with a 4xx status",
            help: "Checks the response is a GP Connect error with any 4xx status and any Spine error code: for rules that require an error but not its code.",
            example: "Then the response is a GP Connect error with a 4xx status",
            func: step_fn!(any_client_error),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response refuses the access token",
            usage: "the response refuses the access token",
            help: "Checks the request was refused for its bearer token: a GP Connect error 400 BAD_REQUEST, or, as RFC 6750 section 3.1 answers bearer token errors, 401 or 403 with a `WWW-Authenticate: Bearer` challenge (any body).",
            example: "Then the response refuses the access token",
            func: step_fn!(refuses_token),
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

/// One answer a scenario accepts: a status (`None`: any 4xx) and the Spine code of its
/// issue (`None`: any code).
#[derive(Debug, Clone, PartialEq)]
struct Accepted {
    status: Option<u16>,
    code: Option<String>,
}

impl std::fmt::Display for Accepted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.status, &self.code) {
            (Some(s), Some(c)) => write!(f, "{s} {c}"),
            (Some(s), None) => write!(f, "{s} with any Spine error code"),
            (None, _) => write!(f, "any 4xx GP Connect error"),
        }
    }
}

/// `422 INVALID_PARAMETER or 400 BAD_REQUEST` (`,` also separates), or `4xx`.
fn parse_accepted(text: &str) -> Result<Vec<Accepted>, Stop> {
    let mut out = Vec::new();
    for item in text
        .split(" or ")
        .flat_map(|p| p.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let mut words = item.split_whitespace();
        let status = words.next().unwrap_or_default();
        let code = words.next().map(str::to_owned);
        let status = if status.eq_ignore_ascii_case("4xx") {
            None
        } else {
            Some(
                status
                    .parse::<u16>()
                    .ok()
                    .filter(|s| (400..600).contains(s))
                    .ok_or_else(|| {
                        Stop::error(format!(
                            "`{item}` is not `<status> <SPINE_CODE>` or `4xx` (in \"{text}\")"
                        ))
                    })?,
            )
        };
        if words.next().is_some() {
            return Err(Stop::error(format!(
                "`{item}` has more than a status and a Spine code (in \"{text}\")"
            )));
        }
        out.push(Accepted { status, code });
    }
    if out.is_empty() {
        return Err(Stop::error("no accepted GP Connect error is named"));
    }
    Ok(out)
}

fn alternatives(accepted: &[Accepted]) -> String {
    accepted
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The response is a GP Connect error (GPConnect-OperationOutcome-1, a Spine error
/// code) that one of `accepted` describes.
fn check_gp_error(w: &AssureWorld, accepted: &[Accepted]) -> StepResult {
    let actual = w.response()?.received.status;
    let by_status: Vec<&Accepted> = accepted
        .iter()
        .filter(|a| {
            a.status
                .map_or((400..500).contains(&actual), |s| s == actual)
        })
        .collect();
    if by_status.is_empty() {
        return fail(
            Finding::new(
                FindingKind::Status,
                format!("the request is answered {}", alternatives(accepted)),
            )
            .expected(alternatives(accepted), actual.to_string()),
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
    let matched = by_status.iter().any(|a| {
        a.code
            .as_ref()
            .map_or(!codes.is_empty(), |c| codes.contains(c))
    });
    if !matched {
        let wanted: Vec<&Accepted> = by_status.into_iter().collect();
        let names: Vec<String> = wanted
            .iter()
            .map(|a| {
                a.code
                    .clone()
                    .unwrap_or_else(|| "a Spine error code".into())
            })
            .collect();
        return fail(
            Finding::new(
                FindingKind::Body,
                format!(
                    "no issue carries the Spine error code {} ({SPINE_ERROR_SYSTEM})",
                    names.join(" or ")
                ),
            )
            .expected(
                names.join(" or "),
                format_list(&codes, "no Spine error code"),
            ),
        );
    }
    Ok(())
}

async fn gp_connect_error(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let accepted = Accepted {
        status: Some(arg(ctx, 2).parse().unwrap_or_default()),
        code: Some(arg(ctx, 1)),
    };
    check_gp_error(w, &[accepted])
}

async fn one_of_gp_errors(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let accepted = parse_accepted(&w.expand(&arg(ctx, 1))?)?;
    check_gp_error(w, &accepted)
}

async fn error_or_answer(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let accepted = parse_accepted(&w.expand(&arg(ctx, 1))?)?;
    if w.response()?.received.status != 200 {
        return check_gp_error(w, &accepted).map_err(|stop| match stop {
            Stop::Fail(mut f) if f.kind == FindingKind::Status => {
                f.expected = Some(format!("{} or 200", alternatives(&accepted)));
                Stop::Fail(f)
            }
            other => other,
        });
    }
    let text = w.expand(&arg(ctx, 2))?;
    let values = super::fhirpath::evaluate(w, &text)?;
    if values == ["true"] {
        return Ok(());
    }
    fail(
        Finding::new(
            FindingKind::Body,
            format!("a 200 answer must make `{text}` true"),
        )
        .expected("true", format_list(&values, "empty")),
    )
}

async fn any_client_error(w: &mut AssureWorld, _: &Context) -> StepResult {
    check_gp_error(
        w,
        &[Accepted {
            status: None,
            code: None,
        }],
    )
}

/// RFC 6750 section 3: a 401 or 403 for a bearer token carries a `Bearer` challenge.
fn bearer_challenge(w: &AssureWorld) -> Option<&str> {
    w.response()
        .ok()?
        .received
        .header("WWW-Authenticate")
        .filter(|v| v.trim_start().to_ascii_lowercase().starts_with("bearer"))
}

/// GP Connect answers a malformed token with 400 BAD_REQUEST; RFC 6750 section 3.1,
/// which GP Connect adopts for bearer token errors, with 401 (invalid_token, or no
/// credentials) or 403 (insufficient_scope) and a Bearer challenge.
async fn refuses_token(w: &mut AssureWorld, _: &Context) -> StepResult {
    let actual = w.response()?.received.status;
    match actual {
        400 => check_gp_error(
            w,
            &[Accepted {
                status: Some(400),
                code: Some("BAD_REQUEST".into()),
            }],
        ),
        401 | 403 if bearer_challenge(w).is_some() => Ok(()),
        401 | 403 => fail(
            Finding::new(
                FindingKind::Header,
                format!("an RFC 6750 {actual} carries a WWW-Authenticate Bearer challenge"),
            )
            .expected(
                "WWW-Authenticate: Bearer ...",
                w.response()?
                    .received
                    .header("WWW-Authenticate")
                    .unwrap_or("absent")
                    .to_owned(),
            ),
        ),
        _ => fail(
            Finding::new(FindingKind::Status, "the access token is refused")
                .expected(TOKEN_REFUSALS, actual.to_string()),
        ),
    }
}

const TOKEN_REFUSALS: &str =
    "400 BAD_REQUEST, or 401 / 403 with a WWW-Authenticate Bearer challenge (RFC 6750)";

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

    #[test]
    fn accepted_errors_parse_from_alternatives() {
        let a = parse_accepted("422 INVALID_PARAMETER or 400 BAD_REQUEST, 4xx").unwrap();
        assert_eq!(
            a,
            [
                Accepted {
                    status: Some(422),
                    code: Some("INVALID_PARAMETER".into())
                },
                Accepted {
                    status: Some(400),
                    code: Some("BAD_REQUEST".into())
                },
                Accepted {
                    status: None,
                    code: None
                },
            ]
        );
        assert_eq!(
            alternatives(&a),
            "422 INVALID_PARAMETER or 400 BAD_REQUEST or any 4xx GP Connect error"
        );
        for bad in ["", "OK INVALID_PARAMETER", "200 OK", "422 A B"] {
            assert!(parse_accepted(bad).is_err(), "{bad}");
        }
    }
}
