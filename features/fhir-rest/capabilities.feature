@capabilities
Feature: Capability statement
  A FHIR server describes itself at [base]/metadata. Suppliers, assessors and this
  harness read it to know which interactions apply.

  Background:
    Given the request accepts "application/fhir+json"
    When I send a GET request to "/metadata"

  @req:R4-CAP-1
  Scenario: The server publishes a CapabilityStatement
    Then the response status is 200
    And the response body is a CapabilityStatement resource
    And the JSON value at "status" matches "^(active|draft|retired|unknown)$"
    And the JSON value at "kind" matches "^(instance|capability|requirements)$"

  @req:R4-CAP-2
  Scenario: The CapabilityStatement declares FHIR R4
    Then the response body is a CapabilityStatement resource
    And the JSON value at "fhirVersion" matches "^4\.0\.\d+$"

  @req:R4-CAP-3
  Scenario: The CapabilityStatement declares JSON
    Then the response body is a CapabilityStatement resource
    And the JSON array at "format" has an item matching "^(json|application/(fhir\+)?json)(\s*;.*)?$"

  @req:R4-CAP-4
  Scenario: The CapabilityStatement describes a server
    Then the response body is a CapabilityStatement resource
    And the FHIRPath "rest.where(mode = 'server').resource.type.exists()" is true
