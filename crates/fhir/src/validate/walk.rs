//! Walks an instance against a [`Plan`]: members against child elements, JSON shape,
//! cardinality, choice types, primitives, fixed/pattern, invariants, and the types'
//! own definitions (datatypes, extensions, contained resources) recursively.

use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use super::references::RefIndex;
use super::{definition_issue, primitive, Plan, Validator};
use crate::fhirpath::funcs::xhtml;
use crate::fhirpath::{Env, Variable};
use crate::model::{Kind, Node};
use crate::outcome::{Issue, IssueCode, Severity};

/// A value found under an element, with its FHIRPath location and type code.
pub(crate) struct Item<'n> {
    pub node: &'n Node,
    pub path: String,
    pub code: &'n str,
}

pub(crate) struct Walker<'v> {
    pub v: &'v Validator,
    issues: Vec<Issue>,
    pub(crate) warned: HashSet<String>,
    /// The profile findings are attributed to (`None`: the base definition).
    profile: Option<String>,
    depth: usize,
    /// What the object whose members are being walked is (element paths and type
    /// names), for extension contexts.
    pub holder: Vec<String>,
    /// Names handed from an element to its type's definition.
    pub(crate) outer: Vec<String>,
    /// URLs of the extensions being walked, innermost last.
    pub ext_urls: Vec<String>,
    /// The environment with `%rootResource` set, inside a contained resource.
    pub(crate) env_override: Option<Env>,
    /// The profiles applied to the resource being walked, when there are any.
    pub applied: Option<Applied>,
    /// The document being validated, and where its resources sit (built when a
    /// reference is first resolved).
    pub doc: Option<&'v Node>,
    pub refs: Rc<OnceCell<RefIndex<'v>>>,
    /// `(resource address, profile)` pairs being checked as reference targets.
    pub checking: Rc<Vec<(usize, String)>>,
    /// Whether a resource of the document conforms to a profile, once found out.
    pub conformance: Rc<RefCell<HashMap<(usize, String), bool>>>,
    /// Extensions (by address) that a FHIRPath context of their definition places
    /// where they are.
    pub fhirpath_placed: HashSet<usize>,
}

/// The profiles applied to a resource and where it sits in the instance
/// (`Bundle.entry[2].resource`, a `Condition`), so that an element can be named the
/// way a profile names it. What they declare (`Plan::declared_extensions`,
/// `Plan::declared_codes`) settles contradictions inside the packages.
pub(crate) struct Applied {
    pub at: String,
    pub resource_type: String,
    pub plans: Vec<Arc<Plan>>,
}

const MAX_DEPTH: usize = 96;

impl<'v> Walker<'v> {
    pub fn new(v: &'v Validator) -> Walker<'v> {
        Walker {
            v,
            issues: Vec::new(),
            warned: HashSet::new(),
            profile: None,
            depth: 0,
            holder: Vec::new(),
            outer: Vec::new(),
            ext_urls: Vec::new(),
            env_override: None,
            applied: None,
            doc: None,
            refs: Rc::new(OnceCell::new()),
            checking: Rc::new(Vec::new()),
            conformance: Rc::default(),
            fhirpath_placed: HashSet::new(),
        }
    }

    /// Where the document's resources sit, for resolving references.
    pub fn ref_index(&self) -> Option<&RefIndex<'v>> {
        let doc = self.doc?;
        Some(self.refs.get_or_init(|| RefIndex::build(doc)))
    }

    /// A fresh walker for a trial (a slice, a reference target) in the same document.
    pub fn child(&self) -> Walker<'v> {
        let mut w = Walker::new(self.v);
        w.doc = self.doc;
        w.refs = self.refs.clone();
        w.checking = self.checking.clone();
        w.conformance = self.conformance.clone();
        if !self.fhirpath_placed.is_empty() {
            w.fhirpath_placed = self.fhirpath_placed.clone();
        }
        w
    }

    /// The findings, each reported once (base and profile walks see the same things).
    pub fn finish(self) -> Vec<Issue> {
        // Borrowed keys: a Bundle of a million entries has a million findings.
        let mut seen = HashSet::new();
        let keep: Vec<bool> = self
            .issues
            .iter()
            .map(|i| seen.insert((i.severity, i.expression.as_str(), i.message.as_str())))
            .collect();
        drop(seen);
        self.issues
            .into_iter()
            .zip(keep)
            .filter_map(|(i, keep)| keep.then_some(i))
            .collect()
    }

    pub fn error_count(&self) -> usize {
        self.issues.iter().filter(|i| i.severity.is_error()).count()
    }

    pub fn issue(
        &mut self,
        severity: Severity,
        code: IssueCode,
        message: impl Into<String>,
        node: &Node,
        path: &str,
        element_id: Option<&str>,
    ) {
        self.issues.push(Issue {
            severity,
            code,
            message: message.into(),
            expression: path.to_string(),
            line: node.pos.line,
            col: node.pos.col,
            profile: self.profile.clone(),
            element_id: element_id.map(str::to_string),
        });
    }

    /// A warning (error with `--strict-definitions`) once per missing definition.
    pub fn not_loaded(&mut self, what: &str, node: &Node, path: &str) {
        if self.warned.insert(what.to_string()) {
            let mut issue = definition_issue(self.v, format!("not checked: {what} is not loaded"));
            issue.expression = path.to_string();
            issue.line = node.pos.line;
            issue.col = node.pos.col;
            issue.profile = self.profile.clone();
            self.issues.push(issue);
        }
    }

    /// A profile applied without the parts of its differential that could not be
    /// applied: said once, as a finding about the definition.
    pub fn flawed(&mut self, plan: &Plan, node: &Node, path: &str) {
        let problems = &plan.snapshot.problems;
        if problems.is_empty() || !self.warned.insert(format!("flawed {}", plan.url)) {
            return;
        }
        let mut issue = definition_issue(
            self.v,
            format!(
                "not checked: parts of the profile {} that cannot be applied: {}",
                plan.url,
                problems.join("; ")
            ),
        );
        issue.expression = path.to_string();
        issue.line = node.pos.line;
        issue.col = node.pos.col;
        issue.profile = self.profile.clone();
        self.issues.push(issue);
    }

    /// Information once per key: something that was deliberately not checked.
    pub fn note_once(&mut self, key: &str, message: String, node: &Node, path: &str) {
        if self.warned.insert(key.to_string()) {
            self.issue(
                Severity::Information,
                IssueCode::Informational,
                message,
                node,
                path,
                None,
            );
        }
    }

    pub fn validate_root(&mut self, resource: &'v Node, profiles: &[&str]) {
        self.doc = Some(resource);
        let path = resource.resource_type().unwrap_or("Resource").to_string();
        self.resource(resource, &path, resource, profiles);
    }

    /// A resource: its type's definition, then the profiles it claims and those asked.
    pub(crate) fn resource(&mut self, node: &Node, path: &str, root: &Node, profiles: &[&str]) {
        if !node.is_object() {
            self.issue(
                Severity::Error,
                IssueCode::Structure,
                "a resource must be a JSON object",
                node,
                path,
                None,
            );
            return;
        }
        let Some(rt) = node.get("resourceType") else {
            self.issue(
                Severity::Error,
                IssueCode::Structure,
                "the resource has no resourceType",
                node,
                path,
                None,
            );
            return;
        };
        let Some(rt) = rt.as_str() else {
            self.issue(
                Severity::Error,
                IssueCode::Structure,
                "resourceType must be a string",
                rt,
                path,
                None,
            );
            return;
        };
        let plan = self
            .v
            .plan(rt)
            .filter(|p| p.kind == "resource" && p.derivation != "constraint");
        let Some(plan) = plan else {
            self.issue(
                Severity::Error,
                IssueCode::Structure,
                format!("unknown resource type `{rt}`"),
                node,
                path,
                None,
            );
            return;
        };
        if let Some(id) = node.get("id").and_then(Node::as_str) {
            let contained = path.ends_with(']') && path.contains(".contained[");
            if !valid_id(id, contained) {
                self.issue(
                    Severity::Error,
                    IssueCode::Value,
                    format!("invalid resource id `{id}`: 1-64 letters, digits, `-` and `.`"),
                    node,
                    &format!("{path}.id"),
                    None,
                );
            }
        }
        if rt == "Bundle" {
            self.bundle_rules(node, path);
            self.bundle_profiles(node, path);
        }
        self.conformance_rules(rt, node, path);
        let claimed: Vec<String> = node
            .get("meta")
            .and_then(|m| m.get("profile"))
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect();
        let mut all: Vec<&str> = profiles.to_vec();
        all.extend(claimed.iter().map(String::as_str));
        all.extend(self.v.global_profiles(rt).iter().map(String::as_str));
        let resolved: Vec<(&str, Option<Arc<Plan>>)> =
            all.iter().map(|url| (*url, self.v.plan(url))).collect();
        let plans: Vec<Arc<Plan>> = resolved
            .iter()
            .filter_map(|(_, p)| p.clone().filter(|p| p.type_name == rt))
            .collect();
        let applied = (!plans.is_empty()).then(|| Applied {
            at: path.to_string(),
            resource_type: rt.to_string(),
            plans,
        });
        let saved_applied = std::mem::replace(&mut self.applied, applied);
        let saved = self.profile.take();
        self.element(&plan, 0, node, path, root, Some(rt));
        for (url, p) in resolved {
            match p {
                Some(p) if p.type_name == rt => {
                    self.profile = Some(p.url.clone());
                    self.flawed(&p, node, path);
                    self.element(&p, 0, node, path, root, Some(rt));
                }
                Some(p) => self.issue(
                    Severity::Error,
                    IssueCode::Invalid,
                    format!("profile {url} is for {}, not {rt}", p.type_name),
                    node,
                    path,
                    None,
                ),
                None => self.not_loaded(&format!("profile {url}"), node, path),
            }
            self.profile = None;
        }
        self.profile = saved;
        self.applied = saved_applied;
    }

    /// One value of element `el`, whose type code is `code`.
    pub fn element(
        &mut self,
        plan: &Arc<Plan>,
        el: usize,
        node: &Node,
        path: &str,
        root: &Node,
        code: Option<&str>,
    ) {
        if self.depth > MAX_DEPTH {
            if self.warned.insert("max depth".into()) {
                let msg = format!("not checked: elements nested deeper than {MAX_DEPTH} levels");
                self.issue(
                    Severity::Warning,
                    IssueCode::Processing,
                    msg,
                    node,
                    path,
                    None,
                );
            }
            return;
        }
        self.depth += 1;
        let codes = type_codes(plan, el);
        let code: &str = match code {
            Some(c) => c,
            None if el == 0 => &plan.type_name,
            None => codes.first().map_or("", String::as_str),
        };
        let def = plan.def(el);
        let id = &def.id;
        if code == "xhtml" {
            match node.as_str() {
                Some(s) if s.trim_start().starts_with("<div") => {
                    if let Some(entity) = unknown_entity(s) {
                        self.issue(Severity::Error, IssueCode::Value, format!("invalid entity `&{entity};` in the XHTML: only XML's own entities are allowed"), node, path, Some(id));
                    }
                    self.fragment_links(s, node, path, id, root);
                    for href in xhtml::hyperlinks(s) {
                        if !xhtml::hyperlinkable(href) {
                            let msg = format!("the narrative links to `{href}`, whose scheme a browser cannot follow");
                            self.issue(
                                Severity::Error,
                                IssueCode::Value,
                                msg,
                                node,
                                path,
                                Some(id),
                            );
                        }
                    }
                }
                _ => self.issue(
                    Severity::Error,
                    IssueCode::Value,
                    "narrative must be xhtml in a <div> element",
                    node,
                    path,
                    Some(id),
                ),
            }
            self.value_policies(code, node, path, id);
        } else if primitive::is_primitive(code) {
            // Borrowed: a cloned Regex starts a fresh matching cache on every value.
            let regex = self.v.plan_ref(code).and_then(|p| p.value_regex.as_ref());
            if let Some(problem) = primitive::check(code, node, regex) {
                self.issue(
                    Severity::Error,
                    IssueCode::Value,
                    problem,
                    node,
                    path,
                    Some(id),
                );
                self.depth -= 1;
                return;
            }
            self.value_policies(code, node, path, id);
        } else if !self.complex(plan, el, node, path, root, code) {
            self.depth -= 1;
            return;
        }
        self.fixed_pattern(plan, el, node, path);
        if code == "Narrative" {
            self.narrative_control(plan, el, node, path, root);
        }
        self.value_rules(plan, el, node, path, code);
        self.binding(plan, el, node, path, code);
        if code == "Reference" {
            self.reference_target(plan, el, node, path);
            self.reference_policies(node, path, id);
            self.check_reference(plan, el, node, path, root);
        }
        self.invariants(plan, el, node, path, root, code);
        self.depth -= 1;
    }

    /// An object value: its members, or its type's definition. False when it is not
    /// an object at all.
    fn complex(
        &mut self,
        plan: &Arc<Plan>,
        el: usize,
        node: &Node,
        path: &str,
        root: &Node,
        code: &str,
    ) -> bool {
        let id = plan.def(el).id.as_str();
        match &node.kind {
            Kind::Object(m) if m.is_empty() => {
                self.issue(
                    Severity::Error,
                    IssueCode::Structure,
                    "an object must have some content",
                    node,
                    path,
                    Some(id),
                );
                return false;
            }
            Kind::Object(_) => {}
            _ => {
                self.issue(
                    Severity::Error,
                    IssueCode::Structure,
                    format!("a {code} must be a JSON object"),
                    node,
                    path,
                    Some(id),
                );
                return false;
            }
        }
        let resource_typed =
            node.get("resourceType").is_some() && el != 0 && self.resource_typed(plan, el);
        if resource_typed {
            return self.embedded_resource(plan, el, node, path, root);
        }
        if !plan.elements[el].children.is_empty() {
            self.outer.push(code.to_string());
            // An extension a profile unfolds inline: its sub-extensions' relative
            // urls belong to it as they would to its own definition.
            let url = (code == "Extension")
                .then(|| node.get("url").and_then(Node::as_str))
                .flatten();
            if let Some(url) = url {
                self.ext_urls.push(url.to_string());
            }
            self.members(plan, el, node, path, root);
            if url.is_some() {
                self.ext_urls.pop();
            }
            return true;
        }
        if let Some(target) = plan.def(el).content_reference.clone() {
            let target = target.rsplit('#').next().unwrap_or_default().to_string();
            match plan.by_path(&target) {
                Some(t) => self.members(plan, t, node, path, root),
                None => {
                    let base = target.split('.').next().unwrap_or_default().to_string();
                    match self
                        .v
                        .plan(&base)
                        .and_then(|p| p.by_path(&target).map(|t| (p, t)))
                    {
                        Some((p, t)) => self.members(&p, t, node, path, root),
                        None => self.not_loaded(&format!("element {target}"), node, path),
                    }
                }
            }
            return true;
        }
        if self.is_resource_type(code) {
            self.issue(
                Severity::Error,
                IssueCode::Structure,
                "a resource needs a resourceType",
                node,
                path,
                Some(id),
            );
            return false;
        }
        let type_plan = self.type_plan(plan, el, node, path, code);
        if let Some(tp) = type_plan {
            let saved = self.profile.clone();
            if tp.derivation == "constraint" {
                self.profile = Some(tp.url.clone());
                self.flawed(tp, node, path);
            }
            let is_ext = code == "Extension";
            if is_ext {
                let url = node
                    .get("url")
                    .and_then(Node::as_str)
                    .unwrap_or_default()
                    .to_string();
                self.check_extension_context(tp, node, path);
                self.ext_urls.push(url);
            }
            self.outer.push(plan.def(el).path.clone());
            self.element(tp, 0, node, path, root, Some(code));
            self.outer.clear();
            if is_ext {
                self.ext_urls.pop();
            }
            self.profile = saved;
        }
        true
    }

    pub fn is_resource_type(&self, code: &str) -> bool {
        code == "Resource"
            || code == "DomainResource"
            || self.v.plan_ref(code).is_some_and(|p| p.kind == "resource")
    }

    pub(crate) fn resource_typed(&self, plan: &Plan, el: usize) -> bool {
        type_codes(plan, el)
            .iter()
            .any(|c| self.is_resource_type(c))
    }

    /// A resource inside another (contained, a Bundle entry, a parameter): checked
    /// against its own type, with `%resource` itself and, when contained,
    /// `%rootResource` its container.
    fn embedded_resource(
        &mut self,
        plan: &Arc<Plan>,
        el: usize,
        node: &Node,
        path: &str,
        root: &Node,
    ) -> bool {
        let contained = plan.def(el).path.ends_with(".contained");
        let saved_env = self.env_override.clone();
        if contained {
            let env = self
                .v
                .env()
                .clone()
                .with_variable("rootResource", Variable::Node(root.clone()));
            self.env_override = Some(env);
        } else {
            self.env_override = None;
        }
        if !plan.elements[el].children.is_empty() {
            self.members(plan, el, node, path, node);
        }
        let profiles: Vec<String> = plan
            .def(el)
            .types
            .iter()
            .flat_map(|t| t.profiles.clone())
            .filter(|p| !p.ends_with("/Resource") && !p.ends_with("/DomainResource"))
            .collect();
        let profiles: Vec<&str> = profiles.iter().map(String::as_str).collect();
        let profiles = self.one_of(&profiles, node, path);
        let saved = self.profile.take();
        let saved_urls = std::mem::take(&mut self.ext_urls);
        self.resource(node, path, node, &profiles);
        self.ext_urls = saved_urls;
        self.profile = saved;
        self.env_override = saved_env;
        true
    }

    /// "If more than one profile is specified, the content must conform to at least
    /// one of them" (ElementDefinition.type.profile): of several profiles for this
    /// resource's type, the first it conforms to (or the first, to report against).
    /// Profiles for other types or not loaded are passed on to be reported.
    fn one_of<'p>(&self, profiles: &[&'p str], node: &Node, path: &str) -> Vec<&'p str> {
        let rt = node.resource_type().unwrap_or_default();
        let fitting: Vec<&'p str> = profiles
            .iter()
            .copied()
            .filter(|p| self.v.plan(p).is_some_and(|pl| pl.type_name == rt))
            .collect();
        if fitting.len() < 2 {
            return if fitting.is_empty() {
                profiles.to_vec()
            } else {
                fitting
            };
        }
        let conforming = fitting.iter().copied().find(|p| {
            let mut w = self.child();
            w.resource(node, path, node, &[p]);
            w.error_count() == 0
        });
        vec![conforming.unwrap_or(fitting[0])]
    }

    /// The definition a datatype value is checked against: the element's type
    /// profile (of several, the first the value conforms to), an extension's own
    /// definition, or the base type.
    fn type_plan(
        &mut self,
        plan: &Arc<Plan>,
        el: usize,
        node: &Node,
        path: &str,
        code: &str,
    ) -> Option<&'v Arc<Plan>> {
        let v = self.v;
        let mut profiles = plan
            .def(el)
            .types
            .iter()
            .filter(|t| t.code == code)
            .flat_map(|t| &t.profiles)
            .peekable();
        let first = profiles.peek().copied();
        let loaded: Vec<&Arc<Plan>> = profiles.filter_map(|p| v.plan_ref(p)).collect();
        if loaded.len() > 1 {
            let conforming = loaded.iter().find(|tp| {
                let mut w = self.child();
                w.element(tp, 0, node, path, node, Some(code));
                w.error_count() == 0
            });
            return Some(conforming.unwrap_or(&loaded[0]));
        }
        if let Some(tp) = loaded.first() {
            return Some(tp);
        }
        if let Some(p) = first {
            self.not_loaded(p, node, path);
        }
        if code == "Extension" {
            if let Some(url) = node.get("url").and_then(Node::as_str) {
                if let Some(tp) = v.plan_ref(url).filter(|p| p.type_name == "Extension") {
                    return Some(tp);
                }
                if !url.contains(':') && self.ext_urls.is_empty() {
                    self.issue(
                        Severity::Error,
                        IssueCode::Value,
                        format!("extension url `{url}` must be an absolute URL"),
                        node,
                        path,
                        None,
                    );
                } else if !url.contains(':') {
                    let defined = plan.elements[el].slices.iter().any(|&sl| {
                        plan.elements[sl].children.iter().any(|&c| {
                            plan.elements[c].name == "url"
                                && plan.def(c).node.get("fixedUri").and_then(Node::as_str)
                                    == Some(url)
                        })
                    });
                    if !plan.elements[el].slices.is_empty() && !defined {
                        let parent = self.ext_urls.last().cloned().unwrap_or_default();
                        self.issue(
                            Severity::Error,
                            IssueCode::Structure,
                            format!("sub-extension url `{url}` is not defined by the extension {parent}"),
                            node,
                            path,
                            None,
                        );
                    }
                } else {
                    let example = example_extension(url) && !self.v.options.no_example_urls;
                    if self.v.allowed_extension(url) {
                        self.note_once(
                            url,
                            format!("not checked: the extension {url} is not loaded; its domain is allowed"),
                            node,
                            path,
                        );
                    } else if plan.elements[el].name == "modifierExtension" && !example {
                        self.issue(
                            Severity::Error,
                            IssueCode::Extension,
                            format!("unknown modifier extension {url}: it cannot be ignored"),
                            node,
                            path,
                            None,
                        );
                    } else {
                        self.unknown_extension(url, node, path);
                    }
                }
            }
        }
        let tp = v.plan_ref(code);
        if tp.is_none() {
            self.not_loaded(&format!("type {code}"), node, path);
        }
        tp
    }
}

/// The type codes of an element (see [`PlanElement::codes`](super::PlanElement)).
pub(crate) fn type_codes(plan: &Plan, el: usize) -> &[String] {
    &plan.elements[el].codes
}

/// URLs under the domains reserved for examples (RFC 2606), which
/// `--no-example-urls` refuses.
pub(crate) fn example_url(url: &str) -> bool {
    ["example.org", "example.com", "example.net"]
        .iter()
        .any(|d| under_domain(url, d))
}

/// Extensions under example.org, the domain the FHIR specification's own examples
/// use: their definitions are never published, so one that is not loaded is not
/// held against the instance (the HL7 validator takes them as known too).
pub(crate) fn example_extension(url: &str) -> bool {
    under_domain(url, "example.org")
}

/// The URL's host is `domain` or one of its subdomains.
fn under_domain(url: &str, domain: &str) -> bool {
    let host = url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', ':', '?', '#']).next().unwrap_or_default())
        .unwrap_or_default()
        .to_ascii_lowercase();
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|sub| sub.ends_with('.'))
}

/// A resource id: 1 to 64 of `A-Z a-z 0-9 - .`.
/// Contained ids are only local names, so their length is not held against them.
fn valid_id(id: &str, contained: bool) -> bool {
    (contained || (1..=64).contains(&id.len()))
        && !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// The first named entity other than XML's five (`&reg;` needs a DTD XHTML lacks).
fn unknown_entity(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        rest = &rest[i + 1..];
        let end = rest.find(';')?;
        let name = &rest[..end];
        let named = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric())
            && !name.starts_with('#');
        if named && !matches!(name, "lt" | "gt" | "amp" | "quot" | "apos") {
            return Some(name);
        }
    }
    None
}
