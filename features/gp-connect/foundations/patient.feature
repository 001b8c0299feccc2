@gpconnect @patient
Feature: Find and read a patient
  Find a patient searches by NHS number only. Registered patients are found; patients
  who are not on record, deceased or sensitive are not returned (an empty searchset);
  a malformed NHS number or another identifier system is a GP Connect error.

  @req:GPC-PAT-1
  Scenario Outline: Find a registered patient by NHS number (<patient>)
    Given the request is a GP Connect "patient search" request
    And the request query parameter "identifier" is "https://fhir.nhs.uk/Id/nhs-number|{<patient>}"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the Bundle has exactly 1 entry
    And every Bundle entry is a Patient resource
    And the JSON values are:
      | path                                 | value                                                                |
      | entry[0].resource.identifier[0].system | https://fhir.nhs.uk/Id/nhs-number                                  |
      | entry[0].resource.identifier[0].value  | {<patient>}                                                        |
      | entry[0].resource.meta.profile[0]      | https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Patient-1 |

    Examples:
      | patient                      |
      | registered_nhs_number        |
      | second_registered_nhs_number |

  @req:GPC-PAT-2
  Scenario Outline: A <role> patient is not returned
    Given the request is a GP Connect "patient search" request
    And the request query parameter "identifier" is "https://fhir.nhs.uk/Id/nhs-number|{<patient>}"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the Bundle has exactly 0 entries

    Examples:
      | role      | patient              |
      | not found | not_found_nhs_number |
      | deceased  | deceased_nhs_number  |
      | sensitive | sensitive_nhs_number |

  @req:GPC-PAT-3
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

  @req:GPC-PAT-4
  Scenario Outline: Another identifier system is rejected (<system>)
    Given the request is a GP Connect "patient search" request
    And the request query parameter "identifier" is "<system>|{registered_nhs_number}"
    When I send a GET request to "/Patient"
    Then the response is a GP Connect error with code "INVALID_IDENTIFIER_SYSTEM" and status 400

    Examples:
      | system                                 |
      | http://fhir.nhs.net/Id/nhs-number      |
      | https://fhir.nhs.uk/Id/local-patient-id |

  @req:GPC-PAT-5
  Scenario: Read a registered patient by logical id
    Given the request is a GP Connect "patient read" request
    When I send a GET request to "/Patient/{registered_patient_id}"
    Then the response status is 200
    And the response body is a Patient resource
    And the JSON values are:
      | path                | value                                                                  |
      | id                  | {registered_patient_id}                                                |
      | identifier[0].value | {registered_nhs_number}                                                |
      | meta.profile[0]     | https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Patient-1 |
