//! FHIR XML <-> the JSON-shaped [`crate::Node`] model, driven by type definitions.
//!
//! XML does not say which elements repeat or what JSON type a primitive has, so the
//! reader asks a [`TypeProvider`] (a [`crate::package::PackageSet`] for one release).

mod dom;
mod read;
mod types;
mod write;

pub use read::{normalise_xhtml, parse_resource};
pub use types::{upper_first, Child, Content, ElementInfo, TypeInfo, TypeProvider};
pub use write::write_resource;

use std::sync::Arc;

use crate::model::Pos;
use crate::package::{FhirRelease, PackageSet};

/// Why an XML text could not be read as FHIR, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at {pos}")]
pub struct XmlError {
    pub message: String,
    pub pos: Pos,
}

/// A [`PackageSet`]'s type definitions for one FHIR release.
#[derive(Debug, Clone, Copy)]
pub struct ReleaseTypes<'a> {
    pub set: &'a PackageSet,
    pub release: FhirRelease,
}

impl TypeProvider for ReleaseTypes<'_> {
    fn type_info(&self, type_name: &str) -> Option<Arc<TypeInfo>> {
        let key = (self.release, type_name.to_string());
        if let Ok(cache) = self.set.type_cache.lock() {
            if let Some(hit) = cache.get(&key) {
                return hit.clone();
            }
        }
        let built = self
            .set
            .type_definition(type_name, self.release)
            .and_then(|r| r.node().ok())
            .and_then(|n| TypeInfo::from_structure_definition(&n))
            .map(Arc::new);
        if let Ok(mut cache) = self.set.type_cache.lock() {
            cache.insert(key, built.clone());
        }
        built
    }
}

/// The newest release loaded: what instances are read as by default.
impl TypeProvider for PackageSet {
    fn type_info(&self, type_name: &str) -> Option<Arc<TypeInfo>> {
        let release = self.releases().first().copied()?;
        self.types(release).type_info(type_name)
    }
}

impl PackageSet {
    /// Type definitions of one release, for reading and writing XML.
    pub fn types(&self, release: FhirRelease) -> ReleaseTypes<'_> {
        ReleaseTypes { set: self, release }
    }
}
