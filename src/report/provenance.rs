//! Provenance: what ran, against what, how and when, as rows every writer shows the
//! same way, so a reader can repeat a run from its report alone.

use std::io::{self, Write};

use super::model::{Report, RunInfo, WaiverState};

/// One row: a label, its value, and whether the value reads as code.
pub struct Row {
    pub label: &'static str,
    pub value: String,
    pub code: bool,
}

fn row(label: &'static str, value: impl Into<String>, code: bool) -> Row {
    Row {
        label,
        value: value.into(),
        code,
    }
}

pub fn rows(report: &Report) -> Vec<Row> {
    let r = &report.run;
    let mut out = vec![row("Target", &r.target.base_url, true)];
    if let Some(c) = &r.target.counterpart {
        out.push(row("Played by", format!("embedded counterpart {c}"), false));
    }
    let declared = match (&r.target.software, &r.target.fhir_version) {
        (Some(s), Some(v)) => format!("{s}, FHIR {v}"),
        (Some(s), None) => s.clone(),
        (None, Some(v)) => format!("FHIR {v}"),
        (None, None) => "nothing readable".into(),
    };
    let metadata = match &r.target.metadata_exchange {
        Some(id) => format!("{declared} (GET /metadata, exchange {id})"),
        None => declared,
    };
    out.push(row("/metadata declared", metadata, false));
    let commit = r
        .tool
        .commit
        .as_deref()
        .map(|c| format!(", commit {c}"))
        .unwrap_or_default();
    out.push(row(
        "Tool",
        format!("{} {}{commit}", r.tool.name, r.tool.version),
        false,
    ));
    for s in &report.suites {
        out.push(row(
            "Suite",
            format!(
                "{} {}: manifest sha256 {}",
                s.id, s.version, s.manifest_sha256
            ),
            true,
        ));
        for f in &s.features {
            out.push(row(
                "Feature file",
                format!("{} sha256 {}", f.file, f.sha256),
                true,
            ));
        }
        for p in &s.packages {
            out.push(row(
                "FHIR package",
                format!("{}#{} sha256 {}", p.id, p.version, p.sha256),
                true,
            ));
        }
    }
    out.push(row(
        "Started / finished",
        format!(
            "{} / {} ({:.1} s)",
            r.started,
            r.finished,
            r.duration_ms / 1000.0
        ),
        false,
    ));
    out.push(row("Command", r.command_line.join(" "), true));
    out.push(row("Rerun with", &r.rerun, true));
    out.push(row("Machine", &r.os, false));
    for (k, v) in &r.inputs {
        out.push(row("Input", format!("{k} = {v}"), true));
    }
    if let Some(t) = &r.tags {
        out.push(row("Tags", t, true));
    }
    if let Some(s) = &r.shard {
        out.push(row(
            "Shard",
            format!("{s} (only this shard's scenarios)"),
            false,
        ));
    }
    out.push(row("Gate", format!("--fail-on {}", gate(r)), true));
    out
}

/// The `--fail-on` value the run used, as a user writes it.
pub fn gate(r: &RunInfo) -> String {
    let mut gate = format!("{:?}", r.fail_on).to_lowercase();
    if r.fail_on_inconclusive {
        gate.push_str(",inconclusive");
    }
    gate
}

/// Provenance, waivers and the baseline comparison as Markdown sections.
pub fn markdown(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if !report.waivers.is_empty() {
        writeln!(out, "## Waivers\n")?;
        writeln!(
            out,
            "| waiver | matches | state | justification | accepted by | expires | waived |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|---|")?;
        for w in &report.waivers {
            let state = match w.state {
                WaiverState::Applied => "applied",
                WaiverState::Unused => "⚠️ unused",
                WaiverState::Expired => "❌ expired (fails the gate)",
            };
            writeln!(
                out,
                "| {} | {} | {state} | {} | {} | {} | {} |",
                w.id,
                md(&w.matches),
                md(&w.justification),
                md(&w.accepted_by),
                w.expires,
                w.scenarios.len()
            )?;
        }
        writeln!(out)?;
    }
    if let Some(b) = &report.baseline {
        writeln!(out, "## Compared with baseline `{}`\n", b.run_id)?;
        writeln!(
            out,
            "- **Regressions:** {}",
            list(&b.regressions).unwrap_or_else(|| "none".into())
        )?;
        writeln!(
            out,
            "- **Fixed:** {}\n",
            list(&b.fixed).unwrap_or_else(|| "none".into())
        )?;
    }
    writeln!(out, "<details><summary>Provenance</summary>\n")?;
    writeln!(out, "| | |\n|---|---|")?;
    for r in rows(report) {
        let value = if r.code {
            format!("`{}`", md(&r.value).replace('`', "'"))
        } else {
            md(&r.value)
        };
        writeln!(out, "| {} | {value} |", r.label)?;
    }
    writeln!(out, "\n</details>\n")
}

fn list(ids: &[String]) -> Option<String> {
    (!ids.is_empty()).then(|| {
        ids.iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

fn md(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}
