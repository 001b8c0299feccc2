//! HTTP/1.1 on the counterpart's socket, written by hand because the answer must be
//! WireMock's byte for byte (its header order, Jetty's reason phrases and framing) and
//! because faults (reset, empty reply, garbage, broken chunks, dribbled bodies) need
//! the raw socket.

use std::io::Write as _;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::mapping::Fault;

const MAX_HEAD: usize = 64 * 1024;
/// Largest request body a counterpart reads.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// A request as read off the wire.
pub struct RawRequest {
    pub method: String,
    pub target: String,
    pub http10: bool,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The client asked to close (or spoke HTTP/1.0 without keep-alive).
    pub close: bool,
    /// `Connection: close` was said in so many words.
    pub said_close: bool,
}

impl RawRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A socket and what has been read from it but not consumed yet.
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

pub fn invalid(message: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.to_owned())
}

impl Conn {
    pub fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

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

    /// Reads one request (`None` when the client closed between requests).
    pub async fn request(&mut self) -> std::io::Result<Option<RawRequest>> {
        let Some(len) = self.head().await? else {
            return Ok(None);
        };
        let mut headers = [httparse::EMPTY_HEADER; 128];
        let mut req = httparse::Request::new(&mut headers);
        req.parse(&self.buf[..len])
            .map_err(|e| invalid(&e.to_string()))?;
        let method = req.method.unwrap_or("GET").to_owned();
        let target = req.path.unwrap_or("/").to_owned();
        let http10 = req.version == Some(0);
        let headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_owned(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        self.buf.drain(..len);
        let mut r = RawRequest {
            method,
            target,
            http10,
            headers,
            body: Vec::new(),
            close: false,
            said_close: false,
        };
        let connection = r.header("connection").unwrap_or("").to_ascii_lowercase();
        r.said_close = connection.contains("close");
        r.close = if http10 {
            !connection.contains("keep-alive")
        } else {
            r.said_close
        };
        if r.header("expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
        {
            self.stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await?;
        }
        let chunked = r
            .header("transfer-encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
        r.body = if chunked {
            self.chunked().await?
        } else {
            match r.header("content-length") {
                Some(n) => {
                    let n: usize = n
                        .trim()
                        .parse()
                        .map_err(|_| invalid("bad content-length"))?;
                    if n > MAX_BODY {
                        return Err(invalid("body too large"));
                    }
                    self.exact(n).await?
                }
                None => Vec::new(),
            }
        };
        Ok(Some(r))
    }
}

/// Jetty's reason phrases, which WireMock sends.
pub fn reason(status: u16) -> Option<&'static str> {
    Some(match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a Teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        511 => "Network Authentication Required",
        _ => return None,
    })
}

/// An answer ready for the wire.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub status: u16,
    pub reason: Option<String>,
    /// Headers in order, as they go out (framing left to [`write`]).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Sent as this many chunks spread over this long.
    pub dribble: Option<(u32, Duration)>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn is_framing(name: &str) -> bool {
    name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding")
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new()
        .operating_system(0)
        .write(Vec::new(), flate2::Compression::default());
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

/// Writes `answer` as Jetty behind WireMock does; `Ok(false)` when the connection
/// must close afterwards.
pub async fn write(
    stream: &mut TcpStream,
    req: &RawRequest,
    answer: &Answer,
) -> std::io::Result<bool> {
    let head_request = req.method.eq_ignore_ascii_case("HEAD");
    let status = answer.status;
    let reason = answer
        .reason
        .clone()
        .or_else(|| reason(status).map(str::to_owned))
        .unwrap_or_else(|| status.to_string());
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n").into_bytes();
    if req.said_close && !req.http10 {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if req.http10 && !req.close {
        // Jetty echoes an HTTP/1.0 keep-alive, then frames nothing and closes.
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    for (k, v) in answer.headers.iter().filter(|(k, _)| !is_framing(k)) {
        out.extend_from_slice(format!("{k}: ").as_bytes());
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let bodiless = (100..200).contains(&status) || status == 204 || status == 304;
    let asked_chunked = answer
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"));
    // A stub's own length is sent as given (with the whole body, as WireMock does);
    // asking for chunking wins over it.
    let given_length = answer
        .header("content-length")
        .filter(|_| !asked_chunked)
        .map(str::to_owned);
    let mut body = answer.body.clone();
    let gzipped = !bodiless
        && given_length.is_none()
        && answer.header("content-encoding").is_none()
        && req
            .header("accept-encoding")
            .is_some_and(|a| a.to_ascii_lowercase().contains("gzip"));
    if gzipped {
        out.extend_from_slice(b"Content-Encoding: gzip\r\n");
        body = gzip(&body);
    }
    let until_close = (req.close || req.http10) && !asked_chunked;
    let chunked = !bodiless && given_length.is_none() && !until_close;
    if !bodiless {
        if let Some(n) = &given_length {
            out.extend_from_slice(format!("Content-Length: {}\r\n", n.trim()).as_bytes());
        } else if chunked {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    if bodiless || head_request {
        stream.write_all(&out).await?;
        return Ok(!req.close);
    }
    match answer.dribble {
        Some((chunks, total)) if chunks > 0 && !body.is_empty() => {
            stream.write_all(&out).await?;
            let per = body.len().div_ceil(chunks as usize).max(1);
            let pause = total / chunks;
            for piece in body.chunks(per) {
                let mut bytes = Vec::new();
                if chunked {
                    bytes.extend_from_slice(format!("{:X}\r\n", piece.len()).as_bytes());
                }
                bytes.extend_from_slice(piece);
                if chunked {
                    bytes.extend_from_slice(b"\r\n");
                }
                stream.write_all(&bytes).await?;
                stream.flush().await?;
                tokio::time::sleep(pause).await;
            }
            if chunked {
                stream.write_all(b"0\r\n\r\n").await?;
            }
        }
        _ => {
            if chunked {
                if !body.is_empty() {
                    out.extend_from_slice(format!("{:X}\r\n", body.len()).as_bytes());
                    out.extend_from_slice(&body);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
            } else {
                out.extend_from_slice(&body);
            }
            stream.write_all(&out).await?;
        }
    }
    let length_honest = given_length
        .as_deref()
        .is_none_or(|n| n.trim().parse::<usize>().ok() == Some(body.len()));
    Ok(!until_close && !req.close && !req.http10 && length_honest)
}

/// Performs a transport fault, then the connection is gone.
pub async fn perform(fault: Fault, mut stream: TcpStream, req: &RawRequest) {
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
            // WireMock's: a 200 framed as the client's connection asks, then garbage
            // where a chunk should be.
            let framing: &[u8] = if req.said_close || req.http10 {
                b"Connection: close\r\n"
            } else {
                b"Transfer-Encoding: chunked\r\n"
            };
            let mut out = b"HTTP/1.1 200 OK\r\n".to_vec();
            out.extend_from_slice(framing);
            out.extend_from_slice(b"\r\nlskdu018973t09sylgasjkfg1][]'./.sdlv");
            let _ = stream.write_all(&out).await;
            let _ = stream.shutdown().await;
        }
    }
}
