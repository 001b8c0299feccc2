//! `--format messages`: the run as Cucumber Messages (NDJSON, one envelope a line),
//! so the Gherkin ecosystem's report tools (cucumber-html-formatter, Allure's
//! cucumber adapters, ...) can read it. The gherkinDocument is minimal, and the source
//! is rebuilt from the report (scenarios and steps at their original lines), since a
//! writer reads nothing but the report.
//!
//! ```text
//! {"meta":{"protocolVersion":"27.0.0","implementation":{"name":"assure","version":"0.1.0"},...}}
//! {"source":{"uri":"features/read.feature","data":"Feature: Read\n...","mediaType":"text/x.cucumber.gherkin+plain"}}
//! {"gherkinDocument":{...}}  {"pickle":{...}}  {"testCase":{...}}  {"testCaseStarted":{...}} ...
//! {"testRunFinished":{"success":false,"timestamp":{"seconds":1790000000,"nanos":0}}}
//! ```

use std::io::{self, Write};

use serde_json::{json, Value};

use super::model::{FeatureResult, Report, Status, Verdict};

const PROTOCOL: &str = "27.0.0";

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut emit = |v: Value| -> io::Result<()> {
        serde_json::to_writer(&mut *out, &v)?;
        writeln!(out)
    };
    let start = millis(&report.run.started);
    emit(json!({"meta": {
        "protocolVersion": PROTOCOL,
        "implementation": {"name": report.run.tool.name, "version": report.run.tool.version},
        "runtime": {"name": "rust"},
        "os": {"name": report.run.os.split(' ').next().unwrap_or_default()},
        "cpu": {"name": report.run.os.split(' ').nth(1).unwrap_or_default()},
    }}))?;
    let mut n = 0usize;
    for suite in &report.suites {
        for feature in &suite.features {
            let first = n;
            emit(json!({"source": {
                "uri": feature.file,
                "data": source(feature),
                "mediaType": "text/x.cucumber.gherkin+plain",
            }}))?;
            let mut children = Vec::new();
            for sc in &feature.scenarios {
                let steps: Vec<Value> = sc.steps.iter().enumerate().map(|(k, st)| json!({
                    "id": format!("step-{n}-{k}"), "location": {"line": st.line, "column": 5},
                    "keyword": format!("{} ", st.keyword), "text": st.text,
                })).collect();
                let tags: Vec<Value> = sc
                    .tags
                    .iter()
                    .enumerate()
                    .map(|(k, t)| {
                        json!({
                            "id": format!("tag-{n}-{k}"), "name": format!("@{t}"),
                            "location": {"line": sc.line.saturating_sub(1).max(1), "column": 3},
                        })
                    })
                    .collect();
                children.push(json!({"scenario": {
                    "id": format!("scenario-{n}"), "location": {"line": sc.line, "column": 3},
                    "tags": tags, "keyword": "Scenario", "name": sc.name, "description": "",
                    "steps": steps, "examples": [],
                }}));
                n += 1;
            }
            emit(json!({"gherkinDocument": {
                "uri": feature.file, "comments": [],
                "feature": {
                    "location": {"line": 1, "column": 1}, "tags": [], "language": "en",
                    "keyword": "Feature", "name": feature.name, "description": "",
                    "children": children,
                },
            }}))?;
            for (i, sc) in feature.scenarios.iter().enumerate() {
                let n = first + i;
                let steps: Vec<Value> = sc.steps.iter().enumerate().map(|(k, st)| json!({
                    "id": format!("pickle-step-{n}-{k}"), "astNodeIds": [format!("step-{n}-{k}")],
                    "text": st.text,
                })).collect();
                let tags: Vec<Value> = sc
                    .tags
                    .iter()
                    .enumerate()
                    .map(|(k, t)| {
                        json!({
                            "name": format!("@{t}"), "astNodeId": format!("tag-{n}-{k}"),
                        })
                    })
                    .collect();
                emit(json!({"pickle": {
                    "id": format!("pickle-{n}"), "uri": feature.file, "name": sc.name,
                    "language": "en", "steps": steps, "tags": tags,
                    "astNodeIds": [format!("scenario-{n}")],
                }}))?;
            }
        }
    }
    // Each step text was matched against assure's vocabulary before the run; it is
    // its own definition here (an empty list would read as an undefined step).
    let mut definitions: Vec<&str> = Vec::new();
    for (_, _, sc) in report.scenarios() {
        for st in &sc.steps {
            if !definitions.contains(&st.text.as_str()) {
                definitions.push(&st.text);
            }
        }
    }
    for (d, text) in definitions.iter().enumerate() {
        emit(json!({"stepDefinition": {
            "id": format!("step-definition-{d}"),
            "pattern": {"source": format!("^{}$", regex::escape(text)), "type": "REGULAR_EXPRESSION"},
            "sourceReference": {"uri": "assure"},
        }}))?;
    }
    emit(json!({"testRunStarted": {"timestamp": stamp(start)}}))?;
    for (n, (_, _, sc)) in report.scenarios().enumerate() {
        let test_steps: Vec<Value> = sc.steps.iter().enumerate().map(|(k, st)| {
            let d = definitions.iter().position(|t| *t == st.text).unwrap_or_default();
            json!({
                "id": format!("test-step-{n}-{k}"), "pickleStepId": format!("pickle-step-{n}-{k}"),
                "stepDefinitionIds": [format!("step-definition-{d}")], "stepMatchArgumentsLists": [{"stepMatchArguments": []}],
            })
        }).collect();
        emit(json!({"testCase": {
            "id": format!("test-case-{n}"), "pickleId": format!("pickle-{n}"),
            "testSteps": test_steps,
        }}))?;
    }
    for (n, (_, _, sc)) in report.scenarios().enumerate() {
        let started = format!("test-case-started-{n}");
        emit(json!({"testCaseStarted": {
            "id": started, "testCaseId": format!("test-case-{n}"), "attempt": 0,
            "timestamp": stamp(start),
        }}))?;
        let mut at = start;
        for (k, st) in sc.steps.iter().enumerate() {
            let step = format!("test-step-{n}-{k}");
            emit(json!({"testStepStarted": {
                "testCaseStartedId": started, "testStepId": step, "timestamp": stamp(at),
            }}))?;
            at += st.duration_ms.max(0.0) as i64;
            let mut result = json!({
                "status": status(st.status),
                "duration": duration(st.duration_ms),
            });
            if let Some(f) = &st.failure {
                let mut message = f.message.clone();
                if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
                    message.push_str(&format!("\nexpected: {e}\nactual:   {a}"));
                }
                if let Some(reason) = sc.reason.as_ref().filter(|_| sc.status == Status::Waived) {
                    message.push_str(&format!("\n{reason}"));
                }
                result["message"] = message.into();
            } else if let Some(reason) = &st.reason {
                result["message"] = reason.clone().into();
            }
            emit(json!({"testStepFinished": {
                "testCaseStartedId": started, "testStepId": step,
                "testStepResult": result, "timestamp": stamp(at),
            }}))?;
        }
        emit(json!({"testCaseFinished": {
            "testCaseStartedId": started, "timestamp": stamp(at), "willBeRetried": false,
        }}))?;
    }
    emit(json!({"testRunFinished": {
        "success": report.verdict == Verdict::Passed,
        "timestamp": stamp(millis(&report.run.finished)),
    }}))
}

fn status(s: Status) -> &'static str {
    match s {
        Status::Passed => "PASSED",
        Status::Failed | Status::Error => "FAILED",
        Status::Waived => "FAILED",
        // Neither a pass nor a failure: the check could not be made.
        Status::Inconclusive => "UNKNOWN",
        // The spec lets the target do it: the scenario is not failed.
        Status::Informational => "PASSED",
        Status::NotApplicable | Status::NotRun | Status::Skipped => "SKIPPED",
    }
}

/// Milliseconds since the epoch of an RFC 3339 time; 0 when unreadable.
fn millis(time: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(time).map_or(0, |t| t.timestamp_millis())
}

fn stamp(ms: i64) -> Value {
    json!({"seconds": ms.div_euclid(1000), "nanos": ms.rem_euclid(1000) * 1_000_000})
}

fn duration(ms: f64) -> Value {
    let ns = (ms.max(0.0) * 1_000_000.0) as i64;
    json!({"seconds": ns / 1_000_000_000, "nanos": ns % 1_000_000_000})
}

/// The feature's Gherkin, rebuilt with each scenario and step at its original line
/// (where lines collide, as outline rows do, the first one written stays).
fn source(feature: &FeatureResult) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut put = |line: usize, text: String| {
        if line == 0 {
            return;
        }
        if lines.len() < line {
            lines.resize(line, String::new());
        }
        if lines[line - 1].is_empty() {
            lines[line - 1] = text;
        }
    };
    for sc in &feature.scenarios {
        put(sc.line, format!("  Scenario: {}", sc.name));
        if !sc.tags.is_empty() {
            let tags: Vec<String> = sc.tags.iter().map(|t| format!("@{t}")).collect();
            put(sc.line.saturating_sub(1), format!("  {}", tags.join(" ")));
        }
        for st in &sc.steps {
            put(st.line, format!("    {} {}", st.keyword, st.text));
        }
        // Steps above the scenario's own line come from a background.
        if let Some(first) = sc
            .steps
            .iter()
            .map(|s| s.line)
            .filter(|l| *l < sc.line)
            .min()
        {
            put(first.saturating_sub(1), "  Background:".to_owned());
        }
    }
    put(1, format!("Feature: {}", feature.name));
    let mut text = lines.join("\n");
    text.push('\n');
    text
}
