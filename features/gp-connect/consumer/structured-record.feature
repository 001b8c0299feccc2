@gp-connect @consumer
Feature: A consumer retrieves a structured record
  The harness plays the GP Connect provider; each scenario asks the consumer under
  test to retrieve a patient's structured record (with whichever clinical areas it
  uses) and checks what it sent. Every clinical-area parameter is optional: a request
  that names only the patient is valid.

  Background:
    When the consumer is asked to "retrieve the structured record of {patient_nhs_number}"
    Then the counterpart "gpconnect-provider" receives a request within {wait_seconds} seconds

  @req:GPC-CONS-1
  Scenario: The consumer calls the structured record operation
    Then the received request is a POST to a path matching "/Patient/\$gpc\.getstructuredrecord$"

  @req:GPC-CONS-2
  Scenario: The consumer sends a well-formed access token
    Then the received request carries a GP Connect access token for "structured record"

  @req:GPC-CONS-3
  Scenario: The consumer sends the Spine headers of the operation
    Then the received request has the Spine headers for "structured record"

  @req:GPC-CONS-4
  Scenario: The consumer sends FHIR and asks for FHIR
    Then the received request header "Content-Type" matches "^application/fhir\+(json|xml)"
    And the received request asks for a FHIR format, or sends no Accept header

  @req:GPC-CONS-5
  Scenario: The consumer names the patient by NHS number
    Then the checks that follow read the received request body
    And the FHIRPath "resourceType = 'Parameters'" is true
    And the FHIRPath "parameter.where(name = 'patientNHSNumber').count() = 1" is true
    And the FHIRPath "parameter.where(name = 'patientNHSNumber').value.system = 'https://fhir.nhs.uk/Id/nhs-number'" is true
    And the FHIRPath "parameter.where(name = 'patientNHSNumber').value.value" evaluates to "{patient_nhs_number}"
