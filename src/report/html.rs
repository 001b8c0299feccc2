//! The HTML report for people: one self-contained file (no external scripts, fonts
//! or styles). The verdict and counts first, filters, the requirement matrix, each
//! scenario with its steps (a step's exchanges open on click to show the redacted
//! request and response, the failing element highlighted), then provenance.

use std::collections::BTreeSet;
use std::io::{self, Write};

use super::html_assets::{SCRIPT, STYLE};
use super::junit::esc;
use super::model::{Counts, Report, ScenarioResult, Status, Verdict, WaiverState};
use super::provenance;
use crate::suite::Level;

use super::html_evidence as evidence;

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
        "<header><h1>Assurance report <span class=\"badge verdict {}\">{}</span></h1><div class=\"muted\">{} · target <code>{}</code> · run <code>{}</code></div></header>\n<main>",
        verdict.0,
        verdict.1,
        esc(&suites.join(", ")),
        esc(&report.run.target.base_url),
        esc(&report.run.id)
    )?;
    summary(report, out)?;
    filters(report, out)?;
    requirements(report, out)?;
    test_data(report, out)?;
    waivers(report, out)?;
    writeln!(out, "<h2>Scenarios</h2>")?;
    for suite in &report.suites {
        for feature in &suite.features {
            writeln!(
                out,
                "<section class=\"feature\"><h3>{} <span class=\"muted\">{} · <code>{}</code></span></h3>",
                esc(&feature.name),
                esc(&suite.id),
                esc(&feature.file)
            )?;
            for sc in &feature.scenarios {
                let levels: BTreeSet<String> = sc
                    .requirements
                    .iter()
                    .filter_map(|r| suite.requirements.iter().find(|x| &x.id == r))
                    .map(|r| r.level.to_string())
                    .collect();
                scenario(report, sc, &feature.file, &levels, out)?;
            }
            writeln!(out, "</section>")?;
        }
    }
    provenance_table(report, out)?;
    writeln!(out, "</main>\n<script>{SCRIPT}</script>\n</body>\n</html>")
}

fn class(status: Status) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn badge(status: Status) -> String {
    format!(
        "<span class=\"badge {}\">{}</span>",
        class(status),
        status.label()
    )
}

const ORDER: [Status; 8] = [
    Status::Passed,
    Status::Failed,
    Status::Error,
    Status::Inconclusive,
    Status::Informational,
    Status::Waived,
    Status::NotApplicable,
    Status::NotRun,
];

fn count(c: &Counts, s: Status) -> usize {
    match s {
        Status::Passed => c.passed,
        Status::Failed => c.failed,
        Status::Error => c.error,
        Status::Inconclusive => c.inconclusive,
        Status::Waived => c.waived,
        Status::Informational => c.informational,
        Status::NotApplicable => c.not_applicable,
        Status::NotRun | Status::Skipped => c.not_run,
    }
}

fn summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let r = &report.summary.requirements;
    let s = &report.summary.scenarios;
    let sentence = match report.verdict {
        Verdict::Passed if r.inconclusive > 0 => format!(
            "No gated requirement failed; {} could not be checked (inconclusive).",
            r.inconclusive
        ),
        Verdict::Passed => "Every gated requirement that ran passed.".to_owned(),
        Verdict::Failed => format!(
            "{} requirement{} failed or could not be checked.",
            r.failed + r.error,
            if r.failed + r.error == 1 { "" } else { "s" }
        ),
        Verdict::Incomplete => "The run did not complete: see below.".to_owned(),
    };
    writeln!(
        out,
        "<h2>Summary</h2>\n<p><strong>{}</strong> Gate: <code>--fail-on {}</code>.</p>",
        esc(&sentence),
        provenance::gate(&report.run)
    )?;
    writeln!(out, "<div class=\"tiles\">")?;
    for st in ORDER {
        writeln!(
            out,
            "<div class=\"tile\"><b>{}</b>{} scenario{}</div>",
            count(s, st),
            badge(st),
            if count(s, st) == 1 { "" } else { "s" }
        )?;
    }
    writeln!(out, "</div>")?;
    writeln!(
        out,
        "<div>Requirement coverage: {} of {} requirements passed</div><div class=\"bar\" role=\"img\" aria-label=\"requirement coverage\">",
        r.passed, r.total
    )?;
    for st in ORDER {
        let n = count(r, st);
        if n > 0 && r.total > 0 {
            writeln!(
                out,
                "<span class=\"{}\" style=\"width:{:.2}%\" title=\"{n} {}\"></span>",
                class(st),
                100.0 * n as f64 / r.total as f64,
                st.label()
            )?;
        }
    }
    write!(out, "</div><div class=\"legend muted\">")?;
    for st in ORDER {
        write!(out, "<span>{} {}</span>", count(r, st), st.label())?;
    }
    writeln!(out, "</div>")?;
    for e in &report.errors {
        writeln!(
            out,
            "<div class=\"finding\"><strong>Incomplete:</strong> {}</div>",
            esc(e)
        )?;
    }
    for w in &report.warnings {
        writeln!(out, "<div class=\"note\">Warning: {}</div>", esc(w))?;
    }
    if let Some(b) = &report.baseline {
        writeln!(
            out,
            "<p>Compared with baseline run <code>{}</code>: {} regression{} ({}), {} fixed.</p>",
            esc(&b.run_id),
            b.regressions.len(),
            if b.regressions.len() == 1 { "" } else { "s" },
            b.regressions
                .iter()
                .map(|id| format!("<a href=\"#{}\">{}</a>", anchor(id), esc(id)))
                .collect::<Vec<_>>()
                .join(", "),
            b.fixed.len()
        )?;
    }
    Ok(())
}

fn filters(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut tags = BTreeSet::new();
    let mut files = Vec::new();
    for (_, f, sc) in report.scenarios() {
        tags.extend(sc.tags.iter().cloned());
        if !files.contains(&f.file) {
            files.push(f.file.clone());
        }
    }
    let options = |items: &mut dyn Iterator<Item = &String>| -> String {
        items
            .map(|i| format!("<option value=\"{0}\">{0}</option>", esc(i)))
            .collect()
    };
    writeln!(
        out,
        "<form id=\"filters\" autocomplete=\"off\"><label>Status <select name=\"status\"><option value=\"\">all</option><option value=\"failing\">failed or error</option><option value=\"passed\">passed</option><option value=\"inconclusive\">inconclusive</option><option value=\"waived\">waived</option><option value=\"not_applicable\">not applicable</option><option value=\"not_run\">not run</option></select></label>\n<label>Level <select name=\"level\"><option value=\"\">all</option><option>MUST</option><option>SHOULD</option><option>MAY</option></select></label>\n<label>Feature <select name=\"feature\"><option value=\"\">all</option>{}</select></label>\n<label>Tag <select name=\"tag\"><option value=\"\">all</option>{}</select></label>\n<input type=\"search\" name=\"q\" placeholder=\"Search scenarios and requirements\" aria-label=\"search\"> <output id=\"shown\" class=\"muted\"></output></form>",
        options(&mut files.iter()),
        options(&mut tags.iter())
    )
}

fn requirements(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<h2>Requirements</h2>")?;
    for suite in &report.suites {
        writeln!(out, "<table><tr><th>Status</th><th>Requirement</th><th>Level</th><th>Text</th><th>Source</th><th>Scenarios</th><th>Evidence</th></tr>")?;
        for req in &suite.requirements {
            let mut links = Vec::new();
            for id in &req.scenarios {
                let found = report
                    .scenarios()
                    .find(|(s, _, sc)| s.id == suite.id && &sc.id == id);
                let (status, reason) = found.map_or((Status::NotRun, None), |(_, _, sc)| {
                    (sc.status, sc.reason.clone())
                });
                let reason = reason
                    .filter(|_| {
                        matches!(
                            status,
                            Status::NotApplicable | Status::Inconclusive | Status::NotRun
                        )
                    })
                    .map(|r| format!(" <span class=\"muted\">{}</span>", esc(&r)))
                    .unwrap_or_default();
                links.push(format!(
                    "<a href=\"#{}\">{}</a> {}{reason}",
                    anchor(id),
                    esc(id),
                    badge(status)
                ));
            }
            if links.is_empty() {
                links.push("<em>no scenario ran</em>".into());
            }
            let mut text = esc(&req.text);
            if !req.quote.is_empty() {
                text.push_str(&format!("<div class=\"quote\">“{}”</div>", esc(&req.quote)));
            }
            if let Some(reason) = &req.reason {
                text.push_str(&format!("<div class=\"muted\">{}</div>", esc(reason)));
            }
            writeln!(
                out,
                "<tr class=\"req\" data-status=\"{}\" data-level=\"{}\"><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                class(req.status),
                req.level,
                badge(req.status),
                esc(&req.id),
                req.level,
                text,
                esc(&req.source),
                links.join("<br>"),
                esc(&req.evidence.join(" "))
            )?;
        }
        writeln!(out, "</table>")?;
    }
    Ok(())
}

/// The inputs checked before the run, and what the run created and left behind.
fn test_data(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    use crate::test_data::{CheckState, CreatedState};
    if report.setup.is_empty() && report.created.is_empty() {
        return Ok(());
    }
    writeln!(out, "<h2>Test data</h2>")?;
    if !report.setup.is_empty() {
        writeln!(out, "<table><tr><th>Input</th><th>Value</th><th>Check</th><th>State</th><th>What the target answered</th></tr>")?;
        for c in &report.setup {
            let state = match c.state {
                CheckState::Ok => "ok",
                CheckState::Seeded => "seeded",
                CheckState::Missing => "<strong>missing</strong>",
                CheckState::Present => "<strong>present</strong>",
                CheckState::Unknown => "<strong>unknown</strong>",
            };
            writeln!(
                out,
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td>{state}</td><td>{} <span class=\"muted\">{}</span></td></tr>",
                esc(&c.input),
                esc(&c.value),
                esc(&c.request),
                esc(&c.message),
                esc(&c.exchanges.join(" "))
            )?;
        }
        writeln!(out, "</table>")?;
    }
    if !report.created.is_empty() {
        let left = report
            .created
            .iter()
            .filter(|c| c.state == CreatedState::LeftBehind)
            .count();
        writeln!(
            out,
            "<p>The run created {} resource{} on the target; {} {} left behind.</p>\n<table><tr><th>Resource</th><th>Created by</th><th>State</th></tr>",
            report.created.len(),
            if report.created.len() == 1 { "" } else { "s" },
            left,
            if left == 1 { "is" } else { "are" }
        )?;
        for c in &report.created {
            let state = match c.state {
                CreatedState::Deleted => "deleted",
                CreatedState::LeftBehind => "<strong>left behind</strong>",
            };
            writeln!(
                out,
                "<tr><td><code>{}/{}</code></td><td>{} <span class=\"muted\">{}</span></td><td>{state} <span class=\"muted\">{}</span></td></tr>",
                esc(&c.resource_type),
                esc(&c.id),
                esc(&c.by),
                esc(&c.exchange),
                esc(&c.note)
            )?;
        }
        writeln!(out, "</table>")?;
    }
    Ok(())
}

fn waivers(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if report.waivers.is_empty() {
        return Ok(());
    }
    writeln!(out, "<h2>Waivers</h2>\n<table><tr><th>Waiver</th><th>Matches</th><th>State</th><th>Justification</th><th>Accepted by</th><th>Expires</th><th>Waived scenarios</th></tr>")?;
    for w in &report.waivers {
        let state = match w.state {
            WaiverState::Applied => "applied",
            WaiverState::Unused => "unused: matched no failure",
            WaiverState::Expired => "expired: waives nothing, fails the gate",
        };
        let links: Vec<String> = w
            .scenarios
            .iter()
            .map(|id| format!("<a href=\"#{}\">{}</a>", anchor(id), esc(id)))
            .collect();
        writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{state}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&w.id),
            esc(&w.matches),
            esc(&w.justification),
            esc(&w.accepted_by),
            esc(&w.expires),
            links.join("<br>")
        )?;
    }
    writeln!(out, "</table>")
}

fn provenance_table(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<h2>Provenance</h2>\n<table class=\"meta\">")?;
    for row in provenance::rows(report) {
        let value = if row.code {
            format!("<code>{}</code>", esc(&row.value))
        } else {
            esc(&row.value)
        };
        writeln!(out, "<tr><td>{}</td><td>{value}</td></tr>", row.label)?;
    }
    writeln!(out, "</table>")
}

/// What the search box looks in: what a reader sees of a scenario, not its bodies.
fn search_text(sc: &ScenarioResult, file: &str) -> String {
    let mut text = vec![sc.name.clone(), sc.id.clone(), file.to_owned()];
    text.extend(sc.tags.iter().map(|t| format!("@{t}")));
    text.extend(sc.reason.clone());
    for st in &sc.steps {
        text.push(format!("{} {}", st.keyword, st.text));
        if let Some(f) = &st.failure {
            text.push(f.message.clone());
        }
        text.extend(st.reason.clone());
    }
    text.join(" ").to_lowercase()
}

fn anchor(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn scenario(
    report: &Report,
    sc: &ScenarioResult,
    file: &str,
    levels: &BTreeSet<String>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let levels: Vec<String> = if levels.is_empty() {
        // Traced to no requirement: it gates as MUST does.
        vec![Level::Must.to_string()]
    } else {
        levels.iter().cloned().collect()
    };
    writeln!(
        out,
        "<div class=\"scenario {0}\" id=\"{1}\" data-status=\"{0}\" data-levels=\"{2}\" data-feature=\"{3}\" data-tags=\"{4}\" data-search=\"{9}\"><div>{5} <strong>{6}</strong> <span class=\"muted\">{7} · {8}</span></div>",
        class(sc.status),
        anchor(&sc.id),
        levels.join(" "),
        esc(file),
        esc(&sc.tags.join(" ")),
        badge(sc.status),
        esc(&sc.name),
        esc(&sc.id),
        esc(&sc.tags.iter().map(|t| format!("@{t}")).collect::<Vec<_>>().join(" ")),
        esc(&search_text(sc, file))
    )?;
    if let Some(reason) = &sc.reason {
        let kind = if sc.status == Status::Waived {
            "note"
        } else {
            "muted"
        };
        writeln!(out, "<div class=\"{kind}\">{}</div>", esc(reason))?;
    }
    let highlight = evidence::highlight(sc);
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
        if let Some(reason) = &step.reason {
            writeln!(out, "<div class=\"muted\">{}</div>", esc(reason))?;
        }
        if let Some(f) = &step.failure {
            write!(
                out,
                "<div class=\"finding\"><span class=\"muted\">{}:</span> {}",
                f.kind.label(),
                esc(&f.message)
            )?;
            if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
                write!(
                    out,
                    "<br>expected <code>{}</code><br>actual <code>{}</code>",
                    esc(e),
                    esc(a)
                )?;
            }
            if !f.issues.is_empty() {
                write!(out, "<ul class=\"issues\">")?;
                for issue in &f.issues {
                    write!(out, "<li><code>{}</code></li>", esc(&issue.to_string()))?;
                }
                write!(out, "</ul>")?;
            }
            if let Some((ex, path)) = highlight.as_ref().filter(|_| step.status == Status::Failed) {
                write!(
                    out,
                    "<br><span class=\"muted\">the element at <code>{}</code> is highlighted in the response of {}</span>",
                    esc(path),
                    esc(ex)
                )?;
            }
            writeln!(out, "</div>")?;
        }
        for id in &step.exchanges {
            if let Some(ex) = report.exchange(id) {
                let path = highlight
                    .as_ref()
                    .filter(|(h, _)| h == id)
                    .map(|(_, p)| p.as_str());
                evidence::exchange(ex, path, out)?;
            }
        }
        writeln!(out, "</li>")?;
    }
    writeln!(out, "</ul></div>")
}
