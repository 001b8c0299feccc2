@gp-connect @consumer
Feature: A consumer retrieves a structured record
  The harness plays the GP Connect provider; each scenario asks the consumer under
  test to retrieve a patient's allergies and checks what it sent.

  Background:
    When the consumer is asked to "retrieve the allergies of {patient_nhs_number}"
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
  Scenario: The consumer asks for and sends FHIR JSON
    Then the received request header "Accept" matches "^application/fhir\+json"
    And the received request header "Content-Type" matches "^application/fhir\+json"

  @req:GPC-CONS-5
  Scenario: The consumer names the patient and the clinical area
    Then the checks that follow read the received request body
    And the FHIRPath "resourceType = 'Parameters'" is true
    And the FHIRPath "parameter.where(name = 'patientNHSNumber').value.system = 'https://fhir.nhs.uk/Id/nhs-number'" is true
    And the FHIRPath "parameter.where(name = 'patientNHSNumber').value.value" evaluates to "{patient_nhs_number}"
    And the FHIRPath "parameter.where(name = 'includeAllergies').part.where(name = 'includeResolvedAllergies').exists()" is true
