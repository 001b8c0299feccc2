@read
Feature: Read, vread and history
  Reading a resource by id returns it, with its version in the ETag where the server
  versions; an unknown id is a 404.

  Background:
    Given the request accepts "application/fhir+json"

  @req:R4-READ-1 @capability:Patient.read @control:read-unknown
  Scenario Outline: Read a test patient by id
    When I send a GET request to "/Patient/{<patient>}"
    Then the response status is 200
    And the response body is a Patient resource
    And the JSON value at "id" is "{<patient>}"

    Examples:
      | patient           |
      | patient_id        |
      | second_patient_id |
      | third_patient_id  |

  @req:R4-HTTP-1 @capability:Patient.read
  Scenario Outline: A read answers in FHIR JSON
    When I send a GET request to "/Patient/{<patient>}"
    Then the response status is 200
    And the response content type is "application/fhir+json"

    Examples:
      | patient           |
      | patient_id        |
      | second_patient_id |
      | third_patient_id  |

  @req:R4-READ-2 @capability:Patient.read @capability:Patient.versioning
  Scenario Outline: The ETag carries the resource version
    When I send a GET request to "/Patient/{<patient>}"
    Then the response status is 200
    And the ETag matches the resource version

    Examples:
      | patient           |
      | patient_id        |
      | second_patient_id |
      | third_patient_id  |

  @req:R4-READ-3 @capability:Patient.read
  Scenario: A read says when the resource last changed
    When I send a GET request to "/Patient/{patient_id}"
    Then the response status is 200
    And the response header "Last-Modified" is an HTTP date

  @req:R4-READ-4 @capability:Patient.read @negative:read-unknown
  Scenario: Reading an unknown id is a 404
    When I send a GET request to "/Patient/{unknown_patient_id}"
    Then the response status is 404

  @req:R4-ERR-1 @capability:Patient.read @negative:read-unknown
  Scenario: The 404 for an unknown id carries an OperationOutcome
    When I send a GET request to "/Patient/{unknown_patient_id}"
    Then the error response carries an OperationOutcome

  @req:R4-VREAD-1 @capability:Patient.vread @capability:Patient.versioning
  Scenario: Read a specific version
    When I send a GET request to "/Patient/{patient_id}"
    Then the response status is 200
    And the version of the resource can be read on its own

  @req:R4-HIST-1 @capability:Patient.history-instance
  Scenario: Instance history is a history Bundle
    When I send a GET request to "/Patient/{patient_id}/_history"
    Then the response status is 200
    And the Bundle type is "history"
    And every "entry" satisfies "resource.exists() or request.method.exists()"
