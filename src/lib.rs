//! assure: a conformance testing harness for FHIR and GP Connect APIs.

// Diagnostics travel by value on cold error paths; boxing them buys nothing.
#![allow(clippy::result_large_err)]

pub mod capability;
pub mod cli;
pub mod client;
pub mod config;
pub mod counterpart;
pub mod diagnostic;
pub mod embedded;
pub mod evidence;
pub mod exit_codes;
pub mod features;
pub mod fhir_env;
pub mod fhirpath_cmd;
pub mod outcome;
pub mod packages_cmd;
pub mod progress;
pub mod redact;
pub mod registry;
pub mod report;
pub mod runner;
pub mod shard;
pub mod signals;
pub mod steps;
pub mod suite;
pub mod terminology;
pub mod test_data;
pub mod validate_cmd;
pub mod validate_input;
pub mod world;
