@uk-core
Feature: UK Core Patient conformance
  Every Patient the server returns is validated against the published UK Core
  profile: structure, cardinality, bindings, invariants and extensions. A profile
  that is not loaded makes the check inconclusive; a search that finds no Patient
  leaves nothing to check (not applicable).

  Background:
    Given the request accepts "application/fhir+json"

  @req:UKC-PAT-1 @capability:Patient.read @control:read-unknown
  Scenario Outline: A read Patient conforms to UK Core Patient
    When I send a GET request to "/Patient/{<patient>}"
    Then the response status is 200
    And the response conforms to "https://fhir.nhs.uk/R4/StructureDefinition/UKCore-Patient"

    Examples:
      | patient           |
      | patient_id        |
      | second_patient_id |
      | third_patient_id  |

  @req:UKC-PAT-2 @capability:Patient.read
  Scenario Outline: A read Patient conforms to the profiles it claims
    When I send a GET request to "/Patient/{<patient>}"
    Then the response status is 200
    And the response conforms to its meta.profile

    Examples:
      | patient           |
      | patient_id        |
      | second_patient_id |
      | third_patient_id  |

  @req:UKC-PAT-3 @capability:Patient.search-type @capability:Patient.searchParam:identifier
  Scenario: Patients found by NHS number conform to UK Core Patient
    Given the request query parameter "identifier" is "https://fhir.nhs.uk/Id/nhs-number|{patient_nhs_number}"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And every entry in the Bundle conforms to "https://fhir.nhs.uk/R4/StructureDefinition/UKCore-Patient"

  @req:UKC-BASE-1
  Scenario: The CapabilityStatement conforms to FHIR R4
    When I send a GET request to "/metadata"
    Then the response status is 200
    And the response conforms to "http://hl7.org/fhir/StructureDefinition/CapabilityStatement"

  @req:UKC-BASE-2 @capability:Patient.read @negative:read-unknown
  Scenario: A not-found OperationOutcome conforms to FHIR R4
    When I send a GET request to "/Patient/{unknown_patient_id}"
    Then the response status is 404
    And the response conforms to "http://hl7.org/fhir/StructureDefinition/OperationOutcome"
