//! Suite manifests (`suites/<id>/suite.toml`): which features, which inputs, which
//! counterparts, and the requirement catalogue that scenarios trace to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diagnostic::{closest, Diagnostic, Diagnostics};

/// How binding a requirement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "MAY")]
    May,
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub id: String,
    pub level: Level,
    pub text: String,
    /// Where the requirement is stated, e.g. `FHIR R4 http.html#read`.
    pub source: String,
    /// The sentence of the source that states it, with its conformance verb; the
    /// level must follow that verb.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub quote: String,
    /// Requirements whose finding this one rests on: when one of them fails, this one
    /// is reported "not run" rather than failing a second time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct InputDecl {
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub description: String,
    /// Secret inputs are redacted everywhere and never read from a file literally.
    #[serde(default)]
    pub secret: bool,
    /// A read or search (path under the target, `{inputs}` expanded) that finds the
    /// server data the input names; checked once before scenarios run.
    #[serde(default)]
    pub exists: Option<String>,
    /// A read or search that must find nothing (an id the target must not have).
    #[serde(default)]
    pub absent: Option<String>,
    /// A body (relative to the suite folder) that `--seed-data` POSTs to create the data
    /// when it is missing; an input whose `exists` reads `Type/{input}` takes the new id.
    #[serde(default)]
    pub seed: Option<String>,
}

/// A capability the system under test may or may not offer (`[capabilities.<name>]`):
/// scenarios tagged `@capability:<name>` are not applicable where it is not offered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct CapabilityDecl {
    /// How people call it (`Access Record Structured`).
    pub title: String,
    /// What a CapabilityStatement must declare for it to be offered, each as a tag
    /// would name it (`operation:gpc.getstructuredrecord`, `Slot.search-type`). Empty:
    /// offered unless a declaration (`--capability`, an input) leaves it out.
    #[serde(default)]
    pub requires: Vec<String>,
}

/// Another CapabilityStatement to read before the run (`[[capability_statements]]`),
/// for capabilities served at endpoints of their own.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StatementSource {
    /// Base URL (or a path under the target), `{inputs}` expanded; its `/metadata` is read.
    pub base: String,
    /// The GP Connect interaction to read it with, when not the plain metadata one.
    #[serde(default)]
    pub interaction: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    suite: Header,
    #[serde(default)]
    inputs: BTreeMap<String, InputDecl>,
    #[serde(default)]
    capabilities: BTreeMap<String, CapabilityDecl>,
    #[serde(default)]
    capability_statements: Vec<StatementSource>,
    #[serde(default)]
    requirements: Vec<Requirement>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    id: String,
    version: String,
    title: String,
    #[serde(default)]
    description: String,
    /// Globs, relative to the suite folder.
    features: Vec<String>,
    /// A tag expression that selects scenarios within those features.
    #[serde(default)]
    tags: Option<String>,
    /// Run by `assure run` when no `--suite` is given.
    #[serde(default)]
    default: bool,
    /// The stub set that plays the target when no `--target` is given.
    #[serde(default)]
    reference: Option<String>,
    /// Other counterparts the suite starts (named stub sets).
    #[serde(default)]
    counterparts: Vec<String>,
    /// FHIR packages (`id#version`) the suite validates against.
    #[serde(default)]
    packages: Vec<String>,
    /// How the target's CapabilityStatement is asked for.
    #[serde(default)]
    capability_request: CapabilityRequest,
    /// An input that lists the capabilities (by name) the system under test offers,
    /// e.g. the clinical areas a consumer uses; empty or unset: all of them.
    #[serde(default)]
    capabilities_input: Option<String>,
}

/// How a run asks the target for its CapabilityStatement (`GET /metadata`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CapabilityRequest {
    /// A plain FHIR read.
    #[default]
    Fhir,
    /// The GP Connect "metadata" interaction: JWT and Spine headers, which GP
    /// Connect providers require on every request, this one included.
    GpConnect,
}

/// A loaded, checked suite.
#[derive(Debug, Clone)]
pub struct Suite {
    pub id: String,
    pub version: String,
    pub title: String,
    pub description: String,
    pub dir: PathBuf,
    pub manifest: PathBuf,
    pub feature_files: Vec<PathBuf>,
    pub tags: Option<String>,
    pub default: bool,
    pub reference: Option<String>,
    pub counterparts: Vec<String>,
    pub packages: Vec<String>,
    pub capability_request: CapabilityRequest,
    pub inputs: BTreeMap<String, InputDecl>,
    pub capabilities: BTreeMap<String, CapabilityDecl>,
    pub capability_statements: Vec<StatementSource>,
    pub capabilities_input: Option<String>,
    pub requirements: Vec<Requirement>,
    /// The manifest text, kept for positions in later diagnostics and for hashing.
    pub source: String,
}

impl Suite {
    /// Loads `dir/suite.toml` and resolves its feature globs.
    pub fn load(dir: &Path) -> Result<Suite, Diagnostics> {
        let manifest_path = dir.join("suite.toml");
        let source = std::fs::read_to_string(&manifest_path).map_err(|e| {
            Diagnostic::new(&manifest_path, format!("cannot read suite manifest: {e}"))
        })?;
        let manifest: Manifest = toml::from_str(&source).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            let width = e.span().map_or(1, |s| s.len().max(1));
            Diagnostic::new(
                &manifest_path,
                format!("invalid suite manifest: {}", e.message()),
            )
            .at_offset(&source, offset)
            .width(width.min(60))
        })?;
        let mut problems = Vec::new();
        let at = |needle: &str| -> Diagnostic {
            let offset = source.find(needle).unwrap_or(0);
            Diagnostic::new(&manifest_path, "")
                .at_offset(&source, offset)
                .width(needle.chars().count())
        };
        let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if manifest.suite.id != folder {
            let mut d = at(&format!("\"{}\"", manifest.suite.id));
            d.message = format!(
                "suite id `{}` does not match its folder `{folder}`",
                manifest.suite.id
            );
            problems.push(d);
        }
        let mut seen = BTreeMap::new();
        for req in &manifest.requirements {
            if seen.insert(req.id.clone(), ()).is_some() {
                let mut d = at(&format!("\"{}\"", req.id));
                d.message = format!("requirement `{}` is declared twice", req.id);
                problems.push(d);
            }
            if !valid_requirement_id(&req.id) {
                let mut d = at(&format!("\"{}\"", req.id));
                d.message = format!(
                    "requirement id `{}` may hold only letters, digits, `-`, `_` and `.`",
                    req.id
                );
                problems.push(d);
            }
        }
        for req in &manifest.requirements {
            if !req.quote.is_empty() && !level_follows_quote(req.level, &req.quote) {
                let mut d = at(&format!("\"{}\"", req.id));
                d.message = format!(
                    "requirement `{}` is {} but its quote has no {} verb",
                    req.id,
                    req.level,
                    match req.level {
                        Level::Must => "SHALL/MUST/REQUIRED",
                        Level::Should => "SHOULD/RECOMMENDED",
                        Level::May => "MAY/OPTIONAL (and no stronger)",
                    }
                );
                d = d.help("the level follows the verb of the sentence the requirement quotes");
                problems.push(d);
            }
            for dep in &req.depends_on {
                if dep == &req.id || !manifest.requirements.iter().any(|r| &r.id == dep) {
                    let mut d = at(&format!("\"{dep}\""));
                    d.message = format!(
                        "requirement `{}` depends on `{dep}`, which is not another requirement of this suite",
                        req.id
                    );
                    problems.push(d);
                }
            }
        }
        if let Some(input) = &manifest.suite.capabilities_input {
            if !manifest.inputs.contains_key(input) {
                let mut d = at(&format!("\"{input}\""));
                d.message = format!(
                    "capabilities_input names `{input}`, which is not an input of this suite"
                );
                problems.push(d);
            }
        }
        for name in manifest.capabilities.keys() {
            let ok = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !name.contains('.');
            if !ok {
                let mut d = at(&format!("[capabilities.{name}]"));
                d.message =
                    format!("capability name `{name}` may hold only letters, digits and `-`");
                problems.push(d);
            }
        }
        let mut feature_files = Vec::new();
        for pattern in &manifest.suite.features {
            let full = dir.join(pattern);
            let matches: Vec<PathBuf> = match glob::glob(&full.to_string_lossy()) {
                Ok(paths) => paths.filter_map(Result::ok).collect(),
                Err(e) => {
                    let mut d = at(pattern);
                    d.message = format!("invalid feature glob: {e}");
                    problems.push(d);
                    continue;
                }
            };
            if matches.is_empty() {
                let mut d = at(pattern);
                d.message = format!("feature glob `{pattern}` matches no file");
                problems.push(d);
            }
            for path in matches {
                let path = normalize(&path);
                if !feature_files.contains(&path) {
                    feature_files.push(path);
                }
            }
        }
        feature_files.sort();
        if !problems.is_empty() {
            return Err(Diagnostics(problems));
        }
        let h = manifest.suite;
        Ok(Suite {
            id: h.id,
            version: h.version,
            title: h.title,
            description: h.description,
            dir: dir.to_path_buf(),
            manifest: manifest_path,
            feature_files,
            tags: h.tags,
            default: h.default,
            reference: h.reference,
            counterparts: h.counterparts,
            packages: h.packages,
            capability_request: h.capability_request,
            inputs: manifest.inputs,
            capabilities: manifest.capabilities,
            capability_statements: manifest.capability_statements,
            capabilities_input: h.capabilities_input,
            requirements: manifest.requirements,
            source,
        })
    }

    pub fn requirement(&self, id: &str) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.id == id)
    }

    /// A diagnostic pointing at where requirement `id` is declared.
    pub fn requirement_diagnostic(&self, id: &str, message: String) -> Diagnostic {
        let needle = format!("\"{id}\"");
        let offset = self.source.find(&needle).unwrap_or(0);
        Diagnostic::new(&self.manifest, message)
            .at_offset(&self.source, offset)
            .width(needle.chars().count())
    }
}

/// Removes `.` and `..` lexically, so paths read as users expect in reports.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn valid_requirement_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// Every suite under `suites_dir`, sorted by id.
pub fn discover(suites_dir: &Path) -> Result<Vec<Suite>, Diagnostics> {
    let entries = std::fs::read_dir(suites_dir)
        .map_err(|e| Diagnostic::new(suites_dir, format!("cannot read the suites folder: {e}")))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("suite.toml").is_file())
        .collect();
    dirs.sort();
    let mut suites = Vec::new();
    let mut problems = Vec::new();
    for dir in dirs {
        match Suite::load(&dir) {
            Ok(s) => suites.push(s),
            Err(d) => problems.extend(d.0),
        }
    }
    if problems.is_empty() {
        Ok(suites)
    } else {
        Err(Diagnostics(problems))
    }
}

/// Picks suites by id, with "did you mean" help for unknown ones.
pub fn select(all: &[Suite], ids: &[String], suites_dir: &Path) -> Result<Vec<Suite>, Diagnostics> {
    if ids.is_empty() {
        return Ok(all.iter().filter(|s| s.default).cloned().collect());
    }
    let mut picked = Vec::new();
    for id in ids {
        match all.iter().find(|s| &s.id == id) {
            Some(s) => picked.push(s.clone()),
            None => {
                let known: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
                let mut d = Diagnostic::new(suites_dir, format!("no suite with id `{id}`"));
                match closest(id, known.iter().copied()).first() {
                    Some(best) => d = d.help(format!("did you mean `{best}`?")),
                    None => d = d.help(format!("known suites: {}", known.join(", "))),
                }
                return Err(d.into());
            }
        }
    }
    Ok(picked)
}

/// Whether a quote's conformance verbs support a level: a MUST needs SHALL, MUST,
/// REQUIRED or "Mandatory"; a SHOULD needs SHOULD or RECOMMENDED; a MAY needs MAY or
/// OPTIONAL, or no verb at all. A stronger verb beside the level's own is allowed (a
/// MAY that, once taken up, binds with SHALL).
pub fn level_follows_quote(level: Level, quote: &str) -> bool {
    let words: Vec<&str> = quote
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |verbs: &[&str]| words.iter().any(|w| verbs.contains(w));
    let must = has(&["SHALL", "MUST", "REQUIRED", "Mandatory"]);
    let should = has(&["SHOULD", "RECOMMENDED"]);
    let may = has(&["MAY", "OPTIONAL"]);
    match level {
        Level::Must => must,
        Level::Should => should,
        Level::May => may || (!must && !should),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_shipped_requirement_quotes_its_sentence_and_its_level_follows_the_verb() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
        let suites = discover(&dir).expect("the shipped suites load");
        let mut wrong = Vec::new();
        for suite in &suites {
            for r in &suite.requirements {
                if r.quote.trim().is_empty() {
                    wrong.push(format!("{} {}: no quote", suite.id, r.id));
                } else if !level_follows_quote(r.level, &r.quote) {
                    wrong.push(format!(
                        "{} {}: {} but the quote says “{}”",
                        suite.id, r.id, r.level, r.quote
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn a_level_that_disagrees_with_its_verb_is_caught() {
        use super::Level::*;
        assert!(level_follows_quote(Must, "Servers SHALL return a body."));
        assert!(!level_follows_quote(Must, "Servers SHOULD return a body."));
        assert!(!level_follows_quote(Should, "Servers SHALL return a body."));
        assert!(level_follows_quote(
            Should,
            "Servers SHOULD support paging, and if they do, they SHALL"
        ));
        assert!(level_follows_quote(
            May,
            "Provider systems MAY choose to; in this case they SHALL"
        ));
        assert!(level_follows_quote(May, "A list of the formats supported."));
        assert!(!level_follows_quote(
            May,
            "Applications SHALL return a resource."
        ));
        // Lower-case words are not conformance verbs.
        assert!(!level_follows_quote(Must, "the consumer should send it"));
    }

    use super::*;

    fn write_suite(dir: &Path, id: &str, body: &str) -> PathBuf {
        let suite = dir.join(id);
        std::fs::create_dir_all(&suite).unwrap();
        std::fs::write(suite.join("suite.toml"), body).unwrap();
        std::fs::write(suite.join("a.feature"), "Feature: a\n").unwrap();
        suite
    }

    #[test]
    fn loads_a_valid_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_suite(
            tmp.path(),
            "s",
            r#"
[suite]
id = "s"
version = "1.0.0"
title = "S"
features = ["*.feature"]

[inputs.nhs]
default = "9000000009"

[[requirements]]
id = "R-1"
level = "MUST"
text = "t"
source = "spec"
"#,
        );
        let suite = Suite::load(&dir).unwrap();
        assert_eq!(suite.feature_files.len(), 1);
        assert_eq!(suite.requirement("R-1").unwrap().level, Level::Must);
    }

    #[test]
    fn diagnoses_bad_manifests_with_positions() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_suite(
            tmp.path(),
            "s",
            "[suite]\nid = \"s\"\nversion = \"1\"\ntitle = \"S\"\nfeatures = [\"*.feature\"]\n\n[[requirements]]\nid = \"R-1\"\nlevel = \"OUGHT\"\ntext = \"t\"\nsource = \"x\"\n",
        );
        let err = Suite::load(&dir).unwrap_err().to_string();
        assert!(err.contains("suite.toml:9:9"), "{err}");
        assert!(err.contains("unknown variant `OUGHT`"), "{err}");

        let dir = write_suite(tmp.path(), "t", "[suite]\nid = \"x\"\nversion = \"1\"\ntitle = \"S\"\nfeatures = [\"none/*.feature\"]\n");
        let err = Suite::load(&dir).unwrap_err().to_string();
        assert!(err.contains("does not match its folder"), "{err}");
        assert!(err.contains("matches no file"), "{err}");
    }

    #[test]
    fn unknown_suite_ids_get_suggestions() {
        let tmp = tempfile::tempdir().unwrap();
        write_suite(tmp.path(), "fhir-r4-rest", "[suite]\nid = \"fhir-r4-rest\"\nversion = \"1\"\ntitle = \"S\"\nfeatures = [\"*.feature\"]\n");
        let all = discover(tmp.path()).unwrap();
        let err = select(&all, &["fhir-r4-rst".into()], tmp.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean `fhir-r4-rest`?"), "{err}");
    }
}
