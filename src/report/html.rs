//! The HTML report for people: one self-contained file (no external scripts, fonts
//! or styles). Run metadata, the requirement table, then each scenario with its
//! steps; a step's exchanges open on click to show the redacted request and response.

use std::io::{self, Write};

use super::junit::esc;
use super::model::{Report, ScenarioResult, Status, Verdict};
use crate::evidence::{Body, Exchange};

/// Bodies longer than this are cut in the page; `report.json` keeps them whole.
const SHOWN_BODY_CHARS: usize = 256 * 1024;

const STYLE: &str = r#"
:root { --pass: #1a7f37; --fail: #cf222e; --err: #9a6700; --na: #57606a; --bg: #f6f8fa; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; }
header { padding: 20px 28px; border-bottom: 1px solid var(--line); background: var(--bg); }
main { padding: 12px 28px 40px; max-width: 1200px; }
h1 { margin: 0 0 6px; font-size: 22px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--bg); border: 1px solid var(--line); padding: 8px; overflow: auto; max-height: 480px; white-space: pre-wrap; word-break: break-all; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; white-space: nowrap; }
.passed { background: var(--pass); } .failed { background: var(--fail); } .error { background: var(--err); }
.not_applicable, .not_run, .skipped { background: var(--na); }
.verdict { font-size: 16px; padding: 3px 12px; }
.meta td:first-child { width: 180px; color: #57606a; }
.scenario { border: 1px solid var(--line); border-radius: 6px; margin: 10px 0; padding: 8px 12px; }
.scenario.failed, .scenario.error { border-left: 4px solid var(--fail); }
.steps { margin: 6px 0 0; padding: 0; list-style: none; }
.steps li { padding: 3px 0; }
.kw { font-weight: 600; color: #8250df; }
.finding { margin: 4px 0 4px 22px; padding: 6px 10px; background: #fff1f0; border-left: 3px solid var(--fail); }
.muted { color: #57606a; }
details { margin: 4px 0 4px 22px; }
summary { cursor: pointer; }
@media print { details { display: block; } pre { max-height: none; } header { background: none; } }
"#;

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let verdict = match report.verdict {
        Verdict::Passed => ("passed", "Passed"),
        Verdict::Failed => ("failed", "Failed"),
        Verdict::Incomplete => ("error", "Incomplete"),
    };
    let suites: Vec<String> = report
        .suites
        .iter()
        .map(|s| format!("{} {}", s.id, s.version))
        .collect();
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>assure report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&suites.join(", "))
    )?;
    writeln!(
        out,
        "<header><h1>Assurance report <span class=\"badge verdict {}\">{}</span></h1><div class=\"muted\">{} · run <code>{}</code></div></header>\n<main>",
        verdict.0,
        verdict.1,
        esc(&suites.join(", ")),
        esc(&report.run.id)
    )?;
    summary(report, out)?;
    requirements(report, out)?;
    writeln!(out, "<h2>Scenarios</h2>")?;
    for suite in &report.suites {
        for feature in &suite.features {
            writeln!(
                out,
                "<h3>{} <span class=\"muted\">{} · <code>{}</code></span></h3>",
                esc(&feature.name),
                esc(&suite.id),
                esc(&feature.file)
            )?;
            for sc in &feature.scenarios {
                scenario(report, sc, out)?;
            }
        }
    }
    writeln!(out, "</main>\n</body>\n</html>")
}

fn badge(status: Status) -> String {
    let class = serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!("<span class=\"badge {class}\">{}</span>", status.label())
}

fn summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let r = &report.run;
    writeln!(out, "<h2>Run</h2>\n<table class=\"meta\">")?;
    let mut row = |k: &str, v: String| writeln!(out, "<tr><td>{k}</td><td>{v}</td></tr>");
    row(
        "Target",
        format!("<code>{}</code>", esc(&r.target.base_url)),
    )?;
    if let Some(c) = &r.target.counterpart {
        row(
            "Played by",
            format!("embedded counterpart <code>{}</code>", esc(c)),
        )?;
    }
    if let Some(s) = &r.target.software {
        row("Target software", esc(s))?;
    }
    if let Some(v) = &r.target.fhir_version {
        row("Declared FHIR version", esc(v))?;
    }
    row(
        "Tool",
        format!("{} {}", esc(&r.tool.name), esc(&r.tool.version)),
    )?;
    row(
        "Started / finished",
        format!(
            "{} / {} ({:.1} s)",
            esc(&r.started),
            esc(&r.finished),
            r.duration_ms / 1000.0
        ),
    )?;
    row(
        "Command",
        format!("<code>{}</code>", esc(&r.command_line.join(" "))),
    )?;
    row("Machine", esc(&r.os))?;
    if !r.inputs.is_empty() {
        let inputs: Vec<String> = r
            .inputs
            .iter()
            .map(|(k, v)| format!("<code>{}</code> = <code>{}</code>", esc(k), esc(v)))
            .collect();
        row("Inputs", inputs.join("<br>"))?;
    }
    if let Some(t) = &r.tags {
        row("Tags", format!("<code>{}</code>", esc(t)))?;
    }
    let s = &report.summary.scenarios;
    row(
        "Scenarios",
        format!(
            "{} total: {} passed, {} failed, {} error, {} not applicable, {} not run",
            s.total, s.passed, s.failed, s.error, s.not_applicable, s.not_run
        ),
    )?;
    row("Exchanges", report.summary.exchanges.to_string())?;
    for e in &report.errors {
        row("Incomplete", format!("<strong>{}</strong>", esc(e)))?;
    }
    for w in &report.warnings {
        row("Warning", esc(w))?;
    }
    writeln!(out, "</table>")
}

fn requirements(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<h2>Requirements</h2>")?;
    for suite in &report.suites {
        writeln!(out, "<table><tr><th>Status</th><th>Requirement</th><th>Level</th><th>Text</th><th>Source</th><th>Scenarios</th></tr>")?;
        for req in &suite.requirements {
            let links: Vec<String> = req
                .scenarios
                .iter()
                .map(|id| format!("<a href=\"#{}\">{}</a>", anchor(id), esc(id)))
                .collect();
            writeln!(
                out,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                badge(req.status),
                esc(&req.id),
                req.level,
                esc(&req.text),
                esc(&req.source),
                links.join("<br>")
            )?;
        }
        writeln!(out, "</table>")?;
    }
    Ok(())
}

fn anchor(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn scenario(report: &Report, sc: &ScenarioResult, out: &mut dyn Write) -> io::Result<()> {
    let class = serde_json::to_value(sc.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    writeln!(
        out,
        "<div class=\"scenario {class}\" id=\"{}\"><div>{} <strong>{}</strong> <span class=\"muted\">line {} · {}</span></div>",
        anchor(&sc.id),
        badge(sc.status),
        esc(&sc.name),
        sc.line,
        esc(&sc.tags.iter().map(|t| format!("@{t}")).collect::<Vec<_>>().join(" "))
    )?;
    if let Some(reason) = &sc.reason {
        writeln!(out, "<div class=\"muted\">{}</div>", esc(reason))?;
    }
    writeln!(out, "<ul class=\"steps\">")?;
    for step in &sc.steps {
        writeln!(
            out,
            "<li>{} <span class=\"kw\">{}</span> {}",
            badge(step.status),
            esc(&step.keyword),
            esc(&step.text)
        )?;
        if let Some(doc) = &step.docstring {
            writeln!(out, "<pre>{}</pre>", esc(doc))?;
        }
        if let Some(table) = &step.table {
            let rows: Vec<String> = table
                .iter()
                .map(|r| format!("| {} |", r.join(" | ")))
                .collect();
            writeln!(out, "<pre>{}</pre>", esc(&rows.join("\n")))?;
        }
        if let Some(f) = &step.failure {
            write!(out, "<div class=\"finding\">{}", esc(&f.message))?;
            if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
                write!(
                    out,
                    "<br>expected <code>{}</code><br>actual <code>{}</code>",
                    esc(e),
                    esc(a)
                )?;
            }
            writeln!(out, "</div>")?;
        }
        for id in &step.exchanges {
            if let Some(ex) = report.exchange(id) {
                exchange(ex, out)?;
            }
        }
        writeln!(out, "</li>")?;
    }
    writeln!(out, "</ul></div>")
}

fn exchange(ex: &Exchange, out: &mut dyn Write) -> io::Result<()> {
    let status = ex
        .response
        .as_ref()
        .map_or_else(|| "no response".to_owned(), |r| r.status.to_string());
    writeln!(
        out,
        "<details><summary><code>{} {}</code> → {} <span class=\"muted\">{:.0} ms · {}</span></summary>",
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
        let mut response = format!("HTTP {}\n", r.status);
        for (k, v) in &r.headers {
            response.push_str(&format!("{k}: {v}\n"));
        }
        response.push('\n');
        response.push_str(&shown(&r.body));
        writeln!(
            out,
            "<div class=\"muted\">Response</div><pre>{}</pre>",
            esc(&response)
        )?;
    }
    if let Some(e) = &ex.error {
        writeln!(out, "<div class=\"finding\">{}</div>", esc(e))?;
    }
    writeln!(out, "</details>")
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
