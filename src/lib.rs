//! assure: a conformance testing harness for FHIR and GP Connect APIs.
