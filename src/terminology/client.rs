//! The HTTP side of the terminology client: OAuth2 client-credentials tokens and the
//! FHIR R4 terminology operations `ValueSet/$validate-code`, `ValueSet/$expand`,
//! `CodeSystem/$lookup` and the `CodeSystem` search, answered as plain values or a [`TxError`] that says
//! whether the server can be reached at all.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::settings::{Secret, TxSettings};

/// Why an operation got no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum TxError {
    /// No connection, or no answer in time: nothing more will be asked this run.
    Unreachable(String),
    /// The credentials were refused: nothing more will be asked this run.
    Refused(String),
    /// The server answered, but not with a verdict on this question.
    NoVerdict(String),
}

/// A terminology operation.
#[derive(Debug, Clone)]
pub enum Op {
    /// `ValueSet/$validate-code`.
    ValueSetCode {
        url: String,
        system: Option<String>,
        code: String,
    },
    /// `CodeSystem/$lookup`.
    Lookup { system: String, code: String },
    /// `ValueSet/$expand`, at most `count` codes.
    Expand { url: String, count: usize },
    /// `CodeSystem?url=`: whether the server holds the code system at all.
    KnowsSystem { system: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Verdict {
        result: bool,
        message: Option<String>,
    },
    Displays(Vec<String>),
    /// Every (system, code) of the expansion; `complete`: nothing was left out.
    Expansion {
        codes: Vec<(String, String)>,
        complete: bool,
    },
}

pub struct Client {
    http: reqwest::Client,
    settings: TxSettings,
    token: tokio::sync::Mutex<Option<(Secret, Instant)>>,
}

impl Client {
    pub fn new(settings: TxSettings) -> Result<Client, String> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("assure/", env!("CARGO_PKG_VERSION")))
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| format!("failed to build the terminology client: {e}"))?;
        Ok(Client {
            http,
            settings,
            token: tokio::sync::Mutex::new(None),
        })
    }

    pub async fn run(&self, op: &Op) -> Result<Answer, TxError> {
        let (path, query) = match op {
            Op::ValueSetCode { url, system, code } => {
                let mut q = vec![("url", url.clone()), ("code", code.clone())];
                q.extend(system.clone().map(|s| ("system", s)));
                ("ValueSet/$validate-code", q)
            }
            Op::Lookup { system, code } => (
                "CodeSystem/$lookup",
                vec![("system", system.clone()), ("code", code.clone())],
            ),
            Op::Expand { url, count } => (
                "ValueSet/$expand",
                vec![("url", url.clone()), ("count", count.to_string())],
            ),
            Op::KnowsSystem { system } => (
                "CodeSystem",
                vec![("url", system.clone()), ("_summary", "true".into())],
            ),
        };
        let body = match self.get(path, &query).await {
            // $lookup of a code the server's code system lacks.
            Err(TxError::NoVerdict(why))
                if matches!(op, Op::Lookup { .. }) && why.contains(" 404") =>
            {
                return Ok(Answer::Verdict {
                    result: false,
                    message: Some(why),
                })
            }
            other => other?,
        };
        match op {
            Op::ValueSetCode { .. } => verdict(&body),
            Op::Lookup { .. } => Ok(Answer::Displays(displays(&body))),
            Op::Expand { .. } => expansion(&body),
            Op::KnowsSystem { .. } => {
                let total = body.get("total").and_then(Value::as_u64);
                let entries = body
                    .get("entry")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                Ok(Answer::Verdict {
                    result: total.unwrap_or(entries as u64) > 0 || entries > 0,
                    message: None,
                })
            }
        }
    }

    /// GETs `{base}/{path}`, with a token when one is configured; a 401 is retried
    /// once with a fresh token.
    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, TxError> {
        let url = format!("{}/{path}", self.settings.base);
        for attempt in 0..2 {
            let mut request = self
                .http
                .get(&url)
                .query(query)
                .header("Accept", "application/fhir+json");
            if self.settings.auth.is_some() {
                let token = self.token(attempt > 0).await?;
                request = request.bearer_auth(token.expose());
            }
            let response = request.send().await.map_err(|e| self.unreachable(&e))?;
            let status = response.status().as_u16();
            if status == 401 && attempt == 0 && self.settings.auth.is_some() {
                continue;
            }
            let text = read_capped(response)
                .await
                .map_err(|e| self.unreachable(&e))?;
            if status == 401 || status == 403 {
                return Err(TxError::Refused(format!(
                    "{} answered {status} to our token",
                    self.settings.base
                )));
            }
            let json: Option<Value> = serde_json::from_str(&text).ok();
            if !(200..300).contains(&status) {
                let said = json.as_ref().and_then(outcome_text).unwrap_or_default();
                return Err(TxError::NoVerdict(format!(
                    "{} answered {status}{}",
                    self.settings.base,
                    if said.is_empty() {
                        String::new()
                    } else {
                        format!(": {said}")
                    }
                )));
            }
            return json.ok_or_else(|| {
                TxError::NoVerdict(format!(
                    "{} answered with something not JSON",
                    self.settings.base
                ))
            });
        }
        Err(TxError::Refused(format!(
            "{} refused a fresh token",
            self.settings.base
        )))
    }

    /// A bearer token from the token endpoint, kept until shortly before it expires.
    async fn token(&self, fresh: bool) -> Result<Secret, TxError> {
        let Some(auth) = &self.settings.auth else {
            return Err(TxError::Refused("no credentials configured".into()));
        };
        let mut held = self.token.lock().await;
        if let Some((token, until)) = held.as_ref() {
            if !fresh && Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let mut form = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", auth.client_id.clone()),
            ("client_secret", auth.client_secret.expose().to_string()),
        ];
        form.extend(auth.scope.clone().map(|s| ("scope", s)));
        let response = self
            .http
            .post(&auth.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = response.status().as_u16();
        let text = read_capped(response)
            .await
            .map_err(|e| self.unreachable(&e))?;
        if !(200..300).contains(&status) {
            return Err(TxError::Refused(format!(
                "the token endpoint {} answered {status} to client `{}`",
                auth.token_url, auth.client_id
            )));
        }
        let json: Value = serde_json::from_str(&text).map_err(|_| {
            TxError::Refused(format!(
                "the token endpoint {} answered with something not JSON",
                auth.token_url
            ))
        })?;
        let token = json
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                TxError::Refused(format!(
                    "the token endpoint {} gave no access_token",
                    auth.token_url
                ))
            })?;
        let lifetime = json
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(300);
        let until = Instant::now() + Duration::from_secs(lifetime.saturating_sub(30).max(1));
        crate::redact::learn([token.as_bytes()]);
        let token = Secret::new(token.to_string());
        *held = Some((token.clone(), until));
        Ok(token)
    }

    fn unreachable(&self, e: &reqwest::Error) -> TxError {
        if e.is_timeout() {
            return TxError::Unreachable(format!(
                "no answer from {} within {} s",
                self.settings.base,
                self.settings.timeout.as_secs_f32()
            ));
        }
        let mut why = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            why = s.to_string();
            source = s.source();
        }
        TxError::Unreachable(format!("{}: {why}", self.settings.base))
    }
}

/// Answers larger than this are not terminology answers this client needs.
const MAX_ANSWER: usize = 32 << 20;

async fn read_capped(mut response: reqwest::Response) -> Result<String, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_ANSWER {
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

fn parameters(body: &Value) -> impl Iterator<Item = &Value> {
    body.get("parameter")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn named<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    parameters(body).find(|p| p.get("name").and_then(Value::as_str) == Some(name))
}

fn verdict(body: &Value) -> Result<Answer, TxError> {
    let result = named(body, "result")
        .and_then(|p| p.get("valueBoolean"))
        .and_then(Value::as_bool)
        .ok_or_else(|| TxError::NoVerdict("the answer has no `result` parameter".into()))?;
    let message = named(body, "message")
        .and_then(|p| p.get("valueString"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Answer::Verdict { result, message })
}

fn displays(body: &Value) -> Vec<String> {
    let mut out: Vec<String> = named(body, "display")
        .and_then(|p| p.get("valueString"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .into_iter()
        .collect();
    for d in
        parameters(body).filter(|p| p.get("name").and_then(Value::as_str) == Some("designation"))
    {
        let parts = d
            .get("part")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for part in parts {
            if part.get("name").and_then(Value::as_str) == Some("value") {
                out.extend(
                    part.get("valueString")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                );
            }
        }
    }
    out
}

fn expansion(body: &Value) -> Result<Answer, TxError> {
    let exp = body
        .get("expansion")
        .ok_or_else(|| TxError::NoVerdict("the answer is not an expanded ValueSet".into()))?;
    let mut codes = Vec::new();
    collect(exp, &mut codes);
    let total = exp.get("total").and_then(Value::as_u64);
    let paged = exp
        .get("offset")
        .and_then(Value::as_u64)
        .is_some_and(|o| o > 0);
    let complete = !paged && total == Some(codes.len() as u64);
    Ok(Answer::Expansion { codes, complete })
}

fn collect(node: &Value, out: &mut Vec<(String, String)>) {
    for c in node
        .get("contains")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(s), Some(code)) = (
            c.get("system").and_then(Value::as_str),
            c.get("code").and_then(Value::as_str),
        ) {
            out.push((s.to_string(), code.to_string()));
        }
        collect(c, out);
    }
}

/// The first issue's text of an OperationOutcome.
fn outcome_text(body: &Value) -> Option<String> {
    let issue = body.get("issue")?.as_array()?.first()?;
    issue
        .get("diagnostics")
        .and_then(Value::as_str)
        .or_else(|| issue.pointer("/details/text").and_then(Value::as_str))
        .map(|t| t.chars().take(300).collect())
}
