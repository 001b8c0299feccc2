//! `report.json` as the suite-level tests read it: the field names they rely on live
//! here, so a change in the report's shape is followed in one place.

use std::collections::BTreeSet;

use serde_json::Value;

pub struct Requirement {
    pub id: String,
    pub status: String,
}

pub struct Step {
    pub status: String,
    /// Ids of the exchanges the step made.
    pub exchanges: Vec<String>,
}

pub struct Scenario {
    pub id: String,
    pub name: String,
    pub status: String,
    pub requirements: Vec<String>,
    pub steps: Vec<Step>,
}

/// A status that proves the target wrong, or that the harness could not reach a verdict.
pub fn is_failure(status: &str) -> bool {
    // A MAY the target does not meet is a finding too, reported as informational.
    status == "failed" || status == "error" || status == "informational"
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn texts(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(text).collect())
        .unwrap_or_default()
}

fn each(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

pub struct View<'a> {
    report: &'a Value,
}

impl<'a> View<'a> {
    pub fn new(report: &'a Value) -> View<'a> {
        View { report }
    }

    /// Every requirement of every suite, in report order.
    pub fn requirements(&self) -> Vec<Requirement> {
        each(&self.report["suites"])
            .flat_map(|s| each(&s["requirements"]))
            .map(|r| Requirement {
                id: text(&r["id"]),
                status: text(&r["status"]),
            })
            .collect()
    }

    pub fn requirement_statuses(&self) -> Vec<(String, String)> {
        self.requirements()
            .into_iter()
            .map(|r| (r.id, r.status))
            .collect()
    }

    /// Requirements, over every suite, that neither passed nor were not applicable.
    pub fn failed_requirements(&self) -> BTreeSet<String> {
        self.requirements()
            .into_iter()
            .filter(|r| r.status != "passed" && r.status != "not_applicable")
            .map(|r| r.id)
            .collect()
    }

    /// Every scenario of every suite and feature.
    pub fn scenarios(&self) -> Vec<Scenario> {
        each(&self.report["suites"])
            .flat_map(|s| each(&s["features"]))
            .flat_map(|f| each(&f["scenarios"]))
            .map(|sc| Scenario {
                id: text(&sc["id"]),
                name: text(&sc["name"]),
                status: text(&sc["status"]),
                requirements: texts(&sc["requirements"]),
                steps: each(&sc["steps"])
                    .map(|st| Step {
                        status: text(&st["status"]),
                        exchanges: texts(&st["exchanges"]),
                    })
                    .collect(),
            })
            .collect()
    }

    /// Scenarios, as the summary counts them.
    pub fn scenario_total(&self) -> u64 {
        self.report["summary"]["scenarios"]["total"]
            .as_u64()
            .unwrap_or_default()
    }

    /// A response header of an exchange (names compared without case).
    pub fn response_header(&self, exchange: &str, name: &str) -> Option<String> {
        let exchange = each(&self.report["exchanges"]).find(|e| e["id"] == exchange)?;
        each(&exchange["response"]["headers"])
            .find(|h| h[0].as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))
            .map(|h| text(&h[1]))
    }
}
