//! FHIR packages: `.tgz` files, folders and the package cache, loaded with their
//! dependencies into one [`PackageSet`] indexed by canonical URL and type name.
//!
//! ```no_run
//! use assure_fhir::package::{LoadOptions, PackageCache, PackageSet, PackageSource};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let options = LoadOptions { cache: PackageCache::from_env(), ..Default::default() };
//! let sources = [PackageSource::parse("UK.Core.r4#1.2.0")?, PackageSource::parse("profiles/")?];
//! let set = PackageSet::load(&sources, &options)?;
//! let patient = set.snapshot("https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient")?;
//! for p in set.packages() {
//!     println!("{}#{} {} sha256:{}", p.name, p.version, p.fhir_version, p.sha256);
//! }
//! # let _ = patient; Ok(()) }
//! ```
//!
//! - Sources: a `.tgz`, a folder in npm layout (`package/package.json`), a folder with
//!   its own `package.json`, or a bare folder of JSON/XML resources (named after the
//!   folder, FHIR version from the resources, depending on that release's core).
//! - The cache is `$FHIR_PACKAGE_CACHE`, else `~/.fhir/packages`, laid out as
//!   `<id>#<version>/package/`. [`PackageCache::install_tgz`] unpacks beside it and
//!   renames into place, after checking a `shasum`/`integrity` when one is given.
//! - `hl7.fhir.core` 3.x and `hl7.fhir.r3.core` are one package; a package listing
//!   itself as a dependency is fine. A version conflict or a missing dependency is an
//!   error, unless [`LoadOptions::allow_missing_dependencies`] turns it into a warning.
//! - Indexing reads only top-level fields; a resource is parsed on first use, once.

mod cache;
mod cached;
mod codec;
mod contents;
mod entry;
mod error;
pub mod index;
mod limits;
mod lookup;
mod manifest;
mod models;
pub mod scan;
mod set;
mod source;
pub(crate) mod trees;

pub use cache::{Checksum, PackageCache, CACHE_ENV};
pub use entry::{Format, ResourceRef, INDEXED_TYPES};
pub use error::PackageError;
pub use limits::{parse_size, ArchiveLimits, MAX_ENTRIES_ENV, MAX_RATIO_ENV, MAX_SIZE_ENV};
pub use manifest::{canonical_id, is_core_id, version_matches, FhirRelease, Manifest};
pub use set::{IndexUse, LoadOptions, PackageInfo, PackageSet, PackageSource};
pub use source::{pack_tgz, unpack, unpack_with};
