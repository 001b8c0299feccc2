//! WireMock's answer to a request no stub matched: a plain-text table of the closest
//! stub beside the request, each line that differs marked with why.

use super::mapping::UrlMatch;
use super::matchers::{MultiPattern, Subject, ValuePattern};
use super::request::{fit, method_matches, url_distance, Incoming};
use super::state::{State, Stub};

const LEFT: usize = 59;
const RIGHT: usize = 52;

struct Table {
    out: String,
}

impl Table {
    fn blank(&mut self) {
        self.row("", "", None);
    }

    fn row(&mut self, left: &str, right: &str, why: Option<&str>) {
        let mut line = format!("{left:<LEFT$}|");
        match why {
            Some(why) => line.push_str(&format!(" {right:<RIGHT$}<<<<< {why}")),
            None if !right.is_empty() => line.push_str(&format!(" {right}")),
            None => {}
        }
        self.out.push_str(&line);
        self.out.push('\n');
    }

    /// Multi-line texts side by side; the reason goes on the first line.
    fn rows(&mut self, left: &str, right: &str, why: Option<&str>) {
        let l: Vec<&str> = left.split('\n').collect();
        let r: Vec<&str> = if right.is_empty() {
            Vec::new()
        } else {
            right.split('\n').collect()
        };
        for i in 0..l.len().max(r.len()) {
            self.row(
                l.get(i).copied().unwrap_or(""),
                r.get(i).copied().unwrap_or(""),
                if i == 0 { why } else { None },
            );
        }
    }
}

fn url_text(url: &Option<UrlMatch>) -> String {
    match url {
        None => "ANY".into(),
        Some(UrlMatch::Url(u)) => u.clone(),
        Some(UrlMatch::Path(p)) => format!("[path] {p}"),
        Some(u @ UrlMatch::Pattern(_)) => format!("[regex] {}", u.text()),
        Some(u @ UrlMatch::PathPattern(_)) => format!("[path regex] {}", u.text()),
        Some(UrlMatch::PathTemplate { template, .. }) => format!("[path template] {template}"),
    }
}

fn described(name: &str, m: &MultiPattern, sep: &str) -> String {
    let (op, expected) = m.describe();
    match op.as_str() {
        "equalTo" => format!("{name}{sep}{expected}"),
        _ => format!(
            "{name} [{op}] {sep_trim}{expected}",
            sep_trim = sep.trim_start()
        ),
    }
}

/// The text of the not-matched answer.
pub fn report(_state: &State, stubs: &[Stub], r: &Incoming) -> String {
    let mut t = Table { out: String::new() };
    t.out.push('\n');
    t.out.push_str(&format!(
        "{:>70}\n{:>70}\n\n",
        "Request was not matched", "======================="
    ));
    let closest = stubs
        .iter()
        .map(|s| (fit(&s.mapping.request, r).distance, s))
        .min_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal))
        .map(|(_, s)| s);
    let dashes = "-".repeat(119);
    t.out.push_str(&dashes);
    t.out.push('\n');
    t.out.push_str(&format!(
        "{:<LEFT$}| {:<57}|\n",
        "| Closest stub", "Request"
    ));
    t.out.push_str(&dashes);
    t.out.push('\n');
    let Some(stub) = closest else {
        t.blank();
        t.row("", &format!("{} {}", r.method, r.url), None);
        t.blank();
        t.out.push_str(&dashes);
        t.out.push('\n');
        return t.out;
    };
    let p = &stub.mapping.request;
    t.blank();
    if let Some(name) = &stub.mapping.name {
        t.row(name, "", None);
        t.blank();
    }
    let method = p.method.clone().unwrap_or_else(|| "ANY".into());
    let method_ok = method_matches(&p.method, r);
    t.row(
        &method,
        &r.method,
        (!method_ok).then_some("HTTP method does not match"),
    );
    let url_ok = url_distance(&p.url, r) == 0.0;
    t.row(
        &url_text(&p.url),
        &r.url,
        (!url_ok).then_some("URL does not match"),
    );
    t.blank();
    for (name, m) in &p.headers {
        let values = r.header_values(name);
        let (right, why) = match values.first() {
            None => (String::new(), Some("Header is not present")),
            Some(v) => (
                format!("{name}: {v}"),
                (!m.matches(&values)).then_some("Header does not match"),
            ),
        };
        t.row(&described(name, m, " : "), &right, why);
    }
    t.blank();
    if !p.query.is_empty() {
        let query = r.query();
        for (name, m) in &p.query {
            let values: Vec<&str> = query
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect();
            let (op, expected) = m.describe();
            let left = if op == "equalTo" {
                format!("Query: {name} = {expected}")
            } else {
                format!("Query: {name} [{op}] {expected}")
            };
            let (right, why) = match values.first() {
                None => (String::new(), Some("Query is not present")),
                Some(v) => (
                    format!("{name}: {v}"),
                    (!m.matches(&values)).then_some("Query does not match"),
                ),
            };
            t.row(&left, &right, why);
        }
        t.blank();
    }
    if !p.cookies.is_empty() {
        let cookies = r.cookies();
        for (name, m) in &p.cookies {
            let value = cookies
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str());
            let left = format!("Cookie: {name} [{}] {}", m.operator(), m.expected());
            let (right, why) = match value {
                None => (String::new(), Some("Cookie is not present")),
                Some(v) => (
                    format!("{name}: {v}"),
                    (!m.matches(Some(Subject::text(v)))).then_some("Cookie does not match"),
                ),
            };
            t.row(&left, &right, why);
        }
        t.blank();
    }
    if !p.body.is_empty() {
        let text = r.body_text();
        for b in &p.body {
            let ok = b.matches(Some(Subject {
                text: &text,
                bytes: &r.body,
            }));
            let why = match (ok, r.body.is_empty()) {
                (true, _) => None,
                (false, true) => Some("Body is not present"),
                (false, false) => Some("Body does not match"),
            };
            match b {
                ValuePattern::EqualToJson(j) => {
                    let actual = serde_json::from_str::<serde_json::Value>(&text)
                        .map(|v| super::jackson::pretty(&v))
                        .unwrap_or_else(|_| text.clone());
                    let left = format!("[equalToJson]\n{}", j.expected_text());
                    let right = if text.is_empty() {
                        String::new()
                    } else {
                        format!("\n{actual}")
                    };
                    let why = if ok {
                        None
                    } else {
                        Some("Body does not match")
                    };
                    t.rows(&left, &right, why);
                }
                other => t.rows(&other.expected(), &text, why),
            }
        }
        t.blank();
    }
    t.out.push_str(&dashes);
    t.out.push('\n');
    t.out
}
