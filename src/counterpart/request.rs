//! A request as a counterpart received it, the views WireMock's matchers take of it
//! (query, cookies, form fields, multipart parts), and matching it against a
//! mapping's request pattern with WireMock's weighted distance.

use chrono::{DateTime, Utc};

use super::mapping::{MultipartPattern, RequestPattern, UrlMatch};
use super::matchers::{MultiPattern, Subject, ValuePattern};

#[derive(Debug, Clone)]
pub struct Incoming {
    pub id: String,
    pub received_at: DateTime<Utc>,
    pub method: String,
    /// Path and query, as sent.
    pub url: String,
    /// As sent, in order, names as the client spelled them.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub client_ip: String,
    /// The port the request arrived on.
    pub local_port: u16,
}

/// One part of a multipart body.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// `a=1&b=2` pairs, `+` as space, percent-decoded, in order.
pub fn parse_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

impl Incoming {
    pub fn path(&self) -> &str {
        self.url
            .split_once('?')
            .map_or(self.url.as_str(), |(p, _)| p)
    }

    pub fn query(&self) -> Vec<(String, String)> {
        parse_pairs(self.url.split_once('?').map_or("", |(_, q)| q))
    }

    pub fn query_values(&self, name: &str) -> Vec<String> {
        self.query()
            .into_iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The `Host` header, else the address the request came in on.
    fn authority(&self) -> String {
        self.header("host")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("localhost:{}", self.local_port))
    }

    pub fn host(&self) -> String {
        let a = self.authority();
        match a.rsplit_once(':') {
            Some((h, p))
                if p.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(']')
                    || a.starts_with('[') && a.contains("]:") =>
            {
                h.to_owned()
            }
            _ => a,
        }
    }

    pub fn port(&self) -> u16 {
        let a = self.authority();
        a.rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or(self.local_port)
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.authority())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn cookies(&self) -> Vec<(String, String)> {
        self.header_values("cookie")
            .iter()
            .flat_map(|h| h.split(';'))
            .filter_map(|c| {
                let (k, v) = c.trim().split_once('=')?;
                Some((k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
            })
            .collect()
    }

    /// Form fields of an `application/x-www-form-urlencoded` body.
    pub fn form(&self) -> Vec<(String, String)> {
        let is_form = self
            .header("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().contains("x-www-form-urlencoded"));
        if is_form {
            parse_pairs(&self.body_text())
        } else {
            Vec::new()
        }
    }

    pub fn is_multipart(&self) -> bool {
        self.header("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("multipart/"))
    }

    /// The parts of a multipart body (none when it is not one).
    pub fn parts(&self) -> Vec<Part> {
        let Some(ct) = self.header("content-type") else {
            return Vec::new();
        };
        let Some(boundary) = ct.split(';').find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            k.eq_ignore_ascii_case("boundary")
                .then(|| v.trim_matches('"').to_owned())
        }) else {
            return Vec::new();
        };
        split_multipart(&self.body, &boundary)
    }
}

fn split_multipart(body: &[u8], boundary: &str) -> Vec<Part> {
    let delim = format!("--{boundary}");
    let d = delim.as_bytes();
    let find = |hay: &[u8], from: usize| {
        hay.get(from..)?
            .windows(d.len())
            .position(|w| w == d)
            .map(|i| i + from)
    };
    let mut parts = Vec::new();
    let Some(mut at) = find(body, 0) else {
        return parts;
    };
    loop {
        let start = at + d.len();
        if body.get(start..start + 2) == Some(b"--") {
            break;
        }
        let Some(next) = find(body, start) else { break };
        let mut chunk = &body[start..next];
        chunk = chunk.strip_prefix(b"\r\n").unwrap_or(chunk);
        chunk = chunk.strip_suffix(b"\r\n").unwrap_or(chunk);
        let split = chunk.windows(4).position(|w| w == b"\r\n\r\n");
        let (head, content) = match split {
            Some(i) => (&chunk[..i], &chunk[i + 4..]),
            None => (chunk, &b""[..]),
        };
        let headers: Vec<(String, String)> = String::from_utf8_lossy(head)
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                Some((k.trim().to_owned(), v.trim().to_owned()))
            })
            .collect();
        let name = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-disposition"))
            .and_then(|(_, v)| {
                v.split(';').find_map(|p| {
                    let (k, v) = p.trim().split_once('=')?;
                    (k == "name").then(|| v.trim_matches('"').to_owned())
                })
            })
            .unwrap_or_default();
        parts.push(Part {
            name,
            headers,
            body: content.to_vec(),
        });
        at = next;
    }
    parts
}

/// A cookie that is not there matches only `absent` (unlike a header or parameter,
/// which also matches WireMock's negative matchers).
pub fn cookie_distance(m: &ValuePattern, value: Option<&str>) -> f64 {
    match value {
        None if m.is_absent() => 0.0,
        None => 1.0,
        Some(v) => m.distance(Some(Subject::text(v))),
    }
}

/// How well a request fits a pattern: `distance` 0 is a match.
#[derive(Debug, Clone, Copy)]
pub struct Fit {
    pub matched: bool,
    pub distance: f64,
}

/// WireMock weighs the URL above the method, and both above the rest.
const URL_WEIGHT: f64 = 10.0;
const METHOD_WEIGHT: f64 = 3.0;

pub fn url_distance(url: &Option<UrlMatch>, r: &Incoming) -> f64 {
    let yes = |b: bool| if b { 0.0 } else { 1.0 };
    match url {
        None => 0.0,
        Some(UrlMatch::Url(u)) => lev(u, &r.url),
        Some(UrlMatch::Path(p)) => lev(p, r.path()),
        Some(UrlMatch::Pattern(re)) => yes(re.is_match(&r.url).unwrap_or(false)),
        Some(UrlMatch::PathPattern(re)) => yes(re.is_match(r.path()).unwrap_or(false)),
        Some(t @ UrlMatch::PathTemplate { .. }) => yes(t.path_params(r.path()).is_some()),
    }
}

fn lev(a: &str, b: &str) -> f64 {
    if a == b {
        return 0.0;
    }
    let longest = a.chars().count().max(b.chars().count()).max(1);
    (strsim::levenshtein(a, b) as f64 / longest as f64).clamp(0.0, 1.0)
}

pub fn method_matches(method: &Option<String>, r: &Incoming) -> bool {
    method
        .as_deref()
        .is_none_or(|m| m == "ANY" || m == r.method)
}

pub fn basic_auth_value(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn multipart_distance(p: &MultipartPattern, parts: &[Part]) -> f64 {
    let part_ok = |part: &Part| {
        p.headers.iter().all(|(name, m)| {
            let values: Vec<&str> = part
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .collect();
            m.matches(&values)
        }) && {
            let text = String::from_utf8_lossy(&part.body);
            p.body.iter().all(|b| {
                b.matches(Some(Subject {
                    text: &text,
                    bytes: &part.body,
                }))
            })
        }
    };
    let ok = if p.all {
        !parts.is_empty() && parts.iter().all(part_ok)
    } else {
        parts.iter().any(part_ok)
    };
    if ok {
        0.0
    } else {
        1.0
    }
}

/// Whether a request matches (scenario state aside), stopping at the first part that
/// does not: the cheap parts first, so a set of hundreds of mappings with heavy
/// regexes stays fast. [`fit`] measures how far off a request is, for reports.
pub fn matches(p: &RequestPattern, r: &Incoming) -> bool {
    if !method_matches(&p.method, r) || url_distance(&p.url, r) != 0.0 {
        return false;
    }
    let one = |m: &ValuePattern, v: Option<&str>| m.matches(v.map(Subject::text));
    let many = |m: &MultiPattern, values: &[&str]| m.matches(values);
    if p.scheme.as_deref().is_some_and(|s| s != "http")
        || p.port.is_some_and(|port| port != r.port())
        || p.host.as_ref().is_some_and(|h| !one(h, Some(&r.host())))
        || p.client_ip
            .as_ref()
            .is_some_and(|ip| !one(ip, Some(&r.client_ip)))
    {
        return false;
    }
    if !p
        .headers
        .iter()
        .all(|(name, m)| many(m, &r.header_values(name)))
    {
        return false;
    }
    if let Some((user, password)) = &p.basic_auth {
        let expected = basic_auth_value(user, password);
        if !r
            .header_values("authorization")
            .contains(&expected.as_str())
        {
            return false;
        }
    }
    if !p.path_params.is_empty() {
        let params = p
            .url
            .as_ref()
            .and_then(|u| u.path_params(r.path()))
            .unwrap_or_default();
        let ok = p.path_params.iter().all(|(name, m)| {
            one(
                m,
                params
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str()),
            )
        });
        if !ok {
            return false;
        }
    }
    let pairs_ok = |patterns: &[(String, MultiPattern)], pairs: &[(String, String)]| {
        patterns
            .iter()
            .all(|(name, m)| many(m, &values_of(pairs, name)))
    };
    if !p.query.is_empty() && !pairs_ok(&p.query, &r.query()) {
        return false;
    }
    if !p.form.is_empty() && !pairs_ok(&p.form, &r.form()) {
        return false;
    }
    if !p.cookies.is_empty() {
        let cookies = r.cookies();
        let ok = p.cookies.iter().all(|(name, m)| {
            let value = cookies
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str());
            cookie_distance(m, value) == 0.0
        });
        if !ok {
            return false;
        }
    }
    if !p.body.is_empty() {
        let text = r.body_text();
        let subject = Subject {
            text: &text,
            bytes: &r.body,
        };
        if !p.body.iter().all(|b| b.matches(Some(subject))) {
            return false;
        }
    }
    if !p.multipart.is_empty() {
        let parts = if r.is_multipart() {
            r.parts()
        } else {
            Vec::new()
        };
        if !p
            .multipart
            .iter()
            .all(|m| multipart_distance(m, &parts) == 0.0)
        {
            return false;
        }
    }
    true
}

/// Matches everything but scenario state, measuring how far off each part is.
pub fn fit(p: &RequestPattern, r: &Incoming) -> Fit {
    let mut total = 0.0;
    let mut weights = 0.0;
    let mut matched = true;
    let mut add = |weight: f64, d: f64| {
        total += weight * d;
        weights += weight;
        matched &= d == 0.0;
    };
    add(URL_WEIGHT, url_distance(&p.url, r));
    add(
        METHOD_WEIGHT,
        if method_matches(&p.method, r) {
            0.0
        } else {
            1.0
        },
    );
    if let Some(scheme) = &p.scheme {
        add(1.0, if scheme == "http" { 0.0 } else { 1.0 });
    }
    if let Some(host) = &p.host {
        let h = r.host();
        add(1.0, host.distance(Some(Subject::text(&h))));
    }
    if let Some(port) = p.port {
        add(1.0, if port == r.port() { 0.0 } else { 1.0 });
    }
    if let Some(ip) = &p.client_ip {
        add(1.0, ip.distance(Some(Subject::text(&r.client_ip))));
    }
    if !p.path_params.is_empty() {
        let params = p
            .url
            .as_ref()
            .and_then(|u| u.path_params(r.path()))
            .unwrap_or_default();
        for (name, m) in &p.path_params {
            let value = params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str());
            add(1.0, m.distance(value.map(Subject::text)));
        }
    }
    for (name, m) in &p.headers {
        add(1.0, m.distance(&r.header_values(name)));
    }
    if let Some((user, password)) = &p.basic_auth {
        let expected = basic_auth_value(user, password);
        let d = MultiPattern::Single(ValuePattern::EqualTo {
            expected,
            case_insensitive: false,
        })
        .distance(&r.header_values("authorization"));
        add(1.0, d);
    }
    // Parsed only when a pattern asks: this runs for every stub a request misses.
    if !p.query.is_empty() {
        let sent = r.query();
        for (name, m) in &p.query {
            add(1.0, m.distance(&values_of(&sent, name)));
        }
    }
    if !p.form.is_empty() {
        let sent = r.form();
        for (name, m) in &p.form {
            add(1.0, m.distance(&values_of(&sent, name)));
        }
    }
    if !p.cookies.is_empty() {
        let cookies = r.cookies();
        for (name, m) in &p.cookies {
            let value = cookies
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str());
            add(1.0, cookie_distance(m, value));
        }
    }
    if !p.body.is_empty() {
        let text = r.body_text();
        for b in &p.body {
            add(
                1.0,
                b.distance(Some(Subject {
                    text: &text,
                    bytes: &r.body,
                })),
            );
        }
    }
    if !p.multipart.is_empty() {
        let parts = if r.is_multipart() {
            r.parts()
        } else {
            Vec::new()
        };
        for m in &p.multipart {
            add(1.0, multipart_distance(m, &parts));
        }
    }
    Fit {
        matched,
        distance: if weights > 0.0 { total / weights } else { 0.0 },
    }
}

/// The values a multi-valued field (`a=1&a=2`) has under `name`, in order.
pub(crate) fn values_of<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(url: &str, headers: &[(&str, &str)], body: &str) -> Incoming {
        Incoming {
            id: "id".into(),
            received_at: Utc::now(),
            method: "POST".into(),
            url: url.into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
            client_ip: "127.0.0.1".into(),
            local_port: 8080,
        }
    }

    #[test]
    fn request_views() {
        let r = req(
            "/p?a=1&a=2&b=x+y%21",
            &[
                ("Host", "example.org:9000"),
                ("Cookie", "s=abc; t=\"q\""),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            "f=1&f=2&g=h%20i",
        );
        assert_eq!(r.path(), "/p");
        assert_eq!(r.query_values("a"), ["1", "2"]);
        assert_eq!(r.query_values("b"), ["x y!"]);
        assert_eq!((r.host(), r.port()), ("example.org".to_owned(), 9000));
        assert_eq!(r.base_url(), "http://example.org:9000");
        assert_eq!(r.cookies()[1], ("t".to_owned(), "q".to_owned()));
        assert_eq!(r.form()[2], ("g".to_owned(), "h i".to_owned()));
    }

    #[test]
    fn multipart_bodies_split_into_parts() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"info\"\r\nContent-Type: application/json; charset=utf-8\r\n\r\n{}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nbytes\r\n--XyZ--\r\n";
        let r = req(
            "/u",
            &[("Content-Type", "multipart/form-data; boundary=XyZ")],
            body,
        );
        let parts = r.parts();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "info");
        assert_eq!(parts[0].body, b"{}");
        assert_eq!(parts[1].body, b"bytes");
    }
}
