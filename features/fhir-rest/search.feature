@search
Feature: Search
  Searches return searchset Bundles with a self link; NHS number searches find the
  patient; paging works through next links; strict handling rejects unknown
  parameters.

  Background:
    Given the request accepts "application/fhir+json"

  @req:R4-SEARCH-1 @capability:Patient.search-type
  Scenario Outline: A search returns a searchset Bundle
    Given the request query parameter "identifier" is "https://fhir.nhs.uk/Id/nhs-number|{<nhs>}"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the Bundle type is "searchset"

    Examples:
      | nhs                       |
      | patient_nhs_number        |
      | second_patient_nhs_number |

  @req:R4-SEARCH-2 @capability:Patient.search-type
  Scenario: A searchset Bundle links to itself
    Given the request query parameter "family" is "{patient_family}"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the Bundle has a "self" link

  @req:R4-SEARCH-3 @capability:Patient.search-type
  Scenario: Search by NHS number finds the patient
    Given the request query parameter "identifier" is "https://fhir.nhs.uk/Id/nhs-number|{patient_nhs_number}"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the Bundle total is 1
    And the Bundle has exactly 1 entry
    And every Bundle entry is a Patient resource
    And every Bundle entry has the search mode "match"
    And every Bundle entry has an absolute fullUrl
    And the JSON value at "entry[0].resource.id" is "{patient_id}"
    And the FHIRPath "entry.resource.ofType(Patient).identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').value" evaluates to "{patient_nhs_number}"

  @req:R4-SEARCH-4 @capability:Patient.search-type
  Scenario: A search that matches nothing is an empty searchset
    Given the request query parameter "identifier" is "https://fhir.nhs.uk/Id/nhs-number|{unknown_nhs_number}"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the Bundle total is 0
    And the JSON value at "entry" does not exist

  @req:R4-SEARCH-5 @capability:Patient.search-type
  Scenario: _count limits the page and links to the next one
    Given the request query parameter "_count" is "1"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the Bundle has exactly 1 entry
    And the Bundle has a "next" link

  @req:R4-SEARCH-6 @capability:Patient.search-type
  Scenario: The next link returns the following page
    Given the request query parameter "_count" is "1"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And I capture the JSON value at "entry[0].resource.id" as "first"
    When I follow the Bundle link "next"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the Bundle has exactly 1 entry
    And every Bundle entry is a Patient resource
    And the JSON value at "entry[0].resource.id" does not match "^{first}$"

  @req:R4-SEARCH-7 @capability:Patient.search-type
  Scenario: Strict handling rejects an unknown search parameter
    Given the request header "Prefer" is "handling=strict"
    And the request query parameter "not-a-search-parameter" is "x"
    When I send a GET request to "/Patient"
    Then the response status is 400
    And the response is an OperationOutcome
