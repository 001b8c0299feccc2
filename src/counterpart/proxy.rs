//! `proxyBaseUrl`: a matched request passed on to another server (a real test
//! environment), with `additionalProxyRequestHeaders` added and
//! `removeProxyRequestHeaders` taken away, and its answer relayed.

use std::sync::LazyLock;
use std::time::Duration;

use super::http::Answer;
use super::mapping::Mapping;
use super::request::Incoming;
use super::template;

static CLIENT: LazyLock<Option<reqwest::Client>> = LazyLock::new(|| {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .ok()
});

/// Headers that describe one hop; each side writes its own.
fn hop_by_hop(name: &str) -> bool {
    [
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "expect",
        "upgrade",
        "proxy-connection",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

fn failure(status: u16, why: String) -> Answer {
    Answer {
        status,
        reason: None,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: why.into_bytes(),
        dribble: None,
    }
}

pub async fn forward(m: &Mapping, r: &Incoming) -> Answer {
    let Some(proxy) = &m.response.proxy else {
        return failure(500, "no proxy configured".into());
    };
    let data = m
        .response
        .templated
        .then(|| template::model(r, &[], &m.response.parameters));
    let render = |t: &template::Template| match &data {
        Some(d) => t.render(d).map_err(|e| e.to_string()),
        None => Ok(t.source().to_owned()),
    };
    let base = match render(&proxy.base_url) {
        Ok(b) => b.trim_end_matches('/').to_owned(),
        Err(e) => return failure(500, e),
    };
    let mut path = r.url.clone();
    if let Some(prefix) = &proxy.url_prefix_to_remove {
        if let Some(rest) = path.strip_prefix(prefix.as_str()) {
            path = rest.to_owned();
        }
    }
    let Some(client) = CLIENT.as_ref() else {
        return failure(500, "no HTTP client for proxying".into());
    };
    let Ok(method) = reqwest::Method::from_bytes(r.method.as_bytes()) else {
        return failure(500, format!("cannot proxy method {}", r.method));
    };
    let mut req = client.request(method, format!("{base}{path}"));
    for (k, v) in &r.headers {
        let removed = proxy
            .remove_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case(k));
        if !hop_by_hop(k) && !removed {
            req = req.header(k.as_str(), v.as_str());
        }
    }
    for (k, v) in &proxy.additional_headers {
        match render(v) {
            Ok(v) => req = req.header(k.as_str(), v),
            Err(e) => return failure(500, e),
        }
    }
    if !r.body.is_empty() {
        req = req.body(r.body.clone());
    }
    let res = match req.send().await {
        Ok(res) => res,
        Err(e) => return failure(500, format!("proxying to {base} failed: {e}")),
    };
    let status = res.status().as_u16();
    let headers: Vec<(String, String)> = res
        .headers()
        .iter()
        .filter(|(k, _)| !hop_by_hop(k.as_str()))
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let mut res = res;
    loop {
        match res.chunk().await {
            Ok(Some(c)) => {
                if body.len() + c.len() > super::http::MAX_BODY {
                    return failure(502, "the proxied answer is larger than the body cap".into());
                }
                body.extend_from_slice(&c);
            }
            Ok(None) => break,
            Err(e) => return failure(502, format!("reading the proxied answer failed: {e}")),
        }
    }
    Answer {
        status,
        reason: None,
        headers,
        body,
        dribble: None,
    }
}
