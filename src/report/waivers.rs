//! `--waivers waivers.toml`: accepted deviations. A waiver covers failures of one
//! requirement, one scenario, or whose message matches a pattern, until a date. A
//! waived failure is reported `waived`, never `passed`; an expired waiver covers
//! nothing and fails the gate; an unused one is reported so it gets cleaned up.
//!
//! ```toml
//! [[waiver]]
//! requirement = "R4-READ-3"        # or: scenario = "features/read.feature:12"
//!                                  # or: message = "ETag .* missing"  (a regex)
//! justification = "ETag support ships in release 4.2"
//! accepted_by = "J. Smith, NHS onboarding"
//! expires = 2027-03-31
//! ```

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::model::{Report, Status, WaiverResult, WaiverState};
use crate::diagnostic::Diagnostic;

#[derive(Debug, Clone)]
pub enum Selector {
    Requirement(String),
    Scenario(String),
    Message(regex::Regex),
}

#[derive(Debug, Clone)]
pub struct Waiver {
    pub id: String,
    pub selector: Selector,
    pub justification: String,
    pub accepted_by: String,
    /// Holds through this day (UTC).
    pub expires: chrono::NaiveDate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    waiver: Vec<Spanned<RawWaiver>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    requirement: Option<String>,
    scenario: Option<String>,
    message: Option<Spanned<String>>,
    justification: Spanned<String>,
    accepted_by: Spanned<String>,
    expires: Spanned<toml::value::Datetime>,
}

/// Reads and checks a waivers file; every problem is a diagnostic at its place.
pub fn load(path: &Path) -> Result<Vec<Waiver>, Vec<Diagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::new(
            path,
            format!("cannot read the waivers file: {e}"),
        )]
    })?;
    parse(path, &text)
}

pub fn parse(path: &Path, text: &str) -> Result<Vec<Waiver>, Vec<Diagnostic>> {
    let at = |span: std::ops::Range<usize>, message: String, label: &str| {
        Diagnostic::new(path, message)
            .at_offset(text, span.start)
            .width(span.len().clamp(1, 60))
            .label(label)
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..1);
        vec![at(span, format!("invalid waivers file: {}", e.message().trim()), "here")
            .help("each waiver is a `[[waiver]]` table with one of `requirement`, `scenario` or `message`, and `justification`, `accepted_by`, `expires = YYYY-MM-DD`")]
    })?;
    let mut problems = Vec::new();
    let mut waivers = Vec::new();
    for (n, spanned) in raw.waiver.into_iter().enumerate() {
        let span = spanned.span();
        let w = spanned.into_inner();
        let id = format!("W{}", n + 1);
        let mut selectors = Vec::new();
        if let Some(r) = w.requirement {
            selectors.push(Selector::Requirement(r));
        }
        if let Some(s) = w.scenario {
            selectors.push(Selector::Scenario(s));
        }
        if let Some(m) = &w.message {
            match regex::Regex::new(m.get_ref()) {
                Ok(re) => selectors.push(Selector::Message(re)),
                Err(e) => {
                    let first = e.to_string().lines().last().unwrap_or_default().to_owned();
                    problems.push(at(
                        m.span(),
                        format!("waiver {id}: `message` is not a valid pattern: {first}"),
                        "invalid regular expression",
                    ));
                    continue;
                }
            }
        }
        if selectors.len() != 1 {
            problems.push(at(
                span.start..span.start + 1,
                format!(
                    "waiver {id} must name exactly one of `requirement`, `scenario` or `message` (it names {})",
                    selectors.len()
                ),
                "this waiver",
            ));
            continue;
        }
        for (field, value) in [
            ("justification", &w.justification),
            ("accepted_by", &w.accepted_by),
        ] {
            if value.get_ref().trim().is_empty() {
                problems.push(at(
                    value.span(),
                    format!("waiver {id}: `{field}` is empty"),
                    "say who accepted it and why",
                ));
            }
        }
        let expires = w.expires.get_ref();
        let date = match (&expires.date, &expires.time) {
            (Some(d), None) => chrono::NaiveDate::from_ymd_opt(
                i32::from(d.year),
                u32::from(d.month),
                u32::from(d.day),
            ),
            _ => None,
        };
        let Some(expires) = date else {
            problems.push(at(
                w.expires.span(),
                format!("waiver {id}: `expires` must be a date like 2027-03-31"),
                "not a plain date",
            ));
            continue;
        };
        waivers.push(Waiver {
            id,
            selector: selectors.remove(0),
            justification: w.justification.into_inner(),
            accepted_by: w.accepted_by.into_inner(),
            expires,
        });
    }
    if problems.is_empty() {
        Ok(waivers)
    } else {
        Err(problems)
    }
}

impl Waiver {
    fn describe(&self) -> String {
        match &self.selector {
            Selector::Requirement(r) => format!("requirement {r}"),
            Selector::Scenario(s) => format!("scenario {s}"),
            Selector::Message(re) => format!("message /{}/", re.as_str()),
        }
    }
}

/// Marks the failures the waivers cover as waived and records each waiver's fate.
/// `today` decides expiry. Call [`Report::finalize`] afterwards.
pub fn apply(report: &mut Report, waivers: &[Waiver], today: chrono::NaiveDate) {
    let mut results: Vec<WaiverResult> = waivers
        .iter()
        .map(|w| WaiverResult {
            id: w.id.clone(),
            matches: w.describe(),
            justification: w.justification.clone(),
            accepted_by: w.accepted_by.clone(),
            expires: w.expires.format("%Y-%m-%d").to_string(),
            state: if today > w.expires {
                WaiverState::Expired
            } else {
                WaiverState::Unused
            },
            scenarios: Vec::new(),
        })
        .collect();
    for suite in &mut report.suites {
        for sc in suite
            .features
            .iter_mut()
            .flat_map(|f| f.scenarios.iter_mut())
        {
            if sc.status != Status::Failed {
                continue;
            }
            let found = waivers.iter().zip(results.iter_mut()).find(|(w, r)| {
                r.state != WaiverState::Expired
                    && match &w.selector {
                        Selector::Requirement(id) => sc.requirements.contains(id),
                        Selector::Scenario(id) => &sc.id == id,
                        Selector::Message(re) => sc
                            .steps
                            .iter()
                            .filter_map(|s| s.failure.as_ref())
                            .any(|f| re.is_match(&f.message)),
                    }
            });
            if let Some((w, r)) = found {
                r.state = WaiverState::Applied;
                r.scenarios.push(sc.id.clone());
                sc.status = Status::Waived;
                sc.waiver = Some(w.id.clone());
                sc.reason = Some(format!(
                    "waived by {}: {} (accepted by {}, until {})",
                    w.id, w.justification, w.accepted_by, r.expires
                ));
            }
        }
    }
    report.waivers = results;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Vec<Waiver>, Vec<Diagnostic>> {
        parse(Path::new("waivers.toml"), text)
    }

    #[test]
    fn reads_each_kind_of_waiver() {
        let w = parse_str(
            "[[waiver]]\nrequirement = \"T-1\"\njustification = \"j\"\naccepted_by = \"a\"\nexpires = 2030-01-31\n\n[[waiver]]\nmessage = \"ETag .*\"\njustification = \"j\"\naccepted_by = \"a\"\nexpires = 2030-01-31\n",
        )
        .unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(w[1].id, "W2");
        assert!(matches!(&w[0].selector, Selector::Requirement(r) if r == "T-1"));
        assert_eq!(w[0].expires.to_string(), "2030-01-31");
    }

    #[test]
    fn diagnoses_malformed_waivers_where_they_are() {
        let cases = [
            ("[[waiver]]\nrequirement = \"T-1\"\n", "missing field"),
            ("[[waiver]]\nrequirement = \"T-1\"\njustification = \"j\"\naccepted_by = \"a\"\nexpires = \"soon\"\n", "expires"),
            ("[[waiver]]\nrequirement = \"T-1\"\nscenario = \"x:1\"\njustification = \"j\"\naccepted_by = \"a\"\nexpires = 2030-01-01\n", "exactly one"),
            ("[[waiver]]\nmessage = \"(\"\njustification = \"j\"\naccepted_by = \"a\"\nexpires = 2030-01-01\n", "not a valid pattern"),
            ("[[waiver]]\nrequirement = \"T-1\"\njustification = \" \"\naccepted_by = \"a\"\nexpires = 2030-01-01\n", "`justification` is empty"),
            ("[[waiver]]\nrequirment = \"T-1\"\n", "unknown field"),
            ("[[waiver]\n", "invalid waivers file"),
        ];
        for (text, want) in cases {
            let d = parse_str(text)
                .err()
                .unwrap_or_else(|| panic!("accepted {text}"));
            let shown = d[0].to_string();
            assert!(shown.contains(want), "{text}: {shown}");
            assert!(d[0].line > 0, "{text}: no position in {shown}");
        }
    }
}
