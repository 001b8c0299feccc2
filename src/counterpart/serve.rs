//! Each mapping as a wiremock `Mock`: a `Match` that applies the request pattern (and
//! scenario state), and a `Respond` that renders the response. Faults and the mapping
//! that answered travel back to the front layer in `x-assure-*` headers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use wiremock::{Match, Request, Respond, ResponseTemplate};

use super::mapping::*;
use super::template::RequestContext;

/// Headers the front layer adds to requests and reads off responses.
pub const MAPPING_HEADER: &str = "x-assure-mapping";
pub const FAULT_HEADER: &str = "x-assure-fault";
pub const REQUEST_ID_HEADER: &str = "x-assure-request-id";
pub const BASE_URL_HEADER: &str = "x-assure-base-url";

pub type Scenarios = Arc<Mutex<HashMap<String, String>>>;

pub struct MappingMatcher {
    pub mapping: Arc<Mapping>,
    pub scenarios: Scenarios,
}

pub struct MappingResponder {
    pub index: usize,
    pub mapping: Arc<Mapping>,
    pub scenarios: Scenarios,
}

/// Headers as the client sent them, without the front layer's own.
fn client_headers(req: &Request) -> Vec<(String, String)> {
    req.headers
        .iter()
        .filter(|(k, _)| !k.as_str().starts_with("x-assure-"))
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn path_and_query(req: &Request) -> String {
    match req.url.query() {
        Some(q) => format!("{}?{q}", req.url.path()),
        None => req.url.path().to_owned(),
    }
}

impl Match for MappingMatcher {
    fn matches(&self, req: &Request) -> bool {
        let pattern = &self.mapping.request;
        if pattern
            .method
            .as_deref()
            .is_some_and(|m| m != req.method.as_str())
        {
            return false;
        }
        let url_ok = match &pattern.url {
            None => true,
            Some(UrlMatch::Url(u)) => *u == path_and_query(req),
            Some(UrlMatch::Path(p)) => p == req.url.path(),
            Some(UrlMatch::Pattern(re)) => re.is_match(&path_and_query(req)).unwrap_or(false),
            Some(UrlMatch::PathPattern(re)) => re.is_match(req.url.path()).unwrap_or(false),
            Some(template @ UrlMatch::PathTemplate { .. }) => {
                match template.path_params(req.url.path()) {
                    None => false,
                    Some(params) => pattern.path_params.iter().all(|(name, m)| {
                        let values: Vec<&str> = params
                            .iter()
                            .filter(|(k, _)| k == name)
                            .map(|(_, v)| v.as_str())
                            .collect();
                        m.matches_any(&values)
                    }),
                }
            }
        };
        if !url_ok {
            return false;
        }
        let query: Vec<(String, String)> = req
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (name, m) in &pattern.query {
            let values: Vec<&str> = query
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect();
            if !m.matches_any(&values) {
                return false;
            }
        }
        let headers = client_headers(req);
        for (name, m) in &pattern.headers {
            let values: Vec<&str> = headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .collect();
            if !m.matches_any(&values) {
                return false;
            }
        }
        if !pattern.body.is_empty() {
            let text = String::from_utf8_lossy(&req.body);
            let json: Option<Value> = serde_json::from_str(&text).ok();
            if !pattern
                .body
                .iter()
                .all(|p| body_matches(p, &text, json.as_ref()))
            {
                return false;
            }
        }
        match &self.mapping.scenario {
            Some(ScenarioRule {
                name,
                required_state: Some(required),
                ..
            }) => {
                let states = self.scenarios.lock().unwrap_or_else(|e| e.into_inner());
                states.get(name).map_or(SCENARIO_STARTED, String::as_str) == required
            }
            _ => true,
        }
    }
}

fn body_matches(pattern: &BodyPattern, text: &str, json: Option<&Value>) -> bool {
    match pattern {
        BodyPattern::Text(m) => m.matches(text),
        BodyPattern::EqualToJson {
            expected,
            ignore_extra_elements,
            ignore_array_order,
        } => json.is_some_and(|actual| {
            json_equal(
                expected,
                actual,
                *ignore_extra_elements,
                *ignore_array_order,
            )
        }),
        BodyPattern::MatchesJsonPath { path, matcher } => {
            let Some(json) = json else { return false };
            let found = path.select(json);
            match matcher {
                None => !found.is_empty(),
                Some(m) => {
                    let texts: Vec<String> = found
                        .iter()
                        .map(|v| match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect();
                    m.matches_any(&texts.iter().map(String::as_str).collect::<Vec<_>>())
                }
            }
        }
    }
}

/// WireMock's `equalToJson`: semantic equality, optionally ignoring extra members
/// in the actual body and the order of arrays.
pub fn json_equal(
    expected: &Value,
    actual: &Value,
    ignore_extra: bool,
    ignore_order: bool,
) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            (ignore_extra || e.len() == a.len())
                && e.iter().all(|(k, ev)| {
                    a.get(k)
                        .is_some_and(|av| json_equal(ev, av, ignore_extra, ignore_order))
                })
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return false;
            }
            if !ignore_order {
                return e
                    .iter()
                    .zip(a)
                    .all(|(ev, av)| json_equal(ev, av, ignore_extra, ignore_order));
            }
            // Each expected item claims a distinct actual item.
            let mut used = vec![false; a.len()];
            e.iter().all(|ev| {
                let hit = a
                    .iter()
                    .enumerate()
                    .find(|(i, av)| !used[*i] && json_equal(ev, av, ignore_extra, ignore_order));
                hit.map(|(i, _)| used[i] = true).is_some()
            })
        }
        (Value::Number(e), Value::Number(a)) => {
            e == a || e.as_f64().zip(a.as_f64()).is_some_and(|(e, a)| e == a)
        }
        _ => expected == actual,
    }
}

impl Respond for MappingResponder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mapping = &self.mapping;
        if let Some(ScenarioRule {
            name,
            new_state: Some(state),
            ..
        }) = &mapping.scenario
        {
            let mut states = self.scenarios.lock().unwrap_or_else(|e| e.into_inner());
            states.insert(name.clone(), state.clone());
        }
        let header = |name: &str| {
            req.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let ctx = RequestContext {
            base_url: header(BASE_URL_HEADER),
            path: req.url.path().to_owned(),
            url: path_and_query(req),
            method: req.method.as_str().to_owned(),
            id: header(REQUEST_ID_HEADER),
            body: String::from_utf8_lossy(&req.body).into_owned(),
            query: req
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            headers: client_headers(req),
            path_params: mapping
                .request
                .url
                .as_ref()
                .and_then(|u| u.path_params(req.url.path()))
                .unwrap_or_default(),
            now: chrono::Utc::now(),
        };
        let r = &mapping.response;
        let mut t = ResponseTemplate::new(r.status);
        // Framing is the front layer's job: a stub's own length would contradict it.
        let framing = |n: &str| {
            n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("transfer-encoding")
        };
        for (name, value) in r.headers.iter().filter(|(n, _)| !framing(n)) {
            // Control characters would make an invalid header (and a wiremock panic).
            let bytes: Vec<u8> = value
                .render(&ctx)
                .bytes()
                .map(|b| {
                    if b < 0x20 && b != b'\t' || b == 0x7f {
                        b' '
                    } else {
                        b
                    }
                })
                .collect();
            t = t.append_header(name.as_str(), bytes.as_slice());
        }
        match &r.body {
            ResponseBody::Empty => {}
            ResponseBody::Text(template) => {
                t = t.set_body_bytes(template.render(&ctx).into_bytes())
            }
            ResponseBody::Bytes(bytes) => t = t.set_body_bytes(bytes.clone()),
        }
        if r.delay_ms > 0 {
            t = t.set_delay(Duration::from_millis(r.delay_ms));
        }
        if let Some(fault) = r.fault {
            t = t.insert_header(FAULT_HEADER, fault.name());
        }
        t.insert_header(MAPPING_HEADER, self.index.to_string().as_str())
    }
}

/// The lowest-priority mock: no stub matched, answered WireMock-like.
pub struct NotMatched;

impl Respond for NotMatched {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body = serde_json::json!({
            "status": 404,
            "message": "Request was not matched: no stub mapping matches this request",
            "request": { "method": req.method.as_str(), "url": path_and_query(req) },
        });
        ResponseTemplate::new(404)
            .insert_header("content-type", "application/json")
            .set_body_bytes(serde_json::to_vec_pretty(&body).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_equality_honours_its_options() {
        let e = json!({"a": [1, 2], "b": 1.0});
        assert!(json_equal(&e, &json!({"b": 1, "a": [1, 2]}), false, false));
        assert!(!json_equal(&e, &json!({"a": [2, 1], "b": 1}), false, false));
        assert!(json_equal(&e, &json!({"a": [2, 1], "b": 1}), false, true));
        assert!(!json_equal(
            &e,
            &json!({"a": [1, 2], "b": 1, "c": 0}),
            false,
            false
        ));
        assert!(json_equal(
            &e,
            &json!({"a": [1, 2], "b": 1, "c": 0}),
            true,
            false
        ));
        assert!(!json_equal(&json!([1, 1]), &json!([1, 2]), false, true));
    }
}
