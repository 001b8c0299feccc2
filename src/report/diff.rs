//! `assure report diff OLD NEW` and `assure run --baseline`: what changed between two
//! runs, scenario by scenario (keyed by suite and `file:line`).
//!
//! ```text
//! new failures (1):
//!   t  features/read.feature:12  Read a patient: passed -> failed
//! fixed (0):
//! ...
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::model::{BaselineResult, Report, Status};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub suite: String,
    pub id: String,
    pub name: String,
    pub old: Option<Status>,
    pub new: Option<Status>,
}

/// Differences between two reports; each scenario appears in at most one list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// In both runs: failing (failed or error) now, not before.
    pub new_failures: Vec<Change>,
    /// In both runs: failing before, passed now.
    pub fixed: Vec<Change>,
    /// In both runs: any other change of status.
    pub changed: Vec<Change>,
    /// Only in the new run.
    pub added: Vec<Change>,
    /// Only in the old run.
    pub removed: Vec<Change>,
}

fn failing(s: Status) -> bool {
    matches!(s, Status::Failed | Status::Error)
}

type Key = (String, String);

fn index(report: &Report) -> BTreeMap<Key, (String, Status)> {
    report
        .scenarios()
        .map(|(s, _, sc)| ((s.id.clone(), sc.id.clone()), (sc.name.clone(), sc.status)))
        .collect()
}

pub fn diff(old: &Report, new: &Report) -> Diff {
    let before = index(old);
    let after = index(new);
    let mut d = Diff::default();
    let change = |k: &Key, name: &str, old, new| Change {
        suite: k.0.clone(),
        id: k.1.clone(),
        name: name.to_owned(),
        old,
        new,
    };
    for (k, (name, now)) in &after {
        match before.get(k) {
            None => d.added.push(change(k, name, None, Some(*now))),
            Some((_, was)) if was == now => {}
            Some((_, was)) => {
                let c = change(k, name, Some(*was), Some(*now));
                if failing(*now) && !failing(*was) {
                    d.new_failures.push(c);
                } else if failing(*was) && *now == Status::Passed {
                    d.fixed.push(c);
                } else {
                    d.changed.push(c);
                }
            }
        }
    }
    for (k, (name, was)) in &before {
        if !after.contains_key(k) {
            d.removed.push(change(k, name, Some(*was), None));
        }
    }
    d
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.new_failures.is_empty()
            && self.fixed.is_empty()
            && self.changed.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
    }

    /// Scenarios failing now that did not fail before, new scenarios included.
    pub fn regressions(&self) -> Vec<String> {
        self.new_failures
            .iter()
            .chain(self.added.iter().filter(|c| c.new.is_some_and(failing)))
            .map(|c| c.id.clone())
            .collect()
    }

    /// The `--baseline` section of a report.
    pub fn baseline(&self, old: &Report) -> BaselineResult {
        BaselineResult {
            run_id: old.run.id.clone(),
            regressions: self.regressions(),
            fixed: self.fixed.iter().map(|c| c.id.clone()).collect(),
        }
    }

    fn sections(&self) -> [(&'static str, &[Change]); 5] {
        [
            ("new failures", &self.new_failures),
            ("fixed", &self.fixed),
            ("changed status", &self.changed),
            ("new scenarios", &self.added),
            ("removed scenarios", &self.removed),
        ]
    }

    pub fn text(&self, old: &Report, new: &Report) -> String {
        let mut out = format!("comparing run {} with run {}\n", old.run.id, new.run.id);
        for (title, changes) in self.sections() {
            let _ = writeln!(out, "{title} ({}):", changes.len());
            for c in changes {
                let _ = writeln!(
                    out,
                    "  {}  {}  {}: {} -> {}",
                    c.suite,
                    c.id,
                    c.name,
                    label(c.old),
                    label(c.new)
                );
            }
        }
        out
    }

    pub fn markdown(&self, old: &Report, new: &Report) -> String {
        let mut out = format!(
            "# assure: changes from `{}` to `{}`\n\n",
            old.run.id, new.run.id
        );
        if self.is_empty() {
            out.push_str("No scenario changed status.\n");
            return out;
        }
        for (title, changes) in self.sections() {
            if changes.is_empty() {
                continue;
            }
            let _ = writeln!(out, "## {title} ({})\n", changes.len());
            out.push_str("| suite | scenario | name | before | now |\n|---|---|---|---|---|\n");
            for c in changes {
                let _ = writeln!(
                    out,
                    "| `{}` | `{}` | {} | {} | {} |",
                    c.suite,
                    c.id,
                    c.name.replace('|', "\\|"),
                    label(c.old),
                    label(c.new)
                );
            }
            out.push('\n');
        }
        out
    }
}

fn label(s: Option<Status>) -> &'static str {
    s.map_or("absent", Status::label)
}
