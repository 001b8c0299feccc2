//! Test data that sets itself up and cleans up. Before scenarios run, each input that
//! names server data (`exists` / `absent` in suite.toml) is checked once; with
//! `--seed-data`, a missing one is created from its `seed` body. Every resource the run
//! creates is recorded, and deleted at the end where the server supports delete.

use std::collections::BTreeMap;
use std::sync::Mutex;

use assure_fhir::model::Node;
use serde::{Deserialize, Serialize};

use crate::client::{Outgoing, Received};
use crate::evidence::Exchange;
use crate::suite::Suite;
use crate::world::{encode_query, RunContext};

/// What the setup found about one input.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InputCheck {
    pub input: String,
    /// The value checked (masked when secret).
    pub value: String,
    /// `GET <url>`.
    pub request: String,
    pub state: CheckState,
    /// What the target answered, and how to fix it when it is a problem.
    pub message: String,
    pub exchanges: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    /// As the suite needs it: the data exists (or, for `absent`, does not).
    Ok,
    /// Missing: the scenarios that use it do not run.
    Missing,
    /// Found where the suite needs it absent: the scenarios still run (a target that
    /// answers every id is as likely as real data under that id), with a warning.
    Present,
    /// Created with `--seed-data`.
    Seeded,
    /// The check itself could not be made (no answer, not FHIR): the scenarios still
    /// run, since their own checks will show what the target does.
    Unknown,
}

/// A resource the run created on the target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Created {
    pub resource_type: String,
    pub id: String,
    /// The scenario that created it, or `setup` for seeded data.
    pub by: String,
    pub exchange: String,
    pub state: CreatedState,
    /// The exchange that deleted it, or why it was left behind.
    pub note: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CreatedState {
    /// Deleted, by a scenario or by the clean-up.
    Deleted,
    /// Still on the target.
    LeftBehind,
}

/// What the run created, shared by its scenarios.
#[derive(Debug, Default)]
pub struct Ledger {
    created: Mutex<Vec<Created>>,
}

impl Ledger {
    /// Records what an exchange did to server data: a 201 created something; a
    /// successful DELETE removed it.
    pub fn observe(&self, by: &str, out: &Outgoing, received: &Received, exchange: &str) {
        let mut created = self.created.lock().unwrap_or_else(|p| p.into_inner());
        match out.method.as_str() {
            "POST" | "PUT" if received.status == 201 => {
                if let Some((resource_type, id)) = created_identity(out, received) {
                    created.push(Created {
                        resource_type,
                        id,
                        by: by.to_owned(),
                        exchange: exchange.to_owned(),
                        state: CreatedState::LeftBehind,
                        note: String::new(),
                    });
                }
            }
            "DELETE" if (200..300).contains(&received.status) => {
                if let Some((resource_type, id)) = type_and_id(&out.url) {
                    for c in created
                        .iter_mut()
                        .filter(|c| c.resource_type == resource_type && c.id == id)
                    {
                        c.state = CreatedState::Deleted;
                        c.note = format!("deleted by {by} ({exchange})");
                    }
                }
            }
            _ => {}
        }
    }

    pub fn take(&self) -> Vec<Created> {
        std::mem::take(&mut *self.created.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The type and id of what a 201 created: from `Location`, else from the body.
fn created_identity(out: &Outgoing, received: &Received) -> Option<(String, String)> {
    if let Some(found) = received.header("Location").and_then(type_and_id) {
        return Some(found);
    }
    let body = std::str::from_utf8(&received.body).ok()?;
    let node = assure_fhir::parse_json(body).ok()?;
    let id = node.get("id").and_then(Node::as_str)?;
    let resource_type = node
        .resource_type()
        .map(str::to_owned)
        .or_else(|| type_and_id(&out.url).map(|(t, _)| t))?;
    Some((resource_type, id.to_owned()))
}

/// `Type/id` in a URL (`.../Patient/123`, `.../Patient/123/_history/1`); a URL that
/// ends with a type alone (a create) has no id.
pub fn type_and_id(url: &str) -> Option<(String, String)> {
    let path = url.split(['?', '#']).next()?;
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let end = match segments.iter().rposition(|s| *s == "_history") {
        Some(h) => h,
        None => segments.len(),
    };
    if end < 2 {
        return None;
    }
    let (t, id) = (segments[end - 2], segments[end - 1]);
    let is_type = t.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && t.chars().all(|c| c.is_ascii_alphanumeric());
    (is_type && !id.is_empty() && !id.starts_with('$')).then(|| (t.to_owned(), id.to_owned()))
}

/// How to check one input, from suite.toml.
struct Check<'a> {
    input: &'a str,
    path: &'a str,
    must_exist: bool,
}

/// What the setup learnt: each checked input, and the ones scenarios must not use.
#[derive(Debug, Default)]
pub struct Setup {
    pub checks: Vec<InputCheck>,
    pub exchanges: Vec<Exchange>,
}

impl Setup {
    /// Inputs whose data is missing, with why: the scenarios that use them do not run.
    pub fn unusable(&self) -> BTreeMap<String, String> {
        self.checks
            .iter()
            .filter(|c| c.state == CheckState::Missing)
            .map(|c| (c.input.clone(), c.message.clone()))
            .collect()
    }

    /// Checks that could not be settled, or found data that should be absent: said in
    /// the report, never a reason to skip a scenario.
    pub fn doubts(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| matches!(c.state, CheckState::Present | CheckState::Unknown))
            .map(|c| format!("setup: {}", c.message))
            .collect()
    }
}

/// Checks every input the suites say names server data, once each; with `seed`,
/// creates what is missing first. Seeded inputs take the id the server gave.
pub async fn prepare(
    suites: &[&Suite],
    ctx: &RunContext,
    capabilities: Option<&crate::capability::Capabilities>,
    inputs: &mut BTreeMap<String, String>,
    seed: bool,
    shown: &BTreeMap<String, String>,
) -> Setup {
    let mut setup = Setup::default();
    if ctx.base_url.is_empty() {
        return setup;
    }
    let mut done = Vec::new();
    // Seeds first: later checks (an NHS number search) may find what a seed created.
    let mut decls: Vec<(&Suite, &str)> = suites
        .iter()
        .flat_map(|s| s.inputs.keys().map(move |k| (*s, k.as_str())))
        .collect();
    decls.sort_by_key(|(s, name)| s.inputs[*name].seed.is_none());
    for (suite, name) in decls {
        let decl = &suite.inputs[name];
        let (path, must_exist) = match (&decl.exists, &decl.absent) {
            (Some(p), _) => (p.as_str(), true),
            (None, Some(p)) => (p.as_str(), false),
            (None, None) => continue,
        };
        if done.contains(&name) {
            continue;
        }
        done.push(name);
        let check = Check {
            input: name,
            path,
            must_exist,
        };
        // A search the target does not declare proves nothing either way: it may
        // ignore the parameter, or refuse it.
        if let Some(reason) = undeclared_search(path, capabilities) {
            setup.checks.push(InputCheck {
                input: name.to_owned(),
                value: shown.get(name).cloned().unwrap_or_default(),
                request: format!("GET {path}"),
                state: CheckState::Unknown,
                message: format!("input `{name}` could not be checked: {reason}"),
                exchanges: vec![],
            });
            continue;
        }
        let mut result = run_check(ctx, &check, inputs, shown, &mut setup.exchanges).await;
        if result.state == CheckState::Missing && must_exist && seed {
            if let Some(body) = &decl.seed {
                let seeded = seed_input(ctx, suite, name, body, inputs, &mut setup.exchanges).await;
                match seeded {
                    Ok(()) => {
                        result = run_check(ctx, &check, inputs, shown, &mut setup.exchanges).await;
                        if result.state == CheckState::Ok {
                            result.state = CheckState::Seeded;
                            result.message =
                                format!("created with --seed-data: {}", result.message);
                        }
                    }
                    Err(e) => result
                        .message
                        .push_str(&format!("; --seed-data could not create it: {e}")),
                }
            }
        }
        setup.checks.push(result);
    }
    setup
}

/// Why a check that searches (`Patient?identifier=...`) cannot be made against the
/// target: its CapabilityStatement does not declare a parameter the search uses.
/// `_id` needs no declaration (R4: "other than _id above").
fn undeclared_search(
    path: &str,
    capabilities: Option<&crate::capability::Capabilities>,
) -> Option<String> {
    let caps = capabilities?;
    let (resource, query) = path.trim_start_matches('/').split_once('?')?;
    if resource.contains('/') {
        return None;
    }
    query
        .split('&')
        .filter_map(|pair| pair.split('=').next())
        .map(|name| name.split(':').next().unwrap_or(name))
        .filter(|name| !name.starts_with('_'))
        .find_map(|name| {
            caps.declares(&format!("{resource}.searchParam:{name}"))
                .err()
        })
}

async fn run_check(
    ctx: &RunContext,
    check: &Check<'_>,
    inputs: &BTreeMap<String, String>,
    shown: &BTreeMap<String, String>,
    exchanges: &mut Vec<Exchange>,
) -> InputCheck {
    let value = shown.get(check.input).cloned().unwrap_or_default();
    let url = match expand(check.path, inputs) {
        Ok(path) => url_for(&ctx.base_url, &path),
        Err(e) => {
            return InputCheck {
                input: check.input.to_owned(),
                value,
                request: check.path.to_owned(),
                state: CheckState::Unknown,
                message: e,
                exchanges: vec![],
            }
        }
    };
    let request = format!("GET {url}");
    let mut headers = ctx.default_headers.clone();
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case("Accept"));
    headers.push(("Accept".into(), "application/fhir+json".into()));
    let out = Outgoing {
        method: "GET".into(),
        url: url.clone(),
        headers,
        body: None,
    };
    let id = ctx.next_exchange_id();
    let outcome = ctx.client.send(&out, id.clone()).await;
    exchanges.push(outcome.exchange);
    let (state, answer) = match &outcome.received {
        Err(e) => (CheckState::Unknown, format!("no answer: {e}")),
        Ok(r) => match found(r) {
            Some(true) => (
                if check.must_exist {
                    CheckState::Ok
                } else {
                    CheckState::Present
                },
                format!("answered {} with it", r.status),
            ),
            Some(false) => (
                if check.must_exist {
                    CheckState::Missing
                } else {
                    CheckState::Ok
                },
                format!("answered {} without it", r.status),
            ),
            None => (
                CheckState::Unknown,
                format!("answered {}, which says neither", r.status),
            ),
        },
    };
    let input = check.input;
    let message = match state {
        CheckState::Missing if check.must_exist => format!(
            "input `{input}` = {value}: {request} {answer}, so it does not exist on the target; pass --input {input}=<one that exists>, or --seed-data to create test data where the server allows create"
        ),
        CheckState::Present => format!(
            "input `{input}` = {value} should not exist on the target, but {request} {answer}; if that is real data, pass --input {input}=<one the target does not have>"
        ),
        CheckState::Unknown => format!("input `{input}` = {value} could not be checked: {request} {answer}"),
        _ => format!("{request} {answer}"),
    };
    InputCheck {
        input: input.to_owned(),
        value,
        request,
        state,
        message,
        exchanges: vec![id],
    }
}

/// Whether a response shows the data: a resource (200), a searchset with a match
/// (200), or not (404/410, or an empty searchset); `None` when it says neither.
fn found(r: &Received) -> Option<bool> {
    match r.status {
        404 | 410 => return Some(false),
        200 => {}
        _ => return None,
    }
    let node = assure_fhir::parse_json(std::str::from_utf8(&r.body).ok()?).ok()?;
    if node.resource_type() != Some("Bundle") {
        return Some(node.resource_type().is_some());
    }
    let matches = node
        .get("entry")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .any(|e| {
            e.get("resource").is_some()
                && e.get("search")
                    .and_then(|s| s.get("mode"))
                    .and_then(Node::as_str)
                    .is_none_or(|m| m == "match")
        });
    Some(matches)
}

/// POSTs the input's seed body (inputs expanded) to its resource type; the input takes
/// the id the server gave when its check is a read of `Type/{input}`.
async fn seed_input(
    ctx: &RunContext,
    suite: &Suite,
    name: &str,
    body: &str,
    inputs: &mut BTreeMap<String, String>,
    exchanges: &mut Vec<Exchange>,
) -> Result<(), String> {
    let path = suite.dir.join(body);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = expand(&text, inputs)?;
    let node = assure_fhir::parse_json(&text).map_err(|e| format!("{body} is not JSON: {e}"))?;
    let resource_type = node
        .resource_type()
        .ok_or_else(|| format!("{body} has no resourceType"))?
        .to_owned();
    let mut headers = ctx.default_headers.clone();
    headers.push(("Content-Type".into(), "application/fhir+json".into()));
    headers.push(("Accept".into(), "application/fhir+json".into()));
    let out = Outgoing {
        method: "POST".into(),
        url: url_for(&ctx.base_url, &resource_type),
        headers,
        body: Some(text.into_bytes()),
    };
    let id = ctx.next_exchange_id();
    let outcome = ctx.client.send(&out, id.clone()).await;
    exchanges.push(outcome.exchange);
    let received = outcome
        .received
        .map_err(|e| format!("POST {}: {e}", out.url))?;
    if received.status != 201 {
        return Err(format!("POST {} answered {}", out.url, received.status));
    }
    ctx.ledger.observe("setup", &out, &received, &id);
    let (_, new_id) = created_identity(&out, &received)
        .ok_or("the server said 201 but gave neither a Location nor an id")?;
    let reads_itself = suite.inputs[name]
        .exists
        .as_deref()
        .is_some_and(|p| p.trim_end().ends_with(&format!("{{{name}}}")));
    if reads_itself {
        inputs.insert(name.to_owned(), new_id);
    }
    Ok(())
}

/// Deletes what the run created and no scenario deleted, where the server declares
/// delete (or declares nothing); the ledger says what became of each.
pub async fn clean_up(
    ctx: &RunContext,
    deletes: impl Fn(&str) -> bool,
    exchanges: &mut Vec<Exchange>,
) -> Vec<Created> {
    let mut created = ctx.ledger.take();
    for c in created
        .iter_mut()
        .filter(|c| c.state == CreatedState::LeftBehind)
    {
        if !deletes(&c.resource_type) {
            c.note = format!(
                "left behind: the CapabilityStatement does not declare delete for {}",
                c.resource_type
            );
            continue;
        }
        let out = Outgoing {
            method: "DELETE".into(),
            url: url_for(&ctx.base_url, &format!("{}/{}", c.resource_type, c.id)),
            headers: ctx.default_headers.clone(),
            body: None,
        };
        let id = ctx.next_exchange_id();
        let outcome = ctx.client.send(&out, id.clone()).await;
        exchanges.push(outcome.exchange);
        match outcome.received {
            Ok(r) if (200..300).contains(&r.status) => {
                c.state = CreatedState::Deleted;
                c.note = format!("deleted by the clean-up ({id})");
            }
            Ok(r) => c.note = format!("left behind: DELETE answered {} ({id})", r.status),
            Err(e) => c.note = format!("left behind: DELETE failed: {e}"),
        }
    }
    created
}

/// `{input}` replaced by its value; a name that is not an input is an error.
pub(crate) fn expand(text: &str, inputs: &BTreeMap<String, String>) -> Result<String, String> {
    let re = regex::Regex::new(r"\{([A-Za-z_][A-Za-z0-9_.-]*)\}").expect("static regex");
    let mut missing = None;
    let out = re.replace_all(text, |c: &regex::Captures<'_>| match inputs.get(&c[1]) {
        Some(v) => v.clone(),
        None => {
            missing.get_or_insert_with(|| c[1].to_owned());
            c[0].to_owned()
        }
    });
    match missing {
        None => Ok(out.into_owned()),
        Some(name) => Err(format!(
            "`{text}` names `{{{name}}}`, which is not an input"
        )),
    }
}

/// The target's base joined with a path whose query values are encoded.
fn url_for(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut url = format!("{base}/{}", path.trim_start_matches('/'));
    if !query.is_empty() {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) => format!("{}={}", encode_query(k), encode_query(v)),
                None => encode_query(pair),
            })
            .collect();
        url.push('?');
        url.push_str(&pairs.join("&"));
    }
    url
}

/// The inputs a scenario's text uses (`{name}` in its steps, doc strings, tables and
/// the body files it sends).
pub fn inputs_used(texts: &[String], files_dir: &std::path::Path) -> Vec<String> {
    let re = regex::Regex::new(r"\{([A-Za-z_][A-Za-z0-9_.-]*)\}").expect("static regex");
    let file =
        regex::Regex::new(r#"the request body is the file "([^"]+)""#).expect("static regex");
    let mut used = Vec::new();
    let mut scan = |text: &str| {
        for c in re.captures_iter(text) {
            if !used.iter().any(|u| u == &c[1]) {
                used.push(c[1].to_owned());
            }
        }
    };
    for text in texts {
        scan(text);
        if let Some(c) = file.captures(text) {
            if let Ok(body) = std::fs::read_to_string(files_dir.join(&c[1])) {
                scan(&body);
            }
        }
    }
    used
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_the_target_does_not_declare_is_not_a_check() {
        let cs = assure_fhir::parse_json(
            r#"{"resourceType": "CapabilityStatement", "rest": [{"mode": "server",
                "resource": [{"type": "Patient", "searchParam": [{"name": "family", "type": "string"}]}]}]}"#,
        )
        .unwrap();
        let caps = crate::capability::Capabilities::from_statement(&cs).unwrap();
        let why = undeclared_search("Patient?identifier=s|{nhs}", Some(&caps)).unwrap();
        assert!(why.contains("`identifier`"), "{why}");
        assert_eq!(undeclared_search("Patient?family=Smith", Some(&caps)), None);
        assert_eq!(undeclared_search("Patient?_id=p1", Some(&caps)), None);
        assert_eq!(undeclared_search("Patient/p1", Some(&caps)), None);
        // Without a statement, the search is made and its answer read.
        assert_eq!(undeclared_search("Patient?identifier=x", None), None);
    }

    #[test]
    fn type_and_id_come_from_resource_urls_only() {
        let t = |u: &str| type_and_id(u);
        assert_eq!(
            t("http://h/fhir/Patient/123/_history/2"),
            Some(("Patient".into(), "123".into()))
        );
        assert_eq!(
            t("http://h/Patient/abc"),
            Some(("Patient".into(), "abc".into()))
        );
        assert_eq!(t("http://h/fhir/Patient"), None);
        assert_eq!(t("http://h/Patient/$gpc.registerpatient"), None);
        assert_eq!(t("http://h/Patient?identifier=x"), None);
    }

    fn received(status: u16, body: &str) -> Received {
        Received {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
            elapsed: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn a_check_tells_found_from_missing_and_from_unclear() {
        assert_eq!(
            found(&received(200, r#"{"resourceType":"Patient","id":"1"}"#)),
            Some(true)
        );
        assert_eq!(found(&received(404, "")), Some(false));
        let empty = r#"{"resourceType":"Bundle","type":"searchset","total":0}"#;
        assert_eq!(found(&received(200, empty)), Some(false));
        let only_included = r#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"OperationOutcome"},"search":{"mode":"outcome"}}]}"#;
        assert_eq!(found(&received(200, only_included)), Some(false));
        let hit = r#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient"},"search":{"mode":"match"}}]}"#;
        assert_eq!(found(&received(200, hit)), Some(true));
        assert_eq!(found(&received(500, "")), None);
        assert_eq!(found(&received(200, "<html>")), None);
    }

    #[test]
    fn the_ledger_follows_creates_and_deletes() {
        let ledger = Ledger::default();
        let post = Outgoing {
            method: "POST".into(),
            url: "http://h/Patient".into(),
            ..Default::default()
        };
        let mut created = received(201, "");
        created.headers = vec![("Location".into(), "http://h/Patient/7/_history/1".into())];
        ledger.observe("s:1", &post, &created, "ex-1");
        let no_location = received(201, r#"{"resourceType":"Patient","id":"8"}"#);
        ledger.observe("s:2", &post, &no_location, "ex-2");
        ledger.observe("s:3", &post, &received(400, ""), "ex-3");
        let delete = Outgoing {
            method: "DELETE".into(),
            url: "http://h/Patient/7".into(),
            ..Default::default()
        };
        ledger.observe("s:1", &delete, &received(204, ""), "ex-4");
        let all = ledger.take();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].state, CreatedState::Deleted);
        assert_eq!(
            (all[1].id.as_str(), all[1].state),
            ("8", CreatedState::LeftBehind)
        );
    }

    #[test]
    fn check_urls_encode_query_values() {
        assert_eq!(
            url_for(
                "http://h/fhir/",
                "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|1"
            ),
            "http://h/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C1"
        );
    }
}
