//! Counterpart steps, for suites where the system under test is the client: ask the
//! consumer to act, wait for what it sends to a counterpart, and check that request.
//!
//! The consumer is triggered by the suite input `consumer_command` when it is set (a
//! shell command; the scenario's values are in its environment as `ASSURE_*`), or by a
//! person, with the scenario waiting for the request up to a timeout.

use std::time::{Duration, Instant};

use cucumber::step::Context;

use super::{arg, StepDef, ANY, GIVEN_WHEN, THEN, WHEN};
use crate::client::Received;
use crate::evidence::{Body, Exchange, Request, Response};
use crate::outcome::{fail, Finding, FindingKind, StepResult, Stop};
use crate::step_fn;
use crate::world::{AssureWorld, LastResponse};

pub fn steps() -> Vec<StepDef> {
    vec![
        StepDef {
            kinds: WHEN,
            pattern: r"the consumer is asked to {Q}",
            usage: r#"the consumer is asked to "<action>""#,
            help: "Triggers the system under test: runs the `consumer_command` input with ASSURE_ACTION and the scenario's values in its environment, or asks a person to do it.",
            example: r#"When the consumer is asked to "retrieve the record of {patient_nhs_number}""#,
            func: step_fn!(trigger),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the counterpart {Q} receives a request within (\d+|\{[A-Za-z_][A-Za-z0-9_.-]*\}) seconds",
            usage: r#"the counterpart "<stub set>" receives a request within <n or {variable}> seconds"#,
            help: "Waits for the next request the consumer sends to that counterpart and records it (and the answer) as evidence.",
            example: r#"Then the counterpart "gpconnect-provider" receives a request within 30 seconds"#,
            func: step_fn!(receive),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the counterpart {Q} answers the next request with the fault {Q}",
            usage: r#"the counterpart "<stub set>" answers the next request with the fault "<fault>""#,
            help: "Scripts a transport failure for the next request the counterpart receives, ahead of its stubs: EMPTY_RESPONSE, CONNECTION_RESET_BY_PEER, RANDOM_DATA_THEN_CLOSE or MALFORMED_RESPONSE_CHUNK.",
            example: r#"Given the counterpart "gpconnect-provider" answers the next request with the fault "CONNECTION_RESET_BY_PEER""#,
            func: step_fn!(script_fault),
        },
        StepDef {
            kinds: ANY,
            pattern: r"the counterpart {Q} admin API is called with (GET|POST|PUT|DELETE) {Q}",
            usage: r#"the counterpart "<stub set>" admin API is called with <METHOD> "<path>""#,
            help: "Calls the counterpart's WireMock admin API (`/__admin/...`: mappings, requests, scenarios, reset, settings), with the doc string below as the body if there is one; fails on an error status. The answer becomes the response the checks after it read.",
            example: "When the counterpart \"gpconnect-provider\" admin API is called with POST \"/__admin/scenarios/reset\"",
            func: step_fn!(admin_call),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the counterpart {Q} scenario {Q} is in state {Q}",
            usage: r#"the counterpart "<stub set>" scenario "<scenario>" is in state "<state>""#,
            help: "Moves a WireMock scenario of the counterpart to a state (as `PUT /__admin/scenarios/<name>/state` does).",
            example: r#"Given the counterpart "gpconnect-provider" scenario "booking" is in state "booked""#,
            func: step_fn!(scenario_state),
        },
        StepDef {
            kinds: GIVEN_WHEN,
            pattern: r"the counterpart {Q} is reset",
            usage: r#"the counterpart "<stub set>" is reset"#,
            help: "Puts the counterpart back as it started: its stub set's mappings, no requests journaled, every scenario `Started` (as `POST /__admin/reset` does).",
            example: r#"Given the counterpart "gpconnect-provider" is reset"#,
            func: step_fn!(reset),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the counterpart {Q} receives no further request within (\d+|\{[A-Za-z_][A-Za-z0-9_.-]*\}) seconds",
            usage: r#"the counterpart "<stub set>" receives no further request within <n or {variable}> seconds"#,
            help: "Waits that long and fails if the consumer sent that counterpart anything more (a consumer must not repeat a request the provider rejected).",
            example: r#"Then the counterpart "gpconnect-provider" receives no further request within 3 seconds"#,
            func: step_fn!(no_further_request),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the consumer command (fails|succeeds)",
            usage: "the consumer command fails | succeeds",
            help: "Checks how the `consumer_command` ended (non-zero exit: fails). The command reports for the consumer under test whether it could do what it was asked.",
            example: "Then the consumer command fails",
            func: step_fn!(consumer_exit),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the consumer output contains {Q}",
            usage: r#"the consumer output contains "<text>""#,
            help: "Checks what the `consumer_command` printed (stdout and stderr, case-insensitive), e.g. that the consumer told its user the reason a provider gave.",
            example: r#"Then the consumer output contains "PATIENT_NOT_FOUND""#,
            func: step_fn!(consumer_output),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the received request is a (GET|POST|PUT|PATCH|DELETE) to a path matching {Q}",
            usage: r#"the received request is a <METHOD> to a path matching "<regex>""#,
            help: "Checks the method and path (query included) of the request the counterpart received.",
            example: r#"Then the received request is a POST to a path matching "/Patient/\$gpc\.getstructuredrecord$""#,
            func: step_fn!(received_method_path),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the received request header {Q} is present",
            usage: r#"the received request header "<name>" is present"#,
            help: "Checks the received request has a header.",
            example: r#"Then the received request header "Ssp-TraceID" is present"#,
            func: step_fn!(received_header_present),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the received request header {Q} matches {Q}",
            usage: r#"the received request header "<name>" matches "<regex>""#,
            help: "Checks a header of the received request against a regular expression.",
            example: r#"Then the received request header "Accept" matches "application/fhir\+json""#,
            func: step_fn!(received_header_matches),
        },
        StepDef {
            kinds: THEN,
            pattern: r"the checks that follow read the received request body",
            usage: "the checks that follow read the received request body",
            help: "Makes the received request's body the subject of the JSON and FHIRPath checks after it.",
            example: "Then the checks that follow read the received request body",
            func: step_fn!(inspect_received),
        },
    ]
}

/// Whether a step waits on a counterpart (such scenarios run one at a time).
pub fn listens(step_text: &str) -> bool {
    step_text.starts_with("the consumer is asked to") || step_text.starts_with("the counterpart ")
}

fn env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

async fn trigger(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let action = w.expand(&arg(ctx, 1))?;
    // Requests that came before this action belong to earlier scenarios.
    let marks: Vec<(String, usize)> = w
        .ctx()
        .counterparts
        .iter()
        .map(|(n, c)| (n.clone(), c.journal().len()))
        .collect();
    w.journal_marks.extend(marks);
    let command = w
        .ctx()
        .inputs
        .get("consumer_command")
        .cloned()
        .filter(|c| !c.trim().is_empty());
    let Some(command) = command else {
        eprintln!("waiting for the consumer under test to: {action}");
        return Ok(());
    };
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(&command)
        .env("ASSURE_ACTION", &action)
        .kill_on_drop(true);
    for (name, value) in w.ctx().inputs.iter().chain(w.vars.iter()) {
        if name != "consumer_command" {
            cmd.env(format!("ASSURE_{}", env_name(name)), value);
        }
    }
    for (name, server) in &w.ctx().counterparts {
        cmd.env(
            format!("ASSURE_COUNTERPART_{}", env_name(name)),
            server.base_url(),
        );
    }
    let limit = w.ctx().client.limits().timeout;
    let output = tokio::time::timeout(limit, cmd.output())
        .await
        .map_err(|_| {
            Stop::error(format!(
                "the consumer command did not finish within {} s",
                limit.as_secs()
            ))
        })?
        .map_err(|e| Stop::error(format!("cannot run the consumer command `{command}`: {e}")))?;
    let code = output
        .status
        .code()
        .map_or("signal".to_owned(), |c| c.to_string());
    // What the consumer said and how it ended are for later checks, not findings here:
    // a consumer that handles a provider error may well exit non-zero.
    w.vars.insert("consumer_exit_code".into(), code);
    let mut said = String::from_utf8_lossy(&output.stdout).into_owned();
    said.push_str(&String::from_utf8_lossy(&output.stderr));
    w.vars
        .insert("consumer_output".into(), said.trim().to_owned());
    Ok(())
}

/// The running counterpart of that name, or which ones the suite starts.
pub(crate) fn counterpart(
    w: &AssureWorld,
    name: &str,
) -> Result<std::sync::Arc<crate::counterpart::Counterpart>, Stop> {
    match w.ctx().counterpart(name).cloned() {
        Some(server) => Ok(server),
        None => {
            let known: Vec<&str> = w
                .ctx()
                .counterparts
                .iter()
                .map(|(n, _)| n.as_str())
                .collect();
            Err(Stop::error(format!(
                "no counterpart `{name}` is running; the suite starts: {}",
                if known.is_empty() {
                    "none (list them in suite.toml `counterparts`)".to_owned()
                } else {
                    known.join(", ")
                }
            )))
        }
    }
}

/// The counterpart name and the number of seconds of a waiting step.
fn counterpart_and_seconds(w: &AssureWorld, ctx: &Context) -> Result<(String, u64), Stop> {
    let name = w.expand(&arg(ctx, 1))?;
    let wait = w.expand(&arg(ctx, 2))?;
    let seconds = wait
        .parse()
        .map_err(|_| Stop::error(format!("`{wait}` is not a number of seconds")))?;
    Ok((name, seconds))
}

async fn script_fault(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let name = w.expand(&arg(ctx, 1))?;
    let fault_name = w.expand(&arg(ctx, 2))?;
    let fault = crate::counterpart::Fault::from_name(&fault_name).ok_or_else(|| {
        let known: Vec<&str> = crate::counterpart::Fault::ALL
            .iter()
            .map(|(n, _)| *n)
            .collect();
        Stop::error(format!(
            "unknown fault `{fault_name}`; faults: {}",
            known.join(", ")
        ))
    })?;
    counterpart(w, &name)?.answer_next(crate::counterpart::Scripted::Fault(fault));
    Ok(())
}

/// Calls the admin API of a counterpart; an error status is the scenario's own
/// mistake, not the target's, so it is a harness error.
fn admin(
    w: &mut AssureWorld,
    name: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<(u16, String), Stop> {
    let server = counterpart(w, name)?;
    let (status, answer) = server.admin(method, path, body);
    if status >= 400 {
        let said: String = answer.chars().take(300).collect();
        return Err(Stop::error(format!(
            "the admin API of `{name}` answered {status} to {method} {path}: {said}"
        )));
    }
    Ok((status, answer))
}

async fn admin_call(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let name = w.expand(&arg(ctx, 1))?;
    let method = arg(ctx, 2);
    let path = w.expand(&arg(ctx, 3))?;
    let body = match &ctx.step.docstring {
        Some(text) => w.expand(text)?,
        None => String::new(),
    };
    let (status, answer) = admin(w, &name, &method, &path, body.as_bytes())?;
    let exchange_id = w.exchanges.last().cloned().unwrap_or_default();
    w.last = Some(LastResponse::new(
        Received {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: answer.into_bytes(),
            elapsed: Duration::ZERO,
        },
        exchange_id,
    ));
    Ok(())
}

async fn scenario_state(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let name = w.expand(&arg(ctx, 1))?;
    let scenario = w.expand(&arg(ctx, 2))?;
    let state = w.expand(&arg(ctx, 3))?;
    let path = format!(
        "/__admin/scenarios/{}/state",
        percent_encoding::utf8_percent_encode(&scenario, percent_encoding::NON_ALPHANUMERIC)
    );
    let body = serde_json::json!({ "state": state }).to_string();
    admin(w, &name, "PUT", &path, body.as_bytes()).map(|_| ())
}

async fn reset(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let name = w.expand(&arg(ctx, 1))?;
    admin(w, &name, "POST", "/__admin/reset", b"").map(|_| ())
}

async fn no_further_request(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let (name, seconds) = counterpart_and_seconds(w, ctx)?;
    let server = counterpart(w, &name)?;
    let mark = w.journal_marks.get(&name).copied().unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let journal = server.journal();
    let more = journal.len().saturating_sub(mark);
    if more == 0 {
        return Ok(());
    }
    let first = &journal[mark];
    fail(
        Finding::new(
            FindingKind::Request,
            format!(
        "the consumer sent {more} more request(s) to `{name}` within {seconds} s, the first {} {}",
        first.method, first.url
    ),
        )
        .expected("no further request", format!("{more}")),
    )
}

fn consumer_ran(w: &AssureWorld) -> Result<(String, String), Stop> {
    match (w.vars.get("consumer_exit_code"), w.vars.get("consumer_output")) {
        (Some(code), Some(output)) => Ok((code.clone(), output.clone())),
        _ => Err(Stop::inconclusive(
            "no consumer command ran in this scenario: set the `consumer_command` input, or have a person check this by hand",
        )),
    }
}

async fn consumer_exit(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let want_failure = arg(ctx, 1) == "fails";
    let (code, output) = consumer_ran(w)?;
    let failed = code != "0";
    if failed == want_failure {
        return Ok(());
    }
    let said: String = output.chars().take(300).collect();
    fail(
        Finding::new(
            FindingKind::Request,
            format!(
                "the consumer command exited with {code}{}",
                if said.is_empty() {
                    String::new()
                } else {
                    format!(", saying: {said}")
                }
            ),
        )
        .expected(
            if want_failure {
                "a non-zero exit (it could not do it)"
            } else {
                "exit 0"
            },
            code,
        ),
    )
}

async fn consumer_output(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let text = w.expand(&arg(ctx, 1))?;
    let (_, output) = consumer_ran(w)?;
    if output.to_lowercase().contains(&text.to_lowercase()) {
        return Ok(());
    }
    let said: String = output.chars().take(300).collect();
    fail(
        Finding::new(
            FindingKind::Request,
            format!("the consumer did not mention `{text}`"),
        )
        .expected(format!("output containing `{text}`"), said),
    )
}

async fn receive(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let (name, seconds) = counterpart_and_seconds(w, ctx)?;
    let server = counterpart(w, &name)?;
    let mark = w.journal_marks.get(&name).copied().unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let entry = loop {
        let journal = server.journal();
        if let Some(entry) = journal.get(mark) {
            break entry.clone();
        }
        if Instant::now() >= deadline {
            return fail(
                Finding::new(
                    FindingKind::Request,
                    format!("the consumer sent nothing to `{name}` within {seconds} s"),
                )
                .expected("a request", "none"),
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    w.journal_marks.insert(name.clone(), mark + 1);
    let redactor = w.ctx().client.redactor().clone();
    let exchange = Exchange {
        id: w.ctx().next_exchange_id(),
        request: Request {
            method: entry.method.clone(),
            url: redactor.url(&format!("{}{}", server.base_url(), entry.url)),
            headers: entry
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), redactor.header(k, v)))
                .collect(),
            body: (!entry.body.is_empty()).then(|| Body::capture(&entry.body, false, &redactor)),
        },
        response: entry.status.map(|status| Response {
            status,
            headers: Vec::new(),
            body: Body::capture(b"", false, &redactor),
        }),
        error: entry
            .fault
            .map(|f| format!("the counterpart answered with the fault {}", f.name())),
        started: entry
            .received_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        duration_ms: 0.0,
        overhead_us: 0,
    };
    w.add_exchange(exchange);
    w.received = Some(entry);
    Ok(())
}

fn received(w: &AssureWorld) -> Result<&crate::counterpart::JournalEntry, Stop> {
    w.received.as_ref().ok_or_else(|| {
        Stop::error(
            "no request received yet: wait for one with `the counterpart ... receives a request`",
        )
    })
}

async fn received_method_path(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let method = arg(ctx, 1);
    let pattern = w.expand(&arg(ctx, 2))?;
    let re = regex::Regex::new(&pattern)
        .map_err(|e| Stop::error(format!("invalid regular expression: {e}")))?;
    let entry = received(w)?;
    if entry.method == method && re.is_match(&entry.url) {
        Ok(())
    } else {
        fail(
            Finding::new(FindingKind::Request, "the consumer sent another request").expected(
                format!("{method} matching /{pattern}/"),
                format!("{} {}", entry.method, entry.url),
            ),
        )
    }
}

async fn received_header_present(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let name = arg(ctx, 1);
    match received(w)?.header(&name) {
        Some(_) => Ok(()),
        None => fail(
            Finding::new(
                FindingKind::Request,
                format!("the consumer did not send `{name}`"),
            )
            .expected("present", "absent"),
        ),
    }
}

async fn received_header_matches(w: &mut AssureWorld, ctx: &Context) -> StepResult {
    let name = arg(ctx, 1);
    let pattern = w.expand(&arg(ctx, 2))?;
    let re = regex::Regex::new(&pattern)
        .map_err(|e| Stop::error(format!("invalid regular expression: {e}")))?;
    let value = received(w)?.header(&name).ok_or_else(|| {
        Finding::new(
            FindingKind::Request,
            format!("the consumer did not send `{name}`"),
        )
        .expected(format!("matches /{pattern}/"), "absent")
    })?;
    if re.is_match(value) {
        Ok(())
    } else {
        fail(
            Finding::new(
                FindingKind::Request,
                format!("header `{name}` does not match"),
            )
            .expected(format!("matches /{pattern}/"), value.to_owned()),
        )
    }
}

async fn inspect_received(w: &mut AssureWorld, _: &Context) -> StepResult {
    let entry = received(w)?.clone();
    let exchange_id = w.exchanges.last().cloned().unwrap_or_default();
    w.last = Some(LastResponse::new(
        Received {
            status: 0,
            headers: entry.headers,
            body: entry.body,
            elapsed: Duration::ZERO,
        },
        exchange_id,
    ));
    Ok(())
}
