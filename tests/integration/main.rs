//! End-to-end tests: the real `assure` binary against real servers on loopback.

mod consumer;
mod diagnostics;
mod evidence;
mod fhir_providers;
mod fhirpath;
mod gpconnect;
mod packages;
mod providers;
mod report_browser;
mod report_gates;
mod report_seal;
mod reports;
#[path = "../security/mod.rs"]
mod security;
mod shipped;
mod steps;
mod stub_generators;
mod support;
mod tls;
mod validate;
mod view;
