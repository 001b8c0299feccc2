//! The `/__admin` API with WireMock's JSON shapes: mappings (list, get, create, edit,
//! delete, reset, save, import), the request journal (list, find, count, unmatched,
//! near misses, remove, reset), scenarios (list, set state, reset), reset, settings.

use std::path::Path;

use serde_json::{json, Value};

use super::decode::Decoder;
use super::http::Answer;
use super::jackson;
use super::mapping::{Mapping, RequestPattern};
use super::request::{fit, matches, Incoming};
use super::state::State;
use super::JournalEntry;

fn reply(status: u16, body: Value) -> Answer {
    Answer {
        status,
        reason: None,
        headers: vec![
            ("Vary".into(), "Origin".into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: body.to_string().into_bytes(),
        dribble: None,
    }
}

/// No body at all (WireMock's answer to some actions, and to what it does not know).
fn empty(status: u16) -> Answer {
    Answer {
        status,
        headers: vec![("Vary".into(), "Origin".into())],
        ..Answer::default()
    }
}

/// `{}`: WireMock's answer to other actions.
fn done() -> Answer {
    reply(200, json!({}))
}

fn error(status: u16, title: &str) -> Answer {
    reply(status, json!({"errors": [{"code": 10, "title": title}]}))
}

/// Decodes JSON text from the admin API into what `decode` makes of it.
fn decode<T>(
    state: &State,
    body: &[u8],
    f: impl FnOnce(&mut Decoder<'_>, &assure_fhir::Node) -> Option<T>,
) -> Result<T, Answer> {
    let text = String::from_utf8_lossy(body).into_owned();
    let root = super::load::parse_first_value(&text)
        .map_err(|e| error(422, &format!("{} at {}", e.message, e.pos)))?;
    let file = Path::new("(admin API request)");
    let mut d = Decoder::new(file, &text, &state.files_dirs, state.set.global_templating);
    let out = f(&mut d, &root);
    match (out, d.diags.first()) {
        (Some(v), None) => Ok(v),
        (_, Some(diag)) => Err(error(
            422,
            &format!(
                "{} at {}:{}: {}",
                diag.message, diag.line, diag.col, diag.label
            ),
        )),
        (None, None) => Err(error(422, "not understood")),
    }
}

pub fn handle(state: &State, r: &Incoming) -> Answer {
    let path = r.path().trim_end_matches('/');
    let rest = path.strip_prefix("/__admin").unwrap_or(path);
    let decoded: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(super::request::percent_decode)
        .collect();
    let segs: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let m = r.method.as_str();
    match (m, segs.as_slice()) {
        ("GET", ["mappings"]) => list_mappings(state, r),
        ("POST", ["mappings"]) => match decode(state, &r.body, |d, n| d.one(n)) {
            Ok(mapping) => {
                let json = mapping.json.clone();
                state.add(mapping);
                reply(201, json)
            }
            Err(a) => a,
        },
        ("DELETE", ["mappings"]) => {
            state.clear_mappings();
            done()
        }
        ("POST", ["mappings", "reset"]) => {
            state.reset_mappings();
            empty(200)
        }
        ("POST", ["mappings", "save"]) => save(state),
        ("POST", ["mappings", "import"]) => {
            match decode(state, &r.body, |d, n| Some(d.mappings(n))) {
                Ok(list) => {
                    for mapping in list {
                        if !state.replace(mapping.clone()) {
                            state.add(mapping);
                        }
                    }
                    empty(200)
                }
                Err(a) => a,
            }
        }
        ("GET", ["mappings", id]) => match state.find(id) {
            Some(s) => reply(200, s.mapping.json.clone()),
            None => empty(404),
        },
        ("PUT", ["mappings", id]) => {
            if state.find(id).is_none() {
                return empty(404);
            }
            match decode(state, &r.body, |d, n| d.one(n)) {
                Ok(mut mapping) => {
                    mapping.id = (*id).to_owned();
                    if let Value::Object(o) = &mut mapping.json {
                        o.insert("id".into(), (*id).into());
                        o.insert("uuid".into(), (*id).into());
                    }
                    let json = mapping.json.clone();
                    state.replace(mapping);
                    reply(200, json)
                }
                Err(a) => a,
            }
        }
        ("DELETE", ["mappings", id]) => {
            if state.remove(id) {
                done()
            } else {
                empty(404)
            }
        }
        ("GET", ["requests"]) => {
            let list: Vec<Value> = state
                .journal()
                .iter()
                .rev()
                .map(|e| serve_event(state, e))
                .collect();
            let total = list.len();
            reply(
                200,
                json!({"requests": list, "meta": {"total": total}, "requestJournalDisabled": false}),
            )
        }
        ("DELETE", ["requests"]) => {
            state.clear_journal();
            done()
        }
        ("POST", ["requests", "count"]) => match pattern(state, &r.body) {
            Ok(p) => {
                let n = state
                    .journal()
                    .iter()
                    .filter(|e| matches(&p, &as_incoming(e)))
                    .count();
                reply(200, json!({"count": n, "requestJournalDisabled": false}))
            }
            Err(a) => a,
        },
        ("POST", ["requests", "find"]) => match pattern(state, &r.body) {
            Ok(p) => {
                let found: Vec<Value> = state
                    .journal()
                    .iter()
                    .filter(|e| matches(&p, &as_incoming(e)))
                    .map(logged_request)
                    .collect();
                reply(
                    200,
                    json!({"requests": found, "requestJournalDisabled": false}),
                )
            }
            Err(a) => a,
        },
        ("POST", ["requests", "remove"]) => match pattern(state, &r.body) {
            Ok(p) => {
                let removed: Vec<Value> = state
                    .journal()
                    .iter()
                    .filter(|e| matches(&p, &as_incoming(e)))
                    .map(|e| serve_event(state, e))
                    .collect();
                state.remove_entries(|e| !matches(&p, &as_incoming(e)));
                reply(
                    200,
                    json!({"requests": removed, "meta": {"total": removed.len()}, "requestJournalDisabled": false}),
                )
            }
            Err(a) => a,
        },
        ("GET", ["requests", "unmatched"]) => {
            let list: Vec<Value> = state
                .journal()
                .iter()
                .filter(|e| e.stub_id.is_none())
                .map(logged_request)
                .collect();
            reply(
                200,
                json!({"requests": list, "requestJournalDisabled": false}),
            )
        }
        ("GET", ["requests", "unmatched", "near-misses"]) => {
            let misses: Vec<Value> = state
                .journal()
                .iter()
                .filter(|e| e.stub_id.is_none())
                .flat_map(|e| near_misses(state, e))
                .collect();
            reply(200, json!({"nearMisses": misses}))
        }
        ("GET", ["requests", id]) => match state.journal().iter().find(|e| e.id == *id) {
            Some(e) => reply(200, serve_event(state, e)),
            None => empty(404),
        },
        ("DELETE", ["requests", id]) => {
            state.remove_entries(|e| e.id != *id);
            empty(200)
        }
        ("GET", ["scenarios"]) => {
            let list: Vec<Value> = state
                .scenarios()
                .into_iter()
                .map(|(name, current, states)| {
                    let mut possible = vec![super::mapping::SCENARIO_STARTED.to_owned()];
                    possible.extend(states.into_iter().filter(|s| s != super::mapping::SCENARIO_STARTED));
                    let mut in_order = state.stubs();
                    in_order.sort_by_key(|s| s.seq);
                    let mappings: Vec<Value> = in_order
                        .iter()
                        .filter(|s| s.mapping.scenario.as_ref().is_some_and(|r| r.name == name))
                        .map(|s| s.mapping.json.clone())
                        .collect();
                    json!({"id": name, "name": name, "state": current, "possibleStates": possible, "mappings": mappings})
                })
                .collect();
            reply(200, json!({"scenarios": list}))
        }
        ("POST", ["scenarios", "reset"]) => {
            state.reset_scenarios();
            done()
        }
        ("PUT", ["scenarios", name, "state"]) => {
            let known = state.scenarios();
            let Some((_, _, states)) = known.iter().find(|(n, _, _)| n == name) else {
                return error(404, &format!("Scenario {name} does not exist"));
            };
            let wanted = serde_json::from_slice::<Value>(&r.body)
                .ok()
                .and_then(|v| v.get("state").and_then(Value::as_str).map(str::to_owned));
            match wanted {
                Some(s) if states.contains(&s) || s == super::mapping::SCENARIO_STARTED => {
                    state.set_scenario(name, &s);
                    done()
                }
                Some(s) => error(400, &format!("Scenario {name} does not support state {s}")),
                None => {
                    state.set_scenario(name, super::mapping::SCENARIO_STARTED);
                    done()
                }
            }
        }
        ("POST", ["reset"]) => {
            state.reset_mappings();
            state.clear_journal();
            state.reset_scenarios();
            empty(200)
        }
        ("GET", ["settings"]) => {
            let s = state.settings.lock().map(|s| s.clone()).unwrap_or_default();
            let mut v = json!({});
            if let Some(d) = s.fixed_delay {
                v["fixedDelay"] = json!(d);
            }
            if !s.extended.is_null() {
                v["extended"] = s.extended.clone();
            }
            reply(200, json!({"settings": v}))
        }
        ("POST" | "PUT", ["settings"]) => {
            let Ok(v) = serde_json::from_slice::<Value>(&r.body) else {
                return error(422, "settings must be JSON");
            };
            let v = v.get("settings").cloned().unwrap_or(v);
            if let Ok(mut s) = state.settings.lock() {
                s.fixed_delay = v
                    .get("fixedDelay")
                    .and_then(Value::as_u64)
                    .map(|d| d.min(600_000));
                s.extended = v.get("extended").cloned().unwrap_or(Value::Null);
            }
            empty(200)
        }
        ("GET", ["health"]) => reply(
            200,
            json!({"status": "healthy", "message": "Wiremock is ok"}),
        ),
        _ => empty(404),
    }
}

fn list_mappings(state: &State, r: &Incoming) -> Answer {
    let all: Vec<Value> = state
        .stubs()
        .iter()
        .map(|s| s.mapping.json.clone())
        .collect();
    let total = all.len();
    let query = r.query();
    let num = |k: &str| {
        query
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    let offset = num("offset").unwrap_or(0);
    let limit = num("limit").unwrap_or(usize::MAX);
    let page: Vec<Value> = all.into_iter().skip(offset).take(limit).collect();
    reply(200, json!({"mappings": page, "meta": {"total": total}}))
}

/// Writes the mappings added over the API into the set's `mappings/` folder.
fn save(state: &State) -> Answer {
    let dir = state.set.dir.join("mappings");
    for stub in state.stubs().iter().filter(|s| s.loaded.is_none()) {
        let name = stub
            .mapping
            .name
            .as_deref()
            .map(|n| {
                n.chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() {
                            c.to_ascii_lowercase()
                        } else {
                            '-'
                        }
                    })
                    .collect::<String>()
            })
            .map_or_else(String::new, |n| format!("{n}-"));
        let path = dir.join(format!("{name}{}.json", stub.mapping.id));
        if let Err(e) = std::fs::write(&path, jackson::pretty(&stub.mapping.json)) {
            return error(500, &format!("cannot save {}: {e}", path.display()));
        }
    }
    empty(200)
}

fn pattern(state: &State, body: &[u8]) -> Result<RequestPattern, Answer> {
    decode(state, body, |d, n| Some(d.request_pattern(n)))
}

pub fn as_incoming(e: &JournalEntry) -> Incoming {
    Incoming {
        id: e.id.clone(),
        received_at: e.received_at,
        method: e.method.clone(),
        url: e.url.clone(),
        headers: e.headers.clone(),
        body: e.body.clone(),
        client_ip: e.client_ip.clone(),
        local_port: 0,
    }
}

fn body_fields(bytes: &[u8]) -> (String, String) {
    use base64::Engine;
    (
        String::from_utf8_lossy(bytes).into_owned(),
        base64::engine::general_purpose::STANDARD.encode(bytes),
    )
}

fn logged_request(e: &JournalEntry) -> Value {
    let r = as_incoming(e);
    let mut headers = serde_json::Map::new();
    for (k, v) in &e.headers {
        headers.insert(k.clone(), Value::String(v.clone()));
    }
    let mut query = serde_json::Map::new();
    for (k, v) in r.query() {
        let entry = query
            .entry(k.clone())
            .or_insert_with(|| json!({"key": k, "values": []}));
        if let Some(list) = entry.get_mut("values").and_then(Value::as_array_mut) {
            list.push(Value::String(v));
        }
    }
    let (body, b64) = body_fields(&e.body);
    json!({
        "url": e.url,
        "absoluteUrl": format!("{}{}", r.base_url(), e.url),
        "method": e.method,
        "clientIp": e.client_ip,
        "headers": headers,
        "cookies": r.cookies().into_iter().map(|(k, v)| (k, Value::String(v))).collect::<serde_json::Map<_, _>>(),
        "browserProxyRequest": false,
        "loggedDate": e.received_at.timestamp_millis(),
        "bodyAsBase64": b64,
        "body": body,
        "protocol": "HTTP/1.1",
        "scheme": "http",
        "host": r.host(),
        "port": r.port(),
        "loggedDateString": e.received_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "queryParams": query,
        "formParams": {},
    })
}

fn serve_event(state: &State, e: &JournalEntry) -> Value {
    let stub = e.stub_id.as_deref().and_then(|id| state.find(id));
    let (body, b64) = body_fields(&e.response_body);
    let mut headers = serde_json::Map::new();
    for (k, v) in &e.response_headers {
        headers.insert(k.clone(), Value::String(v.clone()));
    }
    let mut event = json!({
        "id": e.id,
        "request": logged_request(e),
        "response": {
            "status": e.status.unwrap_or(0),
            "headers": headers,
            "bodyAsBase64": b64,
            "body": body,
        },
        "wasMatched": e.stub_id.is_some(),
        "subEvents": [],
    });
    if let Some(s) = stub {
        event["stubMapping"] = s.mapping.json.clone();
        event["responseDefinition"] = s.mapping.json.get("response").cloned().unwrap_or(json!({}));
    }
    if let Some(f) = e.fault {
        event["response"]["fault"] = json!(f.name());
    }
    event
}

fn near_misses(state: &State, e: &JournalEntry) -> Vec<Value> {
    let r = as_incoming(e);
    let mut scored: Vec<(f64, Mapping)> = state
        .stubs()
        .iter()
        .map(|s| (fit(&s.mapping.request, &r).distance, (*s.mapping).clone()))
        .collect();
    scored.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    scored
        .into_iter()
        .take(3)
        .map(|(d, m)| {
            json!({"request": logged_request(e), "stubMapping": m.json, "matchResult": {"distance": d}})
        })
        .collect()
}
