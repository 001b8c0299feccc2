//! Steps for what FHIR R4 allows in more than one way: an error with or without its
//! OperationOutcome, a status class, a refusal or a disregarded header, and versions a
//! server may or may not keep.

use cucumber::step::Context;

use super::data::scalar_text;
use super::{arg, StepDef, GIVEN_WHEN, THEN};
use crate::outcome::{fail, Finding, FindingKind, StepResult, Stop};
use crate::step_fn;
use crate::world::AssureWorld;

pub fn steps() -> Vec<StepDef> {
    vec![
        StepDef {
            kinds: THEN,
            pattern: r"the error response carries an OperationOutcome",
            usage: "the error response carries an OperationOutcome",
            help: "For a 4xx or 5xx answer, checks the body is an OperationOutcome with at least one issue. Any other answer is not an error, so there is nothing to check: not applicable.",
            example: "Then the error response carries an OperationOutcome",
            func: step_fn!(error_outcome),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response status is ([1-5])xx",
            usage: "the response status is <n>xx",
            help: "Checks the status code is in a class (4xx: any client error).",
            example: "Then the response status is 4xx",
            func: step_fn!(status_class),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response status is (\d{3}), or 200 with a content type matching {Q}",
            usage: r#"the response status is <code>, or 200 with a content type matching "<regex>""#,
            help: "Checks the request was refused with that status, or answered 200 with a Content-Type (parameters included) matching the regular expression, e.g. a server that disregards an Accept header it cannot satisfy and answers in a format it has.",
            example: r#"Then the response status is 406, or 200 with a content type matching "^application/fhir\+(json|xml)""#,
            func: step_fn!(refused_or_answered_as),
        },
        StepDef {
            kinds: THEN,
            pattern: r"I capture the version of the resource as {Q}",
            usage: r#"I capture the version of the resource as "<variable>""#,
            help: "Stores `meta.versionId` of the resource in the response. Without one the server does not version it: the variable is empty and the step not applicable.",
            example: r#"Then I capture the version of the resource as "before""#,
            func: step_fn!(capture_version),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the version of the resource differs from {Q}",
            usage: r#"the version of the resource differs from "<version>""#,
            help: "Checks the resource in the response has a `meta.versionId` other than the one given (captured before a change); not applicable when none was captured (no versioning).",
            example: r#"Then the version of the resource differs from "{before}""#,
            func: step_fn!(version_differs),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the version of the resource can be read on its own",
            usage: "the version of the resource can be read on its own",
            help: "Reads the version of the resource in the response (`GET [type]/[id]/_history/[versionId]`) and checks it answers 200 with that id and `meta.versionId`. Not applicable when the resource has no `meta.versionId` (no versioning): nothing is sent.",
            example: "Then the version of the resource can be read on its own",
            func: step_fn!(vread_current),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the request carries If-Match with the version last read",
            usage: "the request carries If-Match with the version last read",
            help: "Sets `If-Match` on the next request to the last response's ETag, or else to the weak ETag of its `meta.versionId`; with neither (no versioning) the request goes without it. Servers that want version-aware updates may refuse an update without it.",
            example: "Given the request carries If-Match with the version last read",
            func: step_fn!(if_match_last),
        },
    ]
}

async fn error_outcome(w: &mut AssureWorld, _: &Context) -> StepResult {
    let status = w.response()?.received.status;
    if status < 400 {
        return Err(Stop::not_applicable(format!(
            "the target answered {status}, not an error, so there is no error body to check"
        )));
    }
    let body = w.json()?;
    match body.resource_type() {
        Some("OperationOutcome") if body.get("issue").is_some_and(|i| !i.items().is_empty()) => {
            Ok(())
        }
        Some("OperationOutcome") => fail(
            Finding::new(FindingKind::Body, "the OperationOutcome has no issue")
                .expected("at least one issue", "none"),
        ),
        other => fail(
            Finding::new(
                FindingKind::Body,
                format!("the {status} answer carries no OperationOutcome"),
            )
            .expected("OperationOutcome", other.unwrap_or("no resourceType")),
        ),
    }
}

async fn status_class(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let class: u16 = arg(ctx, 1).parse().unwrap_or_default();
    let actual = w.response()?.received.status;
    if actual / 100 == class {
        Ok(())
    } else {
        fail(
            Finding::new(FindingKind::Status, "unexpected status code")
                .expected(format!("{class}xx"), actual.to_string()),
        )
    }
}

async fn refused_or_answered_as(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let refusal: u16 = arg(ctx, 1).parse().unwrap_or_default();
    let pattern = w.expand(&arg(ctx, 2))?;
    let re = regex::Regex::new(&pattern)
        .map_err(|e| Stop::error(format!("invalid regular expression: {e}")))?;
    let received = &w.response()?.received;
    let content_type = received.header("Content-Type").unwrap_or("none");
    match received.status {
        s if s == refusal => Ok(()),
        200 if re.is_match(content_type) => Ok(()),
        200 => fail(
            Finding::new(
                FindingKind::Header,
                "answered 200 in a content type it was not asked for, and not one allowed here",
            )
            .expected(format!("matches /{pattern}/"), content_type),
        ),
        s => fail(
            Finding::new(FindingKind::Status, "unexpected status code")
                .expected(format!("{refusal}, or 200"), s.to_string()),
        ),
    }
}

fn version_of(w: &AssureWorld) -> Result<Option<String>, Stop> {
    Ok(w.json()?
        .get("meta")
        .and_then(|m| m.get("versionId"))
        .map(scalar_text))
}

async fn capture_version(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let version = version_of(w)?;
    w.vars
        .insert(arg(ctx, 1), version.clone().unwrap_or_default());
    match version {
        Some(_) => Ok(()),
        None => Err(Stop::not_applicable(
            "the resource has no meta.versionId: the server does not version it",
        )),
    }
}

async fn version_differs(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let before = w.expand(&arg(ctx, 1))?;
    if before.is_empty() {
        return Err(Stop::not_applicable(
            "no version was captured before (the server does not version the resource)",
        ));
    }
    match version_of(w)? {
        Some(now) if now != before => Ok(()),
        Some(now) => fail(
            Finding::new(FindingKind::Behaviour, "the version did not change")
                .expected(format!("a versionId other than {before}"), now)
                .at("meta.versionId"),
        ),
        None => fail(
            Finding::new(
                FindingKind::Body,
                "the resource lost its meta.versionId: it had one before",
            )
            .expected(format!("a versionId other than {before}"), "none")
            .at("meta.versionId"),
        ),
    }
}

async fn vread_current(w: &mut AssureWorld, _: &Context) -> StepResult {
    let json = w.json()?;
    let (Some(kind), Some(id)) = (
        json.resource_type().map(str::to_owned),
        json.get("id").map(scalar_text),
    ) else {
        return fail(
            Finding::new(
                FindingKind::Body,
                "the response is not a resource with an id",
            )
            .expected("a resource with an id", "none"),
        );
    };
    let Some(version) = version_of(w)? else {
        return Err(Stop::not_applicable(
            "the resource has no meta.versionId (the server does not version it), so there is no version to read",
        ));
    };
    w.set_header("Accept", "application/fhir+json".into());
    w.send("GET", &format!("/{kind}/{id}/_history/{version}"))
        .await?;
    let status = w.response()?.received.status;
    if status != 200 {
        return fail(
            Finding::new(FindingKind::Status, "the version cannot be read").expected(
                format!("200 for GET {kind}/{id}/_history/{version}"),
                status.to_string(),
            ),
        );
    }
    let read = w.json()?;
    let got = (
        read.resource_type().unwrap_or("no resourceType").to_owned(),
        read.get("id")
            .map(scalar_text)
            .unwrap_or_else(|| "no id".into()),
        version_of(w)?.unwrap_or_else(|| "no versionId".into()),
    );
    if got == (kind.clone(), id.clone(), version.clone()) {
        return Ok(());
    }
    fail(
        Finding::new(
            FindingKind::Body,
            "the vread answered another resource or version",
        )
        .expected(
            format!("{kind}/{id} version {version}"),
            format!("{}/{} version {}", got.0, got.1, got.2),
        ),
    )
}

async fn if_match_last(w: &mut AssureWorld, _: &Context) -> StepResult {
    let last = w.response()?;
    let etag = last.received.header("ETag").map(str::to_owned);
    let from_body = w
        .json()
        .ok()
        .and_then(|b| b.get("meta").and_then(|m| m.get("versionId")))
        .map(|v| format!("W/\"{}\"", scalar_text(v)));
    if let Some(value) = etag.or(from_body) {
        w.set_header("If-Match", value);
    }
    Ok(())
}
