@gpconnect @patient @capability:foundations
Feature: Find and read a patient
  Find a patient searches by NHS number only. Registered patients are found; patients
  who are not on record, deceased, or sensitive with an unverified NHS number are not
  returned (an empty searchset); a malformed NHS number or another identifier system is
  a GP Connect error.

  @req:GPC-PAT-1 @capability:Patient.search-type @control:patient-search
  Scenario Outline: Find a registered patient by NHS number (<patient>)
    Given the request is a GP Connect "patient search" request
    And the request query parameter "identifier" is "https://fhir.nhs.uk/Id/nhs-number|{<patient>}"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the Bundle type is "searchset"
    And every Bundle entry is a Patient resource
    And the FHIRPath "entry.resource.ofType(Patient).count() = 1" is true
    And the FHIRPath "entry.resource.ofType(Patient).identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').value contains '{<patient>}'" is true
    And the FHIRPath "entry.resource.ofType(Patient).meta.profile contains 'https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Patient-1'" is true

    Examples:
      | patient                      |
      | registered_nhs_number        |
      | second_registered_nhs_number |

  @req:GPC-PAT-2 @capability:Patient.search-type
  Scenario Outline: A <role> patient is not returned
    Given the request is a GP Connect "patient search" request
    And the request query parameter "identifier" is "https://fhir.nhs.uk/Id/nhs-number|{<patient>}"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the FHIRPath "entry.resource.ofType(Patient).empty()" is true

    Examples:
      | role                     | patient              |
      | not found                | not_found_nhs_number |
      | deceased                 | deceased_nhs_number  |
      | sensitive and unverified | sensitive_nhs_number |

  @req:GPC-PAT-3 @capability:Patient.search-type @negative:patient-search
  Scenario Outline: An invalid NHS number is rejected (<why>)
    Given the request is a GP Connect "patient search" request
    And the request query parameter "identifier" is "https://fhir.nhs.uk/Id/nhs-number|<value>"
    When I send a GET request to "/Patient"
    Then the response is a GP Connect error with code "INVALID_NHS_NUMBER" and status 400
    And the OperationOutcome has an issue with severity "error"

    Examples:
      | why               | value                |
      | wrong check digit | {invalid_nhs_number} |
      | too short         | 96909372             |
      | not digits        | 969093728X           |

  @req:GPC-PAT-4 @capability:Patient.search-type @negative:patient-search
  Scenario Outline: Another identifier system is rejected (<system>)
    Given the request is a GP Connect "patient search" request
    And the request query parameter "identifier" is "<system>|{registered_nhs_number}"
    When I send a GET request to "/Patient"
    Then the response is a GP Connect error with code "INVALID_IDENTIFIER_SYSTEM" and status 400

    Examples:
      | system                                  |
      | http://fhir.nhs.net/Id/nhs-number       |
      | https://fhir.nhs.uk/Id/local-patient-id |

  @req:GPC-PAT-5 @capability:Patient.read @control:patient-read
  Scenario: Read a registered patient by logical id
    Given the request is a GP Connect "patient read" request
    When I send a GET request to "/Patient/{registered_patient_id}"
    Then the response status is 200
    And the response body is a Patient resource
    And the JSON value at "id" is "{registered_patient_id}"
    And the FHIRPath "identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').value contains '{registered_nhs_number}'" is true
    And the FHIRPath "meta.profile contains 'https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Patient-1'" is true
