//! Per-scenario state handed to steps: the request being built, the last response,
//! captured variables, the evidence gathered and what each step did.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use assure_fhir::model::Node;

use crate::client::{Client, Outgoing, Received};
use crate::evidence::Exchange;

/// What every scenario of a run shares, read-only.
pub struct RunContext {
    pub client: Client,
    pub base_url: String,
    /// Suite inputs by name (secret ones included; the redactor knows them).
    pub inputs: BTreeMap<String, String>,
    /// Folder that relative file paths in steps resolve against.
    pub files_dir: std::path::PathBuf,
    pub exchange_counter: AtomicU64,
    /// Sent with every request unless a step sets the same header.
    pub default_headers: Vec<(String, String)>,
    /// Packages named by the suites (empty: the core package from the cache).
    pub packages: Vec<String>,
    /// Loaded on first use: most runs never need FHIR definitions.
    pub fhir: OnceLock<crate::fhir_env::FhirContext>,
    /// The profile validator over those packages, built on first use.
    pub validator: OnceLock<Option<Arc<assure_fhir::validate::Validator>>>,
    /// The terminology server the validator asks what the packages cannot decide.
    pub terminology: Option<Arc<dyn assure_fhir::terminology::Terminology>>,
    /// Counterparts the suites asked for, by stub set name, for the system under test
    /// to call; `{counterpart.<name>}` is each one's base URL.
    pub counterparts: Vec<(String, Arc<crate::counterpart::Counterpart>)>,
}

impl RunContext {
    /// FHIR packages and the type model, loaded once per run on first use.
    pub fn fhir(&self) -> &crate::fhir_env::FhirContext {
        self.fhir.get_or_init(|| {
            let release = assure_fhir::package::FhirRelease::R4;
            crate::fhir_env::load(&self.packages, release).unwrap_or_else(|e| {
                crate::fhir_env::FhirContext {
                    packages: None,
                    model: None,
                    warnings: vec![e],
                }
            })
        })
    }

    /// The validator over the run's packages; `None` when no package could be loaded.
    pub fn validator(&self) -> Option<&Arc<assure_fhir::validate::Validator>> {
        self.validator
            .get_or_init(|| {
                let packages = self.fhir().packages.clone()?;
                let options = assure_fhir::validate::ValidatorOptions::default();
                let mut v = assure_fhir::validate::Validator::new(packages, options);
                if let Some(server) = &self.terminology {
                    v = v.with_terminology_server(server.clone());
                }
                Some(Arc::new(v))
            })
            .as_ref()
    }

    pub fn counterpart(&self, name: &str) -> Option<&Arc<crate::counterpart::Counterpart>> {
        self.counterparts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
    }

    pub fn next_exchange_id(&self) -> String {
        format!(
            "ex-{}",
            self.exchange_counter.fetch_add(1, Ordering::Relaxed) + 1
        )
    }
}

/// A finding: the target did something the scenario says it must not.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    pub message: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// Profile validation issues behind the finding, each pointing into the captured
    /// response of `exchange`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<ValidationIssue>,
}

/// One issue a profile check found, located in the captured response.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ValidationIssue {
    /// fatal, error, warning or information.
    pub severity: String,
    pub code: String,
    pub message: String,
    /// FHIRPath-style location: `Patient.identifier[0].system`.
    pub expression: Option<String>,
    pub line: Option<u32>,
    pub col: Option<u32>,
    pub profile: Option<String>,
    pub element: Option<String>,
    /// The exchange whose response body the line and column are in.
    pub exchange: Option<String>,
}

impl std::fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.severity)?;
        if let (Some(line), Some(col)) = (self.line, self.col) {
            write!(f, " at {line}:{col}")?;
        }
        if let Some(e) = &self.expression {
            write!(f, " {e}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(p) = &self.profile {
            write!(f, " ({p})")?;
        }
        Ok(())
    }
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            expected: None,
            actual: None,
            issues: Vec::new(),
        }
    }

    #[must_use]
    pub fn expected(mut self, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self.actual = Some(actual.into());
        self
    }
}

pub type StepResult = Result<(), Failure>;

/// What one step did, as the world saw it.
#[derive(Debug, Clone)]
pub struct StepRecord {
    pub line: usize,
    pub failure: Option<Failure>,
    pub exchanges: Vec<String>,
    pub duration_ms: f64,
}

/// The last response, with its JSON parsed at most once.
pub struct LastResponse {
    pub received: Received,
    pub exchange_id: String,
    json: OnceLock<Result<Node, String>>,
}

impl LastResponse {
    pub fn new(received: Received, exchange_id: String) -> Self {
        LastResponse {
            received,
            exchange_id,
            json: OnceLock::new(),
        }
    }

    /// The body as FHIR JSON.
    pub fn json(&self) -> Result<&Node, Failure> {
        self.parsed(None)
    }

    /// The body as a FHIR resource: JSON, or FHIR XML read with the type definitions
    /// of `packages` (XML does not say which elements repeat), so that every check
    /// works the same on either format.
    pub fn parsed(&self, packages: Option<&assure_fhir::PackageSet>) -> Result<&Node, Failure> {
        let parsed = self
            .json
            .get_or_init(|| match std::str::from_utf8(&self.received.body) {
                Err(e) => Err(format!(
                    "the response body is not UTF-8 text (invalid byte at offset {})",
                    e.valid_up_to()
                )),
                Ok(text) if text.trim().is_empty() => Err("the response body is empty".to_owned()),
                Ok(text) if text.trim_start().starts_with('<') => match packages {
                    Some(set) => {
                        let types = match set.releases().first() {
                            Some(release) => set.types(*release),
                            None => {
                                return Err("the response body is XML, and no loaded FHIR package defines the types to read it".to_owned())
                            }
                        };
                        assure_fhir::xml::parse_resource(text, &types)
                            .map_err(|e| format!("the response body is not FHIR XML: {e}"))
                    }
                    None => Err(
                        "the response body is XML: reading FHIR XML needs the FHIR packages of the suite (none are loaded)"
                            .to_owned(),
                    ),
                },
                Ok(text) => assure_fhir::model::parse_json(text)
                    .map_err(|e| format!("the response body is not JSON: {e}")),
            });
        parsed.as_ref().map_err(|e| Failure::new(e.clone()))
    }
}

#[derive(Default)]
pub struct AssureWorld {
    pub ctx: Option<Arc<RunContext>>,
    pub vars: BTreeMap<String, String>,
    pub request: Outgoing,
    query: Vec<(String, String)>,
    pub last: Option<LastResponse>,
    pub exchanges: Vec<Exchange>,
    pub records: Vec<StepRecord>,
    /// How many journal entries of each counterpart earlier steps have consumed.
    pub journal_marks: BTreeMap<String, usize>,
    /// The last request a counterpart received, for the request checks.
    pub received: Option<crate::counterpart::JournalEntry>,
    step_exchanges: Vec<String>,
    /// GP Connect security (JWT + Spine headers) for the next request, if any.
    pub gpconnect: Option<crate::client::gpconnect::GpcRequest>,
}

impl std::fmt::Debug for AssureWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssureWorld")
            .field("vars", &self.vars.keys())
            .finish_non_exhaustive()
    }
}

impl cucumber::World for AssureWorld {
    type Error = std::convert::Infallible;

    async fn new() -> Result<Self, Self::Error> {
        Ok(AssureWorld::default())
    }
}

impl AssureWorld {
    pub fn ctx(&self) -> &Arc<RunContext> {
        self.ctx
            .as_ref()
            .expect("the before hook sets the run context")
    }

    /// Replaces `{name}` with captured variables, suite inputs or built-ins.
    pub fn expand(&self, text: &str) -> Result<String, Failure> {
        static VAR: OnceLock<regex::Regex> = OnceLock::new();
        let re = VAR.get_or_init(|| {
            regex::Regex::new(r"\{([A-Za-z_][A-Za-z0-9_.-]*)\}").expect("static regex")
        });
        let mut missing = None;
        let out = re.replace_all(text, |c: &regex::Captures<'_>| {
            let name = &c[1];
            match self.lookup(name) {
                Some(v) => v,
                None => {
                    missing.get_or_insert_with(|| name.to_owned());
                    c[0].to_owned()
                }
            }
        });
        match missing {
            None => Ok(out.into_owned()),
            Some(name) => {
                let known: Vec<&str> = self.variable_names().collect();
                let mut message = format!("unknown variable `{{{name}}}`");
                if let Some(best) = crate::diagnostic::closest(&name, known.iter().copied()).first()
                {
                    message.push_str(&format!(" (did you mean `{{{best}}}`?)"));
                }
                Err(Failure::new(message))
            }
        }
    }

    fn lookup(&self, name: &str) -> Option<String> {
        if name == "base_url" {
            return Some(self.ctx().base_url.clone());
        }
        if let Some(set) = name.strip_prefix("counterpart.") {
            return self.ctx().counterpart(set).map(|c| c.base_url().to_owned());
        }
        self.vars
            .get(name)
            .or_else(|| self.ctx().inputs.get(name))
            .cloned()
    }

    fn variable_names(&self) -> impl Iterator<Item = &str> {
        self.vars
            .keys()
            .chain(self.ctx().inputs.keys())
            .map(String::as_str)
            .chain(["base_url"])
    }

    /// Records evidence made outside `send` (a request a counterpart received).
    pub fn add_exchange(&mut self, exchange: Exchange) {
        self.step_exchanges.push(exchange.id.clone());
        self.exchanges.push(exchange);
    }

    pub fn set_header(&mut self, name: &str, value: String) {
        self.request
            .headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.request.headers.push((name.to_owned(), value));
    }

    pub fn add_query(&mut self, name: String, value: String) {
        self.query.push((name, value));
    }

    /// Resolves a path against the target's base URL; absolute URLs are kept.
    pub fn url_for(&self, path: &str) -> String {
        let mut url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            let base = self.ctx().base_url.trim_end_matches('/');
            format!("{base}/{}", path.trim_start_matches('/'))
        };
        if !self.query.is_empty() {
            let pairs: Vec<String> = self
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", encode_query(k), encode_query(v)))
                .collect();
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&pairs.join("&"));
        }
        url
    }

    /// Sends the request built so far, records the exchange, and resets the builder.
    pub async fn send(&mut self, method: &str, path: &str) -> StepResult {
        let path = self.expand(path)?;
        let absolute = path.starts_with("http://") || path.starts_with("https://");
        if self.ctx().base_url.is_empty() && !absolute {
            return Err(Failure::new(format!(
                "no target to send `{path}` to: this run has no --target (a consumer suite); use an absolute URL"
            )));
        }
        let mut out = std::mem::take(&mut self.request);
        let ctx = self.ctx().clone();
        for (k, v) in ctx.default_headers.iter().rev() {
            if !out
                .headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case(k))
            {
                out.headers.insert(0, (k.clone(), v.clone()));
            }
        }
        if let Some(gpc) = self.gpconnect.take() {
            // Built now, so that `iat` is the time of sending; removed headers stay out.
            for (name, value) in gpc.headers_at(chrono::Utc::now().timestamp()) {
                out.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
                if let Some(value) = value {
                    out.headers.push((name, value));
                }
            }
        }
        out.method = method.to_owned();
        out.url = self.url_for(&path);
        self.query.clear();
        let id = ctx.next_exchange_id();
        let outcome = ctx.client.send(&out, id.clone()).await;
        self.exchanges.push(outcome.exchange);
        self.step_exchanges.push(id.clone());
        match outcome.received {
            Ok(received) => {
                self.last = Some(LastResponse {
                    received,
                    exchange_id: id,
                    json: OnceLock::new(),
                });
                Ok(())
            }
            Err(e) => {
                self.last = None;
                Err(Failure::new(format!("{} {}: {e}", out.method, out.url)))
            }
        }
    }

    pub fn response(&self) -> Result<&LastResponse, Failure> {
        self.last
            .as_ref()
            .ok_or_else(|| Failure::new("no response to check: no request has been sent yet"))
    }

    /// The last response's body as a FHIR resource (JSON, or XML read with the run's
    /// FHIR packages).
    pub fn json(&self) -> Result<&Node, Failure> {
        let last = self.response()?;
        let xml = last
            .received
            .body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'<');
        if xml {
            let packages = self.ctx.as_ref().and_then(|c| c.fhir().packages.clone());
            return last.parsed(packages.as_deref());
        }
        last.json()
    }

    /// Records a finished step; called by the step wrapper.
    pub fn record(&mut self, line: usize, failure: Option<Failure>, duration_ms: f64) {
        let exchanges = std::mem::take(&mut self.step_exchanges);
        self.records.push(StepRecord {
            line,
            failure,
            exchanges,
            duration_ms,
        });
    }
}

fn encode_query(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:/|,$*".contains(&b) {
            // `|` and `:` stay readable: FHIR token searches are written that way.
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: &str) -> LastResponse {
        LastResponse::new(
            Received {
                status: 200,
                headers: Vec::new(),
                body: body.as_bytes().to_vec(),
                elapsed: std::time::Duration::ZERO,
            },
            "ex-1".into(),
        )
    }

    #[test]
    fn an_xml_body_needs_packages_to_be_read_and_json_does_not() {
        let xml = response(r#"<Patient xmlns="http://hl7.org/fhir"><id value="2"/></Patient>"#);
        let err = xml.parsed(None).unwrap_err();
        assert!(
            err.message
                .contains("reading FHIR XML needs the FHIR packages"),
            "{}",
            err.message
        );
        let json = response(r#"{"resourceType": "Patient", "id": "2"}"#);
        assert_eq!(json.parsed(None).unwrap().resource_type(), Some("Patient"));
        assert!(response("  ").json().is_err());
    }
}
