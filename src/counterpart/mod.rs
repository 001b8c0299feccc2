//! Counterparts: mock servers started from WireMock JSON stub sets (`mocks/<name>/`),
//! served as WireMock 3 serves them (matching, templating, the admin API, faults) from
//! one HTTP server of this project's own. See `mocks/README.md` for what is supported.
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

mod admin;
mod content;
pub mod dates;
mod decode;
mod decode_matcher;
mod decode_request;
mod decode_response;
mod files;
mod http;
mod jackson;
pub mod jsonpath;
mod load;
pub mod mapping;
pub mod matchers;
mod notmatched;
mod proxy;
pub mod request;
mod respond;
mod server;
mod state;
pub mod template;
mod xml;
mod zone;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

pub use files::{FileError, MAX_FILE};
pub use mapping::{Fault, Mapping, StubSet};
pub use state::Scripted;

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
    pub client_ip: String,
    /// Index into [`StubSet::mappings`] of the mapping that answered; `None` if none
    /// did, or one added over the admin API did.
    pub mapping: Option<usize>,
    /// The id of the stub that answered.
    pub stub_id: Option<String>,
    /// Status answered (`None` for a fault).
    pub status: Option<u16>,
    pub fault: Option<Fault>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Vec<u8>,
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
        request::parse_pairs(self.url.split_once('?').map_or("", |(_, q)| q))
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn matched(&self) -> bool {
        self.stub_id.is_some()
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
    #[error("wait for Ctrl-C")]
    Signal(#[source] std::io::Error),
    #[error("start the counterpart's server thread")]
    Thread(#[source] std::io::Error),
}

/// A running stub set on loopback (or the address given).
pub struct Counterpart {
    state: Arc<state::State>,
    addr: SocketAddr,
    base_url: String,
    shutdown: watch::Sender<bool>,
    finished: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Counterpart {
    /// Starts serving `set` on `addr` (default `127.0.0.1:0`, a free port). The server
    /// runs on threads of its own, so a caller busy with other work (a run validating
    /// what it received) never keeps a counterpart from answering.
    pub async fn start(
        set: &StubSet,
        addr: Option<SocketAddr>,
    ) -> Result<Counterpart, CounterpartError> {
        let addr = addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let bind_error = |source| CounterpartError::Bind { addr, source };
        let listener = std::net::TcpListener::bind(addr).map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let state = Arc::new(state::State::new(set));
        let (shutdown, stop) = watch::channel(false);
        let (done, finished) = tokio::sync::oneshot::channel();
        let served = state.clone();
        std::thread::Builder::new()
            .name(format!("counterpart {}", set.name))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("counterpart")
                    .enable_all()
                    .build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(async move {
                        if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                            server::run(listener, served, stop).await;
                        }
                    });
                    runtime.shutdown_background();
                }
                let _ = done.send(());
            })
            .map_err(CounterpartError::Thread)?;
        Ok(Counterpart {
            state,
            addr,
            base_url: format!("http://{addr}"),
            shutdown,
            finished: Some(finished),
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
        &self.state.set
    }

    /// The mapping of the loaded set a journal entry was answered by.
    pub fn mapping(&self, entry: &JournalEntry) -> Option<&Mapping> {
        entry.mapping.and_then(|i| self.state.set.mappings.get(i))
    }

    /// Every request received so far, in arrival order.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.state.journal()
    }

    /// Each request as it arrives (after it is journaled); a slow reader skips entries.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<JournalEntry> {
        self.state.subscribe()
    }

    /// Answers the next request with `answer`, ahead of the stub set; answers queue
    /// in order.
    pub fn answer_next(&self, answer: Scripted) {
        self.state.script(answer);
    }

    /// Forgets scripted answers no request has taken (between scenarios).
    pub fn clear_scripted(&self) {
        self.state.clear_script();
    }

    pub fn clear_journal(&self) {
        self.state.clear_journal();
    }

    /// Puts every scenario back in its `Started` state.
    pub fn reset_scenarios(&self) {
        self.state.reset_scenarios();
    }

    /// Calls the admin API in process (as `/__admin/...` over HTTP would): the
    /// status and the JSON body.
    pub fn admin(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let path = if path.starts_with("/__admin") {
            path.to_owned()
        } else {
            format!("/__admin/{}", path.trim_start_matches('/'))
        };
        let r = request::Incoming {
            id: uuid::Uuid::new_v4().to_string(),
            received_at: Utc::now(),
            method: method.to_ascii_uppercase(),
            url: path,
            headers: vec![("Host".into(), self.addr.to_string())],
            body: body.to_vec(),
            client_ip: "127.0.0.1".into(),
            local_port: self.addr.port(),
        };
        let a = admin::handle(&self.state, &r);
        (a.status, String::from_utf8_lossy(&a.body).into_owned())
    }

    /// Stops accepting, and closes open connections.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(finished) = self.finished.take() {
            let _ = finished.await;
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
    let by = match (server.mapping(entry), &entry.stub_id) {
        (Some(m), _) => m.label(),
        (None, Some(id)) => id.clone(),
        (None, None) => "no mapping matched".to_owned(),
    };
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
            Some(u @ (mapping::UrlMatch::Pattern(_) | mapping::UrlMatch::PathPattern(_))) => {
                format!("~{}", u.text())
            }
            Some(u) => u.text(),
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
