@gpconnect @metadata
Feature: GP Connect capability statement
  A provider describes itself with an STU3 CapabilityStatement, read with the
  metadata interaction like every other GP Connect request (JWT and Spine headers).
  Every provider serves it, whatever capabilities it offers.

  Background:
    Given the request is a GP Connect "metadata" request

  @req:GPC-META-1 @control:metadata
  Scenario: The capability statement is STU3
    When I send a GET request to "/metadata"
    Then the response status is 200
    And the response body is a CapabilityStatement resource
    And the JSON value at "fhirVersion" is "3.0.1"

  @req:GPC-META-2
  Scenario: The capability statement declares JSON in server mode
    When I send a GET request to "/metadata"
    Then the response status is 200
    And the JSON array at "format" has an item matching "^(json|application/fhir\+json)(\s*;.*)?$"
    And the FHIRPath "rest.where(mode = 'server').exists()" is true
