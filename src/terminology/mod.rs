//! A FHIR R4 terminology server for the validator, when one is configured
//! (`[terminology]` in assure.toml, `--tx URL`): it answers what the packages cannot
//! (codes of SNOMED CT, dm+d, LOINC; value sets built on filters or not loaded)
//! through `ValueSet/$expand` (small value sets, then checked here),
//! `ValueSet/$validate-code` and `CodeSystem/$lookup`, with OAuth2 client
//! credentials, and keeps its answers on disk. It implements the validator's
//! `Terminology` seam, which is synchronous: the HTTP runs on a thread of its own.
//!
//! A server that cannot be reached, does not answer in time, or refuses the
//! credentials is asked nothing more this run; what it would have decided is "not
//! checked: terminology server unreachable (...)", never a pass.

mod cache;
mod client;
mod settings;
#[cfg(test)]
mod tests;

pub use settings::{Secret, TerminologyConfig, TxSettings};

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use assure_fhir::terminology::{Membership, Terminology};

use cache::{AnswerCache, Key};
use client::{Answer, Client, Op, TxError};

/// `--tx URL` and `--config FILE` (its `[terminology]`), for commands that validate.
#[derive(clap::Args, Debug, Default)]
pub struct TxArgs {
    /// A FHIR R4 terminology server for codes the packages cannot check (SNOMED CT,
    /// dm+d, LOINC...); wins over `[terminology] url` [default: none].
    #[arg(long = "tx", value_name = "URL")]
    pub tx: Option<String>,
    /// Configuration file whose `[terminology]` section configures the server and
    /// its credentials (see assure.example.toml).
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
}

impl TxArgs {
    /// The configured server, started; `Err` is a message for stderr (exit 2).
    pub fn start(&self) -> Result<Option<Arc<RemoteTerminology>>, String> {
        let (config, path) = match &self.config {
            Some(path) => match crate::config::Config::load(path) {
                Ok(c) => (c.terminology, path.clone()),
                Err(d) => return Err(d.to_string()),
            },
            None => (TerminologyConfig::default(), "assure.toml".into()),
        };
        start(&config, &path, self.tx.as_deref())
    }
}

/// The server `[terminology]` and `--tx` name, started; `Err` is a message for stderr.
pub fn start(
    config: &TerminologyConfig,
    config_path: &std::path::Path,
    flag: Option<&str>,
) -> Result<Option<Arc<RemoteTerminology>>, String> {
    match TxSettings::resolve(config, config_path, flag) {
        Ok(None) => Ok(None),
        Ok(Some(settings)) => RemoteTerminology::start(settings)
            .map(Some)
            .map_err(|e| format!("error: {e}")),
        Err(d) => Err(d.to_string()),
    }
}

/// Says on stderr what the server could not do this run.
pub fn report_problems(server: &RemoteTerminology) {
    if let Some(why) = server.down() {
        eprintln!("warning: {why}; codes only it could check are reported as not checked");
    }
    if let Some(why) = server.cache_problem() {
        eprintln!("warning: {why}");
    }
}

/// The most codes a value set may expand to for it to be checked here.
const EXPAND_LIMIT: usize = 1_000;

struct Job {
    op: Op,
    reply: mpsc::SyncSender<Result<Answer, TxError>>,
}

type CodeSet = Arc<HashSet<(String, String)>>;

/// A terminology server behind the validator's `Terminology` seam.
pub struct RemoteTerminology {
    base: String,
    jobs: tokio::sync::mpsc::UnboundedSender<Job>,
    wait: Duration,
    down: Mutex<Option<TxError>>,
    cache: AnswerCache,
    /// Per value set: its complete expansion, or `None` when it has none this small.
    expansions: Mutex<HashMap<String, Option<CodeSet>>>,
    /// Per code system: whether the server holds it.
    systems: Mutex<HashMap<String, bool>>,
    asked: AtomicU64,
}

impl RemoteTerminology {
    /// Starts the client's thread; nothing is sent until a question comes.
    pub fn start(settings: TxSettings) -> Result<Arc<RemoteTerminology>, String> {
        let base = settings.base.clone();
        let wait = settings.timeout * 2 + Duration::from_secs(5);
        let cache = AnswerCache::open(settings.cache_dir.as_ref(), &base, settings.cache_ttl);
        let client = Arc::new(Client::new(settings)?);
        let (jobs, mut queue) = tokio::sync::mpsc::unbounded_channel::<Job>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("failed to start the terminology client: {e}"))?;
        std::thread::Builder::new()
            .name("terminology".into())
            .spawn(move || {
                runtime.block_on(async move {
                    while let Some(job) = queue.recv().await {
                        let client = client.clone();
                        tokio::spawn(async move {
                            let _ = job.reply.send(client.run(&job.op).await);
                        });
                    }
                });
            })
            .map_err(|e| format!("failed to start the terminology client: {e}"))?;
        Ok(Arc::new(RemoteTerminology {
            base,
            jobs,
            wait,
            down: Mutex::new(None),
            cache,
            expansions: Mutex::new(HashMap::new()),
            systems: Mutex::new(HashMap::new()),
            asked: AtomicU64::new(0),
        }))
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Why the server is asked nothing more (unreachable, credentials refused).
    pub fn down(&self) -> Option<String> {
        self.down.lock().ok()?.as_ref().map(reason)
    }

    /// Why answers could not be kept on disk, if they could not.
    pub fn cache_problem(&self) -> Option<String> {
        self.cache.problem.lock().ok()?.clone()
    }

    /// How many questions went to the server (not answered from the cache).
    pub fn asked(&self) -> u64 {
        self.asked.load(Ordering::Relaxed)
    }

    fn ask(&self, op: Op) -> Result<Answer, TxError> {
        if let Some(down) = self.down.lock().ok().and_then(|d| d.clone()) {
            return Err(down);
        }
        self.asked.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = mpsc::sync_channel(1);
        let sent = self.jobs.send(Job { op, reply });
        let result = match sent {
            Err(_) => Err(TxError::Unreachable(
                "the terminology client stopped".into(),
            )),
            Ok(()) => answer.recv_timeout(self.wait).unwrap_or_else(|_| {
                Err(TxError::Unreachable(format!(
                    "no answer from {} within {} s",
                    self.base,
                    self.wait.as_secs()
                )))
            }),
        };
        if let Err(e @ (TxError::Unreachable(_) | TxError::Refused(_))) = &result {
            if let Ok(mut down) = self.down.lock() {
                down.get_or_insert_with(|| e.clone());
            }
        }
        result
    }

    /// A cached answer, else the server's (kept when it is a verdict).
    fn cached(&self, key: Key, op: Op) -> Result<Answer, TxError> {
        if let Some(hit) = self.cache.get(&key) {
            return Ok(hit);
        }
        let answer = self.ask(op)?;
        self.cache.put(key, &answer);
        Ok(answer)
    }

    /// The complete expansion of a small value set, once per run (and cached).
    fn expansion(&self, value_set: &str) -> Result<Option<CodeSet>, TxError> {
        if let Some(known) = self
            .expansions
            .lock()
            .ok()
            .and_then(|m| m.get(value_set).cloned())
        {
            return Ok(known);
        }
        let key = key("expand", None, "", value_set);
        let op = Op::Expand {
            url: value_set.to_string(),
            count: EXPAND_LIMIT,
        };
        let none = Answer::Expansion {
            codes: Vec::new(),
            complete: false,
        };
        let answer = match self.cache.get(&key) {
            Some(hit) => hit,
            None => match self.ask(op) {
                Ok(a) => {
                    self.cache.put(key, &a);
                    a
                }
                // Refused as too costly, or not held: ask code by code.
                Err(TxError::NoVerdict(_)) => {
                    self.cache.put(key, &none);
                    none
                }
                Err(e) => return Err(e),
            },
        };
        let codes = match answer {
            Answer::Expansion {
                codes,
                complete: true,
            } if codes.len() <= EXPAND_LIMIT => {
                Some(Arc::new(codes.into_iter().collect::<HashSet<_>>()))
            }
            _ => None,
        };
        if let Ok(mut m) = self.expansions.lock() {
            m.insert(value_set.to_string(), codes.clone());
        }
        Ok(codes)
    }

    fn knows_system(&self, system: &str) -> Result<bool, TxError> {
        if let Some(k) = self
            .systems
            .lock()
            .ok()
            .and_then(|m| m.get(system).copied())
        {
            return Ok(k);
        }
        let op = Op::KnowsSystem {
            system: system.to_string(),
        };
        let known = match self.cached(key("system", Some(system), "", ""), op) {
            Ok(Answer::Verdict { result, .. }) => result,
            Ok(_) | Err(TxError::NoVerdict(_)) => false,
            Err(e) => return Err(e),
        };
        if let Ok(mut m) = self.systems.lock() {
            m.insert(system.to_string(), known);
        }
        Ok(known)
    }

    /// `$lookup` of a code in a code system the server holds.
    fn lookup(&self, system: &str, code: &str) -> Option<Answer> {
        if !self.knows_system(system).ok()? {
            return None;
        }
        let op = Op::Lookup {
            system: system.to_string(),
            code: code.to_string(),
        };
        self.cached(key("lookup", Some(system), code, ""), op).ok()
    }
}

fn key(op: &str, system: Option<&str>, code: &str, value_set: &str) -> Key {
    Key {
        op: op.to_string(),
        system: system.unwrap_or_default().to_string(),
        version: String::new(),
        code: code.to_string(),
        value_set: value_set.to_string(),
    }
}

/// What a finding says when the server could not decide.
fn reason(e: &TxError) -> String {
    match e {
        TxError::Unreachable(why) => format!("terminology server unreachable ({why})"),
        TxError::Refused(why) => format!("terminology server refused the credentials ({why})"),
        TxError::NoVerdict(why) => format!("the terminology server gave no verdict ({why})"),
    }
}

impl Terminology for RemoteTerminology {
    fn validate_code(&self, value_set: &str, system: Option<&str>, code: &str) -> Membership {
        let decided = |member: bool, message: Option<String>| Membership::Decided {
            member,
            by: self.base.clone(),
            message,
        };
        match self.expansion(value_set) {
            Ok(Some(codes)) => {
                let member = match system {
                    Some(s) => codes.contains(&(s.to_string(), code.to_string())),
                    None => codes.iter().any(|(_, c)| c == code),
                };
                return decided(member, None);
            }
            Ok(None) => {}
            Err(e) => return Membership::Unknown(reason(&e)),
        }
        let op = Op::ValueSetCode {
            url: value_set.to_string(),
            system: system.map(str::to_string),
            code: code.to_string(),
        };
        match self.cached(key("validate-code", system, code, value_set), op) {
            Ok(Answer::Verdict { result, message }) => decided(result, message),
            Ok(_) => Membership::Unknown(format!("{} answered something else", self.base)),
            Err(e) => Membership::Unknown(reason(&e)),
        }
    }

    fn code_in_system(&self, system: &str, code: &str) -> Option<bool> {
        match self.lookup(system, code)? {
            Answer::Displays(_) => Some(true),
            Answer::Verdict { result, .. } => Some(result),
            Answer::Expansion { .. } => None,
        }
    }

    fn displays(&self, system: &str, code: &str) -> Option<Cow<'_, [String]>> {
        match self.lookup(system, code)? {
            Answer::Displays(d) => Some(Cow::Owned(d)),
            _ => None,
        }
    }

    fn decided_by(&self, _system: &str) -> Option<String> {
        Some(self.base.clone())
    }
}
