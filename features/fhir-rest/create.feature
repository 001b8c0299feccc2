@create
Feature: Create
  Creating a resource answers 201 with its new location and version; conditional
  create does not duplicate; a body of the wrong type is refused.

  Background:
    Given the request accepts "application/fhir+json"
    And the request content type is "application/fhir+json"
    # A number no earlier run used: a rerun never meets the data of the last one.
    And the variable "new_patient_nhs_number" is "{run_nhs_number}"

  @req:R4-CREATE-1 @capability:Patient.create
  Scenario: Create answers 201 with the new location
    Given the request body is the file "bodies/new-patient.json"
    When I send a POST request to "/Patient"
    Then the response status is 201
    And the response header "Location" matches "/Patient/[A-Za-z0-9\-\.]{1,64}/_history/[A-Za-z0-9\-\.]{1,64}$"

  @req:R4-CREATE-2 @capability:Patient.create
  Scenario: Create returns the stored resource
    Given the request body is the file "bodies/new-patient.json"
    When I send a POST request to "/Patient"
    Then the response status is 201
    And the response body is a Patient resource
    And the JSON value at "id" matches "^[A-Za-z0-9\-\.]{1,64}$"
    And the JSON value at "meta.versionId" exists
    And the ETag matches the resource version

  @req:R4-CREATE-3 @capability:Patient.create
  Scenario: Conditional create of an existing patient creates nothing
    Given the request header "If-None-Exist" is "identifier=https://fhir.nhs.uk/Id/nhs-number|{patient_nhs_number}"
    And the variable "new_patient_nhs_number" is "{patient_nhs_number}"
    And the request body is the file "bodies/new-patient.json"
    When I send a POST request to "/Patient"
    Then the response status is 200
    And the response header "Location" is absent

  @req:R4-CREATE-4 @capability:Patient.create
  Scenario: A body of another resource type is refused
    Given the request body is:
      """
      {
        "resourceType": "Observation",
        "status": "final",
        "code": { "text": "not a patient" }
      }
      """
    When I send a POST request to "/Patient"
    Then the response status is 400
    And the response is an OperationOutcome

  @req:R4-DELETE-1 @capability:Patient.delete
  Scenario: Delete removes the resource
    Given the request body is the file "bodies/new-patient.json"
    When I send a POST request to "/Patient"
    Then the response status is 201
    And I capture the JSON value at "id" as "created"
    When I send a DELETE request to "/Patient/{created}"
    Then the response status is one of 200 or 204
    When I send a GET request to "/Patient/{created}"
    Then the response status is 410
