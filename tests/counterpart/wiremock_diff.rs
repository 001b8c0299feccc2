//! The differential test: the same mapping folders served by real WireMock 3.13.2 and
//! by assure, the same requests sent to both over raw sockets, and status, headers
//! (but `Date` and `Matched-Stub-Id`) and bodies compared. Values that depend on time
//! or chance are compared by shape (each request names the regexes that mark them).
//!
//! Ignored by `cargo test`; CI runs it once:
//! `WIREMOCK_JAR=... cargo test --test counterpart wiremock_differential -- --ignored --nocapture`
//!
//! Corpus: `tests/wiremock_diff/<feature>/` (mappings, `__files`, `requests.json`) and
//! every stub set in `mocks/`, replayed with the requests its suite sends
//! (`tests/wiremock_diff/mocks/<set>.requests.json`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assure::counterpart::{Counterpart, StubSet};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn jar() -> PathBuf {
    if let Ok(j) = std::env::var("WIREMOCK_JAR") {
        return PathBuf::from(j);
    }
    root().join("target/wiremock/node_modules/wiremock/build/wiremock-standalone-3.13.2.jar")
}

/// Real WireMock on a free loopback port, serving `root_dir`.
struct WireMock {
    child: Child,
    port: u16,
}

impl WireMock {
    fn start(root_dir: &Path, global_templating: bool) -> WireMock {
        let jar = jar();
        assert!(
            jar.is_file(),
            "no WireMock jar at {} (install the npm package wiremock@3.13.2, or set WIREMOCK_JAR)",
            jar.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let mut cmd = Command::new("java");
        cmd.arg("-jar")
            .arg(&jar)
            .args(["--port", &port.to_string(), "--bind-address", "127.0.0.1"])
            .arg("--root-dir")
            .arg(root_dir)
            .arg("--disable-banner")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if global_templating {
            cmd.arg("--global-response-templating");
        }
        let child = cmd.spawn().expect("java runs");
        let wm = WireMock { child, port };
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if let Ok(r) = send(port, &Req::admin("GET", "/__admin/health")) {
                if r.status == 200 {
                    return wm;
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("WireMock did not start on port {port}");
    }
}

impl Drop for WireMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A request of the corpus.
#[derive(Debug, Clone, serde::Deserialize)]
struct Req {
    #[serde(default)]
    name: Option<String>,
    #[serde(default = "get")]
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default, rename = "bodyBase64")]
    body_base64: Option<String>,
    /// Regexes marking values that depend on time or chance.
    #[serde(default)]
    volatile: Vec<String>,
    /// `json`: compare bodies as JSON, without the `ignore` members.
    #[serde(default)]
    compare: Option<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    http10: bool,
}

fn get() -> String {
    "GET".into()
}

impl Req {
    fn admin(method: &str, url: &str) -> Req {
        Req {
            name: None,
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
            body_base64: None,
            volatile: Vec::new(),
            compare: None,
            ignore: Vec::new(),
            http10: false,
        }
    }

    fn body_bytes(&self) -> Vec<u8> {
        use base64::Engine;
        match (&self.body, &self.body_base64) {
            (Some(b), _) => b.as_bytes().to_vec(),
            (None, Some(b)) => base64::engine::general_purpose::STANDARD
                .decode(b)
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

/// What came back: a parsed answer, or how the connection failed.
#[derive(Debug, Clone, PartialEq)]
struct Res {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// `reset`, `empty`, `garbage`, `malformed` for faults.
    failure: Option<String>,
}

fn send(port: u16, r: &Req) -> std::io::Result<Res> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    let body = r.body_bytes();
    let version = if r.http10 { "HTTP/1.0" } else { "HTTP/1.1" };
    let mut out = format!("{} {} {version}\r\n", r.method, r.url);
    let has = |n: &str| r.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    if !has("host") {
        out.push_str("Host: localhost:8080\r\n");
    }
    for (k, v) in &r.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() && !has("content-length") {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    if !has("connection") && !r.http10 {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    s.write_all(&bytes)?;
    let mut raw = Vec::new();
    let read = s.read_to_end(&mut raw);
    Ok(parse(&raw, read.err(), &r.method))
}

fn parse(raw: &[u8], err: Option<std::io::Error>, method: &str) -> Res {
    let failed = |why: &str| Res {
        status: 0,
        reason: String::new(),
        headers: Vec::new(),
        body: Vec::new(),
        failure: Some(why.into()),
    };
    if raw.is_empty() {
        return failed(if err.is_some() { "reset" } else { "empty" });
    }
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return failed("garbage");
    };
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    if parts.next().map(|v| v.starts_with("HTTP/")) != Some(true) {
        return failed("garbage");
    }
    let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let reason = parts.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let mut body = Vec::new();
    let mut failure = None;
    if method == "HEAD" || status == 204 || status == 304 {
    } else if chunked {
        let mut at = 0;
        loop {
            let Some(nl) = rest[at..].windows(2).position(|w| w == b"\r\n") else {
                failure = Some("malformed".into());
                break;
            };
            let size_text = String::from_utf8_lossy(&rest[at..at + nl]).to_string();
            let Ok(size) = usize::from_str_radix(size_text.trim(), 16) else {
                failure = Some("malformed".into());
                break;
            };
            at += nl + 2;
            if size == 0 {
                break;
            }
            if at + size > rest.len() {
                failure = Some("malformed".into());
                break;
            }
            body.extend_from_slice(&rest[at..at + size]);
            at += size + 2;
        }
    } else {
        body = rest.to_vec();
    }
    let gz = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("content-encoding") && v == "gzip");
    if gz {
        let mut d = flate2::read::GzDecoder::new(&body[..]);
        let mut plain = Vec::new();
        if d.read_to_end(&mut plain).is_ok() {
            body = plain;
        }
    }
    Res {
        status,
        reason,
        headers,
        body,
        failure,
    }
}

#[derive(Default, Debug)]
struct Tally {
    requests: usize,
    identical: usize,
    by_shape: usize,
    differ: Vec<String>,
    loaded: bool,
}

fn normalise(res: &Res, r: &Req) -> Res {
    let mut res = res.clone();
    res.headers.retain(|(k, _)| {
        !k.eq_ignore_ascii_case("date") && !k.eq_ignore_ascii_case("matched-stub-id")
    });
    if r.compare.as_deref() == Some("json") {
        if let Ok(mut v) = serde_json::from_slice::<Value>(&res.body) {
            strip(&mut v, &r.ignore);
            res.body = serde_json::to_vec(&sorted(v)).unwrap_or_default();
        }
        res.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("content-length"));
    }
    res
}

/// Members in name order, so that JSON compares by value.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut pairs: Vec<(String, Value)> = o.into_iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(pairs.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

fn strip(v: &mut Value, keys: &[String]) {
    match v {
        Value::Object(o) => {
            o.retain(|k, _| !keys.contains(k));
            o.values_mut().for_each(|x| strip(x, keys));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| strip(x, keys)),
        _ => {}
    }
}

fn shaped(res: &Res, volatile: &[regex::Regex]) -> Res {
    let mut res = res.clone();
    let fix = |s: &str| {
        volatile
            .iter()
            .fold(s.to_owned(), |s, re| re.replace_all(&s, "<~>").into_owned())
    };
    res.body = fix(&String::from_utf8_lossy(&res.body)).into_bytes();
    for (_, v) in res.headers.iter_mut() {
        *v = fix(v);
    }
    res
}

fn show(res: &Res) -> String {
    let mut s = match &res.failure {
        Some(f) if res.status == 0 => return format!("<{f}>"),
        Some(f) => format!("<{f}> "),
        None => String::new(),
    };
    s.push_str(&format!("{} {}\n", res.status, res.reason));
    for (k, v) in &res.headers {
        s.push_str(&format!("{k}: {v}\n"));
    }
    let body = String::from_utf8_lossy(&res.body);
    let body: String = body.chars().take(8000).collect();
    s.push_str(&format!("\n{body}"));
    s
}

/// Loads `mappings` into WireMock over its admin API (in order: later wins ties),
/// with `files` as its `__files`.
fn load_into_wiremock(wm: &WireMock, wm_root: &Path, set: &StubSet) -> bool {
    let files = wm_root.join("__files");
    let _ = std::fs::remove_dir_all(&files);
    std::fs::create_dir_all(&files).unwrap();
    for layer in &set.layers {
        copy_dir(&layer.join("__files"), &files);
    }
    let _ = send(wm.port, &Req::admin("DELETE", "/__admin/mappings"));
    let _ = send(wm.port, &Req::admin("POST", "/__admin/scenarios/reset"));
    let mut ok = true;
    for m in &set.mappings {
        let mut r = Req::admin("POST", "/__admin/mappings");
        let mut json = m.json.clone();
        if let Value::Object(o) = &mut json {
            // Ids given in files are kept; generated ones are WireMock's to make.
            if m.json.get("id").and_then(Value::as_str) == Some(m.id.as_str())
                && !original_has_id(m)
            {
                o.remove("id");
                o.remove("uuid");
            }
        }
        r.body = Some(json.to_string());
        r.headers
            .push(("Content-Type".into(), "application/json".into()));
        match send(wm.port, &r) {
            Ok(res) if res.status == 201 => {}
            Ok(res) => {
                ok = false;
                eprintln!("  WireMock refused {}: {}", m.source, show(&res));
            }
            Err(e) => {
                ok = false;
                eprintln!("  WireMock unreachable: {e}");
            }
        }
    }
    ok
}

fn original_has_id(m: &assure::counterpart::Mapping) -> bool {
    let text = std::fs::read_to_string(&m.source.file).unwrap_or_default();
    text.contains("\"id\"") || text.contains("\"uuid\"")
}

fn copy_dir(from: &Path, to: &Path) {
    let Ok(entries) = std::fs::read_dir(from) else {
        return;
    };
    for e in entries.flatten() {
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

fn run_feature(
    rt: &tokio::runtime::Runtime,
    wm: &WireMock,
    wm_root: &Path,
    set_dir: &Path,
    requests: &[Req],
) -> Tally {
    let mut t = Tally::default();
    let set = match StubSet::load(set_dir) {
        Ok(s) => s,
        Err(d) => {
            t.differ.push(format!("assure refused the set:\n{d}"));
            return t;
        }
    };
    t.loaded = load_into_wiremock(wm, wm_root, &set);
    let server = rt.block_on(Counterpart::start(&set, None)).unwrap();
    let port = server.addr().port();
    for r in requests {
        t.requests += 1;
        let (a, b) = (send(wm.port, r), send(port, r));
        let (a, b) = match (a, b) {
            (Ok(a), Ok(b)) => (normalise(&a, r), normalise(&b, r)),
            (a, b) => {
                t.differ
                    .push(format!("{} {}: transport {a:?} / {b:?}", r.method, r.url));
                continue;
            }
        };
        if a == b {
            t.identical += 1;
            continue;
        }
        let volatile: Vec<regex::Regex> = r
            .volatile
            .iter()
            .filter_map(|v| regex::Regex::new(v).ok())
            .collect();
        if !volatile.is_empty() && shaped(&a, &volatile) == shaped(&b, &volatile) {
            t.by_shape += 1;
            continue;
        }
        let label = r
            .name
            .clone()
            .unwrap_or_else(|| format!("{} {}", r.method, r.url));
        t.differ.push(format!(
            "{label}\n--- WireMock\n{}\n--- assure\n{}",
            show(&a),
            show(&b)
        ));
    }
    rt.block_on(server.shutdown());
    t
}

fn requests_of(path: &Path) -> Vec<Req> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
#[ignore = "needs Java and the WireMock jar; CI runs it once"]
fn wiremock_differential() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let wm_root = tmp.path().join("wiremock");
    std::fs::create_dir_all(wm_root.join("mappings")).unwrap();
    let wm = WireMock::start(&wm_root, false);
    let corpus = root().join("tests/wiremock_diff");
    let mut features: Vec<(String, PathBuf, Vec<Req>)> = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("mappings").is_dir())
        .collect();
    dirs.sort();
    for d in dirs {
        let name = d.file_name().unwrap().to_string_lossy().into_owned();
        let reqs = requests_of(&d.join("requests.json"));
        features.push((name, d, reqs));
    }
    for set in StubSet::available(&root().join("mocks")) {
        let file = corpus.join("mocks").join(format!("{set}.requests.json"));
        let name = format!("mocks/{set}");
        let wanted = std::env::var("WIREMOCK_DIFF_ONLY").map_or(true, |o| name.contains(&o))
            && std::env::var("WIREMOCK_DIFF_SKIP").map_or(true, |o| !name.contains(&o));
        if wanted {
            assert!(
                file.is_file(),
                "no request list for {name}: record one with `record_mock_requests` into {}",
                file.display()
            );
            features.push((name, root().join("mocks").join(&set), requests_of(&file)));
        }
    }
    let only = std::env::var("WIREMOCK_DIFF_ONLY").ok();
    let (mut total, mut identical, mut shape, mut failed_features) = (0, 0, 0, Vec::new());
    println!(
        "{:<36} {:>5} {:>9} {:>8} {:>6}  loads",
        "feature", "reqs", "identical", "by shape", "differ"
    );
    for (name, dir, reqs) in &features {
        let skip = std::env::var("WIREMOCK_DIFF_SKIP").ok();
        if only.as_deref().is_some_and(|o| !name.contains(o))
            || skip.as_deref().is_some_and(|o| name.contains(o))
        {
            continue;
        }
        let t = run_feature(&rt, &wm, &wm_root, dir, reqs);
        println!(
            "{name:<36} {:>5} {:>9} {:>8} {:>6}  {}",
            t.requests,
            t.identical,
            t.by_shape,
            t.differ.len(),
            if t.loaded { "both" } else { "DIFFERENT" }
        );
        for d in t.differ.iter().take(8) {
            eprintln!("== {name}: {d}\n");
        }
        total += t.requests;
        identical += t.identical;
        shape += t.by_shape;
        if !t.differ.is_empty() || !t.loaded {
            failed_features.push(name.clone());
        }
    }
    let pct = |n: usize, of: usize| {
        if of == 0 {
            0.0
        } else {
            100.0 * n as f64 / of as f64
        }
    };
    // Answers carrying the time or a random value can only agree by shape; the
    // byte-for-byte figure is also given over the others.
    let fixed = total - shape;
    println!(
        "wiremock differential: {total} requests; {} agree ({:.1}%); {identical} byte-identical ({:.1}% of all, {:.1}% of the {fixed} answers without time or random values); {shape} agree by shape",
        identical + shape,
        pct(identical + shape, total),
        pct(identical, total),
        pct(identical, fixed),
    );
    let partial = only.is_some() || std::env::var("WIREMOCK_DIFF_SKIP").is_ok();
    assert!(
        failed_features.is_empty(),
        "features that differ from WireMock: {failed_features:?}"
    );
    assert!(
        pct(identical, fixed) >= 99.0 || partial,
        "byte-identical below 99%"
    );
}

/// One `assure run`'s arguments.
type Run = &'static [&'static str];

/// The suites whose requests replay against each shipped stub set.
const RECORDINGS: &[(&str, &[&str], &[Run])] = &[
    (
        "reference-provider",
        &["broken-provider"],
        &[&["--suite", "fhir-r4-rest", "--suite", "uk-core-r4"]],
    ),
    ("minimal-provider", &[], &[&["--suite", "fhir-r4-rest"]]),
    (
        "gpconnect-provider",
        &[
            "gpconnect-provider-broken",
            "gpconnect-provider-structured-only",
        ],
        &[
            &[
                "--suite",
                "gp-connect-foundations",
                "--suite",
                "gp-connect-provider",
            ],
            // Another registered patient: the bodies no longer match the suite's own,
            // so the mappings that answer any patient are recorded too.
            &[
                "--suite",
                "gp-connect-provider",
                "--tags",
                "@structured",
                "--input",
                "registered_nhs_number=9434765919",
            ],
        ],
    ),
];

/// Values the shipped sets' templates make per request or per second.
const MOCK_VOLATILE: &[&str] = &[
    "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
    r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT",
];

/// The request target as an RFC 3986 client sends it: characters a URI may not hold
/// raw percent-encoded (Jetty, under WireMock, refuses them with a 500).
fn rfc3986_target(url: &str) -> String {
    url.chars()
        .map(|c| match c {
            '|' | '"' | '<' | '>' | '`' | '{' | '}' | '^' | '\\' | ' ' => {
                format!("%{:02X}", c as u32)
            }
            c => c.to_string(),
        })
        .collect()
}

/// Records the requests each suite sends to its reference stub set into
/// `tests/wiremock_diff/mocks/<set>.requests.json` (the broken and one-capability sets
/// replay their reference's). Needs a seeded `FHIR_PACKAGE_CACHE`. The terminology
/// server's list is written by hand: no suite calls it.
#[test]
#[ignore = "records the differential corpus for mocks/; run by hand when the suites change"]
fn record_mock_requests() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let out_dir = root().join("tests/wiremock_diff/mocks");
    std::fs::create_dir_all(&out_dir).unwrap();
    for (set_name, copies, runs) in RECORDINGS {
        let set = StubSet::load_named(&root().join("mocks"), set_name).unwrap();
        let server = rt.block_on(Counterpart::start(&set, None)).unwrap();
        for args in *runs {
            let reports = tempfile::tempdir().unwrap();
            let status = Command::new(env!("CARGO_BIN_EXE_assure"))
                .args(["run", "--project"])
                .arg(root())
                .args([
                    "--target",
                    server.base_url(),
                    "--format",
                    "json",
                    "--report-dir",
                ])
                .arg(reports.path())
                .args(*args)
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(
                status.code().is_some_and(|c| c <= 1),
                "{set_name} {args:?}: the run failed to complete"
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut list = Vec::new();
        for e in server.journal() {
            let headers: Vec<(String, String)> = e
                .headers
                .iter()
                .filter(|(k, _)| {
                    !["host", "content-length", "connection", "accept-encoding"]
                        .contains(&k.to_ascii_lowercase().as_str())
                })
                .cloned()
                .collect();
            let key = format!("{} {} {:?} {:?}", e.method, e.url, headers, e.body);
            if !seen.insert(key) {
                continue;
            }
            let mut req = serde_json::json!({"method": e.method, "url": rfc3986_target(&e.url),
                "headers": headers, "volatile": MOCK_VOLATILE});
            if !e.body.is_empty() {
                match String::from_utf8(e.body.clone()) {
                    Ok(text) => req["body"] = text.into(),
                    Err(_) => {
                        use base64::Engine;
                        req["bodyBase64"] = base64::engine::general_purpose::STANDARD
                            .encode(&e.body)
                            .into();
                    }
                }
            }
            list.push(req);
        }
        rt.block_on(server.shutdown());
        let text = serde_json::to_string_pretty(&list).unwrap() + "\n";
        std::fs::write(out_dir.join(format!("{set_name}.requests.json")), &text).unwrap();
        for copy in *copies {
            std::fs::write(out_dir.join(format!("{copy}.requests.json")), &text).unwrap();
        }
        println!("{set_name}: {} distinct requests recorded", list.len());
    }
}
