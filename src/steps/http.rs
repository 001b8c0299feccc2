//! HTTP steps: build and send a request, check status, headers and timing.

use cucumber::step::Context;

use super::{arg, docstring, table_rows, StepDef, GIVEN_WHEN, THEN, WHEN};
use crate::outcome::{fail, Finding, FindingKind, StepResult, Stop};
use crate::step_fn;
use crate::world::AssureWorld;

pub fn steps() -> Vec<StepDef> {
    vec![
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the request header {Q} is {Q}",
            usage: r#"the request header "<name>" is "<value>""#,
            help: "Sets a header on the next request; `{variables}` are expanded.",
            example: r#"Given the request header "Prefer" is "handling=strict""#,
            func: step_fn!(request_header),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the request headers are:",
            usage: "the request headers are:",
            help: "Sets several headers from a data table with columns | name | value |.",
            example: "Given the request headers are:\n  | name   | value                 |\n  | Accept | application/fhir+json |",
            func: step_fn!(request_headers),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the request query parameter {Q} is {Q}",
            usage: r#"the request query parameter "<name>" is "<value>""#,
            help: "Adds a query parameter (percent-encoded) to the next request.",
            example: r#"Given the request query parameter "_count" is "1""#,
            func: step_fn!(query_param),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the request accepts {Q}",
            usage: r#"the request accepts "<media type>""#,
            help: "Sets the Accept header of the next request.",
            example: r#"Given the request accepts "application/fhir+json""#,
            func: step_fn!(accepts),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the request content type is {Q}",
            usage: r#"the request content type is "<media type>""#,
            help: "Sets the Content-Type header of the next request.",
            example: r#"Given the request content type is "application/fhir+json""#,
            func: step_fn!(content_type),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the request body is:",
            usage: "the request body is:",
            help: "Uses the doc string below the step as the next request's body; `{variables}` are expanded.",
            example: "Given the request body is:\n  \"\"\"\n  {\"resourceType\": \"Patient\"}\n  \"\"\"",
            func: step_fn!(body_docstring),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the request body is the file {Q}",
            usage: r#"the request body is the file "<path>""#,
            help: "Uses a file (relative to the suite folder) as the next request's body; `{variables}` are expanded.",
            example: r#"Given the request body is the file "bodies/patient.json""#,
            func: step_fn!(body_file),
        },
        StepDef {
            kinds: WHEN,
            pattern: r"I send a (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) request to {Q}",
            usage: r#"I send a <METHOD> request to "<path or URL>""#,
            help: "Sends the request built so far to a path on the target (or an absolute URL) and records the exchange.",
            example: r#"When I send a GET request to "/Patient/{patient_id}""#,
            func: step_fn!(send),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response status is (\d{3})",
            usage: "the response status is <code>",
            help: "Checks the HTTP status code of the last response.",
            example: "Then the response status is 200",
            func: step_fn!(status_is),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response status is one of ((?:\d{3})(?:(?:, | or )\d{3})*)",
            usage: "the response status is one of <code>, <code> or <code>",
            help: "Checks the status code is one of a list.",
            example: "Then the response status is one of 406 or 415",
            func: step_fn!(status_one_of),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response header {Q} is {Q}",
            usage: r#"the response header "<name>" is "<value>""#,
            help: "Checks a response header's exact value (after `{variable}` expansion).",
            example: r#"Then the response header "ETag" is "W/\"2\"""#,
            func: step_fn!(header_is),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response header {Q} contains {Q}",
            usage: r#"the response header "<name>" contains "<text>""#,
            help: "Checks a response header contains some text.",
            example: r#"Then the response header "Content-Type" contains "fhir+json""#,
            func: step_fn!(header_contains),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response header {Q} matches {Q}",
            usage: r#"the response header "<name>" matches "<regex>""#,
            help: "Checks a response header against a regular expression.",
            example: r#"Then the response header "Location" matches "/Patient/[^/]+/_history/1$""#,
            func: step_fn!(header_matches),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response header {Q} is present",
            usage: r#"the response header "<name>" is present"#,
            help: "Checks the response has a header.",
            example: r#"Then the response header "ETag" is present"#,
            func: step_fn!(header_present),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response header {Q} is absent",
            usage: r#"the response header "<name>" is absent"#,
            help: "Checks the response does not have a header.",
            example: r#"Then the response header "Location" is absent"#,
            func: step_fn!(header_absent),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response content type is {Q}",
            usage: r#"the response content type is "<media type>""#,
            help: "Checks the Content-Type media type (parameters aside); a charset, if given, must be UTF-8.",
            example: r#"Then the response content type is "application/fhir+json""#,
            func: step_fn!(content_type_is),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response header {Q} is an HTTP date",
            usage: r#"the response header "<name>" is an HTTP date"#,
            help: "Checks a header holds an RFC 9110 HTTP-date (e.g. Last-Modified).",
            example: r#"Then the response header "Last-Modified" is an HTTP date"#,
            func: step_fn!(header_is_date),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the response time is under (\d+) ms",
            usage: "the response time is under <n> ms",
            help: "Checks how long the last response took, from sending to the last body byte.",
            example: "Then the response time is under 2000 ms",
            func: step_fn!(response_time),
        },
        StepDef {
            kinds: THEN,
            pattern: r"I capture the response header {Q} as {Q}",
            usage: r#"I capture the response header "<name>" as "<variable>""#,
            help: "Stores a response header's value in a variable for later steps.",
            example: r#"Then I capture the response header "Location" as "created""#,
            func: step_fn!(capture_header),
        },
    ]
}

async fn request_header(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let value = w.expand(&arg(ctx, 2))?;
    w.set_header(&arg(ctx, 1), value);
    Ok(())
}

async fn request_headers(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    for row in table_rows(ctx, 2)? {
        let value = w.expand(&row[1])?;
        w.set_header(&row[0], value);
    }
    Ok(())
}

async fn query_param(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let name = w.expand(&arg(ctx, 1))?;
    let value = w.expand(&arg(ctx, 2))?;
    w.add_query(name, value);
    Ok(())
}

async fn accepts(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let value = w.expand(&arg(ctx, 1))?;
    w.set_header("Accept", value);
    Ok(())
}

async fn content_type(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let value = w.expand(&arg(ctx, 1))?;
    w.set_header("Content-Type", value);
    Ok(())
}

async fn body_docstring(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let body = w.expand(&docstring(ctx)?)?;
    w.request.body = Some(body.into_bytes());
    Ok(())
}

async fn body_file(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let rel = w.expand(&arg(ctx, 1))?;
    let path = w.ctx().files_dir.join(&rel);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Stop::error(format!("cannot read the body file {}: {e}", path.display())))?;
    let body = w.expand(&text)?;
    w.request.body = Some(body.into_bytes());
    Ok(())
}

async fn send(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    w.send(&arg(ctx, 1), &arg(ctx, 2)).await
}

async fn status_is(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let expected: u16 = arg(ctx, 1).parse().unwrap_or_default();
    let actual = w.response()?.received.status;
    if actual == expected {
        Ok(())
    } else {
        fail(
            Finding::new(FindingKind::Status, "unexpected status code")
                .expected(expected.to_string(), actual.to_string()),
        )
    }
}

async fn status_one_of(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let list = arg(ctx, 1);
    let codes: Vec<u16> = list
        .split([',', ' '])
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let actual = w.response()?.received.status;
    if codes.contains(&actual) {
        Ok(())
    } else {
        fail(
            Finding::new(FindingKind::Status, "unexpected status code")
                .expected(format!("one of {list}"), actual.to_string()),
        )
    }
}

fn header<'a>(w: &'a AssureWorld, name: &str) -> Result<&'a str, Stop> {
    w.response()?.received.header(name).ok_or_else(|| {
        Finding::new(
            FindingKind::Header,
            format!("the response has no `{name}` header"),
        )
        .expected("present", "absent")
        .into()
    })
}

async fn header_is(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let name = arg(ctx, 1);
    let expected = w.expand(&arg(ctx, 2))?;
    let actual = header(w, &name)?;
    if actual == expected {
        Ok(())
    } else {
        fail(
            Finding::new(
                FindingKind::Header,
                format!("header `{name}` has another value"),
            )
            .expected(expected, actual),
        )
    }
}

async fn header_contains(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let name = arg(ctx, 1);
    let expected = w.expand(&arg(ctx, 2))?;
    let actual = header(w, &name)?;
    if actual.contains(&expected) {
        Ok(())
    } else {
        fail(
            Finding::new(
                FindingKind::Header,
                format!("header `{name}` does not contain the text"),
            )
            .expected(format!("contains {expected:?}"), actual),
        )
    }
}

async fn header_matches(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let name = arg(ctx, 1);
    let pattern = w.expand(&arg(ctx, 2))?;
    let re = regex::Regex::new(&pattern)
        .map_err(|e| Stop::error(format!("invalid regular expression: {e}")))?;
    let actual = header(w, &name)?;
    if re.is_match(actual) {
        Ok(())
    } else {
        fail(
            Finding::new(
                FindingKind::Header,
                format!("header `{name}` does not match"),
            )
            .expected(format!("matches /{pattern}/"), actual),
        )
    }
}

async fn header_present(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    header(w, &arg(ctx, 1)).map(|_| ())
}

async fn header_absent(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let name = arg(ctx, 1);
    match w.response()?.received.header(&name) {
        None => Ok(()),
        Some(v) => fail(
            Finding::new(
                FindingKind::Header,
                format!("the response has a `{name}` header"),
            )
            .expected("absent", v),
        ),
    }
}

/// Media type and charset of a Content-Type value.
pub fn media_type(value: &str) -> (String, Option<String>) {
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let charset = parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"));
    (
        media,
        charset.map(|(_, v)| v.trim().trim_matches('"').to_ascii_lowercase()),
    )
}

async fn content_type_is(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let expected = w.expand(&arg(ctx, 1))?.to_ascii_lowercase();
    let actual = header(w, "Content-Type")?;
    let (media, charset) = media_type(actual);
    if media != expected {
        return fail(
            Finding::new(FindingKind::Header, "unexpected content type").expected(expected, actual),
        );
    }
    match charset {
        Some(c) if c != "utf-8" => fail(
            Finding::new(FindingKind::Header, "FHIR content must be UTF-8")
                .expected("charset=utf-8", actual),
        ),
        _ => Ok(()),
    }
}

async fn header_is_date(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let name = arg(ctx, 1);
    let actual = header(w, &name)?;
    match chrono::DateTime::parse_from_rfc2822(actual) {
        Ok(_) if actual.ends_with("GMT") => Ok(()),
        _ => fail(
            Finding::new(
                FindingKind::Header,
                format!("header `{name}` is not an HTTP-date"),
            )
            .expected("e.g. Tue, 03 Jun 2025 10:15:00 GMT", actual),
        ),
    }
}

async fn response_time(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let limit: u64 = arg(ctx, 1).parse().unwrap_or(u64::MAX);
    let took = w.response()?.received.elapsed.as_millis() as u64;
    if took < limit {
        Ok(())
    } else {
        fail(
            Finding::new(FindingKind::Timing, "the response was too slow")
                .expected(format!("under {limit} ms"), format!("{took} ms")),
        )
    }
}

async fn capture_header(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let value = header(w, &arg(ctx, 1))?.to_owned();
    w.vars.insert(arg(ctx, 2), value);
    Ok(())
}
