@gpconnect @directory
Feature: Practitioners, organisations and locations
  The provider's own directory (Foundations): read by logical id, found by SDS user id
  or ODS code; an unknown id is the resource's NOT_FOUND GP Connect error, and
  NO_RECORD_FOUND for a Location, which has no code of its own.

  @req:GPC-PRAC-1 @capability:foundations @capability:Practitioner.read @control:practitioner-read
  Scenario: Read a practitioner
    Given the request is a GP Connect "practitioner read" request
    When I send a GET request to "/Practitioner/{practitioner_id}"
    Then the response status is 200
    And the response body is a Practitioner resource
    And the JSON value at "id" is "{practitioner_id}"

  @req:GPC-PRAC-2 @capability:foundations @capability:Practitioner.search-type @control:practitioner-search
  Scenario: Find a practitioner by SDS user id
    Given the request is a GP Connect "practitioner search" request
    And the request query parameter "identifier" is "https://fhir.nhs.uk/Id/sds-user-id|{practitioner_sds_user_id}"
    When I send a GET request to "/Practitioner"
    Then the response status is 200
    And the Bundle type is "searchset"
    And every Bundle entry is a Practitioner resource
    And the FHIRPath "entry.resource.ofType(Practitioner).identifier.where(system = 'https://fhir.nhs.uk/Id/sds-user-id').value contains '{practitioner_sds_user_id}'" is true

  @req:GPC-ORG-1 @capability:foundations @capability:Organization.read @control:organization-read
  Scenario: Read an organisation
    Given the request is a GP Connect "organization read" request
    When I send a GET request to "/Organization/{organization_id}"
    Then the response status is 200
    And the response body is an Organization resource
    And the JSON value at "id" is "{organization_id}"

  @req:GPC-ORG-2 @capability:foundations @capability:Organization.search-type @control:organization-search
  Scenario: Find an organisation by ODS code
    Given the request is a GP Connect "organization search" request
    And the request query parameter "identifier" is "https://fhir.nhs.uk/Id/ods-organization-code|{organization_ods_code}"
    When I send a GET request to "/Organization"
    Then the response status is 200
    And the Bundle type is "searchset"
    And every Bundle entry is an Organization resource
    And the FHIRPath "entry.resource.ofType(Organization).count() = 1" is true
    And the FHIRPath "entry.resource.ofType(Organization).identifier.where(system = 'https://fhir.nhs.uk/Id/ods-organization-code').value contains '{organization_ods_code}'" is true

  @req:GPC-LOC-1 @capability:foundations @capability:Location.read @control:location-read
  Scenario: Read a location
    Given the request is a GP Connect "location read" request
    When I send a GET request to "/Location/{location_id}"
    Then the response status is 200
    And the response body is a Location resource
    And the JSON value at "id" is "{location_id}"

  @req:GPC-READ-2 @capability:foundations
  Scenario Outline: Reading an unknown <type> is <code>
    Given the request is a GP Connect "<interaction>" request
    When I send a GET request to "/<type>/{unknown_id}"
    Then the response is a GP Connect error with code "<code>" and status 404

    @capability:Patient.read @negative:patient-read
    Examples: Patient
      | type    | interaction  | code              |
      | Patient | patient read | PATIENT_NOT_FOUND |

    @capability:Practitioner.read @negative:practitioner-read
    Examples: Practitioner
      | type         | interaction       | code                   |
      | Practitioner | practitioner read | PRACTITIONER_NOT_FOUND |

    @capability:Organization.read @negative:organization-read
    Examples: Organization
      | type         | interaction       | code                   |
      | Organization | organization read | ORGANISATION_NOT_FOUND |

    @capability:Location.read @negative:location-read
    Examples: Location
      | type     | interaction   | code            |
      | Location | location read | NO_RECORD_FOUND |

  @req:GPC-HTTP-1
  Scenario Outline: <interaction> answers in FHIR JSON
    Given the request is a GP Connect "<interaction>" request
    When I send a GET request to "<path>"
    Then the response status is 200
    And the response content type is "application/fhir+json"

    Examples: every provider
      | interaction | path      |
      | metadata    | /metadata |

    @capability:foundations
    Examples: Foundations
      | interaction       | path                             |
      | patient read      | /Patient/{registered_patient_id} |
      | practitioner read | /Practitioner/{practitioner_id}  |
      | organization read | /Organization/{organization_id}  |
      | location read     | /Location/{location_id}          |
