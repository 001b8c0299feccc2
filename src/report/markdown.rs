//! Markdown summary, sized for `$GITHUB_STEP_SUMMARY`: verdict, counts, the
//! requirement table with failures first, and each failure's expected and actual.

use std::io::{self, Write};

/// Validation issues listed per failing step; the rest are in report.json.
const MAX_ISSUES: usize = 10;

use super::model::{Report, Status, Verdict};
use super::provenance;
use crate::suite::Level;

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let verdict = match report.verdict {
        Verdict::Passed => "✅ passed",
        Verdict::Failed => "❌ failed",
        Verdict::Incomplete => "⚠️ incomplete",
    };
    writeln!(out, "# assure: {verdict}\n")?;
    let suites: Vec<String> = report
        .suites
        .iter()
        .map(|s| format!("`{}` {}", s.id, s.version))
        .collect();
    writeln!(out, "- **Target:** {}", cell(&report.run.target.base_url))?;
    if let Some(software) = &report.run.target.software {
        writeln!(out, "- **Target software:** {}", cell(software))?;
    }
    writeln!(out, "- **Suites:** {}", suites.join(", "))?;
    writeln!(
        out,
        "- **Run:** `{}` with assure {}, {}",
        report.run.id, report.run.tool.version, report.run.started
    )?;
    if report.run.interrupted {
        writeln!(
            out,
            "- **Interrupted:** scenarios that had not finished are reported as not run"
        )?;
    }
    writeln!(out)?;
    let s = &report.summary.scenarios;
    let r = &report.summary.requirements;
    writeln!(
        out,
        "| | total | passed | failed | error | inconclusive | waived | not applicable | not run |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    for (name, c) in [("requirements", r), ("scenarios", s)] {
        writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} |",
            c.total,
            c.passed,
            c.failed,
            c.error,
            c.inconclusive,
            c.waived,
            c.not_applicable,
            c.not_run
        )?;
    }
    writeln!(out)?;
    for e in &report.errors {
        writeln!(out, "> ⚠️ **Incomplete:** {}\n", cell(e))?;
    }
    for w in &report.warnings {
        writeln!(out, "> ℹ️ {}\n", cell(w))?;
    }
    provenance::markdown(report, out)?;
    test_data(report, out)?;
    writeln!(out, "## Requirements\n")?;
    writeln!(
        out,
        "| status | requirement | level | text | source | scenarios |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    let mut rows: Vec<_> = report
        .suites
        .iter()
        .flat_map(|s| s.requirements.iter())
        .collect();
    rows.sort_by_key(|r| (rank(r.status), r.level != Level::Must));
    for req in rows {
        let scenarios: Vec<String> = req
            .scenarios
            .iter()
            .map(|id| {
                match report.scenarios().find(|(_, _, sc)| &sc.id == id) {
                    // Not applicable, inconclusive and not run say why.
                    Some((_, _, sc))
                        if matches!(
                            sc.status,
                            Status::NotApplicable | Status::Inconclusive | Status::NotRun
                        ) =>
                    {
                        format!(
                            "`{id}` {}: {}",
                            sc.status.label(),
                            sc.reason.as_deref().unwrap_or("no reason given")
                        )
                    }
                    Some((_, _, sc)) => format!("`{id}` {}", sc.status.label()),
                    None => format!("`{id}` ?"),
                }
            })
            .collect();
        let scenarios = if scenarios.is_empty() {
            "no scenario ran".to_owned()
        } else {
            scenarios.join("<br>")
        };
        writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {} |",
            icon(req.status),
            req.id,
            req.level,
            cell(&if req.quote.is_empty() {
                req.text.clone()
            } else {
                format!("{}<br>“{}”", req.text, req.quote)
            }),
            cell(&req.source),
            cell(&scenarios)
        )?;
    }
    let waived: Vec<_> = report
        .scenarios()
        .filter(|(_, _, sc)| sc.status == Status::Waived)
        .collect();
    if !waived.is_empty() {
        writeln!(out, "\n## Waived failures\n")?;
    }
    for (_, _, sc) in waived {
        writeln!(
            out,
            "- `{}` {}: {}",
            sc.id,
            cell(&sc.name),
            cell(sc.reason.as_deref().unwrap_or("waived"))
        )?;
    }
    let failures: Vec<_> = report
        .scenarios()
        .filter(|(_, _, sc)| matches!(sc.status, Status::Failed | Status::Error))
        .collect();
    if !failures.is_empty() {
        writeln!(out, "\n## Failures\n")?;
    }
    for (_, feature, sc) in failures {
        writeln!(out, "### {} `{}`\n", icon(sc.status), cell(&sc.name))?;
        writeln!(
            out,
            "`{}` · requirements: {}\n",
            sc.id,
            sc.requirements.join(", ")
        )?;
        if let Some(reason) = sc.reason.as_ref().filter(|_| sc.status == Status::Error) {
            writeln!(out, "- {}", cell(reason))?;
        }
        for step in sc
            .steps
            .iter()
            .filter(|s| matches!(s.status, Status::Failed | Status::Error))
        {
            writeln!(
                out,
                "- **{} {}** ({}:{})",
                step.keyword,
                cell(&step.text),
                feature.file,
                step.line
            )?;
            if let Some(f) = &step.failure {
                writeln!(out, "  - {}", cell(&f.message))?;
                if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
                    writeln!(out, "  - expected `{}`, actual `{}`", code(e), code(a))?;
                }
                for issue in f.issues.iter().take(MAX_ISSUES) {
                    writeln!(out, "  - `{}`", code(&issue.to_string()))?;
                }
                if f.issues.len() > MAX_ISSUES {
                    writeln!(
                        out,
                        "  - … {} more in report.json",
                        f.issues.len() - MAX_ISSUES
                    )?;
                }
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Inputs that were missing, and what the run left behind on the target.
fn test_data(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    use crate::test_data::{CheckState, CreatedState};
    let missing: Vec<_> = report
        .setup
        .iter()
        .filter(|c| {
            matches!(
                c.state,
                CheckState::Missing | CheckState::Present | CheckState::Unknown
            )
        })
        .collect();
    if !missing.is_empty() {
        writeln!(out, "## Test data\n")?;
        for c in missing {
            writeln!(out, "- ⚠️ {}", cell(&c.message))?;
        }
        writeln!(out)?;
    }
    if !report.created.is_empty() {
        let left: Vec<_> = report
            .created
            .iter()
            .filter(|c| c.state == CreatedState::LeftBehind)
            .collect();
        writeln!(
            out,
            "Created {} resource(s) on the target; {} deleted, {} left behind.\n",
            report.created.len(),
            report.created.len() - left.len(),
            left.len()
        )?;
        for c in left {
            writeln!(out, "- `{}/{}`: {}", c.resource_type, c.id, cell(&c.note))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn rank(status: Status) -> u8 {
    match status {
        Status::Failed => 0,
        Status::Error => 1,
        Status::Inconclusive => 2,
        Status::Informational => 3,
        Status::Waived => 3,
        Status::NotRun | Status::Skipped => 4,
        Status::NotApplicable => 5,
        Status::Passed => 6,
    }
}

fn icon(status: Status) -> &'static str {
    match status {
        Status::Passed => "✅ passed",
        Status::Failed => "❌ failed",
        Status::Error => "⚠️ error",
        Status::Inconclusive => "❔ inconclusive",
        Status::NotApplicable => "➖ not applicable",
        Status::NotRun | Status::Skipped => "⏸️ not run",
        Status::Waived => "🟡 waived",
        Status::Informational => "ℹ️ informational (MAY)",
    }
}

/// Keeps a value inside one table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn code(s: &str) -> String {
    let one_line = cell(s).replace('`', "'");
    if one_line.chars().count() > 120 {
        format!("{}…", one_line.chars().take(120).collect::<String>())
    } else {
        one_line
    }
}
