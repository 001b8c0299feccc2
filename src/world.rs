//! Per-scenario state handed to steps: the request being built, the last response,
//! captured variables, the evidence gathered and what each step did.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use assure_fhir::model::Node;

use crate::client::{Client, Outgoing, Received};
use crate::evidence::Exchange;
use crate::outcome::{Finding, FindingKind, ScenarioFacts, Sink, StepEnd, StepRecord, Stop};
pub use crate::outcome::{StepResult, ValidationIssue};

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
    /// Where steps publish what they did, for the report collector.
    pub sink: Sink,
    /// What the run created on the target, for the clean-up.
    pub ledger: crate::test_data::Ledger,
    /// A valid NHS number (test range, check digit) unique to this run, so that data a
    /// run creates never meets an earlier run's: `{run_nhs_number}`.
    pub run_nhs_number: String,
}

/// A random 10-digit NHS number in the 999 test range with a valid check digit.
pub fn random_nhs_number() -> String {
    loop {
        let n = uuid::Uuid::new_v4().as_u128();
        let mut digits: Vec<u32> = vec![9, 9, 9];
        digits.extend((0..6).map(|i| ((n >> (i * 8)) % 10) as u32));
        let sum: u32 = digits
            .iter()
            .enumerate()
            .map(|(i, d)| d * (10 - i as u32))
            .sum();
        let check = (11 - sum % 11) % 11;
        // 10 is not a valid check digit: such numbers are never issued.
        if check < 10 {
            digits.push(check);
            return digits.iter().map(|d| d.to_string()).collect();
        }
    }
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
    pub fn json(&self) -> Result<&Node, Finding> {
        self.parsed(None)
    }

    /// The body as a FHIR resource: JSON, or FHIR XML read with the type definitions
    /// of `packages` (XML does not say which elements repeat), so that every check
    /// works the same on either format.
    pub fn parsed(&self, packages: Option<&assure_fhir::PackageSet>) -> Result<&Node, Finding> {
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
        parsed.as_ref().map_err(|e| {
            let mut f = Finding::new(FindingKind::Body, e.clone());
            f.evidence = Some(crate::outcome::EvidenceSpan {
                exchange: Some(self.exchange_id.clone()),
                path: None,
            });
            f
        })
    }
}

#[derive(Default)]
pub struct AssureWorld {
    pub ctx: Option<Arc<RunContext>>,
    pub vars: BTreeMap<String, String>,
    pub request: Outgoing,
    query: Vec<(String, String)>,
    pub last: Option<LastResponse>,
    /// This scenario's id (`<feature file>:<line>`), set before its first step.
    pub scenario: String,
    /// Ids of the exchanges this scenario made, in order.
    pub exchanges: Vec<String>,
    /// Whether the scenario has had its first response from the target.
    facts: Option<ScenarioFacts>,
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
    pub fn expand(&self, text: &str) -> Result<String, Stop> {
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
                Err(Stop::error(message))
            }
        }
    }

    fn lookup(&self, name: &str) -> Option<String> {
        if name == "base_url" {
            return Some(self.ctx().base_url.clone());
        }
        if name == "run_nhs_number" {
            return Some(self.ctx().run_nhs_number.clone());
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
            .chain(["base_url", "run_nhs_number"])
    }

    /// Records evidence made outside `send` (a request a counterpart received).
    pub fn add_exchange(&mut self, exchange: Exchange) {
        self.step_exchanges.push(exchange.id.clone());
        self.exchanges.push(exchange.id.clone());
        self.ctx().sink.exchange(&self.scenario, exchange);
    }

    /// Names an exchange made elsewhere (shared by scenarios) as this step's evidence.
    pub fn cite_exchange(&mut self, id: &str) {
        if !self.step_exchanges.iter().any(|e| e == id) {
            self.step_exchanges.push(id.to_owned());
        }
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
            return Err(Stop::error(format!(
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
        if let Ok(received) = &outcome.received {
            ctx.ledger.observe(&self.scenario, &out, received, &id);
        }
        ctx.sink.exchange(&self.scenario, outcome.exchange);
        self.exchanges.push(id.clone());
        self.step_exchanges.push(id.clone());
        match outcome.received {
            Ok(received) => {
                if self.facts.is_none() {
                    let facts = ScenarioFacts {
                        first_status: Some(received.status),
                    };
                    ctx.sink.facts(&self.scenario, facts.clone());
                    self.facts = Some(facts);
                }
                self.last = Some(LastResponse {
                    received,
                    exchange_id: id,
                    json: OnceLock::new(),
                });
                Ok(())
            }
            Err(e) => {
                self.last = None;
                // No answer at all: the harness cannot reach a verdict on this step.
                Err(Stop::error(format!("{} {}: {e}", out.method, out.url)))
            }
        }
    }

    pub fn response(&self) -> Result<&LastResponse, Stop> {
        self.last
            .as_ref()
            .ok_or_else(|| Stop::error("no response to check: no request has been sent yet"))
    }

    /// The last response's body as a FHIR resource (JSON, or XML read with the run's
    /// FHIR packages).
    pub fn json(&self) -> Result<&Node, Stop> {
        let last = self.response()?;
        let xml = last
            .received
            .body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'<');
        if xml {
            let packages = self.ctx.as_ref().and_then(|c| c.fhir().packages.clone());
            return Ok(last.parsed(packages.as_deref())?);
        }
        Ok(last.json()?)
    }

    /// Publishes a finished step; called by the step wrapper.
    pub fn record(&mut self, line: usize, result: StepResult, duration_ms: f64) {
        let exchanges = std::mem::take(&mut self.step_exchanges);
        let end = match result {
            Ok(()) => StepEnd::Passed,
            Err(Stop::Fail(mut finding)) => {
                // A finding about a response points at it unless it says otherwise.
                let last = self.last.as_ref().map(|l| l.exchange_id.clone());
                let span = finding.evidence.get_or_insert_with(Default::default);
                if span.exchange.is_none() {
                    span.exchange = last;
                }
                StepEnd::Stopped(Stop::Fail(finding))
            }
            Err(other) => StepEnd::Stopped(other),
        };
        if let Some(ctx) = &self.ctx {
            ctx.sink.step(StepRecord {
                scenario: self.scenario.clone(),
                line,
                end,
                exchanges,
                duration_ms,
            });
        }
    }
}

/// Percent-encodes a query name or value per RFC 3986: unreserved characters and the
/// sub-delimiters that carry FHIR search syntax (`,` `$` `:` and `/`) stay as they are;
/// everything else, `|` included, is encoded (strict servers reject a raw `|`).
pub fn encode_query(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:/,$*@!'()".contains(&b) {
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
    fn run_nhs_numbers_are_valid_test_numbers() {
        for _ in 0..50 {
            let n = random_nhs_number();
            assert_eq!(n.len(), 10);
            assert!(n.starts_with("999"));
            let d: Vec<u32> = n.chars().map(|c| c.to_digit(10).unwrap()).collect();
            let sum: u32 = (0..9).map(|i| d[i] * (10 - i as u32)).sum();
            assert_eq!((11 - sum % 11) % 11, d[9], "{n}");
        }
    }

    #[test]
    fn query_values_are_encoded_as_rfc_3986_asks() {
        assert_eq!(
            encode_query("https://fhir.nhs.uk/Id/nhs-number|9000000009"),
            "https://fhir.nhs.uk/Id/nhs-number%7C9000000009"
        );
        assert_eq!(encode_query("a b+c&d=e#f"), "a%20b%2Bc%26d%3De%23f");
        assert_eq!(encode_query("ge2020-01-01,le2021"), "ge2020-01-01,le2021");
        assert_eq!(encode_query("Müller"), "M%C3%BCller");
    }

    #[test]
    fn an_xml_body_needs_packages_to_be_read_and_json_does_not() {
        let xml = response(r#"<Patient xmlns="http://hl7.org/fhir"><id value="2"/></Patient>"#);
        let err = xml.parsed(None).unwrap_err();
        assert_eq!(err.kind, FindingKind::Body);
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
