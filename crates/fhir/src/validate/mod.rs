//! The profile validator: StructureDefinition snapshots compiled once into [`Plan`]s
//! (cached, shared across threads), instances walked against them, findings returned
//! as [`Issue`]s.

mod compare;
mod conformance;
mod extensions;
mod plan;
pub mod primitive;
mod rules;
mod slicing;
mod terminology_check;
mod walk;

pub use plan::{Invariant, Plan, PlanElement};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::fhirpath::Env;
use crate::model::Node;
use crate::outcome::{Issue, IssueCode, Severity};
use crate::package::{FhirRelease, PackageSet};
use crate::terminology::{Layered, LocalTerminology, Terminology};

/// How strict to be, and which release instances are read as.
#[derive(Debug, Clone, Default)]
pub struct ValidatorOptions {
    /// The FHIR release; `None`: the newest release loaded.
    pub release: Option<FhirRelease>,
    /// Report definitions that cannot be resolved as errors instead of warnings.
    pub strict_definitions: bool,
    /// Report extensions whose definitions are not loaded as errors (the HL7 Java
    /// validator's behaviour), not as `not checked` warnings.
    pub unknown_extensions_are_errors: bool,
}

/// Validates instances against the base definitions and profiles of a [`PackageSet`].
/// `Send + Sync`: share one with `Arc` across threads.
pub struct Validator {
    set: Arc<PackageSet>,
    options: ValidatorOptions,
    release: FhirRelease,
    plans: Mutex<HashMap<String, Option<Arc<Plan>>>>,
    env: OnceLock<Env>,
    terminology: Arc<Layered>,
    globals: OnceLock<HashMap<String, Vec<String>>>,
}

impl Validator {
    pub fn new(set: Arc<PackageSet>, options: ValidatorOptions) -> Validator {
        let release = options
            .release
            .or_else(|| set.releases().first().copied())
            .unwrap_or(FhirRelease::Unknown);
        Validator {
            terminology: Arc::new(Layered::local(set.clone())),
            set,
            options,
            release,
            plans: Mutex::new(HashMap::new()),
            env: OnceLock::new(),
            globals: OnceLock::new(),
        }
    }

    /// Asks `server` what the packages cannot decide (codes of SNOMED CT, dm+d,
    /// LOINC; value sets built on filters or not loaded); before first use.
    pub fn with_terminology_server(mut self, server: Arc<dyn Terminology>) -> Validator {
        let local = LocalTerminology::new(self.set.clone());
        self.terminology = Arc::new(Layered::new(local, Some(server)));
        self
    }

    pub fn release(&self) -> FhirRelease {
        self.release
    }

    pub fn packages(&self) -> &Arc<PackageSet> {
        &self.set
    }

    pub fn terminology(&self) -> &dyn Terminology {
        &*self.terminology
    }

    /// Validates a resource against its base type, the profiles it claims in
    /// `meta.profile`, and `profiles` (canonical URLs).
    pub fn validate(&self, resource: &Node, profiles: &[&str]) -> Vec<Issue> {
        let mut walker = walk::Walker::new(self);
        walker.validate_root(resource, profiles);
        walker.finish()
    }

    /// The compiled plan of a StructureDefinition by canonical URL or type name.
    pub fn plan(&self, canonical_or_type: &str) -> Option<Arc<Plan>> {
        if let Some(hit) = self
            .plans
            .lock()
            .ok()
            .and_then(|p| p.get(canonical_or_type).cloned())
        {
            return hit;
        }
        let sd = if canonical_or_type.contains(':') || canonical_or_type.contains('/') {
            self.set
                .resolve_in(canonical_or_type, self.release)
                .or_else(|| self.set.resolve(canonical_or_type))
                .or_else(|| self.resolve_partial_version(canonical_or_type))
                .filter(|r| r.resource_type() == "StructureDefinition")
        } else {
            self.set.type_definition(canonical_or_type, self.release)
        };
        let plan = sd
            .and_then(|r| self.set.snapshot_of(r).ok())
            .map(|s| Arc::new(Plan::compile(s)));
        if let Ok(mut cache) = self.plans.lock() {
            cache.insert(canonical_or_type.to_string(), plan.clone());
        }
        plan
    }

    /// The profiles an implementation guide declares for every resource of a type
    /// (`ImplementationGuide.global`): those of a package's own guide (its
    /// `packageId` is the package's name), or of the one guide in a folder of
    /// definitions. Guides shipped as examples are not applied.
    pub fn global_profiles(&self, resource_type: &str) -> &[String] {
        let globals = self.globals.get_or_init(|| {
            let guides: Vec<_> = self
                .set
                .resources()
                .filter(|r| r.resource_type() == "ImplementationGuide")
                .collect();
            let mut out: HashMap<String, Vec<String>> = HashMap::new();
            for g in &guides {
                let package = &g.package().name;
                let Ok(node) = g.node() else { continue };
                let own = node.get("packageId").and_then(Node::as_str) == Some(package.as_str());
                let only = guides
                    .iter()
                    .filter(|o| &o.package().name == package)
                    .count()
                    == 1
                    && !crate::package::is_core_id(&g.package().id);
                if !(own || only) {
                    continue;
                }
                for global in node.get("global").map(Node::items).unwrap_or_default() {
                    if let (Some(ty), Some(profile)) = (
                        global.get("type").and_then(Node::as_str),
                        global.get("profile").and_then(Node::as_str),
                    ) {
                        out.entry(ty.to_string())
                            .or_default()
                            .push(profile.to_string());
                    }
                }
            }
            out
        });
        globals.get(resource_type).map_or(&[], Vec::as_slice)
    }

    /// `url|0.2` names the newest loaded `0.2.x`.
    fn resolve_partial_version(&self, canonical: &str) -> Option<crate::package::ResourceRef<'_>> {
        let (url, version) = canonical.split_once('|')?;
        let prefix = format!("{version}.");
        self.set
            .resources()
            .filter(|r| r.url() == Some(url) && r.version().is_some_and(|v| v.starts_with(&prefix)))
            .max_by(|a, b| a.version().cmp(&b.version()))
    }

    /// The FHIRPath environment: the type model of the release and local terminology.
    pub(crate) fn env(&self) -> &Env {
        self.env.get_or_init(|| {
            // From the package indexes: no definition is parsed to build it.
            let model = self.set.type_model(Some(self.release)).unwrap_or_default();
            let mut env = Env::new().with_model(model);
            env.terminology = Some(self.terminology.clone());
            env
        })
    }

    /// The severity for a definition that cannot be found.
    fn unresolved_severity(&self) -> Severity {
        if self.options.strict_definitions {
            Severity::Error
        } else {
            Severity::Warning
        }
    }
}

/// A finding about a definition rather than the instance.
fn definition_issue(v: &Validator, message: String) -> Issue {
    Issue::new(v.unresolved_severity(), IssueCode::NotFound, message)
}
