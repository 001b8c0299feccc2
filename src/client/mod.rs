//! HTTP to the supplier: the only way steps reach a target. It applies limits (body
//! cap, time bound) and records every exchange, redacted and bounded, before any
//! check reads it. Checks see the whole body (up to `--max-body`); the evidence keeps
//! its first `--evidence-body-limit` bytes, with the size and hash of all of it.

pub mod gpconnect;
pub mod tls;

use std::time::{Duration, Instant};

use crate::evidence::{Body, Exchange, Redactor, Request, Response};

/// Limits applied to every exchange.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Whole-exchange time bound, from sending to the last body byte.
    pub timeout: Duration,
    /// Response bodies larger than this fail the step and are cut in the evidence.
    pub max_body_bytes: u64,
    /// Bytes of each body kept in the evidence (`--evidence-body-limit`).
    pub evidence_body_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(30),
            max_body_bytes: 10 * 1024 * 1024,
            evidence_body_bytes: crate::evidence::DEFAULT_EVIDENCE_BODY_LIMIT,
        }
    }
}

/// A request as a scenario built it.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// The response as received, unredacted, for checks to read.
#[derive(Debug, Clone)]
pub struct Received {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What one exchange produced: the evidence, and the response when there was one.
pub struct Outcome {
    pub exchange: Exchange,
    pub received: Result<Received, String>,
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    limits: Limits,
    redactor: Redactor,
}

impl Client {
    /// A client for the target; `tls` applies to every request it sends.
    pub fn new(
        limits: Limits,
        redactor: Redactor,
        tls: &tls::Tls,
    ) -> Result<Client, reqwest::Error> {
        let builder = reqwest::Client::builder()
            .user_agent(concat!("assure/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(limits.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none());
        let http = tls.apply(builder).build()?;
        Ok(Client {
            http,
            limits,
            redactor,
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// A body as evidence: redacted, cut at the evidence limit, hashed whole.
    pub fn capture(&self, bytes: &[u8]) -> Body {
        Body::capture_limited(
            bytes,
            false,
            &self.redactor,
            self.limits.evidence_body_bytes,
        )
    }

    /// Sends one request; never fails: transport problems are part of the outcome.
    pub async fn send(&self, out: &Outgoing, id: String) -> Outcome {
        let started_wall = chrono::Utc::now();
        let started = Instant::now();
        let request = Request {
            method: out.method.clone(),
            url: self.redactor.url(&out.url),
            headers: out
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), self.redactor.header(k, v)))
                .collect(),
            body: out.body.as_ref().map(|b| self.capture(b)),
        };
        let before_wait = started.elapsed();
        let result = tokio::time::timeout(self.limits.timeout, self.exchange(out)).await;
        let waited = started.elapsed() - before_wait;
        let received = match result {
            Ok(r) => r,
            Err(_) => Err(format!(
                "no complete response within {:.1} s (the --timeout limit)",
                self.limits.timeout.as_secs_f64()
            )),
        };
        let response = match &received {
            Ok(r) => Some(Response {
                status: r.status,
                headers: r
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), self.redactor.header(k, v)))
                    .collect(),
                body: self.capture(&r.body),
            }),
            Err(_) => None,
        };
        let mut exchange = Exchange {
            id,
            request,
            response,
            error: received.as_ref().err().cloned(),
            started: started_wall.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            overhead_us: 0,
        };
        let received = match received {
            Ok(r) if r.body.len() as u64 > self.limits.max_body_bytes => {
                if let Some(resp) = &mut exchange.response {
                    resp.body.truncated = true;
                }
                Err(format!(
                    "response body is larger than the {} byte limit (--max-body)",
                    self.limits.max_body_bytes
                ))
            }
            other => other,
        };
        if let Err(e) = &received {
            exchange.error = Some(e.clone());
        }
        exchange.overhead_us = started.elapsed().saturating_sub(waited).as_micros() as u64;
        Outcome { exchange, received }
    }

    async fn exchange(&self, out: &Outgoing) -> Result<Received, String> {
        let method = reqwest::Method::from_bytes(out.method.as_bytes())
            .map_err(|_| format!("`{}` is not an HTTP method", out.method))?;
        let mut builder = self.http.request(method, &out.url);
        for (k, v) in &out.headers {
            builder = builder.header(k, v);
        }
        if let Some(body) = &out.body {
            builder = builder.body(body.clone());
        }
        let started = Instant::now();
        let mut response = builder.send().await.map_err(|e| transport_error(&e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // Read at most one byte past the cap: enough to know the body is over it,
        // without holding a hostile 500 MB answer in memory.
        let cap = self.limits.max_body_bytes.saturating_add(1);
        // Sized from Content-Length (never past the cap): no doubling on the way up.
        let hint = response.content_length().unwrap_or(0).min(cap);
        let mut body = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
        while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&e))? {
            let room = cap.saturating_sub(body.len() as u64) as usize;
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() as u64 >= cap {
                break;
            }
        }
        Ok(Received {
            status,
            headers,
            body,
            elapsed: started.elapsed(),
        })
    }
}

/// A transport error in words a supplier can act on, with its causes.
fn transport_error(e: &reqwest::Error) -> String {
    // Handshake failures need words of their own: "could not connect" hides the cause.
    if let Some(tls) = tls::explain_failure(e) {
        return tls;
    }
    let mut message = if e.is_connect() {
        "could not connect".to_owned()
    } else if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the response body could not be read".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}
