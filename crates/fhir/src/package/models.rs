//! FHIRPath type models of a [`PackageSet`]: one per package (from its index, or
//! built from its base StructureDefinitions on first use), merged per release in
//! load order, as if every definition had been added one after another.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use super::index::ModelState;
use super::trees::Trees;
use super::{FhirRelease, PackageSet};
use crate::fhirpath::ModelInfo;

/// Merged models by release (`None`: every release).
pub(crate) type Merged = HashMap<Option<FhirRelease>, Option<Arc<ModelInfo>>>;

/// One package's entries, its model and its stored trees.
#[derive(Debug)]
pub(crate) struct PackageModel {
    pub range: Range<usize>,
    /// What the index held, decoded on first use.
    persisted: Option<ModelState>,
    built: OnceLock<Option<Arc<ModelInfo>>>,
    /// Its definitions' parsed trees, when read through its index.
    pub trees: Option<Trees>,
}

impl PackageModel {
    pub fn new(range: Range<usize>, persisted: Option<ModelState>, trees: Option<Trees>) -> Self {
        PackageModel {
            range,
            persisted,
            built: OnceLock::new(),
            trees,
        }
    }
}

impl PackageSet {
    /// The FHIRPath type model of every base type definition (primitive, complex,
    /// resource; not profiles, not logical models) of the packages of `release`, or of
    /// all packages; `None` when they define no types (a set of profiles only).
    /// Built once per set and release; from the package indexes when there are.
    pub fn type_model(&self, release: Option<FhirRelease>) -> Option<Arc<ModelInfo>> {
        if let Some(hit) = self.merged_models.lock().ok()?.get(&release) {
            return hit.clone();
        }
        let parts: Vec<Arc<ModelInfo>> = (0..self.packages.len())
            .filter(|i| release.is_none_or(|r| self.packages[*i].release == r))
            .filter_map(|i| self.package_model(i))
            .collect();
        let merged = match parts.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            [first, rest @ ..] => {
                let mut m = (**first).clone();
                for p in rest {
                    m.extend((**p).clone());
                }
                Some(Arc::new(m))
            }
        };
        if let Ok(mut cache) = self.merged_models.lock() {
            cache.insert(release, merged.clone());
        }
        merged
    }

    /// One package's model: from its index, else built from its definitions.
    pub(crate) fn package_model(&self, package: usize) -> Option<Arc<ModelInfo>> {
        let slot = &self.models[package];
        slot.built
            .get_or_init(|| {
                match &slot.persisted {
                    Some(ModelState::NoTypes) => return None,
                    Some(ModelState::Json(bytes)) => {
                        // The index's checksum held; a model that still does not
                        // read is rebuilt rather than trusted.
                        if let Ok(m) = serde_json::from_slice::<ModelInfo>(bytes) {
                            return Some(Arc::new(m));
                        }
                    }
                    None => {}
                }
                self.build_model(slot.range.clone())
            })
            .clone()
    }

    /// What the index keeps of a package's model.
    pub(crate) fn package_model_state(&self, package: usize) -> ModelState {
        match self.package_model(package) {
            None => ModelState::NoTypes,
            Some(m) => match serde_json::to_vec(&*m) {
                Ok(json) => ModelState::Json(json),
                Err(_) => ModelState::NoTypes,
            },
        }
    }

    fn build_model(&self, range: Range<usize>) -> Option<Arc<ModelInfo>> {
        let nodes: Vec<_> = range
            .filter(|i| {
                let s = &self.entries[*i].summary;
                s.resource_type == "StructureDefinition"
                    && s.derivation.as_deref() != Some("constraint")
                    && matches!(
                        s.kind.as_deref(),
                        Some("primitive-type" | "complex-type" | "resource")
                    )
            })
            .filter_map(|i| self.parse_entry(i).ok())
            .collect();
        (!nodes.is_empty()).then(|| {
            Arc::new(ModelInfo::from_structure_definitions(
                nodes.iter().map(|n| n.as_ref()),
            ))
        })
    }
}
