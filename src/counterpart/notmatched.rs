//! WireMock's answer to a request no stub matched: a plain-text table of the closest
//! stub beside the request, each line that differs marked with why.

use super::mapping::UrlMatch;
use super::matchers::{MultiPattern, Subject, ValuePattern};
use super::request::{fit, method_matches, url_distance, values_of, Incoming};
use super::state::{State, Stub};

const LEFT: usize = 59;
const RIGHT: usize = 52;
const RIGHT_WRAP: usize = 57;

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

    /// Texts too wide for their columns, wrapped at spaces as WireMock wraps them.
    fn wrapped(&mut self, left: &str, right: &str, why: Option<&str>) {
        self.wrapped_both(left, right, why);
    }

    /// Both texts wrapped to their columns.
    fn wrapped_both(&mut self, left: &str, right: &str, why: Option<&str>) {
        let l = wrap(left, LEFT - 1);
        let r = if right.is_empty() {
            Vec::new()
        } else {
            wrap(right, RIGHT_WRAP)
        };
        self.rows(&l.join("\n"), &r.join("\n"), why);
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

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.split('\n') {
        if line.chars().count() <= width {
            out.push(line.to_owned());
            continue;
        }
        let mut cur = String::new();
        for word in line.split(' ') {
            let candidate = if cur.is_empty() {
                word.to_owned()
            } else {
                format!("{cur} {word}")
            };
            if candidate.chars().count() <= width || cur.is_empty() {
                cur = candidate;
            } else {
                out.push(std::mem::take(&mut cur));
                cur = word.to_owned();
            }
            while cur.chars().count() > width {
                let head: String = cur.chars().take(width).collect();
                cur = cur.chars().skip(width).collect();
                out.push(head);
            }
        }
        out.push(cur);
    }
    out
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
    if !matches!(m, MultiPattern::Single(_)) {
        return multi_left("", name, m).trim_start_matches(": ").to_owned();
    }
    let (op, expected) = m.describe();
    match op.as_str() {
        "equalTo" => format!("{name}: {expected}"),
        _ => format!(
            "{name} [{op}] {sep_trim}{expected}",
            sep_trim = sep.trim_start()
        ),
    }
}

fn scenario_distance(state: &State, stub: &Stub) -> f64 {
    match &stub.mapping.scenario {
        Some(rule) => match &rule.required_state {
            Some(req) if state.scenario_state(&rule.name) != *req => 1.0,
            _ => 0.0,
        },
        None => 0.0,
    }
}

/// The text of the not-matched answer.
pub fn report(state: &State, stubs: &[Stub], r: &Incoming) -> String {
    let mut t = Table { out: String::new() };
    t.out.push('\n');
    t.out.push_str(&format!(
        "{:>70}\n{:>70}\n\n",
        "Request was not matched", "======================="
    ));
    let closest = stubs
        .iter()
        .map(|s| {
            let f = fit(&s.mapping.request, r);
            (f.distance + scenario_distance(state, s) / 10.0, s)
        })
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
        t.wrapped(name, "", None);
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
    t.wrapped(
        &url_text(&p.url),
        &r.url,
        (!url_ok).then_some("URL does not match"),
    );
    t.blank();
    if let Some(rule) = &stub.mapping.scenario {
        if let Some(required) = &rule.required_state {
            let current = state.scenario_state(&rule.name);
            t.wrapped_both(
                &format!("[Scenario '{}' state: {required}]", rule.name),
                &format!("[Scenario '{}' state: {current}]", rule.name),
                (current != *required).then_some("Scenario does not match"),
            );
        }
    }
    path_params(&mut t, p, r);
    headers(&mut t, p, r);
    if !p.query.is_empty() {
        multi_valued(&mut t, &p.query, &r.query(), "Query", "Query");
    }
    cookies(&mut t, p, r);
    if !p.form.is_empty() {
        multi_valued(&mut t, &p.form, &r.form(), "Form", "Form data");
    }
    body(&mut t, p, r);
    multipart(&mut t, p, r);
    t.blank();
    t.out.push_str(&dashes);
    t.out.push('\n');
    t.out
}

fn path_params(t: &mut Table, p: &super::mapping::RequestPattern, r: &Incoming) {
    if p.path_params.is_empty() {
        return;
    }
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
        let left = match m.operator() {
            "equalTo" => format!("Path parameter: {name} = {}", m.expected()),
            op => format!("Path parameter: {name} [{op}] {}", m.expected()),
        };
        let ok = m.matches(value.map(Subject::text));
        t.wrapped(
            &left,
            value.unwrap_or(""),
            (!ok).then_some("Path parameter does not match"),
        );
    }
    t.blank();
}

fn headers(t: &mut Table, p: &super::mapping::RequestPattern, r: &Incoming) {
    let mut any = false;
    let mut line = |t: &mut Table, name: &str, m: &MultiPattern| {
        any = true;
        let values = r.header_values(name);
        let (right, why) = match values.first() {
            None => (String::new(), Some("Header is not present")),
            Some(v) => (
                format!("{name}: {v}"),
                (!m.matches(&values)).then_some("Header does not match"),
            ),
        };
        t.wrapped(&described(name, m, " : "), &right, why);
    };
    for (name, m) in &p.headers {
        line(t, name, m);
    }
    if let Some((user, password)) = &p.basic_auth {
        let expected = super::request::basic_auth_value(user, password);
        let values = r.header_values("authorization");
        let ok = values.contains(&expected.as_str());
        let (right, why) = match values.first() {
            None => (String::new(), Some("Header is not present")),
            Some(v) => (
                format!("Authorization: {v}"),
                (!ok).then_some("Header does not match"),
            ),
        };
        t.wrapped(&format!("Authorization [prefix] : {expected}"), &right, why);
        any = true;
    }
    if any {
        t.blank();
    }
}

fn multi_left(kind: &str, name: &str, m: &MultiPattern) -> String {
    let kind = if kind.is_empty() {
        String::new()
    } else {
        format!("{kind}: ")
    };
    match m {
        MultiPattern::Single(v) if v.operator() == "equalTo" => {
            format!("{kind}{name} = {}", v.expected())
        }
        MultiPattern::Single(v) => format!("{kind}{name} [{}] {}", v.operator(), v.expected()),
        MultiPattern::HasExactly(list) | MultiPattern::Includes(list) => {
            let word = if matches!(m, MultiPattern::HasExactly(_)) {
                "exactly"
            } else {
                "including"
            };
            let inner = list
                .iter()
                .map(|p| format!("{} {}", p.operator(), p.expected()))
                .collect::<Vec<_>>()
                .join(" AND ");
            format!("{kind}{name} {word} [{inner}]")
        }
    }
}

/// Query parameters or form fields, each pattern beside the values the request sent.
fn multi_valued(
    t: &mut Table,
    patterns: &[(String, MultiPattern)],
    sent: &[(String, String)],
    kind: &str,
    noun: &str,
) {
    for (name, m) in patterns {
        let values = values_of(sent, name);
        let (right, why) = if values.is_empty() {
            (String::new(), Some(format!("{noun} is not present")))
        } else {
            let right = values
                .iter()
                .map(|v| format!("{name}: {v}"))
                .collect::<Vec<_>>()
                .join("\n");
            let wrong = (!m.matches(&values)).then(|| format!("{noun} does not match"));
            (right, wrong)
        };
        t.wrapped(&multi_left(kind, name, m), &right, why.as_deref());
    }
    t.blank();
}

fn cookies(t: &mut Table, p: &super::mapping::RequestPattern, r: &Incoming) {
    if p.cookies.is_empty() {
        return;
    }
    let cookies = r.cookies();
    for (name, m) in &p.cookies {
        let value = cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let left = match m.operator() {
            "equalTo" => format!("Cookie: {name} = {}", m.expected()),
            op => format!("Cookie: {name} [{op}] {}", m.expected()),
        };
        let (right, why) = match value {
            None => (String::new(), Some("Cookie is not present")),
            Some(v) => (
                v.to_owned(),
                (super::request::cookie_distance(m, Some(v)) != 0.0)
                    .then_some("Cookie does not match"),
            ),
        };
        t.wrapped(&left, &right, why);
    }
    t.blank();
}

/// Each part of a multipart request beside the first multipart pattern.
fn multipart(t: &mut Table, p: &super::mapping::RequestPattern, r: &Incoming) {
    let Some(pattern) = p.multipart.first() else {
        return;
    };
    let parts = if r.is_multipart() {
        r.parts()
    } else {
        Vec::new()
    };
    if parts.is_empty() {
        t.row(
            "[Multipart request body]",
            "",
            Some("[Multipart request body] is not present"),
        );
        return;
    }
    for part in &parts {
        t.blank();
        t.row("[Multipart]", &format!("[{}]", part.name), None);
        t.blank();
        for (name, m) in &pattern.headers {
            let values: Vec<&str> = part
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .collect();
            let (right, why) = match values.first() {
                None => (String::new(), Some("Header is not present")),
                Some(v) => (
                    format!("{name}: {v}"),
                    (!m.matches(&values)).then_some("Header does not match"),
                ),
            };
            t.wrapped(&described(name, m, " : "), &right, why);
        }
        t.blank();
        body_lines(t, &pattern.body, &part.body);
        t.blank();
        t.row("[/Multipart]", &format!("[/{}]", part.name), None);
        t.blank();
    }
}

/// Only the body matchers that fail are shown, as WireMock shows them.
fn body(t: &mut Table, p: &super::mapping::RequestPattern, r: &Incoming) {
    body_lines(t, &p.body, &r.body);
}

fn body_lines(t: &mut Table, patterns: &[ValuePattern], bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes).into_owned();
    for b in patterns {
        let subject = Subject { text: &text, bytes };
        // WireMock lists neither the matchers that pass nor its negative regex ones.
        if b.matches(Some(subject))
            || matches!(
                b,
                ValuePattern::DoesNotMatch(_) | ValuePattern::DoesNotContain(_)
            )
        {
            continue;
        }
        let why = Some(if bytes.is_empty() {
            "Body is not present"
        } else {
            "Body does not match"
        });
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
                t.rows(&left, &right, Some("Body does not match"));
            }
            ValuePattern::MatchesJsonPath {
                path,
                sub: Some(sub),
            } => {
                let selected = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .map(|v| path.select(&v).into_value())
                    .map(|v| match v {
                        serde_json::Value::Array(mut a) if a.len() == 1 => {
                            super::content::as_text(&a.remove(0))
                        }
                        other if other.is_null() => String::new(),
                        other => super::content::as_text(&other),
                    })
                    .unwrap_or_default();
                let left = format!("{} [{}] {}", path.source, sub.operator(), sub.expected());
                t.wrapped(&left, &selected, why);
            }
            // WireMock prints the Java array itself; its hash changes every time.
            ValuePattern::BinaryEqualTo(_) => {
                let hash = bytes
                    .iter()
                    .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(*b)));
                t.wrapped(&b.expected(), &format!("[B@{hash:x}"), why);
            }
            ValuePattern::MatchesJsonSchema { schema, .. } => {
                let left = format!("[matchesJsonSchema]\n{}", super::jackson::pretty(schema));
                t.rows(&left, &format!("\n{text}"), why);
            }
            ValuePattern::EqualToXml(x) => {
                let expected = super::xml::pretty(&x.source).unwrap_or_else(|| x.source.clone());
                let actual = super::xml::pretty(&text).unwrap_or_else(|| text.clone());
                let left = format!("[equalToXml]\n{expected}");
                let right = if text.is_empty() {
                    String::new()
                } else {
                    format!("\n{actual}")
                };
                t.rows(&left, &right, why);
            }
            ValuePattern::MatchesXPath(x) if x.sub.is_some() => {
                let sub = x.sub.as_ref().map_or(String::new(), |s| {
                    format!("[{}] {}", s.operator(), s.expected())
                });
                let selected = match super::xml::evaluate(&text, &x.expression, &x.namespaces) {
                    Ok(super::xml::XPathResult::Nodes(n)) => {
                        n.first().map(|n| n.printed.clone()).unwrap_or_default()
                    }
                    Ok(super::xml::XPathResult::Text(s)) => s,
                    _ => String::new(),
                };
                t.wrapped(&format!("{} {sub}", x.expression), &selected, why);
            }
            ValuePattern::And(_) | ValuePattern::Or(_) => {
                let left = format!("[{}]\n{}", b.operator(), b.expected());
                t.rows(&left, &format!("\n{text}"), why);
            }
            other => t.wrapped(&other.expected(), &text, why),
        }
    }
}
