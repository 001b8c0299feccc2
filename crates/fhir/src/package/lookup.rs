//! Finding resources in a [`PackageSet`]: by canonical URL (and version), by type
//! name per FHIR release, with suggestions; and parsing each one once, on first use.

use std::sync::Arc;

use super::contents::Content;
use super::entry::{Entry, Format, ResourceRef};
use super::manifest::version_matches;
use super::scan::pos_of;
use super::{FhirRelease, PackageError, PackageSet};
use crate::model::Node;

impl PackageSet {
    /// A resource by canonical URL, optionally `url|version`. With several versions
    /// and none asked for, the first loaded wins.
    pub fn resolve(&self, canonical: &str) -> Option<ResourceRef<'_>> {
        self.resolve_where(canonical, |_| true)
    }

    /// Like [`resolve`](Self::resolve), within one FHIR release.
    pub fn resolve_in(&self, canonical: &str, release: FhirRelease) -> Option<ResourceRef<'_>> {
        self.resolve_where(canonical, |e| e.release == release)
            .or_else(|| self.resolve_where(canonical, |e| e.release == FhirRelease::Unknown))
    }

    fn resolve_where(
        &self,
        canonical: &str,
        keep: impl Fn(&Entry) -> bool,
    ) -> Option<ResourceRef<'_>> {
        let (url, version) = match canonical.split_once('|') {
            Some((u, v)) => (u, Some(v)),
            None => (canonical, None),
        };
        let candidates = self.by_url.get(url)?;
        candidates
            .iter()
            .copied()
            .filter(|i| keep(&self.entries[*i]))
            .find(|i| match version {
                Some(v) => self.entries[*i]
                    .summary
                    .version
                    .as_deref()
                    .is_some_and(|have| have == v || version_matches(v, have)),
                None => true,
            })
            .map(|index| ResourceRef { set: self, index })
    }

    /// Like [`resolve`](Self::resolve), but a typed error with a suggestion.
    pub fn require(&self, canonical: &str) -> Result<ResourceRef<'_>, PackageError> {
        self.resolve(canonical)
            .ok_or_else(|| PackageError::UnknownCanonical {
                canonical: canonical.to_string(),
                suggestion: self.suggest(canonical),
            })
    }

    /// A StructureDefinition by canonical URL or by type name (`Patient`).
    pub fn structure_definition(&self, canonical_or_type: &str) -> Option<ResourceRef<'_>> {
        if canonical_or_type.contains('/') || canonical_or_type.contains(':') {
            return self
                .resolve(canonical_or_type)
                .filter(|r| r.resource_type() == "StructureDefinition");
        }
        self.releases()
            .into_iter()
            .find_map(|r| self.type_definition(canonical_or_type, r))
    }

    /// The definition of a type (`Patient`, `string`, `Element`) in one release.
    pub fn type_definition(
        &self,
        type_name: &str,
        release: FhirRelease,
    ) -> Option<ResourceRef<'_>> {
        let key = (release, type_name.to_string());
        let type_name_url;
        let index = match self.by_type.get(&key) {
            Some(i) => *i,
            None => {
                // Types like `http://hl7.org/fhirpath/System.String` resolve by URL.
                type_name_url = format!("http://hl7.org/fhir/StructureDefinition/{type_name}");
                return self.resolve_in(&type_name_url, release);
            }
        };
        Some(ResourceRef { set: self, index })
    }

    /// The nearest known canonical, for "did you mean".
    fn suggest(&self, canonical: &str) -> Option<String> {
        let url = canonical.split('|').next().unwrap_or(canonical);
        self.by_url
            .keys()
            .map(|k| (edit_distance(k, url), k))
            .filter(|(d, _)| *d <= 3)
            .min()
            .map(|(_, k)| k.clone())
    }

    pub(crate) fn parse_entry(&self, index: usize) -> Result<Arc<Node>, PackageError> {
        let entry = &self.entries[index];
        if let Some(done) = entry.parsed.get() {
            return done.clone();
        }
        let result = self.parse_guarded(index);
        entry.parsed.get_or_init(|| result).clone()
    }

    /// The resource's tree, owned by the caller: read afresh (and not kept) when it
    /// has not been parsed yet, else a copy of the shared one.
    pub(crate) fn owned_tree(&self, index: usize) -> Result<Node, PackageError> {
        if self.entries[index].parsed.get().is_none() {
            if let Ok(fresh) = self.parse_guarded(index) {
                return Ok(Arc::try_unwrap(fresh).unwrap_or_else(|shared| (*shared).clone()));
            }
        }
        self.parse_entry(index).map(|shared| (*shared).clone())
    }

    /// [`PackageSet::owned_tree`] for building a snapshot: read from the package
    /// index, the members a snapshot does not read are left encoded.
    pub(crate) fn owned_definition(
        &self,
        index: usize,
    ) -> Result<(Node, Vec<super::trees::Deferred>), PackageError> {
        if self.entries[index].parsed.get().is_none() {
            if let Some(found) = self
                .stored(index)
                .and_then(|(trees, item)| trees.read_deferring(item))
            {
                return Ok(found);
            }
        }
        self.owned_tree(index).map(|node| (node, Vec::new()))
    }

    fn parse_guarded(&self, index: usize) -> Result<Arc<Node>, PackageError> {
        // XML needs type definitions, which may be XML themselves: refuse a cycle
        // rather than deadlock on the cell.
        let reentered = PARSING.with(|p| {
            let mut p = p.borrow_mut();
            if p.contains(&(self as *const _ as usize, index)) {
                return true;
            }
            p.push((self as *const _ as usize, index));
            false
        });
        if reentered {
            return Err(self.resource_error(index, 1, 1, "definition needed to read itself"));
        }
        let result = self.parse_uncached(index);
        PARSING.with(|p| {
            p.borrow_mut()
                .retain(|x| *x != (self as *const _ as usize, index))
        });
        result
    }

    pub(crate) fn parse_uncached(&self, index: usize) -> Result<Arc<Node>, PackageError> {
        let entry = &self.entries[index];
        if let Some(node) = self.stored_tree(index) {
            return Ok(Arc::new(node));
        }
        let read;
        let bytes: &[u8] = match &entry.content {
            Content::Memory(b) => b,
            Content::InFolder => {
                let path = self.packages[entry.package].source.join(&entry.file);
                read = std::fs::read(&path).map_err(|e| PackageError::io(&path, e))?;
                &read
            }
        };
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let pos = pos_of(bytes, e.valid_up_to());
            self.resource_error(index, pos.line, pos.col, "not valid UTF-8")
        })?;
        let node = match entry.format {
            Format::Json => crate::model::parse_json(text)
                .map_err(|e| self.resource_error(index, e.pos.line, e.pos.col, &e.message))?,
            Format::Xml => crate::xml::parse_resource(text, &self.types(entry.release))
                .map_err(|e| self.resource_error(index, e.pos.line, e.pos.col, &e.message))?,
        };
        Ok(Arc::new(node))
    }

    /// The tree the package index keeps for this resource, when it keeps one.
    fn stored_tree(&self, index: usize) -> Option<Node> {
        let (trees, item) = self.stored(index)?;
        trees.read(item)
    }

    /// The trees of the resource's package, and its place among them.
    fn stored(&self, index: usize) -> Option<(&super::trees::Trees, usize)> {
        let model = self.models.get(self.entries[index].package)?;
        Some((model.trees.as_ref()?, index - model.range.start))
    }

    pub(crate) fn resource_error(
        &self,
        index: usize,
        line: u32,
        col: u32,
        message: &str,
    ) -> PackageError {
        let entry = &self.entries[index];
        let p = &self.packages[entry.package];
        PackageError::Resource {
            package: format!("{}#{}", p.name, p.version),
            file: entry.file.clone(),
            line,
            col,
            message: message.to_string(),
        }
    }
}

thread_local! {
    static PARSING: std::cell::RefCell<Vec<(usize, usize)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Levenshtein distance, for suggestions.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
