//! Capability-driven applicability: a scenario tagged `@capability:Patient.create`
//! only applies to a target whose CapabilityStatement declares that interaction.

use std::collections::{BTreeMap, BTreeSet};

use assure_fhir::model::Node;

use crate::client::gpconnect::{self, Consumer};
use crate::client::Outgoing;
use crate::evidence::Exchange;
use crate::features::CAPABILITY_TAG;
use crate::suite::CapabilityRequest;
use crate::world::RunContext;

/// What the target declared in its CapabilityStatement.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    /// Resource type → declared interaction codes.
    pub resources: BTreeMap<String, BTreeSet<String>>,
    /// System-level interactions (`transaction`, `batch`, `search-system`...).
    pub system: BTreeSet<String>,
    pub software: Option<String>,
    pub fhir_version: Option<String>,
}

impl Capabilities {
    /// Reads `GET /metadata` the way `how` says, with the run's default headers; the
    /// exchange is evidence either way (none when the request could not be built).
    pub async fn fetch(
        ctx: &RunContext,
        how: CapabilityRequest,
    ) -> (Result<Capabilities, String>, Option<Exchange>) {
        let url = format!("{}/metadata", ctx.base_url.trim_end_matches('/'));
        let mut headers = ctx.default_headers.clone();
        if how == CapabilityRequest::GpConnect {
            let who = Consumer::from_inputs(&ctx.base_url, |name| ctx.inputs.get(name).cloned());
            let who = match who {
                Ok(who) => who,
                Err(e) => return (Err(format!("GET {url}: {e}")), None),
            };
            for (name, value) in gpconnect::request_headers(gpconnect::METADATA, &who) {
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
                .map_err(|_| "the CapabilityStatement is not UTF-8".to_owned())
                .and_then(|t| {
                    assure_fhir::parse_json(t)
                        .map_err(|e| format!("the CapabilityStatement is not JSON: {e}"))
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
            for resource in rest.get("resource").map(Node::items).unwrap_or_default() {
                if let Some(t) = resource.get("type").and_then(Node::as_str) {
                    caps.resources
                        .entry(t.to_owned())
                        .or_default()
                        .extend(codes(resource));
                }
            }
        }
        Ok(caps)
    }

    /// The reason a scenario with these tags does not apply, if it does not.
    pub fn missing<'a>(&self, tags: impl Iterator<Item = &'a str>) -> Option<String> {
        for tag in tags {
            let Some(cap) = tag.strip_prefix(CAPABILITY_TAG) else {
                continue;
            };
            let (resource, interaction) = cap.split_once('.').unwrap_or((cap, ""));
            let declared = if resource == "system" {
                self.system.contains(interaction)
            } else {
                match self.resources.get(resource) {
                    None => false,
                    Some(_) if interaction.is_empty() => true,
                    Some(set) => set.contains(interaction),
                }
            };
            if !declared {
                return Some(if interaction.is_empty() {
                    format!("the CapabilityStatement does not declare the {resource} resource")
                } else {
                    format!("the CapabilityStatement does not declare the `{interaction}` interaction for {resource}")
                });
            }
        }
        None
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
        let not_cs = assure_fhir::parse_json(r#"{"resourceType": "Patient"}"#).unwrap();
        assert!(Capabilities::from_statement(&not_cs).is_err());
    }
}
