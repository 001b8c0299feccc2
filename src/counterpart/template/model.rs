//! WireMock's request model for templates, as JSON: `request.url`, `path` (and its
//! segments and `urlPathTemplate` parameters), `pathSegments`, `query`, `headers`
//! (names lower-cased; templates are rewritten to match), `cookies`, `body`,
//! `bodyAsBase64`, `multipart` and `parts`, `method`, `host`, `port`, `scheme`,
//! `baseUrl`, `id`; and `parameters` from `transformerParameters`.

use serde_json::{json, Map, Value};

use super::super::request::Incoming;

fn grouped<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>, lower: bool) -> Value {
    let mut map: Map<String, Value> = Map::new();
    for (k, v) in pairs {
        let key = if lower {
            k.to_ascii_lowercase()
        } else {
            k.to_owned()
        };
        if let Value::Array(list) = map.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
            list.push(Value::String(v.to_owned()))
        }
    }
    Value::Object(map)
}

/// The data a response template renders against.
pub fn model(r: &Incoming, path_params: &[(String, String)], parameters: &Value) -> Value {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let path = r.path().to_owned();
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(super::super::request::percent_decode)
        .collect();
    let mut path_obj: Map<String, Value> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| (i.to_string(), Value::String(s.clone())))
        .collect();
    for (k, v) in path_params {
        path_obj.insert(k.clone(), Value::String(v.clone()));
    }
    let query = r.query();
    let cookies = r.cookies();
    let parts: Map<String, Value> = if r.is_multipart() {
        r.parts()
            .into_iter()
            .map(|p| {
                let binary = std::str::from_utf8(&p.body).is_err();
                let headers = grouped(
                    p.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                    true,
                );
                (
                    p.name.clone(),
                    json!({
                        "binary": binary,
                        "headers": headers,
                        "body": String::from_utf8_lossy(&p.body),
                        "bodyAsBase64": b64(&p.body),
                    }),
                )
            })
            .collect()
    } else {
        Map::new()
    };
    json!({
        "request": {
            "id": r.id,
            "url": r.url,
            "__path": path,
            "path": path_obj,
            "pathSegments": segments,
            "query": grouped(query.iter().map(|(k, v)| (k.as_str(), v.as_str())), false),
            "method": r.method,
            "host": r.host(),
            "port": r.port(),
            "scheme": "http",
            "baseUrl": r.base_url(),
            "clientIp": r.client_ip,
            "headers": grouped(r.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())), true),
            "cookies": grouped(cookies.iter().map(|(k, v)| (k.as_str(), v.as_str())), false),
            "body": r.body_text(),
            "bodyAsBase64": b64(&r.body),
            "multipart": r.is_multipart(),
            "parts": parts,
        },
        "parameters": parameters,
    })
}
