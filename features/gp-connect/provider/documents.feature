@gpconnect @documents
Feature: Access Document: find a patient's documents and retrieve one
  The Access Document endpoint (its own base, input gpc_documents_base) answers its
  capability statement, finds the patient, searches their DocumentReferences with the
  _include parameters the specification requires, and returns each document as a
  FHIR Binary.

  @req:GPC-DOC-1
  Scenario: The Access Document capability statement
    Given the request is a GP Connect "document metadata" request
    When I send a GET request to "{gpc_documents_base}/metadata"
    Then the response status is 200
    And the response body is a CapabilityStatement resource
    And the JSON value at "fhirVersion" is "3.0.1"
    And the FHIRPath "rest.resource.type contains 'DocumentReference'" is true
    And the FHIRPath "rest.resource.type contains 'Binary'" is true

  @req:GPC-DOC-1
  Scenario: Find the patient on the Access Document endpoint
    Given the request is a GP Connect "document patient search" request
    And the request query parameter "identifier" is "https://fhir.nhs.uk/Id/nhs-number|{registered_nhs_number}"
    When I send a GET request to "{gpc_documents_base}/Patient"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the Bundle has exactly 1 entry
    And every Bundle entry is a Patient resource
    And the JSON value at "entry[0].resource.id" is "{registered_patient_id}"

  @req:GPC-DOC-2
  Scenario: Search a patient's documents with the included resources
    Given the request is a GP Connect "document search" request
    And the request query parameter "_include" is "DocumentReference:subject:Patient"
    And the request query parameter "_include" is "DocumentReference:custodian:Organization"
    And the request query parameter "_include" is "DocumentReference:author:Organization"
    And the request query parameter "_include" is "DocumentReference:author:Practitioner"
    And the request query parameter "_revinclude:recurse" is "PractitionerRole:practitioner"
    When I send a GET request to "{gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the FHIRPath "entry.resource.ofType(DocumentReference).exists()" is true
    And the FHIRPath "entry.resource.ofType(DocumentReference).all(subject.reference = 'Patient/{registered_patient_id}')" is true
    And the FHIRPath "entry.resource.ofType(DocumentReference).all(content.attachment.url.exists())" is true
    And the FHIRPath "entry.resource.ofType(Patient).id contains '{registered_patient_id}'" is true
    And the FHIRPath "entry.resource.ofType(Organization).exists()" is true
    And the FHIRPath "entry.resource.ofType(Practitioner).exists()" is true

  @req:GPC-DOC-2
  Scenario: A created range without documents is an empty searchset
    Given the request is a GP Connect "document search" request
    And the request query parameter "_include" is "DocumentReference:subject:Patient"
    And the request query parameter "created" is "ge2031-01-01"
    When I send a GET request to "{gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the FHIRPath "entry.resource.ofType(DocumentReference).empty()" is true

  @req:GPC-DOC-3
  Scenario Outline: A document search is rejected: <why>
    Given the request is a GP Connect "document search" request
    And the request query parameter "_include" is "DocumentReference:subject:Patient"
    And the request query parameter "<parameter>" is "<value>"
    When I send a GET request to "{gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference"
    Then the response is a GP Connect error with code "INVALID_PARAMETER" and status 422

    Examples:
      | why                        | parameter | value         |
      | created is not a date      | created   | ge2019-13-45  |
      | the range ends too early   | created   | le2010-01-01  |
      | an unsupported parameter   | category  | letters       |

  @req:GPC-DOC-3
  Scenario: The documents of an unknown patient are PATIENT_NOT_FOUND
    Given the request is a GP Connect "document search" request
    And the request query parameter "_include" is "DocumentReference:subject:Patient"
    When I send a GET request to "{gpc_documents_base}/Patient/{unknown_id}/DocumentReference"
    Then the response is a GP Connect error with code "PATIENT_NOT_FOUND" and status 404

  @req:GPC-DOC-4
  Scenario: Retrieve a document as a FHIR Binary
    Given the request is a GP Connect "document retrieve" request
    When I send a GET request to "{gpc_documents_base}/Binary/{document_binary_id}"
    Then the response status is 200
    And the response content type is "application/fhir+json"
    And the response body is a Binary resource
    And the JSON value at "contentType" exists
    And the JSON value at "content" matches "^[A-Za-z0-9+/]+=*$"

  @req:GPC-DOC-4
  Scenario: Retrieving an unknown document is NO_RECORD_FOUND
    Given the request is a GP Connect "document retrieve" request
    When I send a GET request to "{gpc_documents_base}/Binary/{unknown_id}"
    Then the response is a GP Connect error with code "NO_RECORD_FOUND" and status 404
