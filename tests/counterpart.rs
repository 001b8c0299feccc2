//! The stub sets shipped in `mocks/`: the reference FHIR provider honours the contract
//! the `fhir-r4-rest` suite is written against, the minimal provider does the least R4
//! allows, the broken provider breaks exactly the requests its seeded defects name, the
//! GP Connect provider answers any test patient; and (ignored, run by CI) the
//! differential test against real WireMock.

#[path = "counterpart/broken.rs"]
mod broken;
#[path = "counterpart/gpconnect.rs"]
mod gpconnect;
#[path = "counterpart/hostile.rs"]
mod hostile;
#[path = "counterpart/minimal.rs"]
mod minimal;
#[path = "counterpart/reference.rs"]
mod reference;
#[path = "counterpart/support.rs"]
mod support;
#[path = "counterpart/wiremock_diff.rs"]
mod wiremock_diff;
