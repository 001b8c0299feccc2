//! A matched stub's answer: status, headers and body rendered (templates run on a
//! blocking thread with their caps), body files read safely, `Matched-Stub-Id` and
//! `Matched-Stub-Name` added as WireMock adds them, proxying, and the delay to wait.

use std::sync::Arc;
use std::time::Duration;

use super::http::Answer;
use super::mapping::{Distribution, Mapping, ResponseBody};
use super::request::Incoming;
use super::server::Outcome;
use super::state::{State, Stub};
use super::template::{self, RenderFailure};

pub async fn answer(state: &Arc<State>, stub: &Stub, r: &Incoming) -> Outcome {
    let m = stub.mapping.clone();
    if let Some(fault) = m.response.fault {
        return Outcome::Fault(fault);
    }
    if m.response.proxy.is_some() {
        return Outcome::Answer(super::proxy::forward(&m, r).await);
    }
    let result = if m.response.templated {
        let (m2, r2, dirs) = (m.clone(), r.clone(), state.files_dirs.clone());
        tokio::task::spawn_blocking(move || render(&m2, &r2, &dirs))
            .await
            .unwrap_or_else(|e| Err(RenderFailure::Error(e.to_string())))
    } else {
        render(&m, r, &state.files_dirs)
    };
    let mut answer = match result {
        Ok(a) => a,
        Err(failure) => {
            if let RenderFailure::Limit(why) = &failure {
                eprintln!(
                    "counterpart `{}`: mapping {} answered 500: template stopped: {why}",
                    state.set.name,
                    m.label()
                );
            }
            let body = match &failure {
                RenderFailure::Limit(why) => format!("template stopped: {why}"),
                RenderFailure::Error(why) => why.clone(),
            };
            Answer {
                status: 500,
                reason: None,
                headers: vec![("Content-Type".into(), "text/plain".into())],
                body: body.into_bytes(),
                dribble: None,
            }
        }
    };
    answer
        .headers
        .push(("Matched-Stub-Id".into(), m.id.clone()));
    if let Some(name) = &m.name {
        answer
            .headers
            .push(("Matched-Stub-Name".into(), name.clone()));
    }
    if let Some((chunks, ms)) = m.response.delay.dribble {
        answer.dribble = Some((chunks, Duration::from_millis(ms)));
    }
    Outcome::Answer(answer)
}

/// Renders status, headers and body; every template of the answer shares one budget.
fn render(
    m: &Mapping,
    r: &Incoming,
    files_dirs: &[std::path::PathBuf],
) -> Result<Answer, RenderFailure> {
    let resp = &m.response;
    let data = if resp.templated {
        let params = m
            .request
            .url
            .as_ref()
            .and_then(|u| u.path_params(r.path()))
            .unwrap_or_default();
        template::begin();
        Some(template::model(r, &params, &resp.parameters))
    } else {
        None
    };
    let out = (|| {
        let render = |t: &template::Template| match &data {
            Some(d) => t.render(d),
            None => Ok(t.source().to_owned()),
        };
        let mut headers = Vec::new();
        for (name, values) in &resp.headers {
            for v in values {
                headers.push((name.clone(), clean_header(&render(v)?)));
            }
        }
        let body = match &resp.body {
            ResponseBody::Empty => Vec::new(),
            ResponseBody::Text(t) => render(t)?.into_bytes(),
            ResponseBody::Bytes(b) => b.to_vec(),
            ResponseBody::File {
                template: Some(t), ..
            } if data.is_some() => render(t)?.into_bytes(),
            ResponseBody::File { bytes, .. } => bytes.to_vec(),
            ResponseBody::FileTemplate(name) => {
                let name = render(name)?;
                let bytes = super::files::read_from(files_dirs, &name).map_err(|e| {
                    RenderFailure::Error(format!("body file `{name}` cannot be served: {e}"))
                })?;
                match &data {
                    Some(d) => {
                        let text = String::from_utf8_lossy(&bytes).into_owned();
                        let t = template::Template::parse(&text)
                            .map_err(|e| RenderFailure::Error(e.message))?;
                        t.render(d)?.into_bytes()
                    }
                    None => bytes,
                }
            }
        };
        Ok(Answer {
            status: resp.status,
            reason: resp.status_message.clone(),
            headers,
            body,
            dribble: None,
        })
    })();
    if data.is_some() {
        template::end();
    }
    out
}

/// Control characters would break the header block.
fn clean_header(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if (c < ' ' && c != '\t') || c == '\x7f' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn unit_random() -> f64 {
    let b = uuid::Uuid::new_v4();
    let n = u64::from_le_bytes(b.as_bytes()[..8].try_into().unwrap_or([1; 8]));
    ((n >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// How long to wait before answering: the stub's fixed delay and distribution, or
/// the global one.
pub fn delay(state: &State, m: &Mapping) -> Duration {
    let d = &m.response.delay;
    let global = state
        .settings
        .lock()
        .map(|s| s.fixed_delay.unwrap_or(0))
        .unwrap_or(0);
    let mut ms = if d.fixed_ms > 0 {
        d.fixed_ms as f64
    } else {
        global as f64
    };
    match d.distribution {
        Some(Distribution::Uniform { lower, upper }) => {
            ms += lower as f64 + unit_random() * (upper - lower) as f64;
        }
        Some(Distribution::LogNormal { median, sigma, max }) => {
            // Box-Muller for a standard normal draw.
            let z = (-2.0 * unit_random().ln()).sqrt()
                * (2.0 * std::f64::consts::PI * unit_random()).cos();
            let mut v = median * (sigma * z).exp();
            if let Some(max) = max {
                v = v.min(max);
            }
            ms += v.clamp(0.0, 600_000.0);
        }
        None => {}
    }
    Duration::from_millis(ms.clamp(0.0, 600_000.0) as u64)
}
