//! Feature files: parsed with the Gherkin parser the runner uses, outlines expanded,
//! and checked against the suite's requirement catalogue before anything runs.

use std::collections::BTreeSet;
use std::path::Path;

use cucumber::feature::Ext as _;
use cucumber::gherkin;

use crate::diagnostic::{line_col, Diagnostic};
use crate::suite::Suite;

pub const REQ_TAG: &str = "req:";
pub const CAPABILITY_TAG: &str = "capability:";
/// A scenario whose request, accepted, is the control of negative tests of that name.
pub const CONTROL_TAG: &str = "control:";
/// A negative test: the same request as its control's, with one defect.
pub const NEGATIVE_TAG: &str = "negative:";

/// A feature file ready to run, with its text kept for positions and hashing.
#[derive(Debug, Clone)]
pub struct LoadedFeature {
    pub suite: String,
    pub feature: gherkin::Feature,
    pub source: String,
}

/// Parses one feature file, reporting Gherkin syntax errors rustc-style.
pub fn parse(path: &Path) -> Result<(gherkin::Feature, String), Diagnostic> {
    let source = std::fs::read(path)
        .map_err(|e| Diagnostic::new(path, format!("cannot read feature file: {e}")))?;
    let source = String::from_utf8(source).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        let (line, col) = line_col(&text, offset);
        Diagnostic::new(path, "feature file is not valid UTF-8")
            .at(line, col)
            .with_source(&text)
    })?;
    let env = gherkin::GherkinEnv::default();
    match gherkin::Feature::parse(&source, env) {
        Ok(mut feature) => {
            feature.path = Some(path.to_path_buf());
            let feature = feature.expand_examples().map_err(|e| {
                // "Failed to resolve <name> at path:line:col"
                let text = e.to_string();
                Diagnostic::new(path, format!("scenario outline uses a placeholder that no Examples column defines: {text}"))
            })?;
            check_tables(&feature, path, &source)?;
            Ok((feature, source))
        }
        Err(e) => Err(syntax_error(path, &source, &e.to_string())),
    }
}

/// The parser says "Error at L:C: {expected tokens}"; turn that into a diagnostic.
fn syntax_error(path: &Path, source: &str, message: &str) -> Diagnostic {
    let re = regex::Regex::new(r"Error at (\d+):(\d+)").expect("static regex");
    let Some(caps) = re.captures(message) else {
        return Diagnostic::new(path, format!("invalid Gherkin: {message}"));
    };
    let mut line: usize = caps[1].parse().unwrap_or(1);
    let mut col: usize = caps[2].parse().unwrap_or(1);
    // The parser often only notices at the end of the block; a stray line is the
    // usual cause, so point at it when there is one before the reported position.
    if let Some((l, c)) = first_stray_line(source).filter(|(l, _)| *l <= line) {
        (line, col) = (l, c);
    }
    let offending = source
        .lines()
        .nth(line.saturating_sub(1))
        .unwrap_or_default();
    let width = offending
        .chars()
        .skip(col.saturating_sub(1))
        .collect::<String>()
        .trim_end()
        .chars()
        .count();
    Diagnostic::new(path, "invalid Gherkin")
        .at(line, col)
        .width(width)
        .label("this line is not a Gherkin keyword, step, table row or doc string here")
        .with_source(source)
}

/// The first line that cannot stand where it is: inside a scenario, after its first
/// step, only steps, tables, doc strings, tags, comments and new blocks may follow.
fn first_stray_line(source: &str) -> Option<(usize, usize)> {
    const BLOCKS: &[&str] = &[
        "Feature:",
        "Rule:",
        "Background:",
        "Scenario:",
        "Scenario Outline:",
        "Scenario Template:",
        "Example:",
        "Examples:",
        "Scenarios:",
    ];
    const STEPS: &[&str] = &["Given ", "When ", "Then ", "And ", "But ", "* "];
    let mut in_steps = false;
    let mut fence: Option<&str> = None;
    for (i, raw) in source.lines().enumerate() {
        let line = raw.trim();
        if let Some(f) = fence {
            if line.starts_with(f) {
                fence = None;
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
            continue;
        }
        if line.starts_with("\"\"\"") || line.starts_with("```") {
            fence = Some(if line.starts_with("```") {
                "```"
            } else {
                "\"\"\""
            });
            continue;
        }
        if BLOCKS.iter().any(|b| line.starts_with(b)) {
            in_steps = false;
            continue;
        }
        if STEPS.iter().any(|k| line.starts_with(k)) || line == "*" {
            in_steps = true;
            continue;
        }
        if line.starts_with('|') {
            continue;
        }
        if in_steps {
            return Some((i + 1, raw.len() - raw.trim_start().len() + 1));
        }
    }
    None
}

fn check_tables(feature: &gherkin::Feature, path: &Path, source: &str) -> Result<(), Diagnostic> {
    for scenario in all_scenarios(feature) {
        for step in &scenario.steps {
            if let Some(table) = &step.table {
                let width = table.row_width();
                if let Some((i, _)) = table
                    .rows
                    .iter()
                    .enumerate()
                    .find(|(_, r)| r.len() != width)
                {
                    return Err(Diagnostic::new(
                        path,
                        "data table rows have different numbers of cells",
                    )
                    .at(table.position.line + i, table.position.col)
                    .with_source(source));
                }
            }
        }
    }
    Ok(())
}

/// Scenarios of a feature, in rules too.
pub fn all_scenarios(feature: &gherkin::Feature) -> impl Iterator<Item = &gherkin::Scenario> {
    feature
        .scenarios
        .iter()
        .chain(feature.rules.iter().flat_map(|r| r.scenarios.iter()))
}

/// Tags of a scenario including those inherited from its feature and rule.
pub fn effective_tags<'a>(
    feature: &'a gherkin::Feature,
    rule: Option<&'a gherkin::Rule>,
    scenario: &'a gherkin::Scenario,
) -> impl Iterator<Item = &'a str> {
    feature
        .tags
        .iter()
        .chain(rule.into_iter().flat_map(|r| r.tags.iter()))
        .chain(scenario.tags.iter())
        .map(|t| t.trim_start_matches('@'))
}

pub fn requirement_tags<'a>(tags: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = tags
        .filter_map(|t| t.strip_prefix(REQ_TAG))
        .map(str::to_owned)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Loads a suite's features and checks traceability both ways: every `@req:` tag names
/// a catalogued requirement, and every requirement has at least one scenario.
pub fn load_suite(suite: &Suite) -> Result<Vec<LoadedFeature>, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut features = Vec::new();
    let mut covered = BTreeSet::new();
    for path in &suite.feature_files {
        let (feature, source) = match parse(path) {
            Ok(f) => f,
            Err(d) => {
                problems.push(d);
                continue;
            }
        };
        for (rule, scenario) in scenarios_with_rules(&feature) {
            for d in capability_problems(suite, path, &source, &feature, rule, scenario) {
                if !problems.contains(&d) {
                    problems.push(d);
                }
            }
            for id in requirement_tags(effective_tags(&feature, rule, scenario)) {
                if suite.requirement(&id).is_none() {
                    let needle = format!("@{REQ_TAG}{id}");
                    let offset = source.find(&needle).unwrap_or(0);
                    let known = suite.requirements.iter().map(|r| r.id.as_str());
                    let mut d = Diagnostic::new(
                        path,
                        format!(
                            "tag `{needle}` names no requirement of suite `{}`",
                            suite.id
                        ),
                    )
                    .at_offset(&source, offset)
                    .width(needle.chars().count())
                    .label("not in the requirement catalogue");
                    if let Some(best) = crate::diagnostic::closest(&id, known).first() {
                        d = d.help(format!("did you mean `@{REQ_TAG}{best}`?"));
                    } else {
                        d = d.help(format!(
                            "add it to {}",
                            crate::diagnostic::display_path(&suite.manifest)
                        ));
                    }
                    if !problems.contains(&d) {
                        problems.push(d);
                    }
                }
                covered.insert(id);
            }
        }
        features.push(LoadedFeature {
            suite: suite.id.clone(),
            feature,
            source,
        });
    }
    if problems.is_empty() {
        for req in &suite.requirements {
            if !covered.contains(&req.id) {
                problems.push(
                    suite
                        .requirement_diagnostic(
                            &req.id,
                            format!("requirement `{}` has no scenario", req.id),
                        )
                        .label("no scenario is tagged with it")
                        .help(format!(
                            "tag a scenario with `@{REQ_TAG}{}`, or remove the requirement",
                            req.id
                        )),
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(features)
    } else {
        Err(problems)
    }
}

/// A `@capability:<name>` tag must name a capability the suite declares
/// (`[capabilities.<name>]`); interaction and operation tags are checked against the
/// target's CapabilityStatement at run time instead.
fn capability_problems(
    suite: &Suite,
    path: &Path,
    source: &str,
    feature: &gherkin::Feature,
    rule: Option<&gherkin::Rule>,
    scenario: &gherkin::Scenario,
) -> Vec<Diagnostic> {
    effective_tags(feature, rule, scenario)
        .filter_map(|t| t.strip_prefix(CAPABILITY_TAG))
        .filter(|cap| !crate::capability::is_declaration_token(cap))
        .filter(|cap| !suite.capabilities.contains_key(*cap))
        .map(|cap| {
            let needle = format!("@{CAPABILITY_TAG}{cap}");
            let offset = source.find(&needle).unwrap_or(0);
            let known = suite.capabilities.keys().map(String::as_str);
            let mut d = Diagnostic::new(
                path,
                format!("tag `{needle}` names no capability of suite `{}`", suite.id),
            )
            .at_offset(source, offset)
            .width(needle.chars().count())
            .label("not in [capabilities]");
            if let Some(best) = crate::diagnostic::closest(cap, known).first() {
                d = d.help(format!("did you mean `@{CAPABILITY_TAG}{best}`?"));
            } else {
                d = d.help(format!(
                    "declare it as [capabilities.{cap}] in {}, or name an interaction (`Patient.read`) or an operation (`operation:name`)",
                    crate::diagnostic::display_path(&suite.manifest)
                ));
            }
            d
        })
        .collect()
}

pub fn scenarios_with_rules(
    feature: &gherkin::Feature,
) -> impl Iterator<Item = (Option<&gherkin::Rule>, &gherkin::Scenario)> {
    feature.scenarios.iter().map(|s| (None, s)).chain(
        feature
            .rules
            .iter()
            .flat_map(|r| r.scenarios.iter().map(move |s| (Some(r), s))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_point_at_the_line() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("bad.feature");
        std::fs::write(
            &path,
            "Feature: x\n  Scenario: y\n    Given a step\n  Whatever this is\n",
        )
        .unwrap();
        let d = parse(&path).unwrap_err();
        assert_eq!(d.line, 4, "{d}");
        assert!(d.to_string().contains("Whatever this is"), "{d}");
    }

    #[test]
    fn outlines_expand_and_tables_are_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("o.feature");
        std::fs::write(
            &path,
            "Feature: x\n  Scenario Outline: <n>\n    Given value <n>\n\n    Examples:\n      | n |\n      | 1 |\n      | 2 |\n",
        )
        .unwrap();
        let (feature, _) = parse(&path).unwrap();
        assert_eq!(feature.scenarios.len(), 2);
        assert_eq!(feature.scenarios[1].steps[0].value, "value 2");

        let bad = tmp.path().join("t.feature");
        std::fs::write(
            &bad,
            "Feature: x\n  Scenario: y\n    Given a table\n      | a | b |\n      | 1 |\n",
        )
        .unwrap();
        assert!(parse(&bad).is_err());
    }
}
