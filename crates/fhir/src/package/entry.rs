//! One indexed resource: its cheap summary, its bytes, and its parsed tree once asked.

use std::sync::{Arc, OnceLock};

use super::scan::Summary;
use super::{FhirRelease, PackageError, PackageInfo};
use crate::model::Node;

/// The resource types the index keeps.
pub const INDEXED_TYPES: &[&str] = &[
    "StructureDefinition",
    "ValueSet",
    "CodeSystem",
    "SearchParameter",
    "CapabilityStatement",
    "OperationDefinition",
    "NamingSystem",
    "ConceptMap",
    "ImplementationGuide",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub summary: Summary,
    pub package: usize,
    pub file: String,
    pub format: Format,
    pub release: FhirRelease,
    pub content: super::contents::Content,
    pub parsed: OnceLock<Result<Arc<Node>, PackageError>>,
}

/// A resource found in a [`super::PackageSet`]: where it comes from, and its tree
/// (parsed on first use, then shared).
#[derive(Clone, Copy)]
pub struct ResourceRef<'a> {
    pub(crate) set: &'a super::PackageSet,
    pub(crate) index: usize,
}

impl<'a> ResourceRef<'a> {
    fn entry(&self) -> &'a Entry {
        &self.set.entries[self.index]
    }

    pub fn resource_type(&self) -> &'a str {
        &self.entry().summary.resource_type
    }

    pub fn url(&self) -> Option<&'a str> {
        self.entry().summary.url.as_deref()
    }

    pub fn version(&self) -> Option<&'a str> {
        self.entry().summary.version.as_deref()
    }

    /// `StructureDefinition.type`, `.kind`, `.derivation`, `.baseDefinition`.
    pub fn sd_type(&self) -> Option<&'a str> {
        self.entry().summary.type_.as_deref()
    }

    pub fn kind(&self) -> Option<&'a str> {
        self.entry().summary.kind.as_deref()
    }

    pub fn derivation(&self) -> Option<&'a str> {
        self.entry().summary.derivation.as_deref()
    }

    pub fn base_definition(&self) -> Option<&'a str> {
        self.entry().summary.base_definition.as_deref()
    }

    /// The file inside its package, as a path relative to the archive or folder.
    pub fn file(&self) -> &'a str {
        &self.entry().file
    }

    pub fn format(&self) -> Format {
        self.entry().format
    }

    pub fn release(&self) -> FhirRelease {
        self.entry().release
    }

    pub fn package(&self) -> &'a PackageInfo {
        &self.set.packages[self.entry().package]
    }

    /// The parsed resource. Parsed once, on first call, then shared.
    pub fn node(&self) -> Result<Arc<Node>, PackageError> {
        self.set.parse_entry(self.index)
    }

    /// A stable id of this resource within its set (for caches keyed by resource).
    pub fn index(&self) -> usize {
        self.index
    }
}

impl std::fmt::Debug for ResourceRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} ({} in {}#{})",
            self.resource_type(),
            self.url().unwrap_or("-"),
            self.file(),
            self.package().name,
            self.package().version
        )
    }
}
