//! FHIR knowledge for assure: the instance model, packages, FHIRPath and validation.
//! Pure and synchronous: no network, no cucumber.

pub mod fhirpath;
mod memo;
pub mod model;
pub mod outcome;
pub mod package;
pub mod snapshot;
pub mod terminology;
pub mod validate;
pub mod xml;

pub use model::{parse_json, Kind, Node, Pos};
pub use package::{LoadOptions, PackageError, PackageSet, PackageSource};
