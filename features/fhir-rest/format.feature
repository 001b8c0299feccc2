@format
Feature: Content negotiation
  FHIR JSON is asked for with _format or Accept; what the server cannot produce it may
  refuse or answer in a format it has, and what it cannot read it refuses.

  @req:R4-FMT-1 @capability:Patient.read
  Scenario Outline: _format=<format> returns FHIR JSON
    Given the request query parameter "_format" is "<format>"
    When I send a GET request to "/Patient/{patient_id}"
    Then the response status is 200
    And the response header "Content-Type" matches "<content type>"
    And the response body is a Patient resource

    Examples:
      | format                | content type                       |
      | json                  | ^application/(fhir[+])?json( *;.*)?$ |
      | application/fhir+json | ^application/fhir[+]json( *;.*)?$    |

  @req:R4-FMT-2 @capability:Patient.read @control:accept
  Scenario: Accept: application/fhir+json is honoured
    Given the request headers are:
      | name   | value                 |
      | Accept | application/fhir+json |
    When I send a GET request to "/Patient/{patient_id}"
    Then the response status is 200
    And the response content type is "application/fhir+json"
    And the response body is a Patient resource

  @req:R4-FMT-3 @capability:Patient.read @negative:accept
  Scenario: An Accept header the server cannot satisfy is refused or disregarded
    Given the request accepts "text/csv"
    When I send a GET request to "/Patient/{patient_id}"
    Then the response status is 406, or 200 with a content type matching "^application/fhir\+(json|xml)(\s*;.*)?$"

  @req:R4-FMT-4 @capability:Patient.create @negative:create
  Scenario: A body in an unsupported media type is refused
    Given the request accepts "application/fhir+json"
    And the request content type is "text/plain"
    And the variable "new_patient_nhs_number" is "{run_nhs_number}"
    And the request body is the file "bodies/new-patient.json"
    When I send a POST request to "/Patient"
    Then the response status is one of 400 or 415
