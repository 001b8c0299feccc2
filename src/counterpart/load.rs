//! Loads a stub set folder: `mock.toml` (description, `extends`), `mappings/**/*.json`
//! and `__files/`. Every problem in the set (and the sets it extends) comes back at once.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::decode::Decoder;
use super::mapping::StubSet;
use crate::diagnostic::{Diagnostic, Diagnostics};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    description: Option<String>,
    extends: Option<toml::Spanned<String>>,
    /// Every response is a template, as WireMock's `--global-response-templating`.
    #[serde(default)]
    global_response_templating: bool,
}

impl StubSet {
    /// Loads the set in folder `dir`; `extends` names sibling folders of `dir`.
    pub fn load(dir: &Path) -> Result<StubSet, Diagnostics> {
        StubSet::load_with(dir, false)
    }

    /// Loads the set, every response a template when `global_templating` (as
    /// WireMock's `--global-response-templating`) whatever `mock.toml` says.
    pub fn load_with(dir: &Path, global_templating: bool) -> Result<StubSet, Diagnostics> {
        let mut chain = Vec::new();
        let mut diags = Vec::new();
        let set = load_layer(dir, &mut chain, &mut diags, global_templating);
        match set {
            Some(set) if diags.is_empty() => Ok(set),
            _ => Err(Diagnostics(diags)),
        }
    }

    /// Loads `mocks_root/<name>/`, suggesting close names when there is no such set.
    pub fn load_named(mocks_root: &Path, name: &str) -> Result<StubSet, Diagnostics> {
        StubSet::load_named_with(mocks_root, name, false)
    }

    pub fn load_named_with(
        mocks_root: &Path,
        name: &str,
        global_templating: bool,
    ) -> Result<StubSet, Diagnostics> {
        let dir = mocks_root.join(name);
        if !dir.is_dir() {
            return Err(missing_set(mocks_root, name, mocks_root).into());
        }
        StubSet::load_with(&dir, global_templating)
    }

    /// Names of the sets under `mocks_root` (folders with a `mappings/` folder).
    pub fn available(mocks_root: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(mocks_root)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("mappings").is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }
}

fn missing_set(mocks_root: &Path, name: &str, file: &Path) -> Diagnostic {
    let names = StubSet::available(mocks_root);
    let mut d = Diagnostic::new(file, format!("no stub set `{name}`")).label(format!(
        "expected a folder {}",
        mocks_root.join(name).display()
    ));
    match crate::diagnostic::closest(name, names.iter().map(String::as_str)).first() {
        Some(s) => d = d.help(format!("did you mean `{s}`?")),
        None if !names.is_empty() => d = d.help(format!("available: {}", names.join(", "))),
        None => {}
    }
    d
}

fn load_layer(
    dir: &Path,
    chain: &mut Vec<PathBuf>,
    diags: &mut Vec<Diagnostic>,
    force_templating: bool,
) -> Option<StubSet> {
    let name = dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if chain.contains(&canonical) {
        diags.push(
            Diagnostic::new(dir.join("mock.toml"), "`extends` forms a cycle").label(format!(
                "cycle: {}",
                chain
                    .iter()
                    .chain([&canonical])
                    .filter_map(|p| p.file_name())
                    .map(|n| n.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" -> ")
            )),
        );
        return None;
    }
    chain.push(canonical);
    let manifest = read_manifest(dir, diags);
    let global_templating = force_templating
        || manifest
            .as_ref()
            .is_some_and(|m| m.global_response_templating);
    let mut set = StubSet {
        name,
        dir: dir.to_path_buf(),
        description: manifest.as_ref().and_then(|m| m.description.clone()),
        extends: None,
        layers: Vec::new(),
        mappings: Vec::new(),
        global_templating,
    };
    if let Some(base) = manifest.and_then(|m| m.extends) {
        let manifest_path = dir.join("mock.toml");
        let root = dir.parent().unwrap_or(Path::new("."));
        let base_dir = root.join(base.get_ref());
        // A sibling folder by name: nothing outside the mocks root, and the same
        // message whether or not what it points at exists.
        let plain = std::path::Path::new(base.get_ref())
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
            && !base.get_ref().is_empty()
            && !base.get_ref().contains('/');
        if !plain {
            let text = read_small(&manifest_path).unwrap_or_default();
            let d = Diagnostic::new(&manifest_path, "`extends` must name a sibling stub set")
                .at_offset(&text, base.span().start)
                .width(base.span().len())
                .label("not a folder name beside this set")
                .help("write the name of a folder in the same mocks folder, like `reference-provider`");
            diags.push(d);
        } else if base_dir.is_dir() {
            if let Some(base_set) = load_layer(&base_dir, chain, diags, force_templating) {
                set.mappings = base_set.mappings;
                set.layers = base_set.layers;
            }
        } else {
            let text = read_small(&manifest_path).unwrap_or_default();
            let d = missing_set(root, base.get_ref(), &manifest_path)
                .at_offset(&text, base.span().start);
            diags.push(d.width(base.span().len()));
        }
        set.extends = Some(base.into_inner());
    }
    let mappings_dir = dir.join("mappings");
    if !mappings_dir.is_dir() {
        diags.push(
            Diagnostic::new(dir, "a stub set needs a `mappings/` folder")
                .label(format!("no {}", mappings_dir.display())),
        );
        return None;
    }
    let mut files_dirs = vec![dir.join("__files")];
    files_dirs.extend(set.layers.iter().rev().map(|d| d.join("__files")));
    for file in json_files(&mappings_dir, diags) {
        let text = match read_mapping_file(&mappings_dir, &file) {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::new(&file, "cannot read mapping file").label(e));
                continue;
            }
        };
        let root = match parse_first_value(&text) {
            Ok(root) => root,
            Err(e) => {
                diags.push(
                    Diagnostic::new(&file, "mapping file is not valid JSON")
                        .at(e.pos.line as usize, e.pos.col as usize)
                        .label(e.message)
                        .with_source(&text),
                );
                continue;
            }
        };
        let mut decoder = Decoder::new(&file, &text, &files_dirs, global_templating);
        set.mappings.extend(decoder.mappings(&root));
        decoder.diags.sort_by_key(|d| (d.line, d.col));
        diags.append(&mut decoder.diags);
    }
    set.layers.push(dir.to_path_buf());
    chain.pop();
    Some(set)
}

/// A small text file of the set (mock.toml), read only if it is a regular file.
fn read_small(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > 1024 * 1024 {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

/// A mapping file: a regular file inside `mappings/`, no larger than the cap.
fn read_mapping_file(mappings_dir: &Path, file: &Path) -> Result<String, String> {
    let name = file
        .strip_prefix(mappings_dir)
        .map_err(|_| "outside the mappings folder".to_owned())?;
    let path =
        super::files::inside(mappings_dir, &name.to_string_lossy()).map_err(|e| e.to_string())?;
    let bytes = super::files::read_capped(&path).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())
}

/// The first JSON value of a mapping file: WireMock (Jackson) reads one value and
/// ignores whatever text follows it.
pub(super) fn parse_first_value(
    text: &str,
) -> Result<assure_fhir::model::Node, assure_fhir::model::JsonError> {
    match assure_fhir::parse_json(text) {
        Err(e) if e.message == "unexpected text after the JSON value" => {
            let start: usize = text
                .split_inclusive('\n')
                .take((e.pos.line as usize).saturating_sub(1))
                .map(str::len)
                .sum();
            let line = &text[start.min(text.len())..];
            let end = start
                + line
                    .char_indices()
                    .nth((e.pos.col as usize).saturating_sub(1))
                    .map_or(line.len(), |(i, _)| i);
            assure_fhir::parse_json(&text[..end])
        }
        other => other,
    }
}

fn read_manifest(dir: &Path, diags: &mut Vec<Diagnostic>) -> Option<Manifest> {
    let path = dir.join("mock.toml");
    if !path.exists() {
        return None;
    }
    let Some(text) = read_small(&path) else {
        diags.push(
            Diagnostic::new(&path, "cannot read mock.toml")
                .label("not a regular text file under 1 MiB"),
        );
        return None;
    };
    match toml::from_str::<Manifest>(&text) {
        Ok(m) => Some(m),
        Err(e) => {
            let mut d = Diagnostic::new(&path, "invalid mock.toml").label(e.message().to_owned());
            if let Some(span) = e.span() {
                d = d.at_offset(&text, span.start).width(span.len());
            }
            diags.push(d);
            None
        }
    }
}

/// `*.json` under `dir`, recursively, sorted so load order (and tie-breaks) is stable.
fn json_files(dir: &Path, diags: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) => {
                diags.push(Diagnostic::new(&d, "cannot read folder").label(e.to_string()));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            // Folders are walked only when they are real folders, not links out.
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
