//! Capability-driven applicability. A scenario tagged `@capability:Patient.create` only
//! applies to a target whose CapabilityStatement declares that interaction;
//! `@capability:operation:gpc.getstructuredrecord` needs the operation;
//! `@capability:format:xml` a `format` entry naming XML;
//! `@capability:Patient.searchParam:identifier`, `@capability:Patient.conditionalCreate`
//! and `@capability:Patient.versioning` need those resource details; and
//! `@capability:<name>` names a capability of the suite (`[capabilities.<name>]`), such
//! as Access Record Structured, which the target offers when its CapabilityStatements
//! declare what the capability requires, or when the supplier declares it
//! (`--capability`, or the suite's capabilities input).

use std::collections::{BTreeMap, BTreeSet};

use assure_fhir::model::Node;

use crate::client::gpconnect::{self, Consumer};
use crate::client::Outgoing;
use crate::evidence::Exchange;
use crate::features::CAPABILITY_TAG;
use crate::suite::{CapabilityDecl, CapabilityRequest};
use crate::world::RunContext;

/// What the target declared in its CapabilityStatements.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    /// Resource type → declared interaction codes.
    pub resources: BTreeMap<String, BTreeSet<String>>,
    /// Resource type → declared search parameter names; `*` holds the `rest.searchParam`
    /// ones, which apply to every type.
    pub search_params: BTreeMap<String, BTreeSet<String>>,
    /// Resource types declaring `conditionalCreate: true`.
    pub conditional_create: BTreeSet<String>,
    /// Resource type → its `versioning` code (`no-version`, `versioned`, `versioned-update`).
    pub versioning: BTreeMap<String, String>,
    /// System-level interactions (`transaction`, `batch`, `search-system`...).
    pub system: BTreeSet<String>,
    /// Operation names (`gpc.getstructuredrecord`), system- or resource-level.
    pub operations: BTreeSet<String>,
    /// `format` entries (`json`, `application/fhir+xml;fhirVersion=3.0`...), as declared.
    pub formats: BTreeSet<String>,
    pub software: Option<String>,
    pub fhir_version: Option<String>,
    /// CapabilityStatements that could not be read, and why: said in every reason that
    /// rests on what they would have declared.
    pub unreadable: Vec<String>,
}

impl Capabilities {
    /// Reads `GET <base>/metadata` the way `how` says (with `interaction`, when GP
    /// Connect asks for another one), with the run's default headers; the exchange is
    /// evidence either way (none when the request could not be built).
    pub async fn fetch(
        ctx: &RunContext,
        base: &str,
        how: CapabilityRequest,
        interaction: Option<gpconnect::Interaction>,
    ) -> (Result<Capabilities, String>, Option<Exchange>) {
        let url = format!("{}/metadata", base.trim_end_matches('/'));
        let mut headers = ctx.default_headers.clone();
        if how == CapabilityRequest::GpConnect || interaction.is_some() {
            let who = Consumer::from_inputs(&ctx.base_url, |name| ctx.inputs.get(name).cloned());
            let who = match who {
                Ok(who) => who,
                Err(e) => return (Err(format!("GET {url}: {e}")), None),
            };
            let interaction = interaction.unwrap_or(gpconnect::METADATA);
            for (name, value) in gpconnect::request_headers(interaction, &who) {
                headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
                headers.push((name, value));
            }
        }
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("Accept"));
        headers.push(("Accept".into(), "application/fhir+json".into()));
        let out = Outgoing {
            method: "GET".into(),
            url: url.clone(),
            headers,
            body: None,
        };
        let outcome = ctx.client.send(&out, ctx.next_exchange_id()).await;
        let caps = match outcome.received {
            Err(e) => Err(format!("GET {url}: {e}")),
            Ok(r) if r.status != 200 => Err(format!("GET {url} answered {}", r.status)),
            Ok(r) => std::str::from_utf8(&r.body)
                .map_err(|_| format!("GET {url}: the CapabilityStatement is not UTF-8"))
                .and_then(|t| {
                    assure_fhir::parse_json(t)
                        .map_err(|e| format!("GET {url}: the CapabilityStatement is not JSON: {e}"))
                })
                .and_then(|n| Capabilities::from_statement(&n)),
        };
        (caps, Some(outcome.exchange))
    }

    pub fn from_statement(statement: &Node) -> Result<Capabilities, String> {
        if statement.resource_type() != Some("CapabilityStatement") {
            return Err(format!(
                "/metadata returned {} instead of a CapabilityStatement",
                statement.resource_type().unwrap_or("no resource")
            ));
        }
        let mut caps = Capabilities {
            fhir_version: statement
                .get("fhirVersion")
                .and_then(Node::as_str)
                .map(str::to_owned),
            software: statement.get("software").map(|s| {
                let name = s.get("name").and_then(Node::as_str).unwrap_or("unnamed");
                match s.get("version").and_then(Node::as_str) {
                    Some(v) => format!("{name} {v}"),
                    None => name.to_owned(),
                }
            }),
            formats: statement
                .get("format")
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .filter_map(Node::as_str)
                .map(str::to_owned)
                .collect(),
            ..Capabilities::default()
        };
        let codes = |n: &Node| -> Vec<String> {
            n.get("interaction")
                .map(|i| {
                    i.items()
                        .iter()
                        .filter_map(|x| x.get("code").and_then(Node::as_str).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        for rest in statement.get("rest").map(Node::items).unwrap_or_default() {
            if rest.get("mode").and_then(Node::as_str) != Some("server") {
                continue;
            }
            caps.system.extend(codes(rest));
            caps.operations.extend(operation_names(rest));
            caps.search_params
                .entry("*".to_owned())
                .or_default()
                .extend(search_param_names(rest));
            for resource in rest.get("resource").map(Node::items).unwrap_or_default() {
                caps.operations.extend(operation_names(resource));
                let Some(t) = resource.get("type").and_then(Node::as_str) else {
                    continue;
                };
                caps.resources
                    .entry(t.to_owned())
                    .or_default()
                    .extend(codes(resource));
                caps.search_params
                    .entry(t.to_owned())
                    .or_default()
                    .extend(search_param_names(resource));
                if resource.get("conditionalCreate").and_then(Node::as_bool) == Some(true) {
                    caps.conditional_create.insert(t.to_owned());
                }
                if let Some(v) = resource.get("versioning").and_then(Node::as_str) {
                    caps.versioning.insert(t.to_owned(), v.to_owned());
                }
            }
        }
        Ok(caps)
    }

    /// Adds what another CapabilityStatement of the same target declares.
    pub fn merge(&mut self, other: Capabilities) {
        for (t, codes) in other.resources {
            self.resources.entry(t).or_default().extend(codes);
        }
        for (t, names) in other.search_params {
            self.search_params.entry(t).or_default().extend(names);
        }
        self.conditional_create.extend(other.conditional_create);
        for (t, v) in other.versioning {
            self.versioning.entry(t).or_insert(v);
        }
        self.system.extend(other.system);
        self.operations.extend(other.operations);
        self.formats.extend(other.formats);
        self.unreadable.extend(other.unreadable);
    }

    /// Whether a tag's requirement (`Patient.read`, `Patient`, `system.batch`,
    /// `operation:name`, `format:xml`, `Patient.searchParam:identifier`,
    /// `Patient.conditionalCreate`, `Patient.versioning`) is declared; `Err` says what is missing.
    pub fn declares(&self, token: &str) -> Result<(), String> {
        if let Some(format) = token.strip_prefix("format:") {
            // `xml` is declared by `xml`, `application/fhir+xml`, with or without parameters.
            let named = |f: &String| {
                let media = f.split(';').next().unwrap_or_default().trim();
                media == format || media.rsplit(['/', '+']).next() == Some(format)
            };
            return if self.formats.iter().any(named) {
                Ok(())
            } else {
                Err(format!(
                    "the CapabilityStatement does not declare the {format} format"
                ))
            };
        }
        if let Some(op) = token.strip_prefix("operation:") {
            return if self.operations.contains(op) {
                Ok(())
            } else {
                Err(format!(
                    "the CapabilityStatement does not declare the `{op}` operation"
                ))
            };
        }
        let (resource, interaction) = token.split_once('.').unwrap_or((token, ""));
        if let Some(found) = self.declares_detail(resource, interaction) {
            return found;
        }
        let declared = if resource == "system" {
            self.system.contains(interaction)
        } else {
            match self.resources.get(resource) {
                None => false,
                Some(_) if interaction.is_empty() => true,
                Some(set) => set.contains(interaction),
            }
        };
        if declared {
            Ok(())
        } else if interaction.is_empty() {
            Err(format!(
                "the CapabilityStatement does not declare the {resource} resource"
            ))
        } else {
            Err(format!(
                "the CapabilityStatement does not declare the `{interaction}` interaction for {resource}"
            ))
        }
    }

    /// The resource details a token may name beside interactions: a search parameter
    /// (on the type or for every type), conditional create, versioning. `None` when the
    /// token names an interaction.
    fn declares_detail(&self, resource: &str, detail: &str) -> Option<Result<(), String>> {
        if let Some(param) = detail.strip_prefix("searchParam:") {
            let declared = [resource, "*"].iter().any(|t| {
                self.search_params
                    .get(*t)
                    .is_some_and(|s| s.contains(param))
            });
            return Some(if declared {
                Ok(())
            } else {
                Err(format!(
                    "the CapabilityStatement does not declare the `{param}` search parameter for {resource}"
                ))
            });
        }
        match detail {
            "conditionalCreate" => Some(if self.conditional_create.contains(resource) {
                Ok(())
            } else {
                Err(format!(
                    "the CapabilityStatement does not declare conditionalCreate for {resource}"
                ))
            }),
            // Only a statement that says so rules versioning out: an unstated one leaves
            // the resources themselves (meta.versionId) to tell.
            "versioning" => Some(match self.versioning.get(resource).map(String::as_str) {
                Some("no-version") => Err(format!(
                    "the CapabilityStatement declares no versioning (`no-version`) for {resource}"
                )),
                _ => Ok(()),
            }),
            _ => None,
        }
    }

    /// The reason a scenario with these tags does not apply, if it does not; tags
    /// naming a capability of the suite are left to [`Applicability`].
    pub fn missing<'a>(&self, tags: impl Iterator<Item = &'a str>) -> Option<String> {
        tags.filter_map(|t| t.strip_prefix(CAPABILITY_TAG))
            .filter(|cap| is_declaration_token(cap))
            .find_map(|cap| self.declares(cap).err())
            .map(|reason| self.with_unreadable(reason))
    }

    fn with_unreadable(&self, reason: String) -> String {
        if self.unreadable.is_empty() {
            reason
        } else {
            format!("{reason} (not readable: {})", self.unreadable.join("; "))
        }
    }
}

/// `operation:x`, `format:x`, `Type.interaction` or a bare resource type (capitalised), as opposed
/// to the name of a suite capability (lowercase).
pub fn is_declaration_token(cap: &str) -> bool {
    cap.starts_with("operation:")
        || cap.starts_with("format:")
        || cap.contains('.')
        || cap.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// Operation names a `rest` or `rest.resource` entry declares: `name`, else the last
/// segment of `definition` (STU3 references it, R4 gives a canonical).
fn operation_names(n: &Node) -> Vec<String> {
    n.get("operation")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|op| {
            let name = op.get("name").and_then(Node::as_str).map(str::to_owned);
            let definition = op
                .get("definition")
                .and_then(|d| {
                    d.as_str()
                        .or_else(|| d.get("reference").and_then(Node::as_str))
                })
                .and_then(|d| d.rsplit('/').next())
                .map(|d| d.trim_start_matches("OperationDefinition-").to_owned());
            name.or(definition)
        })
        .map(|n| n.trim_start_matches('$').to_owned())
        .collect()
}

/// `searchParam.name` of a `rest` or `rest.resource` entry.
fn search_param_names(n: &Node) -> Vec<String> {
    n.get("searchParam")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.get("name").and_then(Node::as_str).map(str::to_owned))
        .collect()
}

/// How one suite decides whether its capabilities are offered.
pub struct Applicability<'a> {
    /// What the target declared; `None` when no CapabilityStatement could be read.
    pub caps: Option<&'a Capabilities>,
    pub declared_areas: &'a BTreeMap<String, CapabilityDecl>,
    /// The capabilities the supplier declared, and how (`--capability structured`).
    pub offered: Option<(BTreeSet<String>, String)>,
}

impl Applicability<'_> {
    /// Why a scenario with these tags does not apply, if it does not.
    pub fn missing<'t>(&self, tags: impl Iterator<Item = &'t str> + Clone) -> Option<String> {
        for cap in tags.clone().filter_map(|t| t.strip_prefix(CAPABILITY_TAG)) {
            if is_declaration_token(cap) {
                continue;
            }
            let title = self
                .declared_areas
                .get(cap)
                .map_or(cap, |d| d.title.as_str());
            if let Some((offered, how)) = &self.offered {
                if !offered.contains(cap) {
                    return Some(format!(
                        "{title} is not among the capabilities declared ({how})"
                    ));
                }
                continue;
            }
            let (Some(caps), Some(decl)) = (self.caps, self.declared_areas.get(cap)) else {
                continue;
            };
            if let Some(why) = decl.requires.iter().find_map(|r| caps.declares(r).err()) {
                return Some(caps.with_unreadable(format!("{title} is not offered: {why}")));
            }
        }
        self.caps.and_then(|c| c.missing(tags))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_interactions_apply_and_others_do_not() {
        let cs = assure_fhir::parse_json(
            r#"{"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
               "rest": [{"mode": "server", "interaction": [{"code": "transaction"}],
                 "resource": [{"type": "Patient", "interaction": [{"code": "read"}, {"code": "create"}]}]}]}"#,
        )
        .unwrap();
        let caps = Capabilities::from_statement(&cs).unwrap();
        assert_eq!(
            caps.missing(["capability:Patient.read", "req:X"].into_iter()),
            None
        );
        assert_eq!(
            caps.missing(["capability:system.transaction"].into_iter()),
            None
        );
        assert!(caps
            .missing(["capability:Patient.delete"].into_iter())
            .unwrap()
            .contains("`delete`"));
        assert!(caps
            .missing(["capability:Observation"].into_iter())
            .unwrap()
            .contains("Observation"));
        assert!(caps
            .missing(["capability:format:xml"].into_iter())
            .unwrap()
            .contains("xml format"));
        let formats = assure_fhir::parse_json(
            r#"{"resourceType": "CapabilityStatement",
               "format": ["application/fhir+json", "application/fhir+xml;fhirVersion=3.0"]}"#,
        )
        .unwrap();
        let formats = Capabilities::from_statement(&formats).unwrap();
        assert!(formats.declares("format:xml").is_ok());
        assert!(formats.declares("format:json").is_ok());
        assert!(formats.declares("format:turtle").is_err());
        let not_cs = assure_fhir::parse_json(r#"{"resourceType": "Patient"}"#).unwrap();
        assert!(Capabilities::from_statement(&not_cs).is_err());
    }

    #[test]
    fn search_parameters_conditional_create_and_versioning_are_read_from_the_statement() {
        let cs = assure_fhir::parse_json(
            r#"{"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
               "rest": [{"mode": "server", "searchParam": [{"name": "_count", "type": "number"}],
                 "resource": [
                   {"type": "Patient", "interaction": [{"code": "search-type"}],
                    "conditionalCreate": true, "versioning": "versioned",
                    "searchParam": [{"name": "identifier", "type": "token"}]},
                   {"type": "Observation", "interaction": [{"code": "read"}],
                    "conditionalCreate": false, "versioning": "no-version"},
                   {"type": "Practitioner", "interaction": [{"code": "read"}]}]}]}"#,
        )
        .unwrap();
        let caps = Capabilities::from_statement(&cs).unwrap();
        assert_eq!(caps.declares("Patient.searchParam:identifier"), Ok(()));
        // rest.searchParam applies to every type.
        assert_eq!(caps.declares("Observation.searchParam:_count"), Ok(()));
        let why = caps.declares("Patient.searchParam:family").unwrap_err();
        assert!(
            why.contains("`family` search parameter for Patient"),
            "{why}"
        );
        assert_eq!(caps.declares("Patient.conditionalCreate"), Ok(()));
        assert!(caps.declares("Observation.conditionalCreate").is_err());
        assert!(caps
            .declares("Practitioner.conditionalCreate")
            .unwrap_err()
            .contains("conditionalCreate"));
        assert_eq!(caps.declares("Patient.versioning"), Ok(()));
        assert!(caps
            .declares("Observation.versioning")
            .unwrap_err()
            .contains("no-version"));
        // Unstated: the resources tell (meta.versionId), so it is not ruled out.
        assert_eq!(caps.declares("Practitioner.versioning"), Ok(()));
        assert_eq!(
            caps.missing(["capability:Patient.searchParam:identifier"].into_iter()),
            None
        );
        // A second statement adds what it declares.
        let mut merged = caps.clone();
        let more = assure_fhir::parse_json(
            r#"{"resourceType": "CapabilityStatement", "rest": [{"mode": "server", "resource": [
                 {"type": "Observation", "conditionalCreate": true,
                  "searchParam": [{"name": "code", "type": "token"}]}]}]}"#,
        )
        .unwrap();
        merged.merge(Capabilities::from_statement(&more).unwrap());
        assert_eq!(merged.declares("Observation.conditionalCreate"), Ok(()));
        assert_eq!(merged.declares("Observation.searchParam:code"), Ok(()));
        assert!(merged.declares("Observation.versioning").is_err());
    }

    fn structured_only() -> Capabilities {
        let cs = assure_fhir::parse_json(
            r#"{"resourceType": "CapabilityStatement", "fhirVersion": "3.0.1",
               "rest": [{"mode": "server",
                 "operation": [{"name": "gpc.getstructuredrecord",
                   "definition": {"reference": "https://fhir.nhs.uk/STU3/OperationDefinition/GPConnect-GetStructuredRecord-Operation-1"}}],
                 "resource": [{"type": "Patient", "interaction": [{"code": "read"}]}]}]}"#,
        )
        .unwrap();
        let mut caps = Capabilities::from_statement(&cs).unwrap();
        caps.unreadable
            .push("GET http://p/documents/metadata answered 404".into());
        caps
    }

    fn areas() -> BTreeMap<String, CapabilityDecl> {
        let decl = |title: &str, requires: &[&str]| CapabilityDecl {
            title: title.into(),
            requires: requires.iter().map(|r| r.to_string()).collect(),
        };
        BTreeMap::from([
            (
                "structured".to_owned(),
                decl(
                    "Access Record Structured",
                    &["operation:gpc.getstructuredrecord"],
                ),
            ),
            (
                "documents".to_owned(),
                decl("Access Document", &["DocumentReference.search-type"]),
            ),
        ])
    }

    #[test]
    fn a_capability_is_offered_by_what_the_statements_declare_or_by_declaration() {
        let caps = structured_only();
        let areas = areas();
        let from_statement = Applicability {
            caps: Some(&caps),
            declared_areas: &areas,
            offered: None,
        };
        let tags = |t: &'static [&'static str]| t.iter().copied();
        assert_eq!(
            from_statement.missing(tags(&["capability:structured"])),
            None
        );
        let why = from_statement
            .missing(tags(&["capability:documents", "req:X"]))
            .unwrap();
        assert!(
            why.contains("Access Document is not offered") && why.contains("answered 404"),
            "{why}"
        );
        // Interaction tags are still checked inside an offered capability.
        assert!(from_statement
            .missing(tags(&[
                "capability:structured",
                "capability:Patient.search-type"
            ]))
            .is_some());
        let declared = Applicability {
            caps: Some(&caps),
            declared_areas: &areas,
            offered: Some((
                BTreeSet::from(["documents".to_owned()]),
                "--capability documents".into(),
            )),
        };
        assert_eq!(declared.missing(tags(&["capability:documents"])), None);
        let why = declared.missing(tags(&["capability:structured"])).unwrap();
        assert!(why.contains("--capability documents"), "{why}");
        // Without any statement, nothing is ruled out by declarations.
        let blind = Applicability {
            caps: None,
            declared_areas: &areas,
            offered: None,
        };
        assert_eq!(blind.missing(tags(&["capability:documents"])), None);
        assert!(caps.declares("operation:gpc.getstructuredrecord").is_ok());
    }
}
