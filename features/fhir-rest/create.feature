@create
Feature: Create, update and delete
  A create answers 201 with where it put the new resource, which can then be read back
  with what was sent; conditional create does not duplicate; bodies that are not the
  resource, or not JSON, are refused. An update makes a new version where the server
  versions, and a delete leaves a 404 or 410 behind. Scenarios that come back to what
  they created mark it with their own given name (`given_name`), so that scenarios
  running at once never touch each other's resources.

  Background:
    Given the request accepts "application/fhir+json"
    And the request content type is "application/fhir+json"
    # A number no earlier run used: a rerun never meets the data of the last one.
    And the variable "new_patient_nhs_number" is "{run_nhs_number}"

  @req:R4-CREATE-1 @capability:Patient.create @control:create
  Scenario: Create answers 201 with the new location
    Given the request body is the file "bodies/new-patient.json"
    When I send a POST request to "/Patient"
    Then the response status is 201
    And the response header "Location" matches "(^|/)Patient/[A-Za-z0-9\-\.]{1,64}(/_history/[A-Za-z0-9\-\.]{1,64})?$"

  @req:R4-CREATE-2 @capability:Patient.create
  Scenario: Asked for it, a create returns the stored resource and when it changed
    Given the request header "Prefer" is "return=representation"
    And the request body is the file "bodies/new-patient.json"
    When I send a POST request to "/Patient"
    Then the response status is 201
    And the response body is a Patient resource
    And the JSON value at "id" matches "^[A-Za-z0-9\-\.]{1,64}$"
    And the response header "Last-Modified" is an HTTP date

  @req:R4-CREATE-2 @capability:Patient.create @capability:Patient.versioning
  Scenario: A create's ETag carries the new version
    Given the request header "Prefer" is "return=representation"
    And the request body is the file "bodies/new-patient.json"
    When I send a POST request to "/Patient"
    Then the response status is 201
    And the ETag matches the resource version

  @req:R4-CREATE-5 @capability:Patient.create @capability:Patient.read
  Scenario: The created resource can be read where the server put it
    Given the variable "given_name" is "ReadBack"
    And the request body is the file "bodies/flow-patient.json"
    When I send a POST request to "/Patient"
    Then the response status is 201
    And the created resource can be read back where the server put it

  @req:R4-CREATE-6 @capability:Patient.create @capability:Patient.read
  Scenario: The created resource reads back with what was sent
    Given the variable "given_name" is "ReadBack"
    And the request body is the file "bodies/flow-patient.json"
    When I send a POST request to "/Patient"
    Then the response status is 201
    And the created resource can be read back where the server put it
    And the FHIRPath "name.where(use = 'official').family" evaluates to "Assure"
    And the FHIRPath "name.where(use = 'official').given" evaluates to "ReadBack"
    And the FHIRPath "gender" evaluates to "unknown"
    And the FHIRPath "birthDate" evaluates to "1990-01-01"

  @req:R4-CREATE-3 @capability:Patient.create @capability:Patient.conditionalCreate @capability:Patient.searchParam:identifier
  Scenario: Conditional create of an existing patient creates nothing
    When I count the Patient resources matching "identifier=https://fhir.nhs.uk/Id/nhs-number|{patient_nhs_number}" as "before"
    Given the request accepts "application/fhir+json"
    And the request content type is "application/fhir+json"
    # The criteria are what would follow `?` in a search URL, so `|` is percent-encoded.
    And the request header "If-None-Exist" is "identifier=https://fhir.nhs.uk/Id/nhs-number%7C{patient_nhs_number}"
    And the variable "new_patient_nhs_number" is "{patient_nhs_number}"
    And the request body is the file "bodies/new-patient.json"
    When I send a POST request to "/Patient"
    Then the conditional create answered as "{before}" existing matches require
    And the number of Patient resources matching "identifier=https://fhir.nhs.uk/Id/nhs-number|{patient_nhs_number}" is still "{before}"

  @req:R4-CREATE-4 @capability:Patient.create @negative:create
  Scenario: A body of another resource type is refused
    Given the request body is the file "bodies/not-a-patient.json"
    When I send a POST request to "/Patient"
    Then the response status is one of 400 or 422

  @req:R4-ERR-1 @capability:Patient.create @negative:create
  Scenario: The refusal of a body of another resource type carries an OperationOutcome
    Given the request body is the file "bodies/not-a-patient.json"
    When I send a POST request to "/Patient"
    Then the error response carries an OperationOutcome

  @req:R4-CREATE-7 @capability:Patient.create @negative:create
  Scenario: A body that is not JSON is refused with 400
    Given the request body is the file "bodies/malformed-patient.txt"
    When I send a POST request to "/Patient"
    Then the response status is 400

  @req:R4-ERR-1 @capability:Patient.create @negative:create
  Scenario: The refusal of a body that is not JSON carries an OperationOutcome
    Given the request body is the file "bodies/malformed-patient.txt"
    When I send a POST request to "/Patient"
    Then the error response carries an OperationOutcome

  @req:R4-CREATE-8 @capability:Patient.create @negative:create
  Scenario: An element R4 does not define is refused or ignored
    Given the variable "given_name" is "UnknownElement"
    And the request body is the file "bodies/unknown-element-patient.json"
    When I send a POST request to "/Patient"
    Then the create was refused with one of 400 or 422, or the resource it created does not keep the element "assureUnknownElement"

  @req:R4-UPDATE-1 @capability:Patient.create @capability:Patient.update
  Scenario: An update is answered 200 with when it changed
    Given the variable "given_name" is "UpdateStatus"
    And the request body is the file "bodies/flow-patient.json"
    When I send a POST request to "/Patient"
    Then the response status is 201
    And I capture the id of the created resource as "created"
    Given the request accepts "application/fhir+json"
    When I send a GET request to "/Patient/{created}"
    Then the response status is 200
    Given the request accepts "application/fhir+json"
    And the request content type is "application/fhir+json"
    And the request carries If-Match with the version last read
    And the request body is the file "bodies/flow-patient-updated.json"
    When I send a PUT request to "/Patient/{created}"
    Then the response status is 200
    And the response header "Last-Modified" is an HTTP date

  @req:R4-UPDATE-2 @capability:Patient.create @capability:Patient.update @capability:Patient.versioning
  Scenario: An update makes a new version where the server versions
    Given the variable "given_name" is "UpdateVersion"
    And the request body is the file "bodies/flow-patient.json"
    When I send a POST request to "/Patient"
    Then the response status is 201
    And I capture the id of the created resource as "created"
    Given the request accepts "application/fhir+json"
    When I send a GET request to "/Patient/{created}"
    Then the response status is 200
    And I capture the version of the resource as "before"
    Given the request accepts "application/fhir+json"
    And the request content type is "application/fhir+json"
    And the request carries If-Match with the version last read
    And the request body is the file "bodies/flow-patient-updated.json"
    When I send a PUT request to "/Patient/{created}"
    Then the response status is 200
    Given the request accepts "application/fhir+json"
    When I send a GET request to "/Patient/{created}"
    Then the response status is 200
    And the version of the resource differs from "{before}"

  @req:R4-UPDATE-3 @capability:Patient.create @capability:Patient.update
  Scenario: An update's content is what a later read returns
    Given the variable "given_name" is "UpdateContent"
    And the request body is the file "bodies/flow-patient.json"
    When I send a POST request to "/Patient"
    Then the response status is 201
    And I capture the id of the created resource as "created"
    Given the request accepts "application/fhir+json"
    When I send a GET request to "/Patient/{created}"
    Then the response status is 200
    Given the request accepts "application/fhir+json"
    And the request content type is "application/fhir+json"
    And the request carries If-Match with the version last read
    And the request body is the file "bodies/flow-patient-updated.json"
    When I send a PUT request to "/Patient/{created}"
    Then the response status is 200
    Given the request accepts "application/fhir+json"
    When I send a GET request to "/Patient/{created}"
    Then the response status is 200
    And the FHIRPath "name.where(use = 'official').family" evaluates to "Assure-Updated"
    And the FHIRPath "gender" evaluates to "other"
    And the FHIRPath "birthDate" evaluates to "1990-01-02"

  @req:R4-DELETE-1 @capability:Patient.create @capability:Patient.delete
  Scenario: Delete removes the resource
    Given the variable "given_name" is "Delete"
    And the request body is the file "bodies/flow-patient.json"
    When I send a POST request to "/Patient"
    Then the response status is 201
    And I capture the id of the created resource as "created"
    When I send a DELETE request to "/Patient/{created}"
    Then the response status is one of 200, 202 or 204
    Given the request accepts "application/fhir+json"
    When I send a GET request to "/Patient/{created}"
    Then the response status is one of 404 or 410
