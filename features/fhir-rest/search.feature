@search
Feature: Search
  Searches return searchset Bundles with a self link; NHS number searches find the
  patient where the server supports the identifier parameter; _count never returns
  more than asked and paging follows next links; strict handling rejects unknown
  parameters.

  Background:
    Given the request accepts "application/fhir+json"

  @req:R4-SEARCH-1 @capability:Patient.search-type
  Scenario Outline: A search returns a searchset Bundle
    Given the request query parameter "<parameter>" is "<value>"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the Bundle type is "searchset"

    @capability:Patient.searchParam:identifier
    Examples: by NHS number
      | parameter  | value                                                        |
      | identifier | https://fhir.nhs.uk/Id/nhs-number\|{patient_nhs_number}        |
      | identifier | https://fhir.nhs.uk/Id/nhs-number\|{second_patient_nhs_number} |

    Examples: by logical id
      | parameter | value        |
      | _id       | {patient_id} |

  @req:R4-SEARCH-1 @capability:Patient.search-type @control:strict-search
  Scenario: A strict search with only known parameters succeeds
    Given the request header "Prefer" is "handling=strict"
    And the request query parameter "_id" is "{patient_id}"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the Bundle type is "searchset"

  @req:R4-SEARCH-2 @capability:Patient.search-type
  Scenario: A searchset Bundle links to itself
    Given the request query parameter "family" is "{patient_family}"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the Bundle has a "self" link

  @req:R4-SEARCH-3 @capability:Patient.search-type @capability:Patient.searchParam:identifier
  Scenario: Search by NHS number finds the patient
    Given the request query parameter "identifier" is "https://fhir.nhs.uk/Id/nhs-number|{patient_nhs_number}"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the FHIRPath "total.empty() or total = 1" is true
    And the FHIRPath "entry.where(search.mode.empty() or search.mode = 'match').count()" evaluates to "1"
    And every Bundle entry is a Patient resource
    And every "entry" satisfies "search.mode.empty() or search.mode = 'match' or search.mode = 'outcome'"
    And every "entry.where(resource is Patient)" satisfies "fullUrl.startsWith('urn:uuid:') or ((fullUrl.startsWith('http://') or fullUrl.startsWith('https://')) and fullUrl.endsWith('/Patient/' + resource.id))"
    And the FHIRPath "entry.resource.ofType(Patient).id" evaluates to "{patient_id}"
    And the FHIRPath "entry.resource.ofType(Patient).identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').value" evaluates to "{patient_nhs_number}"

  @req:R4-SEARCH-4 @capability:Patient.search-type @capability:Patient.searchParam:identifier
  Scenario: A search that matches nothing is an empty searchset
    Given the request query parameter "identifier" is "https://fhir.nhs.uk/Id/nhs-number|{unknown_nhs_number}"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the FHIRPath "total.empty() or total = 0" is true
    And the FHIRPath "entry.resource.ofType(Patient).empty()" is true

  @req:R4-SEARCH-5 @capability:Patient.search-type
  Scenario: _count=1 returns at most one match
    Given the request query parameter "_count" is "1"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the FHIRPath "entry.where(search.mode.empty() or search.mode = 'match').count() <= 1" is true

  @req:R4-SEARCH-6 @capability:Patient.search-type
  Scenario: More matches than _count are paged through next links
    Given the request query parameter "_count" is "1"
    When I send a GET request to "/Patient"
    Then the response status is 200
    And the Bundle has a "next" link
    And I capture the JSON value at "entry[0].resource.id" as "first"
    When I follow the Bundle link "next"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the FHIRPath "entry.where(search.mode.empty() or search.mode = 'match').count() <= 1" is true
    And every Bundle entry is a Patient resource
    And the JSON value at "entry[0].resource.id" does not match "^{first}$"

  @req:R4-SEARCH-7 @capability:Patient.search-type @negative:strict-search
  Scenario: Strict handling rejects an unknown search parameter
    Given the request header "Prefer" is "handling=strict"
    And the request query parameter "_id" is "{patient_id}"
    And the request query parameter "not-a-search-parameter" is "x"
    When I send a GET request to "/Patient"
    Then the response status is 4xx

  @req:R4-ERR-1 @capability:Patient.search-type @negative:strict-search
  Scenario: The rejection of an unknown search parameter carries an OperationOutcome
    Given the request header "Prefer" is "handling=strict"
    And the request query parameter "_id" is "{patient_id}"
    And the request query parameter "not-a-search-parameter" is "x"
    When I send a GET request to "/Patient"
    Then the error response carries an OperationOutcome
