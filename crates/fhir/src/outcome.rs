//! Validation findings ([`Issue`]) and their rendering as a FHIR OperationOutcome.

use std::fmt;

use serde_json::{json, Value};

/// How bad a finding is, ordered from worst to mildest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Fatal,
    Error,
    Warning,
    Information,
}

impl Severity {
    /// The FHIR `issue.severity` code.
    pub fn code(self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }

    pub fn is_error(self) -> bool {
        matches!(self, Severity::Fatal | Severity::Error)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The FHIR `issue.code` (IssueType) values the validator uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssueCode {
    Structure,
    Required,
    Value,
    Invariant,
    CodeInvalid,
    NotFound,
    NotSupported,
    Processing,
    Informational,
    Invalid,
    Extension,
    Security,
}

impl IssueCode {
    pub fn code(self) -> &'static str {
        match self {
            IssueCode::Structure => "structure",
            IssueCode::Required => "required",
            IssueCode::Value => "value",
            IssueCode::Invariant => "invariant",
            IssueCode::CodeInvalid => "code-invalid",
            IssueCode::NotFound => "not-found",
            IssueCode::NotSupported => "not-supported",
            IssueCode::Processing => "processing",
            IssueCode::Informational => "informational",
            IssueCode::Invalid => "invalid",
            IssueCode::Extension => "extension",
            IssueCode::Security => "security",
        }
    }
}

/// One finding about an instance: what, where (FHIRPath and line:col), and which
/// profile element asked for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub severity: Severity,
    pub code: IssueCode,
    pub message: String,
    /// FHIRPath-style location, e.g. `Patient.identifier[0].system`.
    pub expression: String,
    pub line: u32,
    pub col: u32,
    pub profile: Option<String>,
    pub element_id: Option<String>,
}

impl Issue {
    pub fn new(severity: Severity, code: IssueCode, message: impl Into<String>) -> Issue {
        Issue {
            severity,
            code,
            message: message.into(),
            expression: String::new(),
            line: 0,
            col: 0,
            profile: None,
            element_id: None,
        }
    }

    /// This issue as a JSON object (the `assure validate --format json` shape).
    pub fn to_json(&self) -> Value {
        json!({
            "severity": self.severity.code(),
            "code": self.code.code(),
            "message": self.message,
            "expression": self.expression,
            "line": self.line,
            "col": self.col,
            "profile": self.profile,
            "element": self.element_id,
        })
    }
}

/// Renders issues as an OperationOutcome resource (one `issue` per finding; an
/// `information` "no issues" entry when there are none, as FHIR requires one).
pub fn operation_outcome(issues: &[Issue]) -> Value {
    let mut list: Vec<Value> = issues
        .iter()
        .map(|i| {
            let mut issue = json!({
                "severity": i.severity.code(),
                "code": i.code.code(),
                "diagnostics": i.message,
            });
            if !i.expression.is_empty() {
                issue["expression"] = json!([i.expression]);
            }
            if i.line > 0 {
                issue["extension"] = json!([
                    {"url": "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line", "valueInteger": i.line},
                    {"url": "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col", "valueInteger": i.col}
                ]);
            }
            issue
        })
        .collect();
    if list.is_empty() {
        list.push(json!({"severity": "information", "code": "informational", "diagnostics": "no issues found"}));
    }
    json!({"resourceType": "OperationOutcome", "issue": list})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_lists_issues_with_location() {
        let mut i = Issue::new(
            Severity::Error,
            IssueCode::Structure,
            "unknown element `foo`",
        );
        i.expression = "Patient.foo".into();
        i.line = 3;
        i.col = 5;
        let oo = operation_outcome(&[i]);
        assert_eq!(oo["issue"][0]["severity"], "error");
        assert_eq!(oo["issue"][0]["expression"][0], "Patient.foo");
        assert_eq!(oo["issue"][0]["extension"][0]["valueInteger"], 3);
    }

    #[test]
    fn empty_outcome_says_so() {
        let oo = operation_outcome(&[]);
        assert_eq!(oo["issue"][0]["severity"], "information");
        assert!(!Severity::Information.is_error());
        assert!(Severity::Fatal.is_error());
    }
}
