//! FHIR packages and the FHIRPath type model for commands and runs, found the way
//! every FHIR tool finds them: named packages, else the core package in the FHIR
//! package cache (`~/.fhir/packages`, or `$FHIR_PACKAGE_CACHE`).

use std::sync::Arc;

use assure_fhir::fhirpath::ModelInfo;
use assure_fhir::package::{FhirRelease, LoadOptions, PackageCache, PackageSource};
use assure_fhir::PackageSet;

/// Loaded packages and the type model built from their base definitions.
pub struct FhirContext {
    pub packages: Option<Arc<PackageSet>>,
    pub model: Option<Arc<ModelInfo>>,
    /// Why something is missing, for the user to read.
    pub warnings: Vec<String>,
}

/// The core package of a FHIR release, as it is named in registries and caches.
pub fn core_package(release: FhirRelease) -> (&'static str, &'static str) {
    match release {
        FhirRelease::Stu3 => ("hl7.fhir.r3.core", "3.0.1"),
        _ => ("hl7.fhir.r4.core", "4.0.1"),
    }
}

/// Loads `specs` (paths, folders or `id#version` from the cache); with none, the core
/// package of `release` from the cache. A missing core package is a warning, not an
/// error: FHIRPath still works without types, less precisely.
pub fn load(specs: &[String], release: FhirRelease) -> Result<FhirContext, String> {
    let cache = PackageCache::from_env();
    let options = LoadOptions {
        cache: cache.clone(),
        allow_missing_dependencies: true,
    };
    let mut warnings = Vec::new();
    let sources: Vec<PackageSource> = if specs.is_empty() {
        let (id, version) = core_package(release);
        match cache.as_ref().and_then(|c| c.find(id, version)) {
            Some(_) => vec![PackageSource::Spec {
                id: id.into(),
                version: version.into(),
            }],
            None => {
                let root = cache
                    .as_ref()
                    .map(|c| c.root().display().to_string())
                    .unwrap_or_else(|| "~/.fhir/packages".into());
                warnings.push(format!(
                    "{id}#{version} is not in the FHIR package cache ({root}), so FHIRPath runs without types; \
                     install it with any FHIR package tool, or name a package with --package"
                ));
                Vec::new()
            }
        }
    } else {
        specs
            .iter()
            .map(|s| PackageSource::parse(s).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?
    };
    if sources.is_empty() {
        return Ok(FhirContext {
            packages: None,
            model: None,
            warnings,
        });
    }
    let set = PackageSet::load(&sources, &options)
        .map_err(|e| format!("failed to load FHIR packages: {e}"))?;
    warnings.extend(set.warnings().iter().cloned());
    // From the package indexes: the definitions are not parsed to build it.
    let model = set.type_model(None);
    Ok(FhirContext {
        packages: Some(Arc::new(set)),
        model,
        warnings,
    })
}
