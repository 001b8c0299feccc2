//! A hostile supplier on loopback: raw TCP, so that it can do what no well-behaved
//! HTTP server library will (reset, hang, drip, lie about the length, send 500 MB or
//! megabytes of headers). Every request gets the same fault.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// The connection is reset (RST) as soon as the request is read.
    Reset,
    /// Nothing is ever answered.
    Hang,
    /// Headers at once, then one body byte every 200 ms.
    SlowDrip,
    /// A body of this many bytes, streamed as fast as the client reads.
    Huge(u64),
    /// `Content-Length` promises more than is sent before the connection closes.
    Truncated,
    /// 200 headers of 4 KB each: over the client's limits on count and size.
    HugeHeaders,
    /// A 500 with an HTML page.
    Html500,
    /// A 200 whose body is not UTF-8.
    BadUtf8,
    /// A 302 to itself.
    RedirectLoop,
}

pub struct Hostile {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start(fault: Fault) -> Hostile {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, fault));
        }
    });
    Hostile { url, task }
}

/// Reads a request head; `None` when the client went away.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

async fn serve(mut stream: TcpStream, fault: Fault) {
    while let Some(head) = read_head(&mut stream).await {
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        if answer(&mut stream, fault, &path).await.is_err() {
            return;
        }
    }
}

async fn answer(stream: &mut TcpStream, fault: Fault, path: &str) -> std::io::Result<()> {
    let plain = |status: &str, kind: &str, body: &[u8]| {
        let mut out = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    };
    match fault {
        Fault::Reset => {
            // A zero linger sends RST on close at once: nothing blocks.
            #[allow(deprecated)]
            stream.set_linger(Some(Duration::ZERO))?;
            Err(std::io::ErrorKind::ConnectionReset.into())
        }
        Fault::Hang => {
            tokio::time::sleep(Duration::from_secs(600)).await;
            Ok(())
        }
        Fault::SlowDrip => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: 1000\r\n\r\n")
                .await?;
            loop {
                stream.write_all(b" ").await?;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Fault::Huge(size) => {
            stream
                .write_all(
                    format!("HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: {size}\r\n\r\n")
                        .as_bytes(),
                )
                .await?;
            let block = vec![b'a'; 1 << 16];
            let mut left = size;
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                stream.write_all(&block[..n]).await?;
                left -= n as u64;
            }
            Ok(())
        }
        Fault::Truncated => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: 1000\r\n\r\n{\"resourceType\": \"Pat")
                .await?;
            Err(std::io::ErrorKind::UnexpectedEof.into())
        }
        Fault::HugeHeaders => {
            let mut head = String::from("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n");
            for i in 0..200 {
                head.push_str(&format!("X-Filler-{i}: {}\r\n", "h".repeat(4000)));
            }
            head.push_str("\r\n{}");
            stream.write_all(head.as_bytes()).await
        }
        Fault::Html500 => {
            let page = b"<html><body><h1>Internal Server Error</h1></body></html>";
            stream
                .write_all(&plain("500 Internal Server Error", "text/html", page))
                .await
        }
        Fault::BadUtf8 => {
            stream
                .write_all(&plain(
                    "200 OK",
                    "application/fhir+json",
                    b"{\"resourceType\": \"Patient\", \"id\": \"\xff\xfe\"}",
                ))
                .await
        }
        Fault::RedirectLoop => {
            stream
                .write_all(
                    format!("HTTP/1.1 302 Found\r\nLocation: {path}\r\nContent-Length: 0\r\n\r\n")
                        .as_bytes(),
                )
                .await
        }
    }
}
