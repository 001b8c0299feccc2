//! The profile validator: StructureDefinition snapshots compiled once into [`Plan`]s
//! (cached, shared across threads), instances walked against them, findings returned
//! as [`Issue`]s.

mod bounds;
mod bundle;
mod compare;
mod conformance;
mod extensions;
mod members;
mod plan;
mod policy;
pub mod primitive;
mod references;
mod rules;
mod slicing;
mod terminology_check;
mod walk;

pub use plan::{Invariant, Plan, PlanElement};

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

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
    /// HTML tags in strings, active content in markdown and narrative, and URLs with
    /// a scheme that runs code are errors.
    pub security_checks: bool,
    /// HTML tags in markdown are errors.
    pub no_html_in_markdown: bool,
    /// URLs and references under the example domains (RFC 2606) are errors.
    pub no_example_urls: bool,
    /// References that resolve inside the instance (contained resources, Bundle
    /// entries, the resources of a Parameters) always have their targets checked
    /// against the element's target types and profiles. With this, they also resolve
    /// to [`Validator::with_resources`], and one that should resolve (local,
    /// relative, a Bundle's `urn:`) and does not is an error.
    pub check_references: bool,
    /// With `check_references`, a RESTful reference (`Type/id`) that does not resolve
    /// is taken to exist and to be valid.
    pub assume_valid_rest_references: bool,
    /// Extensions whose url starts with one of these are allowed without a definition.
    pub allowed_extension_domains: Vec<String>,
    /// Bundle entries a rule picks are also validated against a profile.
    pub bundle_profiles: Vec<BundleProfile>,
}

/// `RULE=PROFILE`: the entries of a Bundle that `rule` picks are validated against
/// `profile`. A rule is `Type` (every entry whose resource is a `Type`), `Type:N`
/// (the N-th of those, from 0) or `N` (the N-th entry, from 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleProfile {
    pub resource_type: Option<String>,
    pub index: Option<usize>,
    pub profile: String,
}

impl BundleProfile {
    /// Parses `RULE=PROFILE`.
    pub fn parse(text: &str) -> Result<BundleProfile, String> {
        let (rule, profile) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}` is not RULE=PROFILE (e.g. Patient:0=http://...)"))?;
        let profile = profile.trim();
        if profile.is_empty() {
            return Err(format!("`{text}` names no profile after `=`"));
        }
        let (ty, index) = match rule.split_once(':') {
            Some((t, i)) => (Some(t), Some(i)),
            None if rule.bytes().all(|b| b.is_ascii_digit()) => (None, Some(rule)),
            None => (Some(rule), None),
        };
        let index = match index {
            Some(i) => Some(
                i.parse::<usize>()
                    .map_err(|_| format!("`{i}` in `{rule}` is not an entry number (from 0)"))?,
            ),
            None => None,
        };
        let resource_type = match ty {
            Some(t) if t.is_empty() || !t.bytes().all(|b| b.is_ascii_alphabetic()) => {
                return Err(format!("`{t}` in `{rule}` is not a resource type"))
            }
            t => t.map(str::to_string),
        };
        if resource_type.is_none() && index.is_none() {
            return Err(format!("`{text}` has an empty rule"));
        }
        Ok(BundleProfile {
            resource_type,
            index,
            profile: profile.to_string(),
        })
    }

    /// Whether the entry at `index`, the `of_type`-th entry of its type, is picked.
    pub fn picks(&self, resource_type: &str, index: usize, of_type: usize) -> bool {
        match (&self.resource_type, self.index) {
            (Some(t), Some(n)) => t == resource_type && n == of_type,
            (Some(t), None) => t == resource_type,
            (None, Some(n)) => n == index,
            (None, None) => false,
        }
    }
}

/// Validates instances against the base definitions and profiles of a [`PackageSet`].
/// `Send + Sync`: share one with `Arc` across threads.
pub struct Validator {
    set: Arc<PackageSet>,
    options: ValidatorOptions,
    release: FhirRelease,
    /// Plans by canonical URL or type name (`None`: there is no plan).
    plans: crate::memo::Memo<Arc<Plan>>,
    env: OnceLock<Env>,
    terminology: Arc<Layered>,
    globals: OnceLock<HashMap<String, Vec<String>>>,
    /// Resources references may resolve to (the other inputs), by `Type/id`.
    known: HashMap<String, Arc<Node>>,
    /// Native answers for invariants that certainly hold (see `rules.rs`).
    shortcuts: bool,
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
            plans: crate::memo::Memo::default(),
            env: OnceLock::new(),
            globals: OnceLock::new(),
            known: HashMap::new(),
            shortcuts: true,
        }
    }

    /// Resources that references may resolve to with `check_references` (the other
    /// inputs of a run), each known as `Type/id`.
    pub fn with_resources(mut self, resources: impl IntoIterator<Item = Arc<Node>>) -> Validator {
        for r in resources {
            let key = match (r.resource_type(), r.get("id").and_then(Node::as_str)) {
                (Some(t), Some(id)) => format!("{t}/{id}"),
                _ => continue,
            };
            self.known.entry(key).or_insert(r);
        }
        self
    }

    /// Every invariant through the FHIRPath engine, without the native answers for
    /// those that certainly hold: for showing the two give the same findings.
    #[doc(hidden)]
    pub fn without_shortcuts(mut self) -> Validator {
        self.shortcuts = false;
        self
    }

    pub fn options(&self) -> &ValidatorOptions {
        &self.options
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
        self.plan_ref(canonical_or_type).cloned()
    }

    /// [`Validator::plan`], borrowed. Every element of every instance asks for the
    /// plans of its types: threads share no lock and no reference count for it.
    pub(crate) fn plan_ref(&self, canonical_or_type: &str) -> Option<&Arc<Plan>> {
        self.plans
            .get_or_insert_with(canonical_or_type, || self.compile(canonical_or_type))
    }

    /// The plan of a type or profile, compiled from its snapshot.
    fn compile(&self, canonical_or_type: &str) -> Option<Arc<Plan>> {
        let sd = if canonical_or_type.contains(':') || canonical_or_type.contains('/') {
            self.set
                .resolve_in(canonical_or_type, self.release)
                .or_else(|| self.set.resolve(canonical_or_type))
                .or_else(|| self.resolve_partial_version(canonical_or_type))
                .filter(|r| r.resource_type() == "StructureDefinition")
        } else {
            self.set.type_definition(canonical_or_type, self.release)
        };
        // A flawed profile is applied without what cannot be applied (and says so
        // where it is used), as the HL7 validator does.
        sd.and_then(|r| match self.set.snapshot_of(r) {
            Ok(s) => Some(s),
            Err(crate::snapshot::SnapshotError::Differential(_)) => {
                crate::snapshot::generate_lenient(&self.set, r)
                    .ok()
                    .map(Arc::new)
            }
            Err(_) => None,
        })
        .map(|s| Arc::new(Plan::compile(s)))
    }

    /// Why `canonical` gives no plan: `None` when it does. The URL may be loaded as
    /// something else, in another release, or with a snapshot that cannot be made.
    pub fn plan_problem(&self, canonical: &str) -> Option<String> {
        if self.plan(canonical).is_some() {
            return None;
        }
        let Some(r) = self.set.resolve(canonical) else {
            let (url, version) = canonical.split_once('|').unwrap_or((canonical, ""));
            let loaded: Vec<&str> = self
                .set
                .resources()
                .filter(|r| r.url() == Some(url))
                .map(|r| r.version().unwrap_or("(no version)"))
                .collect();
            return Some(if loaded.is_empty() {
                "no StructureDefinition with this URL is loaded".into()
            } else {
                format!(
                    "version {version} is not loaded (loaded: {})",
                    loaded.join(", ")
                )
            });
        };
        let from = format!(
            "{} in {}#{}",
            r.file(),
            r.package().name,
            r.package().version
        );
        if r.resource_type() != "StructureDefinition" {
            return Some(format!(
                "it is a {}, not a StructureDefinition ({from})",
                r.resource_type()
            ));
        }
        if self.set.resolve_in(canonical, self.release).is_none() {
            return Some(format!(
                "it is defined for FHIR {:?}, and the instances are read as {:?} ({from})",
                r.release(),
                self.release
            ));
        }
        Some(match self.set.snapshot_of(r) {
            Err(e) => format!("its snapshot cannot be made: {e}"),
            Ok(_) => format!("it cannot be compiled ({from})"),
        })
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

    /// An extension url under a domain the user allows without a definition.
    fn allowed_extension(&self, url: &str) -> bool {
        self.options
            .allowed_extension_domains
            .iter()
            .any(|d| url_under(url, d))
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

/// `url` is `domain` or below it: `https://x.org/fhir/a` is under `https://x.org/fhir`
/// and under `x.org`, but not under `https://x.org/fh`.
fn url_under(url: &str, domain: &str) -> bool {
    let domain = domain.trim_end_matches('/');
    if domain.contains("://") {
        return url == domain
            || url
                .strip_prefix(domain)
                .is_some_and(|rest| rest.starts_with(['/', '?', '#']));
    }
    let host = url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', ':', '?', '#']).next().unwrap_or_default())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let domain = domain.to_ascii_lowercase();
    host == domain || host.ends_with(&format!(".{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_under_a_domain() {
        let d = "https://fhir.nhs.uk/StructureDefinition";
        assert!(url_under(
            "https://fhir.nhs.uk/StructureDefinition/Extension-x",
            d
        ));
        assert!(url_under(
            "https://fhir.nhs.uk/StructureDefinition",
            "https://fhir.nhs.uk/StructureDefinition/"
        ));
        assert!(!url_under("https://fhir.nhs.uk/StructureDefinitionX", d));
        assert!(!url_under(
            "https://fhir.nhs.uk.evil.org/StructureDefinition/x",
            d
        ));
        assert!(url_under("http://a.example.org/x", "example.org"));
        assert!(!url_under("http://badexample.org/x", "example.org"));
    }

    #[test]
    fn bundle_rules() {
        let r = BundleProfile::parse("Patient:0=http://x/p|0.1.0").unwrap();
        assert_eq!(
            (r.resource_type.as_deref(), r.index),
            (Some("Patient"), Some(0))
        );
        assert_eq!(r.profile, "http://x/p|0.1.0");
        assert!(
            r.picks("Patient", 3, 0) && !r.picks("Patient", 0, 1) && !r.picks("Observation", 0, 0)
        );
        let every = BundleProfile::parse("Observation=http://x/o").unwrap();
        assert!(every.picks("Observation", 5, 2));
        let nth = BundleProfile::parse("2=http://x/o").unwrap();
        assert!(nth.picks("Patient", 2, 0) && !nth.picks("Patient", 1, 0));
        for bad in ["Patient:0", "Patient:x=u", "=u", "Pat ient=u", "Patient="] {
            assert!(BundleProfile::parse(bad).is_err(), "{bad}");
        }
    }
}
