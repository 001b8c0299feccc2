//! Counterparts: mock servers started from WireMock JSON stub sets (`mocks/<name>/`),
//! served by wiremock behind a thin front layer that journals every request and
//! performs transport faults. See `mocks/README.md` for the supported format.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use assure::counterpart::{Counterpart, StubSet};
//! let set = StubSet::load_named("mocks".as_ref(), "reference-provider")?;
//! let server = Counterpart::start(&set, None).await?;
//! let url = format!("{}/metadata", server.base_url());
//! // ... exercise `url`, then read what arrived:
//! for entry in server.journal() {
//!     println!("{} {} -> {:?}", entry.method, entry.url, entry.mapping);
//! }
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod decode;
mod decode_request;
mod decode_response;
mod front;
pub mod jsonpath;
mod load;
pub mod mapping;
mod serve;
pub mod template;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use wiremock::{Mock, MockServer};

pub use front::Scripted;
pub use mapping::{Fault, Mapping, StubSet};

/// One request the counterpart received, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    /// Also `{{request.id}}` in templates.
    pub id: String,
    pub received_at: DateTime<Utc>,
    pub method: String,
    /// Path and query, as sent.
    pub url: String,
    /// As sent, in order, names as the client spelled them.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Index into [`StubSet::mappings`] of the mapping that answered; `None` if none did.
    pub mapping: Option<usize>,
    /// Status answered (`None` when the backend could not be reached).
    pub status: Option<u16>,
    pub fault: Option<Fault>,
}

impl JournalEntry {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.url
            .split_once('?')
            .map_or(self.url.as_str(), |(p, _)| p)
    }

    /// Query parameters, percent-decoded, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        let query = self.url.split_once('?').map_or("", |(_, q)| q);
        let decode = |s: &str| {
            let s = s.replace('+', " ");
            percent_encoding::percent_decode_str(&s)
                .decode_utf8_lossy()
                .into_owned()
        };
        query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(k), decode(v))
            })
            .collect()
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn matched(&self) -> bool {
        self.mapping.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CounterpartError {
    #[error("bind counterpart on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("start the counterpart's mock backend")]
    Backend(#[source] std::io::Error),
    #[error("wait for Ctrl-C")]
    Signal(#[source] std::io::Error),
}

/// A running stub set on loopback (or the address given).
pub struct Counterpart {
    set: Arc<StubSet>,
    addr: SocketAddr,
    base_url: String,
    journal: front::Journal,
    scenarios: serve::Scenarios,
    shutdown: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    // Kept alive for as long as the counterpart runs.
    _backend: MockServer,
}

impl Counterpart {
    /// Starts serving `set` on `addr` (default `127.0.0.1:0`, a free port).
    pub async fn start(
        set: &StubSet,
        addr: Option<SocketAddr>,
    ) -> Result<Counterpart, CounterpartError> {
        let addr = addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| CounterpartError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| CounterpartError::Bind { addr, source })?;
        let backend_listener =
            std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(CounterpartError::Backend)?;
        let backend = MockServer::builder()
            .listener(backend_listener)
            .start()
            .await;
        let set = Arc::new(set.clone());
        let scenarios = serve::Scenarios::default();
        // wiremock keeps the first registered among equal priorities; later-loaded
        // mappings (overlays) must win ties, so they go in first.
        for (index, mapping) in set.mappings.iter().enumerate().rev() {
            let mapping = Arc::new(mapping.clone());
            let priority = u8::try_from(mapping.priority.clamp(1, 254)).unwrap_or(5);
            Mock::given(serve::MappingMatcher {
                mapping: mapping.clone(),
                scenarios: scenarios.clone(),
            })
            .respond_with(serve::MappingResponder {
                index,
                mapping,
                scenarios: scenarios.clone(),
            })
            .with_priority(priority)
            .mount(&backend)
            .await;
        }
        Mock::given(wiremock::matchers::any())
            .respond_with(serve::NotMatched)
            .with_priority(u8::MAX)
            .mount(&backend)
            .await;
        let journal = front::Journal::default();
        let (shutdown, stop) = watch::channel(false);
        let task = tokio::spawn(front::run(
            listener,
            *backend.address(),
            journal.clone(),
            stop,
        ));
        Ok(Counterpart {
            set,
            addr,
            base_url: format!("http://{addr}"),
            journal,
            scenarios,
            shutdown,
            task: Some(task),
            _backend: backend,
        })
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn set(&self) -> &StubSet {
        &self.set
    }

    /// The mapping a journal entry was answered by.
    pub fn mapping(&self, entry: &JournalEntry) -> Option<&Mapping> {
        entry.mapping.and_then(|i| self.set.mappings.get(i))
    }

    /// Every request received so far, in arrival order.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.journal.entries()
    }

    /// Each request as it arrives (after it is journaled); a slow reader skips entries.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<JournalEntry> {
        self.journal.subscribe()
    }

    /// Answers the next request with `answer`, ahead of the stub set; answers queue
    /// in order.
    pub fn answer_next(&self, answer: front::Scripted) {
        self.journal.script(answer);
    }

    /// Forgets scripted answers no request has taken (between scenarios).
    pub fn clear_scripted(&self) {
        self.journal.clear_script();
    }

    pub fn clear_journal(&self) {
        self.journal.clear();
    }

    /// Puts every scenario back in its `Started` state.
    pub fn reset_scenarios(&self) {
        self.scenarios
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Stops accepting, closes open connections, and stops the backend.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Counterpart {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// `assure mock <set>`: serves until Ctrl-C, printing where and what, then one line
/// per request as it arrives. Nobody reads the journal here, so it is not kept.
pub async fn serve_until_ctrl_c(
    set: &StubSet,
    addr: Option<SocketAddr>,
) -> Result<(), CounterpartError> {
    let server = Counterpart::start(set, addr).await?;
    let _ = writeln!(std::io::stdout().lock(), "{}", summary(&server));
    let mut live = server.subscribe();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let signal = loop {
        tokio::select! {
            signal = &mut ctrl_c => break signal,
            entry = live.recv() => {
                server.clear_journal();
                let line = match entry {
                    Ok(entry) => describe(&server, &entry),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => format!("({n} requests not shown)"),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => continue,
                };
                let _ = writeln!(std::io::stdout().lock(), "{line}");
            }
        }
    };
    server.shutdown().await;
    signal.map_err(CounterpartError::Signal)
}

/// One request as `assure mock` shows it:
/// `23:30:00.123 GET /Patient/1 -> 404 (404 for a Patient not on file)`.
pub fn describe(server: &Counterpart, entry: &JournalEntry) -> String {
    let outcome = match (entry.fault, entry.status) {
        (Some(fault), _) => fault.name().to_owned(),
        (None, Some(status)) => status.to_string(),
        (None, None) => "no answer".to_owned(),
    };
    let by = server
        .mapping(entry)
        .map_or_else(|| "no mapping matched".to_owned(), Mapping::label);
    format!(
        "{} {} {} -> {outcome} ({by})",
        entry.received_at.format("%H:%M:%S%.3f"),
        entry.method,
        entry.url
    )
}

/// What `assure mock` prints: the base URL, then one line per mapping, in the order
/// mappings are tried.
pub fn summary(server: &Counterpart) -> String {
    let set = server.set();
    let mut s = format!("serving stub set `{}` at {}\n", set.name, server.base_url());
    if let Some(d) = &set.description {
        s.push_str(&format!("  {d}\n"));
    }
    s.push_str(&format!("{} mappings:\n", set.mappings.len()));
    // In the order they are tried: priority, then later-loaded first.
    let mut order: Vec<(usize, &Mapping)> = set.mappings.iter().enumerate().collect();
    order.sort_by_key(|(i, m)| (m.priority, std::cmp::Reverse(*i)));
    for (_, m) in order {
        let method = m.request.method.as_deref().unwrap_or("ANY");
        let url = match &m.request.url {
            Some(
                mapping::UrlMatch::Url(u)
                | mapping::UrlMatch::Path(u)
                | mapping::UrlMatch::PathTemplate { template: u, .. },
            ) => u.clone(),
            Some(mapping::UrlMatch::Pattern(re) | mapping::UrlMatch::PathPattern(re)) => {
                format!(
                    "~{}",
                    re.as_str()
                        .trim_start_matches("^(?:")
                        .trim_end_matches(")$")
                )
            }
            None => "*".into(),
        };
        s.push_str(&format!(
            "  [{}] {method} {url} -> {}  ({})\n",
            m.priority,
            m.response.status,
            m.label()
        ));
    }
    s.push_str("press Ctrl-C to stop");
    s
}

#[cfg(test)]
mod tests;
