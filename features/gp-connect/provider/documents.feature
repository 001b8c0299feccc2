@gpconnect @documents @capability:documents
Feature: Access Document: find a patient's documents and retrieve one
  The Access Document endpoint (its own base, input gpc_documents_base) answers its
  capability statement, finds the patient, searches their DocumentReferences with the
  mandatory _include and _revinclude parameters, and returns each document as a FHIR
  Binary. Each negative sends its control's request with one defect.

  Background:
    Given the variable "document_includes" is "_include=DocumentReference:subject:Patient&_include=DocumentReference:custodian:Organization&_include=DocumentReference:author:Organization&_include=DocumentReference:author:Practitioner&_revinclude:recurse=PractitionerRole:practitioner"

  @req:GPC-DOC-1 @control:document-metadata
  Scenario: The Access Document capability statement
    Given the request is a GP Connect "document metadata" request
    When I send a GET request to "{gpc_documents_base}/metadata"
    Then the response status is 200
    And the response body is a CapabilityStatement resource
    And the JSON value at "fhirVersion" is "3.0.1"
    And the FHIRPath "rest.resource.type contains 'DocumentReference'" is true
    And the FHIRPath "rest.resource.type contains 'Binary'" is true

  @req:GPC-DOC-1 @control:document-patient-search
  Scenario: Find the patient on the Access Document endpoint
    Given the request is a GP Connect "document patient search" request
    And the request query parameter "identifier" is "https://fhir.nhs.uk/Id/nhs-number|{registered_nhs_number}"
    When I send a GET request to "{gpc_documents_base}/Patient"
    Then the response status is 200
    And the Bundle type is "searchset"
    And every Bundle entry is a Patient resource
    And the FHIRPath "entry.resource.ofType(Patient).count() = 1" is true
    And the FHIRPath "entry.resource.ofType(Patient).id contains '{registered_patient_id}'" is true

  @req:GPC-DOC-2 @control:document-search
  Scenario: Search a patient's documents with the included resources
    Given the request is a GP Connect "document search" request
    When I send a GET request to "{gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference?{document_includes}"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the FHIRPath "entry.resource.ofType(Patient).id contains '{registered_patient_id}'" is true
    And the FHIRPath "entry.resource.ofType(Organization).exists()" is true

  @req:GPC-DOC-2
  Scenario: The documents found are the patient's, and the usual GP comes with them
    Given the request is a GP Connect "document search" request
    When I send a GET request to "{gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference?{document_includes}"
    Then the response status is 200
    And every "entry.resource.ofType(Patient).generalPractitioner.reference.where(contains('Practitioner/'))" satisfies "(%resource.entry.resource.select(resourceType + '/' + id) | %resource.entry.fullUrl) contains $this"
    And every "entry.resource.ofType(DocumentReference)" satisfies "subject.reference = 'Patient/{registered_patient_id}' or subject.reference.endsWith('/Patient/{registered_patient_id}')"
    And every "entry.resource.ofType(DocumentReference)" satisfies "content.attachment.url.exists() or content.attachment.title.exists()"

  @req:GPC-DOC-2
  Scenario: A created range without documents is an empty searchset
    Given the request is a GP Connect "document search" request
    When I send a GET request to "{gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference?{document_includes}&created=ge2031-01-01"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the FHIRPath "entry.resource.ofType(DocumentReference).empty()" is true

  @req:GPC-DOC-3
  Scenario: An unrecognised search parameter is ignored
    Given the request is a GP Connect "document search" request
    When I send a GET request to "{gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference?{document_includes}&category=letters"
    Then the response status is 200
    And the Bundle type is "searchset"

  @req:GPC-DOC-3 @negative:document-search
  Scenario: A search without the mandatory _include parameters is INVALID_PARAMETER
    Given the request is a GP Connect "document search" request
    When I send a GET request to "{gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference"
    Then the response is a GP Connect error with code "INVALID_PARAMETER" and status 422

  @req:GPC-DOC-5 @negative:document-search
  Scenario: A created value that is not a date is rejected (informational)
    Given the request is a GP Connect "document search" request
    When I send a GET request to "{gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference?{document_includes}&created=ge2019-13-45"
    Then the response is one of the GP Connect errors "422 INVALID_PARAMETER or 400 BAD_REQUEST"

  @req:GPC-DOC-3 @negative:document-search
  Scenario: The documents of an unknown patient are PATIENT_NOT_FOUND
    Given the request is a GP Connect "document search" request
    When I send a GET request to "{gpc_documents_base}/Patient/{unknown_id}/DocumentReference?{document_includes}"
    Then the response is a GP Connect error with code "PATIENT_NOT_FOUND" and status 404

  @req:GPC-DOC-4 @control:document-retrieve
  Scenario: Retrieve a document as a FHIR Binary
    Given the request is a GP Connect "document retrieve" request
    When I send a GET request to "{gpc_documents_base}/Binary/{document_binary_id}"
    Then the response status is 200
    And the response content type is "application/fhir+json"
    And the response body is a Binary resource
    And the JSON value at "contentType" exists
    And the JSON value at "content" matches "^[A-Za-z0-9+/]+=*$"

  @req:GPC-DOC-4 @negative:document-retrieve
  Scenario: Retrieving an unknown document is NO_RECORD_FOUND
    Given the request is a GP Connect "document retrieve" request
    When I send a GET request to "{gpc_documents_base}/Binary/{unknown_id}"
    Then the response is a GP Connect error with code "NO_RECORD_FOUND" and status 404
