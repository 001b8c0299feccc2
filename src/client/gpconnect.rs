//! GP Connect 1.x request security: the unsigned JWT access token (cross-organisation
//! audit and provenance) and the Spine Security Proxy headers, per interaction.
//!
//! Claims are held as a JSON map so that negative scenarios can remove or replace any
//! of them; the token is encoded at send time from whatever the claims then are.

use std::collections::BTreeSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

/// The token's lifetime the specification fixes: `exp` is `iat` + 5 minutes.
pub const TOKEN_LIFETIME_SECS: i64 = 300;

/// Identifier systems used in the JWT's FHIR resources.
pub const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
pub const SDS_USER_SYSTEM: &str = "https://fhir.nhs.uk/Id/sds-user-id";
pub const SDS_ROLE_SYSTEM: &str = "https://fhir.nhs.uk/Id/sds-role-profile-id";

/// The four Spine Security Proxy headers, in the order they are sent.
pub const SSP_HEADERS: [&str; 4] = ["Ssp-TraceID", "Ssp-From", "Ssp-To", "Ssp-InteractionID"];

/// One GP Connect interaction: its name in scenarios, its Spine interaction id, and
/// the `requested_scope` its token carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interaction {
    pub name: &'static str,
    pub id: &'static str,
    pub scope: &'static str,
}

const fn i(name: &'static str, id: &'static str, scope: &'static str) -> Interaction {
    Interaction { name, id, scope }
}

const PREFIX: &str = "urn:nhs:names:services:gpconnect:";

/// Read the capability statement: how a run fetches `/metadata` from a GP Connect provider.
pub const METADATA: Interaction = i(
    "metadata",
    "fhir:rest:read:metadata-1",
    "organization/*.read",
);

/// Interaction ids of GP Connect 1.x (Foundations, Access Record Structured,
/// Appointment Management, Access Document), without the common `PREFIX`.
const TABLE: &[Interaction] = &[
    METADATA,
    i(
        "patient search",
        "fhir:rest:search:patient-1",
        "patient/*.read",
    ),
    i("patient read", "fhir:rest:read:patient-1", "patient/*.read"),
    i(
        "practitioner search",
        "fhir:rest:search:practitioner-1",
        "organization/*.read",
    ),
    i(
        "practitioner read",
        "fhir:rest:read:practitioner-1",
        "organization/*.read",
    ),
    i(
        "organization search",
        "fhir:rest:search:organization-1",
        "organization/*.read",
    ),
    i(
        "organization read",
        "fhir:rest:read:organization-1",
        "organization/*.read",
    ),
    i(
        "location read",
        "fhir:rest:read:location-1",
        "organization/*.read",
    ),
    i(
        "patient register",
        "fhir:operation:gpc.registerpatient-1",
        "patient/*.write",
    ),
    i(
        "structured record",
        "fhir:operation:gpc.getstructuredrecord-1",
        "patient/*.read",
    ),
    i(
        "slot search",
        "fhir:rest:search:slot-1",
        "organization/*.read",
    ),
    i(
        "appointment book",
        "fhir:rest:create:appointment-1",
        "patient/*.write",
    ),
    i(
        "appointment read",
        "fhir:rest:read:appointment-1",
        "patient/*.read",
    ),
    i(
        "appointment amend",
        "fhir:rest:update:appointment-1",
        "patient/*.write",
    ),
    i(
        "appointment cancel",
        "fhir:rest:cancel:appointment-1",
        "patient/*.write",
    ),
    i(
        "appointment search",
        "fhir:rest:search:patient_appointments-1",
        "patient/*.read",
    ),
    i(
        "document metadata",
        "documents:fhir:rest:read:metadata-1",
        "organization/*.read",
    ),
    i(
        "document patient search",
        "documents:fhir:rest:search:patient-1",
        "patient/*.read",
    ),
    i(
        "document search",
        "documents:fhir:rest:search:documentreference-1",
        "patient/*.read",
    ),
    i(
        "document retrieve",
        "documents:fhir:rest:read:binary-1",
        "patient/*.read",
    ),
];

/// Every interaction this module knows.
pub fn interactions() -> &'static [Interaction] {
    TABLE
}

/// The interaction with that name (as written in scenarios), if there is one.
pub fn interaction(name: &str) -> Option<Interaction> {
    TABLE.iter().find(|i| i.name == name).copied()
}

impl Interaction {
    /// The full Spine interaction id, e.g. `urn:nhs:names:services:gpconnect:fhir:rest:read:patient-1`.
    pub fn interaction_id(&self) -> String {
        format!("{PREFIX}{}", self.id)
    }
}

/// Who is asking: the consumer system, its organisation and its user.
#[derive(Debug, Clone, Default)]
pub struct Consumer {
    /// `iss`: the consumer system's URL.
    pub issuer: String,
    /// `aud`: the provider's FHIR endpoint (the target's base URL).
    pub audience: String,
    pub consumer_asid: String,
    pub provider_asid: String,
    pub ods_code: String,
    pub organization_name: String,
    /// `sub` and `requesting_practitioner.id`.
    pub practitioner_id: String,
    pub sds_user_id: String,
    pub sds_role_profile_id: String,
    /// Local user id system and value (the consumer's own user directory).
    pub local_user_system: String,
    pub local_user_id: String,
    pub practitioner_family: String,
    pub practitioner_given: String,
    pub device_system: String,
    pub device_id: String,
    pub device_model: String,
    pub device_version: String,
}

impl Consumer {
    /// The consumer the `gpc_*` inputs describe, `value` looking each one up; the
    /// optional ones have defaults. `audience` is the target's base URL.
    pub fn from_inputs(
        audience: &str,
        value: impl Fn(&str) -> Option<String>,
    ) -> Result<Consumer, String> {
        let input = |name: &str, default: Option<&str>| {
            value(name)
                .or_else(|| default.map(str::to_owned))
                .ok_or_else(|| {
                    format!(
                        "GP Connect requests need the input `{name}` (give it with --input {name}=...)"
                    )
                })
        };
        Ok(Consumer {
            issuer: input("gpc_consumer_url", Some("https://assure.invalid/consumer"))?,
            audience: audience.trim_end_matches('/').to_owned(),
            consumer_asid: input("gpc_consumer_asid", None)?,
            provider_asid: input("gpc_provider_asid", None)?,
            ods_code: input("gpc_consumer_ods", None)?,
            organization_name: input("gpc_consumer_org_name", Some("assure test consumer"))?,
            practitioner_id: input("gpc_practitioner_id", Some("1"))?,
            sds_user_id: input("gpc_practitioner_sds_user_id", None)?,
            sds_role_profile_id: input("gpc_practitioner_role_profile_id", None)?,
            local_user_system: input(
                "gpc_local_user_system",
                Some("https://assure.invalid/user-id"),
            )?,
            local_user_id: input("gpc_local_user_id", Some("assure-user-1"))?,
            practitioner_family: input("gpc_practitioner_family", Some("Assure"))?,
            practitioner_given: input("gpc_practitioner_given", Some("Tester"))?,
            device_system: "https://assure.invalid/device".into(),
            device_id: "assure".into(),
            device_model: "assure".into(),
            device_version: env!("CARGO_PKG_VERSION").into(),
        })
    }
}

/// One GP Connect request's security: claims and Spine headers, mutable until sent.
#[derive(Debug, Clone)]
pub struct GpcRequest {
    pub interaction: Interaction,
    pub claims: Map<String, Value>,
    /// Seconds from `iat` to `exp`, applied at send time.
    pub lifetime: i64,
    /// Claims a scenario set to a literal: never re-stamped at send time.
    fixed: BTreeSet<String>,
    /// Spine headers: `None` is a header a scenario removed.
    headers: Vec<(String, Option<String>)>,
}

impl GpcRequest {
    /// The well-formed request for `interaction`, issued at `iat` (Unix seconds).
    pub fn new(interaction: Interaction, who: &Consumer, iat: i64) -> GpcRequest {
        let claims = json!({
            "iss": who.issuer,
            "sub": who.practitioner_id,
            "aud": who.audience,
            "exp": iat + TOKEN_LIFETIME_SECS,
            "iat": iat,
            "reason_for_request": "directcare",
            "requested_scope": interaction.scope,
            "requesting_device": {
                "resourceType": "Device",
                "identifier": [{"system": who.device_system, "value": who.device_id}],
                "model": who.device_model,
                "version": who.device_version,
            },
            "requesting_organization": {
                "resourceType": "Organization",
                "identifier": [{"system": ODS_SYSTEM, "value": who.ods_code}],
                "name": who.organization_name,
            },
            "requesting_practitioner": {
                "resourceType": "Practitioner",
                "id": who.practitioner_id,
                "identifier": [
                    {"system": SDS_USER_SYSTEM, "value": who.sds_user_id},
                    {"system": SDS_ROLE_SYSTEM, "value": who.sds_role_profile_id},
                    {"system": who.local_user_system, "value": who.local_user_id},
                ],
                "name": [{
                    "family": who.practitioner_family,
                    "given": [who.practitioner_given],
                }],
            },
        });
        let claims = match claims {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let headers = vec![
            ("Ssp-TraceID".to_owned(), Some(String::new())),
            ("Ssp-From".to_owned(), Some(who.consumer_asid.clone())),
            ("Ssp-To".to_owned(), Some(who.provider_asid.clone())),
            (
                "Ssp-InteractionID".to_owned(),
                Some(interaction.interaction_id()),
            ),
            ("Authorization".to_owned(), Some(String::new())),
        ];
        GpcRequest {
            interaction,
            claims,
            lifetime: TOKEN_LIFETIME_SECS,
            fixed: BTreeSet::new(),
            headers,
        }
    }

    /// Removes a claim from the token.
    pub fn remove_claim(&mut self, name: &str) {
        // Rebuilt rather than `remove`d: that swaps the last claim into the hole, and
        // the claims keep the specification's order on the wire.
        self.claims = std::mem::take(&mut self.claims)
            .into_iter()
            .filter(|(k, _)| k != name)
            .collect();
        self.fixed.insert(name.to_owned());
    }

    /// Replaces (or adds) a claim; `iat`/`exp` set this way are sent as given.
    pub fn set_claim(&mut self, name: &str, value: Value) {
        self.claims.insert(name.to_owned(), value);
        self.fixed.insert(name.to_owned());
    }

    /// Sets a Spine header (or `Authorization`) to a literal value.
    pub fn set_header(&mut self, name: &str, value: String) {
        self.put_header(name, Some(value));
    }

    /// Leaves a Spine header (or `Authorization`) out of the request.
    pub fn remove_header(&mut self, name: &str) {
        self.put_header(name, None);
    }

    fn put_header(&mut self, name: &str, value: Option<String>) {
        match self
            .headers
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = value,
            None => self.headers.push((name.to_owned(), value)),
        }
    }

    /// The claims as sent at `now`: `iat` is now and `exp` is `iat` + the lifetime,
    /// unless a scenario removed or fixed them.
    pub fn claims_at(&self, now: i64) -> Map<String, Value> {
        let mut claims = self.claims.clone();
        if !self.fixed.contains("iat") && claims.contains_key("iat") {
            claims.insert("iat".into(), now.into());
        }
        if !self.fixed.contains("exp") && claims.contains_key("exp") {
            let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or(now);
            claims.insert("exp".into(), (iat + self.lifetime).into());
        }
        claims
    }

    /// The headers to send at `now`: `(name, Some(value))` to set, `(name, None)` to
    /// leave out. An empty `Ssp-TraceID` is a fresh UUID; an empty `Authorization` is
    /// the bearer token encoded from the claims.
    pub fn headers_at(&self, now: i64) -> Vec<(String, Option<String>)> {
        self.headers
            .iter()
            .map(|(name, value)| {
                let value = match value.as_deref() {
                    Some("") if name == "Ssp-TraceID" => Some(uuid::Uuid::new_v4().to_string()),
                    Some("") if name == "Authorization" => {
                        Some(format!("Bearer {}", encode_unsigned(&self.claims_at(now))))
                    }
                    other => other.map(str::to_owned),
                };
                (name.clone(), value)
            })
            .collect()
    }
}

/// The headers of a well-formed request for `interaction` sent now: the bearer JWT
/// and the Spine headers.
pub fn request_headers(interaction: Interaction, who: &Consumer) -> Vec<(String, String)> {
    let now = chrono::Utc::now().timestamp();
    GpcRequest::new(interaction, who, now)
        .headers_at(now)
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
}

/// An unsecured JWT (RFC 7519 §6): base64url header and payload, empty signature.
pub fn encode_unsigned(claims: &Map<String, Value>) -> String {
    let header = r#"{"alg":"none","typ":"JWT"}"#;
    let payload = Value::Object(claims.clone()).to_string();
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    )
}

/// Why a token could not be read back.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    #[error("a JWT has three dot-separated parts, this one has {0}")]
    Parts(usize),
    #[error("the {0} part is not base64url")]
    Base64(&'static str),
    #[error("the {0} part is not a JSON object")]
    Json(&'static str),
}

/// A JSON object, as a token's header or claims.
pub type JsonObject = Map<String, Value>;

/// Reads an unsigned token back into its header and claims.
pub fn decode_unsigned(token: &str) -> Result<(JsonObject, JsonObject), DecodeError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(DecodeError::Parts(parts.len()));
    }
    let part = |text: &str, what: &'static str| -> Result<JsonObject, DecodeError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| DecodeError::Base64(what))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(DecodeError::Json(what)),
        }
    };
    Ok((part(parts[0], "header")?, part(parts[1], "payload")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consumer() -> Consumer {
        Consumer {
            issuer: "https://consumer.example".into(),
            audience: "https://provider.example/fhir".into(),
            consumer_asid: "200000000359".into(),
            provider_asid: "918999198738".into(),
            ods_code: "A11111".into(),
            organization_name: "Consumer Practice".into(),
            practitioner_id: "1".into(),
            sds_user_id: "G13579135".into(),
            sds_role_profile_id: "111111111".into(),
            local_user_system: "https://consumer.example/user-id".into(),
            local_user_id: "u-1".into(),
            practitioner_family: "Jones".into(),
            practitioner_given: "Claire".into(),
            device_system: "https://consumer.example/device".into(),
            device_id: "dev-1".into(),
            device_model: "assure".into(),
            device_version: "1.0".into(),
        }
    }

    fn request(name: &str) -> GpcRequest {
        GpcRequest::new(interaction(name).unwrap(), &consumer(), 1_000)
    }

    fn token_of(headers: &[(String, Option<String>)]) -> Map<String, Value> {
        let auth = headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .and_then(|(_, v)| v.clone())
            .unwrap();
        let token = auth.strip_prefix("Bearer ").unwrap();
        assert!(token.ends_with('.'), "unsigned tokens end with a dot");
        let (header, claims) = decode_unsigned(token).unwrap();
        assert_eq!(header["alg"], "none");
        claims
    }

    #[test]
    fn the_token_decodes_to_the_claims_with_exp_five_minutes_after_iat() {
        let r = request("patient read");
        let claims = token_of(&r.headers_at(5_000));
        assert_eq!(claims["iat"], 5_000);
        assert_eq!(claims["exp"], 5_300);
        assert_eq!(claims["sub"], "1");
        assert_eq!(claims["requesting_practitioner"]["id"], claims["sub"]);
        assert_eq!(claims["reason_for_request"], "directcare");
        assert_eq!(claims["requested_scope"], "patient/*.read");
        let ids = &claims["requesting_practitioner"]["identifier"];
        assert_eq!(ids[0]["system"], SDS_USER_SYSTEM);
        assert_eq!(ids[1]["system"], SDS_ROLE_SYSTEM);
        assert_eq!(ids[2]["value"], "u-1");
        let org = &claims["requesting_organization"];
        assert_eq!(org["identifier"][0]["system"], ODS_SYSTEM);
        assert_eq!(org["identifier"][0]["value"], "A11111");
        assert_eq!(claims["requesting_device"]["resourceType"], "Device");
    }

    #[test]
    fn mutations_reach_the_encoded_token() {
        let mut r = request("organization read");
        r.remove_claim("reason_for_request");
        r.set_claim("requested_scope", json!("patient/*.write"));
        r.lifetime = 301;
        let claims = token_of(&r.headers_at(10));
        assert!(!claims.contains_key("reason_for_request"));
        let order: Vec<&str> = claims.keys().map(String::as_str).collect();
        assert_eq!(
            &order[..6],
            ["iss", "sub", "aud", "exp", "iat", "requested_scope"]
        );
        assert_eq!(claims["requested_scope"], "patient/*.write");
        assert_eq!(claims["exp"], 311);
        r.set_claim("iat", json!(7));
        r.remove_claim("exp");
        let claims = token_of(&r.headers_at(10));
        assert_eq!(claims["iat"], 7);
        assert!(!claims.contains_key("exp"));
    }

    #[test]
    fn spine_headers_carry_asids_interaction_and_a_fresh_trace_id() {
        let mut r = request("structured record");
        let first = r.headers_at(0);
        let get = |h: &[(String, Option<String>)], n: &str| {
            h.iter().find(|(k, _)| k == n).and_then(|(_, v)| v.clone())
        };
        assert_eq!(
            get(&first, "Ssp-InteractionID").as_deref(),
            Some("urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1")
        );
        assert_eq!(get(&first, "Ssp-From").as_deref(), Some("200000000359"));
        assert_eq!(get(&first, "Ssp-To").as_deref(), Some("918999198738"));
        let trace = get(&first, "Ssp-TraceID").unwrap();
        assert!(uuid::Uuid::parse_str(&trace).is_ok());
        assert_ne!(get(&r.headers_at(0), "Ssp-TraceID").unwrap(), trace);
        r.remove_header("ssp-to");
        r.set_header("Ssp-From", "x".into());
        let after = r.headers_at(0);
        assert!(after.iter().any(|(k, v)| k == "Ssp-To" && v.is_none()));
        assert_eq!(get(&after, "Ssp-From").as_deref(), Some("x"));
    }

    #[test]
    fn every_interaction_has_a_distinct_id_and_a_known_scope() {
        let ids: BTreeSet<String> = interactions().iter().map(|i| i.interaction_id()).collect();
        assert_eq!(ids.len(), interactions().len());
        for i in interactions() {
            assert!([
                "patient/*.read",
                "patient/*.write",
                "organization/*.read",
                "organization/*.write"
            ]
            .contains(&i.scope));
        }
        assert!(interaction("no such thing").is_none());
    }

    #[test]
    fn bad_tokens_are_errors_not_panics() {
        assert_eq!(decode_unsigned("a.b"), Err(DecodeError::Parts(2)));
        assert_eq!(
            decode_unsigned("!!.e30."),
            Err(DecodeError::Base64("header"))
        );
        assert_eq!(
            decode_unsigned("e30.WzFd."),
            Err(DecodeError::Json("payload"))
        );
    }
}
