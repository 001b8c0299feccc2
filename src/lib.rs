//! assure: a conformance testing harness for FHIR and GP Connect APIs.

pub mod capability;
pub mod client;
pub mod diagnostic;
pub mod evidence;
pub mod exit_codes;
pub mod features;
pub mod report;
pub mod runner;
pub mod steps;
pub mod suite;
pub mod world;
