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
}

impl StubSet {
    /// Loads the set in folder `dir`; `extends` names sibling folders of `dir`.
    pub fn load(dir: &Path) -> Result<StubSet, Diagnostics> {
        let mut chain = Vec::new();
        let mut diags = Vec::new();
        let set = load_layer(dir, &mut chain, &mut diags);
        match set {
            Some(set) if diags.is_empty() => Ok(set),
            _ => Err(Diagnostics(diags)),
        }
    }

    /// Loads `mocks_root/<name>/`, suggesting close names when there is no such set.
    pub fn load_named(mocks_root: &Path, name: &str) -> Result<StubSet, Diagnostics> {
        let dir = mocks_root.join(name);
        if !dir.is_dir() {
            return Err(missing_set(mocks_root, name, mocks_root).into());
        }
        StubSet::load(&dir)
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
    let mut set = StubSet {
        name,
        dir: dir.to_path_buf(),
        description: manifest.as_ref().and_then(|m| m.description.clone()),
        extends: None,
        layers: Vec::new(),
        mappings: Vec::new(),
    };
    if let Some(base) = manifest.and_then(|m| m.extends) {
        let manifest_path = dir.join("mock.toml");
        let root = dir.parent().unwrap_or(Path::new("."));
        let base_dir = root.join(base.get_ref());
        if base_dir.is_dir() {
            if let Some(base_set) = load_layer(&base_dir, chain, diags) {
                set.mappings = base_set.mappings;
                set.layers = base_set.layers;
            }
        } else {
            let text = std::fs::read_to_string(&manifest_path).unwrap_or_default();
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
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::new(&file, "cannot read mapping file").label(e.to_string()));
                continue;
            }
        };
        let root = match assure_fhir::parse_json(&text) {
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
        let mut decoder = Decoder::new(&file, &text, &files_dirs);
        set.mappings.extend(decoder.mappings(&root));
        decoder.diags.sort_by_key(|d| (d.line, d.col));
        diags.append(&mut decoder.diags);
    }
    set.layers.push(dir.to_path_buf());
    chain.pop();
    Some(set)
}

fn read_manifest(dir: &Path, diags: &mut Vec<Diagnostic>) -> Option<Manifest> {
    let path = dir.join("mock.toml");
    let text = std::fs::read_to_string(&path).ok()?;
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
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
