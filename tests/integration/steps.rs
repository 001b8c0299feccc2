//! Every step of the vocabulary, passing and failing, against a wiremock "supplier".
//! Scenario names say the expected outcome (`pass:`/`fail:`/`n/a:`).

use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{assert_named_outcomes, Project};

const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

pub async fn supplier() -> MockServer {
    let server = MockServer::start().await;
    let base = server.uri();
    let fhir = |status: u16, body: serde_json::Value| {
        ResponseTemplate::new(status).set_body_raw(body.to_string(), FHIR_JSON)
    };
    Mock::given(method("GET"))
        .and(path("/metadata"))
        .respond_with(fhir(
            200,
            json!({"resourceType": "CapabilityStatement", "status": "active", "kind": "instance", "fhirVersion": "4.0.1",
                   "format": ["application/fhir+json"], "software": {"name": "Test EPR", "version": "9.1"},
                   "rest": [{"mode": "server", "resource": [{"type": "Patient", "interaction": [{"code": "read"}, {"code": "search-type"}]}]}]}),
        ))
        .mount(&server)
        .await;
    let patient = json!({"resourceType": "Patient", "id": "p1", "meta": {"versionId": "3"}, "active": true,
                         "name": [{"family": "Smith", "given": ["Jo"]}], "multipleBirthInteger": 2});
    // For the profile steps: a Patient claiming the base profile, and one that breaks it.
    Mock::given(method("GET"))
        .and(path("/Patient/claims"))
        .respond_with(fhir(
            200,
            json!({"resourceType": "Patient", "id": "claims",
                   "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/Patient"]}, "gender": "female"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/Patient/bad"))
        .respond_with(fhir(
            200,
            json!({"resourceType": "Patient", "id": "bad",
                   "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/Patient"]},
                   "gender": "robot", "birthDate": "1990-13-45"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/Patient/p1"))
        .respond_with(
            fhir(200, patient.clone())
                .insert_header("ETag", "W/\"3\"")
                .insert_header("Last-Modified", "Tue, 03 Jun 2025 10:15:00 GMT"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/Patient/p2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(
                    json!({"resourceType": "Patient", "id": "p2", "meta": {"versionId": "1"}})
                        .to_string(),
                    "application/json; charset=iso-8859-1",
                )
                .insert_header("ETag", "W/\"9\"")
                .insert_header("Last-Modified", "yesterday"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/Patient"))
        .and(query_param("page", "2"))
        .respond_with(fhir(
            200,
            json!({"resourceType": "Bundle", "type": "searchset", "total": 2,
                   "link": [{"relation": "self", "url": format!("{base}/Patient?page=2")}],
                   "entry": [{"fullUrl": format!("{base}/Patient/p2"), "resource": {"resourceType": "Patient", "id": "p2"}, "search": {"mode": "match"}}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/Patient"))
        .respond_with(fhir(
            200,
            json!({"resourceType": "Bundle", "type": "searchset", "total": 2,
                   "link": [{"relation": "self", "url": format!("{base}/Patient")}, {"relation": "next", "url": format!("{base}/Patient?page=2")}],
                   "entry": [{"fullUrl": format!("{base}/Patient/p1"), "resource": patient, "search": {"mode": "match"}}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/collection"))
        .respond_with(fhir(
            200,
            json!({"resourceType": "Bundle", "type": "collection",
                   "entry": [{"fullUrl": "Patient/p1", "resource": {"resourceType": "Observation", "id": "o1"}, "search": {"mode": "include"}}]}),
        ))
        .mount(&server)
        .await;
    // A valid searchset whose one match breaks Observation (no status, no code).
    Mock::given(method("GET"))
        .and(path("/bad-match"))
        .respond_with(fhir(
            200,
            json!({"resourceType": "Bundle", "type": "searchset",
                   "entry": [{"fullUrl": format!("{base}/Observation/o1"),
                              "resource": {"resourceType": "Observation", "id": "o1"},
                              "search": {"mode": "match"}}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/record"))
        .respond_with(fhir(
            200,
            json!({"resourceType": "Bundle", "type": "collection", "entry": [
                {"resource": {"resourceType": "List", "id": "l",
                              "contained": [{"resourceType": "AllergyIntolerance", "id": "ended"}],
                              "entry": [{"item": {"reference": "Observation/o1"}}, {"item": {"reference": "#ended"}}]}},
                {"resource": {"resourceType": "Observation", "id": "o1"}}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/record-dangling"))
        .respond_with(fhir(
            200,
            json!({"resourceType": "Bundle", "type": "collection", "entry": [
                {"resource": {"resourceType": "List", "id": "l", "entry": [{"item": {"reference": "Observation/gone"}}]}}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/missing"))
        .respond_with(fhir(
            404,
            json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/empty-outcome"))
        .respond_with(fhir(
            400,
            json!({"resourceType": "OperationOutcome", "issue": []}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/echo"))
        .and(header("X-Test", "yes"))
        .and(header("Accept", "application/fhir+json"))
        .and(query_param("q", "a b"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/echo"))
        .and(header("Content-Type", "application/fhir+json"))
        .and(body_string_contains("\"family\": \"p1\""))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("Location", format!("{base}/Patient/new/_history/1")),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_millis(400)))
        .mount(&server)
        .await;
    let gpc_error = json!({"resourceType": "OperationOutcome",
        "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1"]},
        "issue": [{"severity": "error", "code": "invalid", "details": {"coding": [
            {"system": "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1", "code": "BAD_REQUEST"}]}}]});
    Mock::given(method("GET"))
        .and(path("/gpc-error"))
        .and(header("Ssp-From", "x"))
        .respond_with(fhir(400, gpc_error))
        .mount(&server)
        .await;
    // Token refusals as RFC 6750 answers them, with and without the challenge.
    Mock::given(method("GET"))
        .and(path("/token-refused"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("WWW-Authenticate", "Bearer error=\"invalid_token\""),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/token-refused-bare"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    // Creates and what they leave behind, for the steps that come back to them.
    Mock::given(method("POST"))
        .and(path("/create"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("Location", format!("{base}/Patient/new/_history/1")),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/create-kept"))
        .respond_with(ResponseTemplate::new(201).insert_header("Location", "Patient/p1"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/create-elsewhere"))
        .respond_with(ResponseTemplate::new(201).insert_header("Location", "other/Patient/new"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/Patient/new"))
        .respond_with(fhir(
            200,
            json!({"resourceType": "Patient", "id": "new", "meta": {"versionId": "1"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/Patient/p1/_history/3"))
        .respond_with(fhir(
            200,
            json!({"resourceType": "Patient", "id": "p1", "meta": {"versionId": "3"}}),
        ))
        .mount(&server)
        .await;
    server
}

const FEATURE: &str = r#"
@req:T-1
Feature: Step vocabulary

  Background:
    Given the variable "greeting" is "hello"
    And the variable "gpc_consumer_asid" is "1"
    And the variable "gpc_provider_asid" is "2"
    And the variable "gpc_consumer_ods" is "GPC001"
    And the variable "gpc_practitioner_sds_user_id" is "G1"
    And the variable "gpc_practitioner_role_profile_id" is "R1"

  Scenario: pass: status, headers, content type, dates, ETag
    When I send a GET request to "/Patient/{patient_id}"
    Then the response status is 200
    And the response status is one of 200, 201 or 204
    And the response header "ETag" is "W/\"3\""
    And the response header "Content-Type" contains "fhir+json"
    And the response header "ETag" matches "^W/\"\d+\"$"
    And the response header "ETag" is present
    And the response header "Location" is absent
    And the response content type is "application/fhir+json"
    And the response header "Last-Modified" is an HTTP date
    And the ETag matches the resource version
    And the response time is under 5000 ms
    And I capture the response header "ETag" as "etag"
    And the value "{etag}" is "W/\"3\""

  Scenario: fail: status
    When I send a GET request to "/Patient/p1"
    Then the response status is 404

  Scenario: fail: status one of
    When I send a GET request to "/Patient/p1"
    Then the response status is one of 400 or 404

  Scenario: fail: header is
    When I send a GET request to "/Patient/p2"
    Then the response header "ETag" is "W/\"3\""

  Scenario: fail: header contains
    When I send a GET request to "/Patient/p2"
    Then the response header "Content-Type" contains "fhir"

  Scenario: fail: header matches
    When I send a GET request to "/Patient/p2"
    Then the response header "ETag" matches "^W/\"3\"$"

  Scenario: fail: header present
    When I send a GET request to "/Patient/p1"
    Then the response header "Location" is present

  Scenario: fail: header absent
    When I send a GET request to "/Patient/p1"
    Then the response header "ETag" is absent

  Scenario: fail: content type media type
    When I send a GET request to "/Patient/p2"
    Then the response content type is "application/fhir+json"

  Scenario: fail: content type charset
    When I send a GET request to "/Patient/p2"
    Then the response content type is "application/json"

  Scenario: fail: HTTP date
    When I send a GET request to "/Patient/p2"
    Then the response header "Last-Modified" is an HTTP date

  Scenario: fail: ETag version
    When I send a GET request to "/Patient/p2"
    Then the ETag matches the resource version

  Scenario: fail: response time
    When I send a GET request to "/slow"
    Then the response time is under 100 ms

  Scenario: fail: capture header that is missing
    When I send a GET request to "/Patient/p1"
    Then I capture the response header "Location" as "where"

  Scenario: fail: values compared
    Then the value "{greeting}" is "goodbye"

  Scenario: pass: request building reaches the right stub
    Given the request header "X-Test" is "yes"
    And the request accepts "application/fhir+json"
    And the request query parameter "q" is "a b"
    When I send a GET request to "/echo"
    Then the response status is 204

  Scenario: fail: request header missing so no stub matches
    Given the request query parameter "q" is "a b"
    And the request accepts "application/fhir+json"
    When I send a GET request to "/echo"
    Then the response status is 204

  Scenario: pass: headers table and doc string body
    Given the request headers are:
      | name         | value                 |
      | Content-Type | application/fhir+json |
    And the request body is:
      """
      {"resourceType": "Patient", "name": [{"family": "{patient_id}"}]}
      """
    When I send a POST request to "/echo"
    Then the response status is 201
    And I capture the response header "Location" as "created"
    And the value "{created}" is "{base_url}/Patient/new/_history/1"

  Scenario: pass: body from a file
    Given the request content type is "application/fhir+json"
    And the request body is the file "bodies/patient.json"
    When I send a POST request to "/echo"
    Then the response status is 201

  Scenario: error: body file that does not exist
    Given the request body is the file "bodies/nope.json"
    When I send a POST request to "/echo"
    Then the response status is 201

  Scenario: pass: JSON values
    When I send a GET request to "/Patient/p1"
    Then the response body is a Patient resource
    And the JSON value at "name[0].family" is "Smith"
    And the JSON value at "/name/0/given/0" is "Jo"
    And the JSON value at "multipleBirthInteger" equals 2
    And the JSON value at "active" equals true
    And the JSON value at "meta.versionId" exists
    And the JSON value at "deceasedBoolean" does not exist
    And the JSON value at "id" matches "^p\d$"
    And the JSON value at "id" does not match "^x"
    And the JSON array at "name[0].given" has an item matching "^J"
    And the JSON values are:
      | path           | value |
      | id             | p1    |
      | name[0].family | Smith |
    And I capture the JSON value at "meta.versionId" as "version"
    And the value "{version}" is "3"

  Scenario: pass: FHIRPath
    When I send a GET request to "/Patient"
    Then the FHIRPath "entry.resource.ofType(Patient).name.where(family = 'Smith').exists()" is true
    And the FHIRPath "entry.resource.name.given" evaluates to "Jo"
    And the FHIRPath "total + 1" evaluates to "3"

  Scenario: fail: FHIRPath is true
    When I send a GET request to "/Patient"
    Then the FHIRPath "entry.resource.ofType(Observation).exists()" is true

  Scenario: fail: FHIRPath evaluates to
    When I send a GET request to "/Patient"
    Then the FHIRPath "entry.resource.name.family" evaluates to "Jones"

  Scenario: fail: resource type
    When I send a GET request to "/Patient/p1"
    Then the response body is a Bundle resource

  Scenario: fail: JSON value is
    When I send a GET request to "/Patient/p1"
    Then the JSON value at "name[0].family" is "Jones"

  Scenario: fail: JSON value equals
    When I send a GET request to "/Patient/p1"
    Then the JSON value at "multipleBirthInteger" equals 3

  Scenario: fail: JSON value exists
    When I send a GET request to "/Patient/p1"
    Then the JSON value at "birthDate" exists

  Scenario: fail: JSON value does not exist
    When I send a GET request to "/Patient/p1"
    Then the JSON value at "active" does not exist

  Scenario: fail: JSON value matches
    When I send a GET request to "/Patient/p1"
    Then the JSON value at "id" matches "^x"

  Scenario: fail: JSON value does not match
    When I send a GET request to "/Patient/p1"
    Then the JSON value at "id" does not match "^p"

  Scenario: fail: JSON array item
    When I send a GET request to "/Patient/p1"
    Then the JSON array at "name[0].given" has an item matching "^Z"

  Scenario: fail: JSON values table
    When I send a GET request to "/Patient/p1"
    Then the JSON values are:
      | path | value |
      | id   | p9    |

  Scenario: fail: capture JSON value that is missing
    When I send a GET request to "/Patient/p1"
    Then I capture the JSON value at "birthDate" as "dob"

  Scenario: pass: Bundle checks and paging
    When I send a GET request to "/Patient"
    Then the Bundle type is "searchset"
    And the Bundle total is 2
    And the Bundle has exactly 1 entry
    And the Bundle has at least 1 entry
    And the Bundle has at most 1 entry
    And the Bundle has a "self" link
    And the Bundle has no "previous" link
    And every Bundle entry is a Patient resource
    And every Bundle entry has the search mode "match"
    And every Bundle entry has an absolute fullUrl
    When I follow the Bundle link "next"
    Then the JSON value at "entry[0].resource.id" is "p2"
    And the Bundle has no "next" link

  Scenario: fail: Bundle type
    When I send a GET request to "/collection"
    Then the Bundle type is "searchset"

  Scenario: fail: Bundle total
    When I send a GET request to "/Patient"
    Then the Bundle total is 3

  Scenario: fail: Bundle entries
    When I send a GET request to "/Patient"
    Then the Bundle has at least 2 entries

  Scenario: fail: Bundle link
    When I send a GET request to "/collection"
    Then the Bundle has a "self" link

  Scenario: fail: Bundle has no link
    When I send a GET request to "/Patient"
    Then the Bundle has no "next" link

  Scenario: pass: every List item is in the Bundle
    When I send a GET request to "/record"
    Then every item of every List in the Bundle is an entry of the Bundle

  Scenario: fail: a List item is not in the Bundle
    When I send a GET request to "/record-dangling"
    Then every item of every List in the Bundle is an entry of the Bundle

  Scenario: fail: a Bundle without a List
    When I send a GET request to "/collection"
    Then every item of every List in the Bundle is an entry of the Bundle

  Scenario: fail: entry resource type
    When I send a GET request to "/Patient"
    Then every Bundle entry is a Observation resource

  Scenario: fail: entry search mode
    When I send a GET request to "/collection"
    Then every Bundle entry has the search mode "match"

  Scenario: fail: entry fullUrl
    When I send a GET request to "/collection"
    Then every Bundle entry has an absolute fullUrl

  Scenario: fail: follow a link that is not there
    When I send a GET request to "/collection"
    And I follow the Bundle link "next"

  Scenario: pass: OperationOutcome
    When I send a GET request to "/missing"
    Then the response is an OperationOutcome
    And the OperationOutcome has an issue with severity "error"
    And the OperationOutcome has an issue with code "not-found"

  Scenario: fail: OperationOutcome without issues
    When I send a GET request to "/empty-outcome"
    Then the response is an OperationOutcome

  Scenario: fail: OperationOutcome issue code
    When I send a GET request to "/missing"
    Then the OperationOutcome has an issue with code "invalid"

  Scenario: error: checks before any request
    Then the response status is 200

  Scenario: error: unknown variable
    When I send a GET request to "/Patient/{patient_idd}"

  Scenario: pass: a counterpart receives a request and it is checked
    When the consumer is asked to "call the provider"
    And the request header "Ssp-TraceID" is "trace-1"
    And the request accepts "application/fhir+json"
    And the request body is:
      """
      {"resourceType": "Parameters", "parameter": [{"name": "patientNHSNumber", "valueString": "9000000009"}]}
      """
    And I send a POST request to "{counterpart.provider}/Patient/$gpc.getstructuredrecord"
    Then the counterpart "provider" receives a request within 5 seconds
    And the received request is a POST to a path matching "/Patient/\$gpc\.getstructuredrecord$"
    And the received request header "Ssp-TraceID" is present
    And the received request header "Accept" matches "fhir\+json"
    And the checks that follow read the received request body
    And the JSON value at "parameter[0].name" is "patientNHSNumber"

  Scenario: fail: the counterpart receives nothing
    When the consumer is asked to "do nothing"
    Then the counterpart "provider" receives a request within 1 seconds

  Scenario: fail: received method and path
    When the consumer is asked to "call the provider"
    And I send a GET request to "{counterpart.provider}/metadata"
    Then the counterpart "provider" receives a request within 5 seconds
    And the received request is a POST to a path matching "getstructuredrecord"

  Scenario: fail: received header missing
    When the consumer is asked to "call the provider"
    And I send a GET request to "{counterpart.provider}/metadata"
    Then the counterpart "provider" receives a request within 5 seconds
    And the received request header "Ssp-TraceID" is present

  Scenario: fail: received header mismatch
    When the consumer is asked to "call the provider"
    And the request accepts "application/xml"
    And I send a GET request to "{counterpart.provider}/metadata"
    Then the counterpart "provider" receives a request within 5 seconds
    And the received request header "Accept" matches "fhir\+json"

  Scenario: error: reading a received body before any request
    Then the checks that follow read the received request body

  Scenario: pass: a scripted GP Connect error reaches the consumer, which reports it once
    Given the counterpart "provider" answers the next request with status 404 and the GP Connect error "PATIENT_NOT_FOUND"
    When the consumer is asked to "report PATIENT_NOT_FOUND and fail"
    And I send a POST request to "{counterpart.provider}/Patient/$gpc.getstructuredrecord"
    Then the response is a GP Connect error with code "PATIENT_NOT_FOUND" and status 404
    And the counterpart "provider" receives a request within 5 seconds
    And the consumer command fails
    And the consumer output contains "patient_not_found"
    And the counterpart "provider" receives no further request within 1 seconds

  Scenario: pass: a scripted fault is taken by the next request only
    Given the counterpart "provider" answers the next request with the fault "EMPTY_RESPONSE"
    When the consumer is asked to "succeed"
    Then the consumer command succeeds

  Scenario: error: an unknown fault
    Given the counterpart "provider" answers the next request with the fault "SLOW_LORIS"

  Scenario: fail: the consumer command succeeded
    When the consumer is asked to "succeed"
    Then the consumer command fails

  Scenario: fail: the consumer said something else
    When the consumer is asked to "succeed"
    Then the consumer output contains "PATIENT_NOT_FOUND"

  Scenario: fail: the consumer repeated its request
    When the consumer is asked to "call twice"
    And I send a GET request to "{counterpart.provider}/metadata"
    And I send a GET request to "{counterpart.provider}/metadata"
    Then the counterpart "provider" receives a request within 5 seconds
    And the counterpart "provider" receives no further request within 1 seconds

  Scenario: pass: the counterpart's admin API drives mappings and scenarios
    Given the counterpart "provider" is reset
    And the counterpart "provider" admin API is called with POST "/__admin/mappings"
      """
      {"scenarioName": "flow", "requiredScenarioState": "Started", "newScenarioState": "done", "request": {"urlPath": "/flow"}, "response": {"status": 200}}
      """
    When the counterpart "provider" scenario "flow" is in state "done"
    And the counterpart "provider" admin API is called with GET "/__admin/scenarios"
    Then the JSON value at "scenarios[0].state" is "done"

  Scenario: error: the counterpart's admin API refuses
    Then the counterpart "provider" admin API is called with GET "/__admin/mappings/no-such-id"

  Scenario: pass: profile conformance
    When I send a GET request to "/Patient/claims"
    Then the response conforms to "http://hl7.org/fhir/StructureDefinition/Patient"
    And the response conforms to its meta.profile
    When I send a GET request to "/Patient"
    Then every entry in the Bundle conforms to "http://hl7.org/fhir/StructureDefinition/Patient"

  Scenario: fail: a response that breaks its profile
    When I send a GET request to "/Patient/bad"
    Then the response conforms to "http://hl7.org/fhir/StructureDefinition/Patient"

  Scenario: fail: a response that breaks the profile it claims
    When I send a GET request to "/Patient/bad"
    Then the response conforms to its meta.profile

  Scenario: fail: a Bundle entry that breaks the profile
    When I send a GET request to "/bad-match"
    Then every entry in the Bundle conforms to "http://hl7.org/fhir/StructureDefinition/Observation"

  Scenario: n/a: a Bundle whose only entry was included, not matched
    When I send a GET request to "/collection"
    Then every entry in the Bundle conforms to "http://hl7.org/fhir/StructureDefinition/Observation"

  Scenario Outline: pass: outline row <id>
    When I send a GET request to "/Patient/<id>"
    Then the JSON value at "id" is "<id>"

    Examples:
      | id |
      | p1 |
      | p2 |

  Scenario: pass: created resources, counts and versions
    When I send a POST request to "/create"
    Then I capture the id of the created resource as "created"
    And the value "{created}" is "new"
    And the created resource can be read back where the server put it
    When I send a POST request to "/create"
    Then the create was refused with one of 400 or 422, or the resource it created does not keep the element "active"
    When I count the Patient resources matching "family=Smith|Jones" as "before"
    Then the number of Patient resources matching "family=Smith|Jones" is still "{before}"
    And the value "{before}" differs from "3"
    When I send a GET request to "/Patient/p1"
    Then the conditional create answered as "1" existing matches require
    And the response status is 406, or 200 with a content type matching "fhir\+json"
    And I capture the version of the resource as "v"
    And the version of the resource differs from "2"
    And the test data has "name.family"
    And every "name" satisfies "family.exists()"
    And the version of the resource can be read on its own
    Given the request carries If-Match with the version last read
    When I send a GET request to "/missing"
    Then the response status is 4xx
    And the error response carries an OperationOutcome
    And the create was refused with one of 404, or the resource it created does not keep the element "active"

  Scenario: fail: no created resource named
    When I send a GET request to "/slow"
    Then I capture the id of the created resource as "created"

  Scenario: fail: a Location that resolves outside the base
    When I send a POST request to "/create-elsewhere"
    Then the created resource can be read back where the server put it

  Scenario: fail: a created resource that keeps an element
    When I send a POST request to "/create-kept"
    Then the create was refused with one of 400 or 422, or the resource it created does not keep the element "active"

  Scenario: fail: a count that changed
    When I count the Patient resources matching "family=Smith" as "before"
    Then the number of Patient resources matching "family=Smith" is still "5"

  Scenario: fail: values that do not differ
    Then the value "{greeting}" differs from "hello"

  Scenario: fail: a conditional create answered as if nothing matched
    When I send a GET request to "/Patient/p1"
    Then the conditional create answered as "0" existing matches require

  Scenario: fail: neither refused nor in the format asked for
    When I send a GET request to "/Patient/p2"
    Then the response status is 406, or 200 with a content type matching "fhir\+json"

  Scenario: fail: the version did not change
    When I send a GET request to "/Patient/p1"
    Then the version of the resource differs from "3"

  Scenario: fail: the version cannot be read
    When I send a GET request to "/Patient/p2"
    Then the version of the resource can be read on its own

  Scenario: fail: a version from a body that is not JSON
    When I send a GET request to "/slow"
    Then I capture the version of the resource as "v"

  Scenario: fail: status class
    When I send a GET request to "/Patient/p1"
    Then the response status is 4xx

  Scenario: fail: an error without an OperationOutcome issue
    When I send a GET request to "/empty-outcome"
    Then the error response carries an OperationOutcome

  Scenario: fail: an item that does not satisfy
    When I send a GET request to "/Patient/p1"
    Then every "name" satisfies "family = 'Jones'"

  Scenario: n/a: every item of nothing
    When I send a GET request to "/Patient/p1"
    Then every "contact" satisfies "name.exists()"

  Scenario: n/a: test data without it
    When I send a GET request to "/Patient/p1"
    Then the test data has "deceased"

  Scenario: n/a: no error to check
    When I send a GET request to "/Patient/p1"
    Then the error response carries an OperationOutcome

  Scenario: n/a: nothing versioned, nothing to compare
    When I send a GET request to "/Patient/claims"
    Then I capture the version of the resource as "v"
    And the version of the resource differs from "{v}"
    And the version of the resource can be read on its own

  Scenario: error: test data before any request
    Then the test data has "id"

  @capability:Patient.read
  Scenario: pass: declared capability applies
    When I send a GET request to "/Patient/p1"
    Then the response status is 200

  Scenario: pass: GP Connect request, its mutations and its error
    Given the request is a GP Connect "patient read" request
    And the JWT claim "iss" is removed
    And the JWT claim "requested_scope" is "patient/*.write"
    And the JWT expires 301 seconds after it was issued
    And the Spine header "Ssp-TraceID" is removed
    And the Spine header "Ssp-From" is "x"
    When I send a GET request to "/gpc-error"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

  Scenario: pass: a consumer's GP Connect request is judged at the counterpart
    When the consumer is asked to "retrieve a record"
    And the request is a GP Connect "structured record" request
    And I send a POST request to "{counterpart.provider}/Patient/$gpc.getstructuredrecord"
    Then the counterpart "provider" receives a request within 5 seconds
    And the received request carries a GP Connect access token for "structured record"
    And the received request has the Spine headers for "structured record"
    And the received request asks for a FHIR format, or sends no Accept header

  Scenario: fail: a consumer that asks for CSV
    When the consumer is asked to "retrieve a record"
    And the request is a GP Connect "structured record" request
    And the request header "Accept" is "text/csv"
    And I send a POST request to "{counterpart.provider}/Patient/$gpc.getstructuredrecord"
    Then the counterpart "provider" receives a request within 5 seconds
    And the received request asks for a FHIR format, or sends no Accept header

  Scenario: fail: a consumer's token with a wrong scope
    When the consumer is asked to "retrieve a record"
    And the request is a GP Connect "structured record" request
    And the JWT claim "requested_scope" is "patient/*.write"
    And I send a POST request to "{counterpart.provider}/Patient/$gpc.getstructuredrecord"
    Then the counterpart "provider" receives a request within 5 seconds
    And the received request carries a GP Connect access token for "structured record"

  Scenario: fail: a consumer's Spine headers for another interaction
    When the consumer is asked to "retrieve a record"
    And the request is a GP Connect "patient read" request
    And I send a POST request to "{counterpart.provider}/Patient/$gpc.getstructuredrecord"
    Then the counterpart "provider" receives a request within 5 seconds
    And the received request has the Spine headers for "structured record"

  Scenario: fail: a Patient is not a GP Connect error
    When I send a GET request to "/Patient/p1"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 200

  Scenario: pass: one of several GP Connect errors, any 4xx one, a token refusal
    Given the request header "Ssp-From" is "x"
    When I send a GET request to "/gpc-error"
    Then the response is one of the GP Connect errors "422 INVALID_PARAMETER or 400 BAD_REQUEST"
    And the response is one of the GP Connect errors "4xx"
    And the response is one of the GP Connect errors "400 BAD_REQUEST", or a 200 answer where the FHIRPath "false" is true
    And the response is a GP Connect error with a 4xx status
    And the response refuses the access token

  Scenario: pass: a 200 answer the FHIRPath accepts instead of an error
    When I send a GET request to "/Patient/p1"
    Then the response is one of the GP Connect errors "422 INVALID_PARAMETER", or a 200 answer where the FHIRPath "id = 'p1'" is true

  Scenario: pass: an RFC 6750 token refusal
    When I send a GET request to "/token-refused"
    Then the response refuses the access token

  Scenario: fail: an error that is not one of those allowed
    Given the request header "Ssp-From" is "x"
    When I send a GET request to "/gpc-error"
    Then the response is one of the GP Connect errors "422 INVALID_PARAMETER or 404 PATIENT_NOT_FOUND"

  Scenario: fail: a 200 answer the FHIRPath does not accept
    When I send a GET request to "/Patient/p1"
    Then the response is one of the GP Connect errors "422 INVALID_PARAMETER", or a 200 answer where the FHIRPath "id = 'other'" is true

  Scenario: fail: a Patient is not a 4xx GP Connect error
    When I send a GET request to "/Patient/p1"
    Then the response is a GP Connect error with a 4xx status

  Scenario: fail: a 401 without a Bearer challenge does not refuse the token
    When I send a GET request to "/token-refused-bare"
    Then the response refuses the access token

  Scenario: fail: a Patient does not refuse the token
    When I send a GET request to "/Patient/p1"
    Then the response refuses the access token

  @capability:Patient.delete
  Scenario: n/a: undeclared interaction is not applicable
    When I send a DELETE request to "/Patient/p1"
    Then the response status is 204

  @capability:Observation.read
  Scenario: n/a: undeclared resource is not applicable
    When I send a GET request to "/Observation/o1"
    Then the response status is 200
"#;

#[tokio::test(flavor = "multi_thread")]
async fn every_step_passes_and_fails_as_it_should() {
    let server = supplier().await;
    let project = Project::new(&["T-1"]);
    project.feature("steps.feature", FEATURE);
    project.file(
        "suites/t/bodies/patient.json",
        r#"{"resourceType": "Patient", "name": [{"family": "{patient_id}"}]}"#,
    );
    // A counterpart for the consumer-side steps; the scenarios play the consumer.
    let manifest = project.path().join("suites/t/suite.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(
            "default = true\n",
            "default = true\ncounterparts = [\"provider\"]\n",
        ) + "\n[inputs.consumer_command]\ndefault = 'echo \"$ASSURE_ACTION\"; case \"$ASSURE_ACTION\" in *fail*) exit 1;; esac'\n",
    )
    .unwrap();
    project.file(
        "mocks/provider/mappings/any.json",
        r#"{"request": {"method": "ANY", "urlPattern": "/.*"}, "response": {"status": 200}}"#,
    );
    let cache = crate::support::package_cache().display().to_string();
    let run = project
        .run_env(
            &["run", "--target", &server.uri()],
            &[("FHIR_PACKAGE_CACHE", &cache)],
        )
        .await;
    assert_named_outcomes(&run);
    assert_eq!(run.code, 1, "{}", run.stderr);

    // Every step of the vocabulary is used, and every check fails somewhere.
    let report = run.report();
    let compiled = assure::steps::compiled();
    let mut used = vec![false; compiled.len()];
    let mut failed = vec![false; compiled.len()];
    for feature in report["suites"][0]["features"].as_array().unwrap() {
        for sc in feature["scenarios"].as_array().unwrap() {
            for step in sc["steps"].as_array().unwrap() {
                let text = step["text"].as_str().unwrap();
                for (i, (_, re)) in compiled.iter().enumerate() {
                    if re.is_match(text) {
                        used[i] = true;
                        // A step whose only way to stop is a mistake in the
                        // scenario (nothing received yet) stops with an error.
                        failed[i] |= step["status"] == "failed"
                            || (step["status"] == "error" && !def_builds_request(&compiled[i].0));
                    }
                }
            }
        }
    }
    for (i, (def, _)) in compiled.iter().enumerate() {
        assert!(used[i], "step `{}` is not exercised", def.usage);
        let builds_request = def_builds_request(def);
        assert!(
            builds_request || failed[i],
            "step `{}` never fails in the test",
            def.usage
        );
    }
    // A profile failure carries the issues, each pointing into the captured response.
    let broken = report["suites"][0]["features"][0]["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "fail: a response that breaks its profile")
        .unwrap();
    let issues = broken["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|s| s["failure"]["issues"].as_array())
        .expect("the failing step lists its issues");
    let gender = issues
        .iter()
        .find(|i| i["expression"] == "Patient.gender")
        .expect("the gender issue");
    assert_eq!(gender["severity"], "error");
    assert!(
        gender["line"].as_u64().unwrap() >= 1
            && gender["exchange"].as_str().unwrap().starts_with("ex-")
    );
    let software = report["run"]["target"]["software"].as_str();
    assert_eq!(software, Some("Test EPR 9.1"));
    let na = report["summary"]["scenarios"]["not_applicable"].as_u64();
    assert_eq!(na, Some(7));
}

fn def_builds_request(def: &assure::steps::StepDef) -> bool {
    def.kinds
        .iter()
        .all(|k| *k != cucumber::gherkin::StepType::Then)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passing_run_exits_zero_and_tags_select_scenarios() {
    let server = supplier().await;
    let project = Project::new(&["T-1"]);
    project.feature(
        "one.feature",
        "Feature: one\n  @req:T-1 @smoke\n  Scenario: pass: read\n    When I send a GET request to \"/Patient/p1\"\n    Then the response status is 200\n\n  @req:T-1\n  Scenario: fail: excluded\n    Then the response status is 200\n",
    );
    let run = project
        .run(&["run", "--target", &server.uri(), "--tags", "@smoke"])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let statuses = run.statuses();
    assert_eq!(statuses[1].1, "not_run");
    assert_eq!(run.report()["verdict"], "passed");
}

#[tokio::test(flavor = "multi_thread")]
async fn steps_and_suites_are_listed() {
    let project = Project::new(&["T-1"]);
    project.feature(
        "a.feature",
        "Feature: a\n  @req:T-1\n  Scenario: a\n    Then the response status is 200\n",
    );
    let steps = project.run(&["steps"]).await;
    assert_eq!(steps.code, 0);
    for def in assure::steps::catalogue() {
        assert!(
            steps.stdout.contains(def.usage),
            "`assure steps` lacks {}",
            def.usage
        );
    }
    let list = project.run(&["suites", "list"]).await;
    assert!(
        list.stdout.contains("t ") && list.stdout.contains("(default)"),
        "{}",
        list.stdout
    );
    let show = project.run(&["suites", "show", "t"]).await;
    assert!(
        show.stdout.contains("T-1") && show.stdout.contains("MUST"),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("token (secret)"), "{}", show.stdout);
}

#[test]
fn the_step_reference_in_docs_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/steps.md");
    let written = std::fs::read_to_string(path).unwrap();
    assert!(
        written == assure::cli::steps_text(true),
        "docs/steps.md is stale: regenerate it with `cargo run -- steps --markdown > docs/steps.md`"
    );
}
