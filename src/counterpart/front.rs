//! The thin HTTP/1.1 front layer in front of wiremock: it owns the client's socket, so
//! it can journal exactly what was received and perform transport faults (reset, empty
//! reply, garbage, broken chunking) that an HTTP server library cannot express.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::mapping::Fault;
use super::serve::{BASE_URL_HEADER, FAULT_HEADER, MAPPING_HEADER, REQUEST_ID_HEADER};
use super::JournalEntry;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 64 * 1024 * 1024;

/// An answer a scenario has scripted for the next request, ahead of the stub set.
#[derive(Debug, Clone)]
pub enum Scripted {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    Fault(Fault),
}

/// What the counterpart received, kept for `journal()` and broadcast as it arrives,
/// and the answers scripted for the requests to come.
#[derive(Clone)]
pub struct Journal {
    entries: Arc<Mutex<Vec<JournalEntry>>>,
    live: tokio::sync::broadcast::Sender<JournalEntry>,
    scripted: Arc<Mutex<std::collections::VecDeque<Scripted>>>,
}

impl Default for Journal {
    fn default() -> Self {
        Journal {
            entries: Arc::default(),
            live: tokio::sync::broadcast::channel(256).0,
            scripted: Arc::default(),
        }
    }
}

impl Journal {
    /// Answers the next request with `answer` instead of the stub set (in order).
    pub fn script(&self, answer: Scripted) {
        self.scripted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(answer);
    }

    /// Forgets answers no request has taken.
    pub fn clear_script(&self) {
        self.scripted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    fn next_scripted(&self) -> Option<Scripted> {
        self.scripted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<JournalEntry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn record(&self, entry: JournalEntry) {
        self.lock().push(entry.clone());
        // Nobody listening is fine.
        let _ = self.live.send(entry);
    }

    pub fn entries(&self) -> Vec<JournalEntry> {
        self.lock().clone()
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<JournalEntry> {
        self.live.subscribe()
    }
}

/// Accepts connections until `shutdown` turns true.
pub async fn run(
    listener: TcpListener,
    backend: SocketAddr,
    journal: Journal,
    mut shutdown: watch::Receiver<bool>,
) {
    let stop_template = shutdown.clone();
    let mut backoff = false;
    loop {
        if std::mem::take(&mut backoff) {
            // Accept failed (out of file descriptors, say): back off instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    backoff = true;
                    continue;
                };
                let (journal, mut stop) = (journal.clone(), stop_template.clone());
                let local = stream.local_addr().ok();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = connection(stream, local, backend, journal) => {}
                        _ = stop.wait_for(|s| *s) => {}
                    }
                });
            }
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

struct Message {
    /// Request: method and target. Response: status code and reason.
    first: (String, String),
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    keep_alive: bool,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

/// A socket and what has been read from it but not consumed yet.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Reads more; `false` at end of stream.
    async fn fill(&mut self) -> std::io::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    async fn head(&mut self) -> std::io::Result<Option<usize>> {
        loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                return Ok(Some(i + 4));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("message head too large"));
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    async fn exact(&mut self, n: usize) -> std::io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if !self.fill().await? {
                return Err(invalid("connection closed inside a body"));
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    async fn line(&mut self) -> std::io::Result<Vec<u8>> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf.drain(..i + 2).take(i).collect();
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD || !self.fill().await? {
                return Err(invalid("bad chunked encoding"));
            }
        }
    }

    async fn chunked(&mut self) -> std::io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.line().await?;
            let size_text = String::from_utf8_lossy(&line);
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let size =
                usize::from_str_radix(size_text, 16).map_err(|_| invalid("bad chunk size"))?;
            if size == 0 {
                while !self.line().await?.is_empty() {}
                return Ok(body);
            }
            if body.len() + size > MAX_BODY {
                return Err(invalid("body too large"));
            }
            body.extend(self.exact(size).await?);
            self.line().await?;
        }
    }

    async fn until_closed(&mut self) -> std::io::Result<Vec<u8>> {
        while self.fill().await? {}
        Ok(std::mem::take(&mut self.buf))
    }

    /// Reads one request (`None` when the client closed between requests).
    async fn request(&mut self) -> std::io::Result<Option<Message>> {
        let Some(len) = self.head().await? else {
            return Ok(None);
        };
        let mut headers = [httparse::EMPTY_HEADER; 128];
        let mut req = httparse::Request::new(&mut headers);
        req.parse(&self.buf[..len])
            .map_err(|e| invalid(&e.to_string()))?;
        let first = (
            req.method.unwrap_or("GET").to_owned(),
            req.path.unwrap_or("/").to_owned(),
        );
        let http10 = req.version == Some(0);
        let headers = owned(req.headers);
        self.buf.drain(..len);
        let mut msg = Message {
            first,
            headers,
            body: Vec::new(),
            keep_alive: true,
        };
        let connection = msg.header("connection").unwrap_or("").to_ascii_lowercase();
        msg.keep_alive = if http10 {
            connection.contains("keep-alive")
        } else {
            !connection.contains("close")
        };
        if msg
            .header("expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
        {
            self.stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await?;
        }
        msg.body = self.body(&msg, false).await?;
        Ok(Some(msg))
    }

    async fn response(&mut self, head_request: bool) -> std::io::Result<Message> {
        let len = self
            .head()
            .await?
            .ok_or_else(|| invalid("backend closed the connection"))?;
        let mut headers = [httparse::EMPTY_HEADER; 128];
        let mut res = httparse::Response::new(&mut headers);
        res.parse(&self.buf[..len])
            .map_err(|e| invalid(&e.to_string()))?;
        let first = (
            res.code.unwrap_or(500).to_string(),
            res.reason.unwrap_or("").to_owned(),
        );
        let headers = owned(res.headers);
        self.buf.drain(..len);
        let mut msg = Message {
            first,
            headers,
            body: Vec::new(),
            keep_alive: true,
        };
        let status = msg.first.0.as_str();
        let bodiless =
            head_request || status.starts_with('1') || status == "204" || status == "304";
        // A HEAD answer (or 1xx/204/304) has no body, whatever its content-length says.
        if !bodiless {
            msg.body = self.body(&msg, true).await?;
        }
        Ok(msg)
    }

    async fn body(&mut self, msg: &Message, until_close: bool) -> std::io::Result<Vec<u8>> {
        if msg
            .header("transfer-encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
        {
            return self.chunked().await;
        }
        match msg.header("content-length") {
            Some(n) => {
                let n: usize = n
                    .trim()
                    .parse()
                    .map_err(|_| invalid("bad content-length"))?;
                if n > MAX_BODY {
                    return Err(invalid("body too large"));
                }
                self.exact(n).await
            }
            None if until_close => self.until_closed().await,
            None => Ok(Vec::new()),
        }
    }
}

fn owned(headers: &[httparse::Header<'_>]) -> Vec<(String, Vec<u8>)> {
    headers
        .iter()
        .map(|h| (h.name.to_owned(), h.value.to_vec()))
        .collect()
}

fn invalid(message: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.to_owned())
}

/// Headers that describe one hop's framing; each side writes its own.
fn hop_by_hop(name: &str) -> bool {
    [
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "expect",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

async fn connection(
    stream: TcpStream,
    local: Option<SocketAddr>,
    backend: SocketAddr,
    journal: Journal,
) {
    let mut client = Conn {
        stream,
        buf: Vec::new(),
    };
    let mut upstream: Option<Conn> = None;
    loop {
        let req = match client.request().await {
            Ok(Some(req)) => req,
            Ok(None) => return,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                // Not HTTP we can read: say so, as a server would, and hang up.
                let _ = client
                    .stream
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                return;
            }
            Err(_) => return,
        };
        let received_at = Utc::now();
        let id = uuid::Uuid::new_v4().to_string();
        let base_url = match (req.header("host"), local) {
            (Some(host), _) => format!("http://{host}"),
            (None, Some(addr)) => format!("http://{addr}"),
            (None, None) => String::new(),
        };
        let mut entry = JournalEntry {
            id: id.clone(),
            received_at,
            method: req.first.0.clone(),
            url: req.first.1.clone(),
            headers: req
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
                .collect(),
            body: req.body.clone(),
            mapping: None,
            status: None,
            fault: None,
        };
        let is_head = req.first.0.eq_ignore_ascii_case("HEAD");
        // A scripted answer stands in for the stub set's; it is written like any other.
        let res = match journal.next_scripted() {
            Some(Scripted::Fault(fault)) => Message {
                first: ("200".into(), "OK".into()),
                headers: vec![(FAULT_HEADER.into(), fault.name().as_bytes().to_vec())],
                body: Vec::new(),
                keep_alive: false,
            },
            Some(Scripted::Respond {
                status,
                headers,
                body,
            }) => Message {
                first: (status.to_string(), reason(status).into()),
                headers: headers
                    .into_iter()
                    .map(|(k, v)| (k, v.into_bytes()))
                    .collect(),
                body,
                keep_alive: true,
            },
            None => {
                let mut out = format!("{} {} HTTP/1.1\r\n", req.first.0, req.first.1).into_bytes();
                for (k, v) in req.headers.iter().filter(|(k, _)| {
                    !hop_by_hop(k) && !k.to_ascii_lowercase().starts_with("x-assure-")
                }) {
                    out.extend_from_slice(format!("{k}: ").as_bytes());
                    out.extend_from_slice(v);
                    out.extend_from_slice(b"\r\n");
                }
                let extra = format!(
                    "{REQUEST_ID_HEADER}: {id}\r\n{BASE_URL_HEADER}: {base_url}\r\ncontent-length: {}\r\n\r\n",
                    req.body.len()
                );
                out.extend_from_slice(extra.as_bytes());
                out.extend_from_slice(&req.body);
                match exchange(&mut upstream, backend, &out, is_head).await {
                    Ok(res) => res,
                    Err(_) => {
                        // Retry once on a fresh connection: the backend may have closed an idle one.
                        upstream = None;
                        match exchange(&mut upstream, backend, &out, is_head).await {
                            Ok(res) => res,
                            Err(_) => {
                                journal.record(entry);
                                let _ = client.stream.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                                return;
                            }
                        }
                    }
                }
            }
        };
        entry.mapping = res.header(MAPPING_HEADER).and_then(|m| m.parse().ok());
        entry.status = res.first.0.parse().ok();
        entry.fault = res.header(FAULT_HEADER).and_then(Fault::from_name);
        let fault = entry.fault;
        journal.record(entry);
        if let Some(fault) = fault {
            perform(fault, client.stream).await;
            return;
        }
        let mut out = format!("HTTP/1.1 {} {}\r\n", res.first.0, res.first.1).into_bytes();
        for (k, v) in res
            .headers
            .iter()
            .filter(|(k, _)| !hop_by_hop(k) && !k.to_ascii_lowercase().starts_with("x-assure-"))
        {
            out.extend_from_slice(format!("{k}: ").as_bytes());
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        // RFC 9110: no Content-Length on 1xx and 204 answers.
        let status = res.first.0.as_str();
        if !(status.starts_with('1') || status == "204") {
            let length = match res.header("content-length") {
                Some(n) if is_head => n.trim().to_owned(),
                _ => res.body.len().to_string(),
            };
            out.extend_from_slice(format!("content-length: {length}\r\n").as_bytes());
        }
        if !req.keep_alive {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if !is_head {
            out.extend_from_slice(&res.body);
        }
        if client.stream.write_all(&out).await.is_err() || !req.keep_alive {
            let _ = client.stream.shutdown().await;
            return;
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

async fn exchange(
    upstream: &mut Option<Conn>,
    backend: SocketAddr,
    request: &[u8],
    head: bool,
) -> std::io::Result<Message> {
    if upstream.is_none() {
        *upstream = Some(Conn {
            stream: TcpStream::connect(backend).await?,
            buf: Vec::new(),
        });
    }
    let conn = upstream
        .as_mut()
        .ok_or_else(|| invalid("no backend connection"))?;
    conn.stream.write_all(request).await?;
    conn.response(head).await
}

async fn perform(fault: Fault, mut stream: TcpStream) {
    match fault {
        Fault::EmptyResponse => {
            let _ = stream.shutdown().await;
        }
        Fault::ConnectionResetByPeer => {
            // Zero linger turns the close into an RST; it does not block.
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        Fault::RandomDataThenClose => {
            let mut garbage = Vec::new();
            while garbage.len() < 1024 {
                garbage.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
            }
            // Never a valid status line: the first byte is not `H`.
            garbage[0] = 0xFF;
            let _ = stream.write_all(&garbage).await;
            let _ = stream.shutdown().await;
        }
        Fault::MalformedResponseChunk => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain\r\n\r\n5\r\nhello\r\nZZ\r\nnot a chunk")
                .await;
            let _ = stream.shutdown().await;
        }
    }
}
