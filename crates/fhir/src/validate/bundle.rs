//! Bundle rules: entry identities (`fullUrl`), references between entries, documents
//! and search results, and the entries a `--bundle-profile` rule picks.

use std::collections::HashMap;

use super::walk::Walker;
use crate::model::{Kind, Node};
use crate::outcome::{IssueCode, Severity};

impl Walker<'_> {
    /// The entries each `--bundle-profile` rule picks, against its profile.
    pub(crate) fn bundle_profiles(&mut self, bundle: &Node, path: &str) {
        let rules = &self.v.options.bundle_profiles;
        if rules.is_empty() {
            return;
        }
        let mut of_type: HashMap<&str, usize> = HashMap::new();
        let mut picked = Vec::new();
        for (i, entry) in bundle
            .get("entry")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let Some(res) = entry.get("resource") else {
                continue;
            };
            let rt = res.resource_type().unwrap_or_default();
            let n = of_type.entry(rt).or_default();
            for rule in rules.iter().filter(|r| r.picks(rt, i, *n)) {
                picked.push((res, i, rule.profile.clone()));
            }
            *n += 1;
        }
        for (res, i, profile) in picked {
            let p = format!("{path}.entry[{i}].resource");
            self.resource(res, &p, res, &[profile.as_str()]);
        }
    }

    /// Bundle entries: `fullUrl` is absolute, present outside transactions and
    /// batches, and a RESTful one ends with the entry's type and id.
    pub(crate) fn bundle_rules(&mut self, bundle: &Node, path: &str) {
        let kind = bundle
            .get("type")
            .and_then(Node::as_str)
            .unwrap_or_default();
        // STU3 lets entries go without fullUrl where they have no address (the
        // results of an operation, say); R4 requires it outside transactions.
        let stu3_unaddressed = self.v.release() == crate::package::FhirRelease::Stu3
            && !matches!(kind, "document" | "message");
        let needs_full_url = !stu3_unaddressed
            && !matches!(
                kind,
                "transaction" | "batch" | "transaction-response" | "batch-response" | "history"
            );
        for (i, entry) in bundle
            .get("entry")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let p = format!("{path}.entry[{i}]");
            let resource = entry.get("resource");
            match entry.get("fullUrl").and_then(Node::as_str) {
                Some(full) if !full.contains(':') => {
                    self.issue(
                        Severity::Error,
                        IssueCode::Invalid,
                        format!("the fullUrl must be an absolute URL (not `{full}`)"),
                        entry,
                        &p,
                        None,
                    );
                }
                Some(full) => {
                    if let Some(res) = resource {
                        self.restful_full_url(full, res, entry, &p);
                    }
                }
                None if needs_full_url && resource.is_some() => {
                    self.issue(
                        Severity::Error,
                        IssueCode::Invalid,
                        format!("each entry of a {kind} Bundle must have a fullUrl"),
                        entry,
                        &p,
                        None,
                    );
                }
                None => {}
            }
        }
        self.resolved_reference_types(bundle, path);
        if kind == "document" {
            self.document_references(bundle, path);
        }
        if kind == "searchset" {
            self.search_results(bundle, path);
        }
    }

    /// A relative reference `Type/id` that resolves to an entry of the Bundle (by the
    /// referring entry's RESTful base, or to `urn:uuid:id`) must find a `Type` there.
    fn resolved_reference_types(&mut self, bundle: &Node, path: &str) {
        let entries = bundle.get("entry").map(Node::items).unwrap_or_default();
        let by_full_url: HashMap<&str, &str> = entries
            .iter()
            .filter_map(|e| {
                let rt = e.get("resource")?.resource_type()?;
                Some((e.get("fullUrl").and_then(Node::as_str)?, rt))
            })
            .collect();
        for r in bundle_references(entries) {
            let text = r.text.split("/_history/").next().unwrap_or(r.text);
            let Some((ty, id)) = text.split_once('/') else {
                continue;
            };
            if text.contains(':') || id.contains('/') || !ty.starts_with(char::is_uppercase) {
                continue;
            }
            let target = r
                .base
                .and_then(|b| by_full_url.get(format!("{b}/{text}").as_str()))
                .or_else(|| by_full_url.get(format!("urn:uuid:{id}").as_str()));
            if let Some(found) = target.filter(|found| **found != ty) {
                self.issue(
                    Severity::Error,
                    IssueCode::Invalid,
                    format!(
                        "the reference `{text}` resolves in the Bundle to a {found}, not a {ty}"
                    ),
                    r.node,
                    &format!("{path}.entry[{}].resource", r.entry),
                    None,
                );
            }
        }
    }

    /// A document is self-contained: relative references resolve, against the
    /// referring entry's RESTful base, to entries of the Bundle.
    fn document_references(&mut self, bundle: &Node, path: &str) {
        let entries = bundle.get("entry").map(Node::items).unwrap_or_default();
        // fullUrl -> the versionId of each entry with it.
        let mut versions: HashMap<&str, Vec<Option<&str>>> = HashMap::new();
        for e in entries {
            if let Some(full) = e.get("fullUrl").and_then(Node::as_str) {
                let version = e
                    .get("resource")
                    .and_then(|r| r.get("meta"))
                    .and_then(|m| m.get("versionId"))
                    .and_then(Node::as_str);
                versions.entry(full).or_default().push(version);
            }
        }
        for r in bundle_references(entries) {
            let text = r.text;
            if text.starts_with('#') || text.contains(':') || !text.contains('/') {
                continue;
            }
            let (relative, version) = match text.split_once("/_history/") {
                Some((r, v)) => (r, Some(v)),
                None => (text, None),
            };
            let matches = r.base.map_or(0, |b| {
                versions
                    .get(format!("{b}/{relative}").as_str())
                    .map_or(0, |vs| {
                        vs.iter()
                            .filter(|v| version.is_none() || **v == version)
                            .count()
                    })
            });
            let p = format!("{path}.entry[{}].resource", r.entry);
            if matches == 0 {
                self.issue(
                    Severity::Error,
                    IssueCode::NotFound,
                    format!("cannot find `{text}` in the document Bundle"),
                    r.node,
                    &p,
                    None,
                );
            } else if matches > 1 {
                self.issue(
                    Severity::Error,
                    IssueCode::Invalid,
                    format!("several entries of the Bundle match the reference `{text}`"),
                    r.node,
                    &p,
                    None,
                );
            }
        }
    }

    /// Search matches have ids and the searched type; outcomes are OperationOutcomes.
    fn search_results(&mut self, bundle: &Node, path: &str) {
        let self_link = bundle
            .get("link")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .find(|l| l.get("relation").and_then(Node::as_str) == Some("self"))
            .and_then(|l| l.get("url"))
            .and_then(Node::as_str)
            .unwrap_or_default();
        let (before, query) = self_link.split_once('?').unwrap_or((self_link, ""));
        let mut types: Vec<&str> = query
            .split('&')
            .filter_map(|kv| kv.strip_prefix("_type="))
            .flat_map(|t| t.split(','))
            .collect();
        if let Some(last) = before.rsplit('/').next() {
            if self
                .v
                .plan(last)
                .is_some_and(|p| p.kind == "resource" && p.derivation != "constraint")
            {
                types.push(last);
            }
        }
        for (i, entry) in bundle
            .get("entry")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let Some(res) = entry.get("resource") else {
                continue;
            };
            let p = format!("{path}.entry[{i}].resource");
            let rt = res.resource_type().unwrap_or_default();
            let mode = entry
                .get("search")
                .and_then(|s| s.get("mode"))
                .and_then(Node::as_str);
            match mode {
                Some("outcome") if rt != "OperationOutcome" => {
                    self.issue(
                        Severity::Error,
                        IssueCode::Invalid,
                        format!("a search outcome must be an OperationOutcome, not {rt}"),
                        res,
                        &p,
                        None,
                    );
                }
                Some("match") | None => {
                    if res.get("id").is_none() {
                        self.issue(
                            Severity::Error,
                            IssueCode::Required,
                            "search results must have ids",
                            res,
                            &p,
                            None,
                        );
                    }
                    let includes = query.contains("_include") || query.contains("_revinclude");
                    if mode.is_some() && !includes && !types.is_empty() && !types.contains(&rt) {
                        self.issue(
                            Severity::Error,
                            IssueCode::Invalid,
                            format!(
                                "{rt} does not match the search (expecting {})",
                                types.join(", ")
                            ),
                            res,
                            &p,
                            None,
                        );
                    }
                }
                _ => {}
            }
        }
    }

    fn restful_full_url(&mut self, full: &str, res: &Node, entry: &Node, path: &str) {
        if !(full.starts_with("http://") || full.starts_with("https://")) {
            return;
        }
        let trimmed = match full.find("/_history/") {
            Some(i) => &full[..i],
            None => full,
        };
        let mut segs = trimmed.rsplit('/');
        let (Some(id), Some(ty)) = (segs.next(), segs.next()) else {
            return;
        };
        if !self
            .v
            .plan(ty)
            .is_some_and(|p| p.kind == "resource" && p.derivation != "constraint")
        {
            return;
        }
        let rt = res.resource_type().unwrap_or_default();
        let rid = res.get("id").and_then(Node::as_str);
        if rt != ty || rid != Some(id) {
            let want = format!("/{rt}/{}", rid.unwrap_or("(no id)"));
            self.issue(Severity::Error, IssueCode::Invalid, format!("the fullUrl `{full}` looks like a RESTful URL, so it must end with the entry's type and id ({want})"), entry, path, None);
        }
    }
}

/// The RESTful base of an entry's `fullUrl` (`http://x/fhir` of `http://x/fhir/Patient/1`).
fn restful_base(entry: &Node) -> Option<&str> {
    entry
        .get("fullUrl")
        .and_then(Node::as_str)
        .filter(|f| f.starts_with("http://") || f.starts_with("https://"))
        .and_then(|f| f.rsplitn(3, '/').nth(2))
}

/// A literal reference inside an entry's resource (not inside its contained ones).
struct EntryReference<'n> {
    entry: usize,
    /// The RESTful base of the entry's fullUrl, which relative references resolve against.
    base: Option<&'n str>,
    node: &'n Node,
    text: &'n str,
}

fn bundle_references(entries: &[Node]) -> Vec<EntryReference<'_>> {
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let Some(res) = entry.get("resource") else {
            continue;
        };
        let base = restful_base(entry);
        let mut refs = Vec::new();
        collect_references(res, &mut refs);
        out.extend(refs.into_iter().filter_map(|node| {
            let text = node.get("reference").and_then(Node::as_str)?;
            Some(EntryReference {
                entry: i,
                base,
                node,
                text,
            })
        }));
    }
    out
}

/// Objects with a string `reference` (Reference values), contained resources skipped.
fn collect_references<'n>(node: &'n Node, out: &mut Vec<&'n Node>) {
    match &node.kind {
        Kind::Object(members) => {
            if node.get("reference").and_then(Node::as_str).is_some() {
                out.push(node);
            }
            for (k, v) in members {
                if &**k != "contained" {
                    collect_references(v, out);
                }
            }
        }
        Kind::Array(items) => items.iter().for_each(|i| collect_references(i, out)),
        _ => {}
    }
}
