//! FHIR packages: `.tgz` files, folders and the package cache, loaded with their
//! dependencies into one [`PackageSet`] indexed by canonical URL and type name.

mod cache;
mod entry;
mod error;
mod lookup;
mod manifest;
pub mod scan;
mod set;
mod source;

pub use cache::{Checksum, PackageCache, CACHE_ENV};
pub use entry::{Format, ResourceRef, INDEXED_TYPES};
pub use error::PackageError;
pub use manifest::{canonical_id, version_matches, FhirRelease, Manifest};
pub use set::{LoadOptions, PackageInfo, PackageSet, PackageSource};
pub use source::{pack_tgz, unpack};
