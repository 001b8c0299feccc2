//! The counterpart's one server: accepts connections, reads each request, answers it
//! from the admin API, a scripted answer, the matching stub (or a proxy), or WireMock's
//! not-matched report, journals it, and writes the answer or performs the fault.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::http::{self, Answer, Conn};
use super::mapping::{Fault, Mapping};
use super::request::{matches, Incoming};
use super::state::{Scripted, State};
use super::JournalEntry;

/// Accepts connections until `shutdown` turns true.
pub async fn run(listener: TcpListener, state: Arc<State>, mut shutdown: watch::Receiver<bool>) {
    let stop_template = shutdown.clone();
    let mut backoff = false;
    loop {
        if std::mem::take(&mut backoff) {
            // Accept failed (out of file descriptors, say): back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else {
                    backoff = true;
                    continue;
                };
                let (state, mut stop) = (state.clone(), stop_template.clone());
                let local = stream.local_addr().ok();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = connection(stream, peer, local, state) => {}
                        _ = stop.wait_for(|s| *s) => {}
                    }
                });
            }
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

/// What the server does with one request.
pub enum Outcome {
    Answer(Answer),
    Fault(Fault),
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    state: Arc<State>,
) {
    let mut conn = Conn::new(stream);
    loop {
        let req = match conn.request().await {
            Ok(Some(req)) => req,
            Ok(None) => return,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                // Not HTTP we can read: say so, as a server would, and hang up.
                let _ = conn
                    .stream
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
                return;
            }
            Err(_) => return,
        };
        let incoming = Incoming {
            id: uuid::Uuid::new_v4().to_string(),
            received_at: Utc::now(),
            method: req.method.clone(),
            url: req.target.clone(),
            headers: req.headers.clone(),
            body: req.body.clone(),
            client_ip: peer.ip().to_string(),
            local_port: local.map_or(0, |a| a.port()),
        };
        let outcome = if incoming.path().starts_with("/__admin") {
            Outcome::Answer(super::admin::handle(&state, &incoming))
        } else {
            serve(&state, incoming).await
        };
        match outcome {
            Outcome::Fault(fault) => {
                http::perform(fault, conn.stream, &req).await;
                return;
            }
            Outcome::Answer(answer) => match http::write(&mut conn.stream, &req, &answer).await {
                Ok(true) => {}
                _ => {
                    let _ = conn.stream.shutdown().await;
                    return;
                }
            },
        }
    }
}

/// Answers a request to the mock API (not the admin API), journaling it.
pub async fn serve(state: &Arc<State>, r: Incoming) -> Outcome {
    let mut entry = JournalEntry {
        id: r.id.clone(),
        received_at: r.received_at,
        method: r.method.clone(),
        url: r.url.clone(),
        headers: r.headers.clone(),
        body: r.body.clone(),
        client_ip: r.client_ip.clone(),
        mapping: None,
        stub_id: None,
        status: None,
        fault: None,
        response_headers: Vec::new(),
        response_body: Vec::new(),
    };
    if let Some(scripted) = state.next_scripted() {
        let outcome = match scripted {
            Scripted::Fault(f) => Outcome::Fault(f),
            Scripted::Respond {
                status,
                headers,
                body,
            } => Outcome::Answer(Answer {
                status,
                reason: None,
                headers,
                body,
                dribble: None,
            }),
        };
        return finish(state, entry, outcome);
    }
    let stubs = state.stubs();
    let chosen = stubs
        .iter()
        .find(|s| matches(&s.mapping.request, &r) && scenario_allows(state, &s.mapping));
    let Some(stub) = chosen.cloned() else {
        let body = if stubs.is_empty() {
            "No response could be served as there are no stub mappings in this WireMock instance."
                .to_owned()
        } else {
            super::notmatched::report(state, &stubs, &r)
        };
        let answer = Answer {
            status: 404,
            reason: None,
            headers: vec![("Content-Type".into(), "text/plain;charset=UTF-8".into())],
            body: body.into_bytes(),
            dribble: None,
        };
        return finish(state, entry, Outcome::Answer(answer));
    };
    entry.mapping = stub.loaded;
    entry.stub_id = Some(stub.mapping.id.clone());
    if let Some(rule) = &stub.mapping.scenario {
        if let Some(next) = &rule.new_state {
            state.set_scenario(&rule.name, next);
        }
    }
    let outcome = super::respond::answer(state, &stub, &r).await;
    let delay = super::respond::delay(state, &stub.mapping);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    finish(state, entry, outcome)
}

fn scenario_allows(state: &State, m: &Mapping) -> bool {
    match &m.scenario {
        Some(rule) => match &rule.required_state {
            Some(required) => state.scenario_state(&rule.name) == *required,
            None => true,
        },
        None => true,
    }
}

fn finish(state: &State, mut entry: JournalEntry, outcome: Outcome) -> Outcome {
    match &outcome {
        Outcome::Fault(f) => entry.fault = Some(*f),
        Outcome::Answer(a) => {
            entry.status = Some(a.status);
            entry.response_headers = a.headers.clone();
            entry.response_body = a.body.clone();
        }
    }
    state.record(entry);
    outcome
}
