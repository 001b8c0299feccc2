//! Evidence in the HTML report: an exchange's redacted request and response, with
//! the element a failed JSON check looked at highlighted in the response body.

use std::io::{self, Write};

use super::junit::esc;
use super::model::{ScenarioResult, Status};
use crate::evidence::{Body, Exchange};

/// Bodies longer than this are cut in the page; `report.json` keeps them whole.
const SHOWN_BODY_CHARS: usize = 256 * 1024;

/// For a scenario whose failing step points at an element of a response (its
/// finding's evidence span), the exchange and the path to highlight.
pub fn highlight(sc: &ScenarioResult) -> Option<(String, String)> {
    let step = sc.steps.iter().find(|s| s.status == Status::Failed)?;
    let span = step.failure.as_ref()?.evidence.as_ref()?;
    Some((span.exchange.clone()?, span.path.clone()?))
}

pub fn exchange(ex: &Exchange, path: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
    let status = ex
        .response
        .as_ref()
        .map_or_else(|| "no response".to_owned(), |r| r.status.to_string());
    let open = if path.is_some() { " open" } else { "" };
    writeln!(
        out,
        "<details{open}><summary><code>{} {}</code> → {} <span class=\"muted\">{:.0} ms · {}</span></summary>",
        esc(&ex.request.method),
        esc(&ex.request.url),
        esc(&status),
        ex.duration_ms,
        esc(&ex.id)
    )?;
    let mut request = format!("{} {}\n", ex.request.method, ex.request.url);
    for (k, v) in &ex.request.headers {
        request.push_str(&format!("{k}: {v}\n"));
    }
    if let Some(body) = &ex.request.body {
        request.push('\n');
        request.push_str(&shown(body));
    }
    writeln!(
        out,
        "<div class=\"muted\">Request</div><pre>{}</pre>",
        esc(&request)
    )?;
    if let Some(r) = &ex.response {
        let mut head = format!("HTTP {}\n", r.status);
        for (k, v) in &r.headers {
            head.push_str(&format!("{k}: {v}\n"));
        }
        head.push('\n');
        let body = shown(&r.body);
        let marked = path.and_then(|p| marked_line(&body, p));
        write!(
            out,
            "<div class=\"muted\">Response</div><pre>{}",
            esc(&head)
        )?;
        match marked {
            Some(line) => {
                for (n, text) in body.lines().enumerate() {
                    if n + 1 == line {
                        write!(out, "<mark class=\"hl\">{}</mark>", esc(text))?;
                    } else {
                        writeln!(out, "{}", esc(text))?;
                    }
                }
            }
            None => write!(out, "{}", esc(&body))?,
        }
        writeln!(out, "</pre>")?;
    }
    if let Some(e) = &ex.error {
        writeln!(out, "<div class=\"finding\">{}</div>", esc(e))?;
    }
    writeln!(out, "</details>")
}

/// The 1-based line of `shown` (pretty JSON) where the element at `path` starts.
fn marked_line(shown: &str, path: &str) -> Option<usize> {
    let root = assure_fhir::parse_json(shown).ok()?;
    let node = crate::outcome::select(&root, path).ok()??;
    usize::try_from(node.pos.line).ok()
}

/// A body for reading: pretty JSON when it parses, cut when very long.
fn shown(body: &Body) -> String {
    let Some(text) = &body.text else {
        return format!(
            "({} bytes of binary content, sha256 {})",
            body.size, body.sha256
        );
    };
    let pretty = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.clone());
    let mut out: String = pretty.chars().take(SHOWN_BODY_CHARS).collect();
    if out.len() < pretty.len() {
        out.push_str(&format!(
            "\n… cut at {SHOWN_BODY_CHARS} characters; report.json has the whole body"
        ));
    }
    if body.truncated {
        out.push_str(&format!(
            "\n… the response was over the size limit ({} bytes received)",
            body.size
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_the_line_of_the_element_a_path_names() {
        let body = "{\n  \"a\": {\n    \"b\": [\n      1,\n      2\n    ]\n  }\n}";
        assert_eq!(marked_line(body, "a.b[1]"), Some(5));
        assert_eq!(marked_line(body, "/a/b/0"), Some(4));
        assert_eq!(marked_line(body, "a.c"), None);
        assert_eq!(marked_line("not json", "a"), None);
    }
}
