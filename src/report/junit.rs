//! JUnit XML: one `<testsuite>` per feature, one `<testcase>` per scenario.
//!
//! ```xml
//! <testsuites name="assure" tests="3" failures="1" errors="0" skipped="1" time="0.412">
//!   <testsuite name="fhir-r4-rest: Read" tests="3" failures="1" errors="0" skipped="1" time="0.4">
//!     <testcase name="Read a patient" classname="features/fhir-rest/read.feature" time="0.1">
//!       <failure message="unexpected status code" type="R4-READ-1">...</failure>
//!     </testcase>
//!   </testsuite>
//! </testsuites>
//! ```

use std::io::{self, Write};

use super::model::{Report, ScenarioResult, Status};

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary.scenarios;
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="assure" tests="{}" failures="{}" errors="{}" skipped="{}" time="{:.3}" timestamp="{}">"#,
        s.total,
        s.failed,
        s.error,
        // A waived failure is reported as skipped, with the waiver as its message.
        s.not_applicable + s.not_run + s.waived,
        report.run.duration_ms / 1000.0,
        esc(&report.run.started)
    )?;
    for suite in &report.suites {
        for feature in &suite.features {
            let count = |st: &[Status]| {
                feature
                    .scenarios
                    .iter()
                    .filter(|x| st.contains(&x.status))
                    .count()
            };
            let time: f64 = feature.scenarios.iter().map(|x| x.duration_ms).sum::<f64>() / 1000.0;
            writeln!(
                out,
                r#"  <testsuite name="{}" tests="{}" failures="{}" errors="{}" skipped="{}" time="{:.3}" file="{}">"#,
                esc(&format!("{}: {}", suite.id, feature.name)),
                feature.scenarios.len(),
                count(&[Status::Failed]),
                count(&[Status::Error]),
                count(&[
                    Status::NotApplicable,
                    Status::NotRun,
                    Status::Skipped,
                    Status::Waived
                ]),
                time,
                esc(&feature.file)
            )?;
            for scenario in &feature.scenarios {
                testcase(report, &feature.file, scenario, out)?;
            }
            writeln!(out, "  </testsuite>")?;
        }
    }
    writeln!(out, "</testsuites>")
}

fn testcase(
    report: &Report,
    file: &str,
    sc: &ScenarioResult,
    out: &mut dyn Write,
) -> io::Result<()> {
    write!(
        out,
        r#"    <testcase name="{}" classname="{}" file="{}" line="{}" time="{:.3}">"#,
        esc(&sc.name),
        esc(file),
        esc(file),
        sc.line,
        sc.duration_ms / 1000.0
    )?;
    let reqs = sc.requirements.join(" ");
    match sc.status {
        Status::Passed => {}
        Status::Failed | Status::Error => {
            let tag = if sc.status == Status::Failed {
                "failure"
            } else {
                "error"
            };
            let step = sc
                .steps
                .iter()
                .find(|s| matches!(s.status, Status::Failed | Status::Error));
            let message = step
                .and_then(|s| {
                    s.failure
                        .as_ref()
                        .map(|f| f.message.as_str())
                        .or(s.reason.as_deref())
                })
                .or(sc.reason.as_deref())
                .unwrap_or("failed");
            let mut body = String::new();
            if let Some(step) = step {
                body.push_str(&format!(
                    "{} {} ({}:{})\n",
                    step.keyword, step.text, file, step.line
                ));
                if let Some(reason) = &step.reason {
                    body.push_str(&format!("{reason}\n"));
                }
                if let Some(f) = &step.failure {
                    body.push_str(&format!("{}\n", f.message));
                    if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
                        body.push_str(&format!("expected: {e}\nactual:   {a}\n"));
                    }
                    for issue in &f.issues {
                        body.push_str(&format!("{issue}\n"));
                    }
                }
                for id in &step.exchanges {
                    if let Some(ex) = report.exchange(id) {
                        let status = ex
                            .response
                            .as_ref()
                            .map_or("no response".to_owned(), |r| r.status.to_string());
                        body.push_str(&format!(
                            "{id}: {} {} -> {status}\n",
                            ex.request.method, ex.request.url
                        ));
                    }
                }
            }
            if !reqs.is_empty() {
                body.push_str(&format!("requirements: {reqs}\n"));
            }
            write!(
                out,
                "\n      <{tag} message=\"{}\" type=\"{}\">{}</{tag}>\n    ",
                esc(message),
                esc(&reqs),
                esc(&body)
            )?;
        }
        // A MAY the target does not meet is not a failure: the test passes, with a note.
        Status::Informational => {
            let message = sc
                .steps
                .iter()
                .find_map(|s| s.failure.as_ref().map(|f| f.message.clone()))
                .unwrap_or_else(|| "a MAY requirement not met".into());
            write!(
                out,
                "\n      <system-out>informational (MAY, never a failure): {}</system-out>\n    ",
                esc(&message)
            )?;
        }
        // `--fail-on inconclusive`: a gated inconclusive result fails the build.
        Status::Inconclusive if report.fails_gate(&sc.id) => {
            let reason = sc.reason.as_deref().unwrap_or("could not be checked");
            write!(
                out,
                "\n      <failure message=\"inconclusive (--fail-on inconclusive): {}\" type=\"{}\">{}</failure>\n    ",
                esc(reason),
                esc(&reqs),
                esc(reason)
            )?;
        }
        _ => {
            let reason = sc
                .reason
                .clone()
                .unwrap_or_else(|| sc.status.label().into());
            write!(
                out,
                "\n      <skipped message=\"{}: {}\"/>\n    ",
                sc.status.label(),
                esc(&reason)
            )?;
        }
    }
    writeln!(out, "</testcase>")
}

/// XML escaping for attributes and text; control characters XML cannot carry are dropped.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}
