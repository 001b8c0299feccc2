//! Terminology for the validator, behind the [`Terminology`] trait: ValueSets and
//! CodeSystems expanded from the loaded packages ([`LocalTerminology`]), and, where
//! they cannot decide, a terminology server the harness plugs in ([`Layered`]).
//! This crate has no network: the remote side is any `Terminology` given to it.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::memo::Memo;
use crate::model::Node;
use crate::package::PackageSet;

/// Whether a code is in a value set, as far as can be told locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    In,
    NotIn,
    /// Decided by a terminology server: `by` is its base URL, `message` what it said.
    Decided {
        member: bool,
        by: String,
        message: Option<String>,
    },
    /// The value set (or a code system it draws on) is not known locally, or needs
    /// a terminology server (SNOMED CT, LOINC, filters); the string says why.
    Unknown(String),
}

/// Answers code membership questions for the validator.
pub trait Terminology: Send + Sync {
    fn validate_code(&self, value_set: &str, system: Option<&str>, code: &str) -> Membership;
    /// Whether `code` is defined by the code system `system`: `None` when the code
    /// system is not known completely.
    fn code_in_system(&self, system: &str, code: &str) -> Option<bool>;
    /// The display and designations of a code, when its code system is loaded.
    /// Borrowed where they can be: every Coding with a display asks.
    fn displays(&self, system: &str, code: &str) -> Option<Cow<'_, [String]>>;
    /// The terminology server that answers [`code_in_system`](Self::code_in_system)
    /// and [`displays`](Self::displays) for `system` (its base URL), for findings to
    /// say who decided; `None`: the packages do.
    fn decided_by(&self, _system: &str) -> Option<String> {
        None
    }
}

/// The packages first, then a terminology server for what they cannot decide (codes
/// of SNOMED CT, dm+d, LOINC; value sets built on filters or not loaded). Package
/// value sets and code systems never leave the machine.
pub struct Layered {
    local: LocalTerminology,
    remote: Option<Arc<dyn Terminology>>,
}

impl Layered {
    pub fn new(local: LocalTerminology, remote: Option<Arc<dyn Terminology>>) -> Layered {
        Layered { local, remote }
    }

    /// The packages alone.
    pub fn local(set: Arc<PackageSet>) -> Layered {
        Layered::new(LocalTerminology::new(set), None)
    }

    pub fn packages(&self) -> &LocalTerminology {
        &self.local
    }
}

impl Terminology for Layered {
    fn validate_code(&self, value_set: &str, system: Option<&str>, code: &str) -> Membership {
        match (
            self.local.validate_code(value_set, system, code),
            &self.remote,
        ) {
            (Membership::Unknown(_), Some(remote)) => remote.validate_code(value_set, system, code),
            (answer, _) => answer,
        }
    }

    fn code_in_system(&self, system: &str, code: &str) -> Option<bool> {
        match self.local.code_in_system(system, code) {
            None => self.remote.as_ref()?.code_in_system(system, code),
            known => known,
        }
    }

    fn displays(&self, system: &str, code: &str) -> Option<Cow<'_, [String]>> {
        if self.local.code_system(system).is_some() {
            return self.local.displays(system, code);
        }
        self.remote.as_ref()?.displays(system, code)
    }

    fn decided_by(&self, system: &str) -> Option<String> {
        if self.local.code_system(system).is_some() {
            return None;
        }
        self.remote.as_ref()?.decided_by(system)
    }
}

impl crate::fhirpath::Terminology for Layered {
    fn member_of(&self, system: Option<&str>, code: &str, value_set: &str) -> Option<bool> {
        match self.validate_code(value_set, system, code) {
            Membership::In => Some(true),
            Membership::NotIn => Some(false),
            Membership::Decided { member, .. } => Some(member),
            Membership::Unknown(_) => None,
        }
    }
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<T> = HashSet<T, foldhash::fast::RandomState>;

/// A code system's codes with their display and designation texts.
type CodeTable = FastMap<String, Vec<String>>;

/// Codes by system: asked about for every coded value, without building a key.
#[derive(Debug, Clone, Default)]
pub struct Codes(FastMap<String, FastSet<String>>);

impl Codes {
    pub fn insert(&mut self, system: &str, code: &str) {
        match self.0.get_mut(system) {
            Some(codes) => {
                codes.insert(code.to_string());
            }
            None => {
                self.0
                    .insert(system.to_string(), FastSet::from_iter([code.to_string()]));
            }
        }
    }

    /// Whether `code` of `system` is here; with no system, a code of any system.
    pub fn contains(&self, system: Option<&str>, code: &str) -> bool {
        match system {
            Some(s) => self.0.get(s).is_some_and(|codes| codes.contains(code)),
            None => self.0.values().any(|codes| codes.contains(code)),
        }
    }

    /// Adds every code of `other`.
    pub fn extend(&mut self, other: Codes) {
        for (system, codes) in other.0 {
            self.0.entry(system).or_default().extend(codes);
        }
    }

    /// Takes away every code of `other`.
    pub fn remove_all(&mut self, other: &Codes) {
        for (system, codes) in &other.0 {
            if let Some(mine) = self.0.get_mut(system) {
                mine.retain(|c| !codes.contains(c));
            }
        }
    }

    /// The codes in both.
    pub fn intersection(&self, other: &Codes) -> Codes {
        let mut out = Codes::default();
        for (system, codes) in &self.0 {
            if let Some(theirs) = other.0.get(system) {
                let both: FastSet<String> = codes.intersection(theirs).cloned().collect();
                if !both.is_empty() {
                    out.0.insert(system.clone(), both);
                }
            }
        }
        out
    }
}

/// A value set expanded locally: the codes by system, and whether anything could
/// not be expanded.
#[derive(Debug, Clone, Default)]
pub struct Expansion {
    pub codes: Codes,
    /// Why the expansion is incomplete (`None`: complete).
    pub incomplete: Option<String>,
}

/// Expands ValueSets and CodeSystems found in a [`PackageSet`]. Cached; `Send + Sync`.
pub struct LocalTerminology {
    set: Arc<PackageSet>,
    value_sets: Memo<Expansion>,
    code_systems: Memo<CodeTable>,
}

/// Code systems whose content lives in a terminology server, never in a package.
const EXTERNAL_SYSTEMS: &[&str] = &[
    "http://snomed.info/sct",
    "http://loinc.org",
    "http://www.nlm.nih.gov/research/umls/rxnorm",
    "http://unitsofmeasure.org",
    "urn:ietf:bcp:47",
    "urn:ietf:bcp:13",
    "urn:iso:std:iso:3166",
    "urn:iso:std:iso:4217",
    "http://hl7.org/fhir/sid/icd-10",
    "http://hl7.org/fhir/sid/cvx",
    "http://www.ama-assn.org/go/cpt",
    "http://hl7.org/fhir/sid/ndc",
];

impl LocalTerminology {
    pub fn new(set: Arc<PackageSet>) -> LocalTerminology {
        LocalTerminology {
            set,
            value_sets: Memo::default(),
            code_systems: Memo::default(),
        }
    }

    /// The expansion of `url` (`url|version` accepted); `None` when not loaded.
    pub fn expand(&self, url: &str) -> Option<Cow<'_, Expansion>> {
        self.expand_guarded(url, &mut Vec::new())
    }

    /// Owned only where a value set includes itself: what it expands to there is
    /// not kept, as its own expansion is not that.
    fn expand_guarded(&self, url: &str, stack: &mut Vec<String>) -> Option<Cow<'_, Expansion>> {
        if let Some(known) = self.value_sets.get(url) {
            return known.map(Cow::Borrowed);
        }
        if stack.iter().any(|s| s == url) {
            return Some(Cow::Owned(Expansion {
                incomplete: Some(format!("value set {url} includes itself")),
                ..Default::default()
            }));
        }
        let vs = self
            .set
            .resolve(url)
            .filter(|r| r.resource_type() == "ValueSet")
            .and_then(|r| r.node().ok());
        let expansion = vs.map(|vs| {
            stack.push(url.to_string());
            let e = self.expand_node(&vs, stack);
            stack.pop();
            e
        });
        self.value_sets.insert(url, expansion).map(Cow::Borrowed)
    }

    fn expand_node(&self, vs: &Node, stack: &mut Vec<String>) -> Expansion {
        let mut out = Expansion::default();
        if let Some(exp) = vs.get("expansion") {
            collect_contains(exp, &mut out.codes);
            return out;
        }
        let Some(compose) = vs.get("compose") else {
            out.incomplete = Some("the value set has no compose".into());
            return out;
        };
        for include in compose.get("include").map(Node::items).unwrap_or(&[]) {
            let part = self.expand_include(include, stack);
            out.codes.extend(part.codes);
            if out.incomplete.is_none() {
                out.incomplete = part.incomplete;
            }
        }
        for exclude in compose.get("exclude").map(Node::items).unwrap_or(&[]) {
            let part = self.expand_include(exclude, stack);
            out.codes.remove_all(&part.codes);
        }
        out
    }

    fn expand_include(&self, include: &Node, stack: &mut Vec<String>) -> Expansion {
        let mut out = Expansion::default();
        let system = include.get("system").and_then(Node::as_str);
        let mut from_system: Option<Codes> = None;
        if let Some(system) = system {
            let concepts = include.get("concept").map(Node::items).unwrap_or(&[]);
            if !concepts.is_empty() {
                let mut codes = Codes::default();
                for c in concepts
                    .iter()
                    .filter_map(|c| c.get("code").and_then(Node::as_str))
                {
                    codes.insert(system, c);
                }
                from_system = Some(codes);
            } else if include.get("filter").is_some() {
                out.incomplete = Some(format!("filters on {system} need a terminology server"));
            } else {
                match self.code_system(system) {
                    Some(table) => {
                        let mut codes = Codes::default();
                        for c in table.keys() {
                            codes.insert(system, c);
                        }
                        from_system = Some(codes);
                    }
                    None => out.incomplete = Some(format!("code system {system} is not available")),
                }
            }
        }
        let mut from_sets: Option<Codes> = None;
        for vs in include.get("valueSet").map(Node::items).unwrap_or(&[]) {
            let Some(url) = vs.as_str() else { continue };
            let codes = match self.expand_guarded(url, stack) {
                Some(e) => {
                    if out.incomplete.is_none() {
                        out.incomplete = e.incomplete.clone();
                    }
                    e.into_owned().codes
                }
                None => {
                    out.incomplete = Some(format!("value set {url} is not loaded"));
                    Codes::default()
                }
            };
            from_sets = Some(match from_sets {
                Some(prev) => prev.intersection(&codes),
                None => codes,
            });
        }
        out.codes = match (from_system, from_sets) {
            (Some(a), Some(b)) => a.intersection(&b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => Codes::default(),
        };
        out
    }

    /// Every code of a code system whose content is complete in a loaded package.
    pub(crate) fn code_system(&self, url: &str) -> Option<&CodeTable> {
        self.code_systems.get_or_insert_with(url, || {
            self.set
                .resolve(url)
                .filter(|r| r.resource_type() == "CodeSystem")
                .and_then(|r| r.node().ok())
                .filter(|cs| {
                    // STU3 code systems from older packages may omit `content`.
                    matches!(
                        cs.get("content").and_then(Node::as_str),
                        Some("complete") | None
                    ) && cs.get("concept").is_some()
                })
                .map(|cs| {
                    let mut codes = CodeTable::default();
                    collect_concepts(&cs, &mut codes);
                    codes
                })
        })
    }
}

fn collect_contains(node: &Node, out: &mut Codes) {
    for c in node.get("contains").map(Node::items).unwrap_or(&[]) {
        if let (Some(s), Some(code)) = (
            c.get("system").and_then(Node::as_str),
            c.get("code").and_then(Node::as_str),
        ) {
            out.insert(s, code);
        }
        collect_contains(c, out);
    }
}

fn collect_concepts(node: &Node, out: &mut CodeTable) {
    for c in node.get("concept").map(Node::items).unwrap_or(&[]) {
        if let Some(code) = c.get("code").and_then(Node::as_str) {
            let mut texts: Vec<String> = c
                .get("display")
                .and_then(Node::as_str)
                .map(str::to_string)
                .into_iter()
                .collect();
            for d in c.get("designation").map(Node::items).unwrap_or(&[]) {
                texts.extend(d.get("value").and_then(Node::as_str).map(str::to_string));
            }
            out.insert(code.to_string(), texts);
        }
        collect_concepts(c, out);
    }
}

impl Terminology for LocalTerminology {
    fn validate_code(&self, value_set: &str, system: Option<&str>, code: &str) -> Membership {
        let Some(exp) = self.expand(value_set) else {
            return Membership::Unknown(format!("value set {value_set} is not loaded"));
        };
        if exp.codes.contains(system, code) {
            return Membership::In;
        }
        // A value set that lists its codes is known in full, whatever their system.
        if exp.incomplete.is_none() {
            return Membership::NotIn;
        }
        if let Some(s) = system {
            if EXTERNAL_SYSTEMS.contains(&s) {
                return Membership::Unknown(format!("{s} needs a terminology server"));
            }
        }
        match &exp.incomplete {
            Some(why) => Membership::Unknown(why.clone()),
            None => Membership::NotIn,
        }
    }

    fn code_in_system(&self, system: &str, code: &str) -> Option<bool> {
        self.code_system(system)
            .map(|codes| codes.contains_key(code))
    }

    fn displays(&self, system: &str, code: &str) -> Option<Cow<'_, [String]>> {
        self.code_system(system)?
            .get(code)
            .map(|d| Cow::Borrowed(d.as_slice()))
    }
}

/// Lets FHIRPath's `memberOf()` use the same local expansions.
impl crate::fhirpath::Terminology for LocalTerminology {
    fn member_of(&self, system: Option<&str>, code: &str, value_set: &str) -> Option<bool> {
        match self.validate_code(value_set, system, code) {
            Membership::In => Some(true),
            Membership::NotIn => Some(false),
            Membership::Decided { member, .. } => Some(member),
            Membership::Unknown(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A terminology server stand-in that says the opposite of the packages, and
    /// counts what it is asked.
    struct Contrary {
        asked: AtomicUsize,
    }

    impl Terminology for Contrary {
        fn validate_code(&self, _: &str, _: Option<&str>, code: &str) -> Membership {
            self.asked.fetch_add(1, Ordering::Relaxed);
            if code == "down" {
                return Membership::Unknown("terminology server unreachable".into());
            }
            Membership::Decided {
                member: code == "22298006",
                by: "https://tx.example".into(),
                message: None,
            }
        }
        fn code_in_system(&self, _: &str, _: &str) -> Option<bool> {
            self.asked.fetch_add(1, Ordering::Relaxed);
            Some(true)
        }
        fn displays(&self, _: &str, _: &str) -> Option<Cow<'_, [String]>> {
            self.asked.fetch_add(1, Ordering::Relaxed);
            Some(Cow::Owned(vec!["Myocardial infarction".into()]))
        }
        fn decided_by(&self, _: &str) -> Option<String> {
            Some("https://tx.example".into())
        }
    }

    fn set() -> Arc<PackageSet> {
        let files: &[(&str, &[u8])] = &[
            (
                "package/package.json",
                br#"{"name":"t.pkg","version":"1.0.0","fhirVersions":["4.0.1"]}"#,
            ),
            (
                "package/CodeSystem-colour.json",
                br#"{"resourceType":"CodeSystem","url":"http://e/cs/colour","content":"complete","concept":[{"code":"red","display":"Red"},{"code":"blue"}]}"#,
            ),
            (
                "package/ValueSet-colour.json",
                br#"{"resourceType":"ValueSet","url":"http://e/vs/colour","compose":{"include":[{"system":"http://e/cs/colour"}]}}"#,
            ),
            (
                "package/ValueSet-findings.json",
                br#"{"resourceType":"ValueSet","url":"http://e/vs/findings","compose":{"include":[{"system":"http://snomed.info/sct","filter":[{"property":"concept","op":"is-a","value":"404684003"}]}]}}"#,
            ),
        ];
        let bytes = crate::package::pack_tgz(files).unwrap();
        let options = crate::package::LoadOptions::default();
        Arc::new(PackageSet::from_tgz_bytes(&[("t.tgz", &bytes)], &options).unwrap())
    }

    #[test]
    fn packages_decide_first_and_the_server_only_what_they_cannot() {
        let remote = Arc::new(Contrary {
            asked: AtomicUsize::new(0),
        });
        let t = Layered::new(LocalTerminology::new(set()), Some(remote.clone()));
        let colour = Some("http://e/cs/colour");
        assert_eq!(
            t.validate_code("http://e/vs/colour", colour, "red"),
            Membership::In
        );
        assert_eq!(
            t.validate_code("http://e/vs/colour", colour, "green"),
            Membership::NotIn
        );
        assert_eq!(t.code_in_system("http://e/cs/colour", "green"), Some(false));
        assert_eq!(
            t.displays("http://e/cs/colour", "red").as_deref(),
            Some(&["Red".to_string()][..])
        );
        assert_eq!(t.decided_by("http://e/cs/colour"), None);
        assert_eq!(
            remote.asked.load(Ordering::Relaxed),
            0,
            "package terminology left the machine"
        );

        let sct = Some("http://snomed.info/sct");
        assert_eq!(
            t.validate_code("http://e/vs/findings", sct, "22298006"),
            Membership::Decided {
                member: true,
                by: "https://tx.example".into(),
                message: None
            }
        );
        assert!(matches!(
            t.validate_code("http://e/vs/findings", sct, "1"),
            Membership::Decided { member: false, .. }
        ));
        assert_eq!(
            t.validate_code("http://e/vs/findings", sct, "down"),
            Membership::Unknown("terminology server unreachable".into())
        );
        assert_eq!(t.code_in_system("http://snomed.info/sct", "1"), Some(true));
        assert_eq!(
            t.decided_by("http://snomed.info/sct").as_deref(),
            Some("https://tx.example")
        );
        assert_eq!(remote.asked.load(Ordering::Relaxed), 4);

        // Without a server, what the packages cannot decide stays unknown.
        let alone = Layered::local(set());
        assert!(matches!(
            alone.validate_code("http://e/vs/findings", sct, "22298006"),
            Membership::Unknown(_)
        ));
        assert_eq!(alone.code_in_system("http://snomed.info/sct", "1"), None);
    }
}
