//! assure: a conformance testing harness for FHIR and GP Connect APIs.

pub mod counterpart;
pub mod diagnostic;
pub mod exit_codes;
