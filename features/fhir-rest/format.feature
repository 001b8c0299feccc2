@format
Feature: Content negotiation
  FHIR JSON is asked for with _format or Accept; what the server cannot produce or
  read is refused with the right status.

  @req:R4-FMT-1 @capability:Patient.read
  Scenario Outline: _format=<format> returns FHIR JSON
    Given the request query parameter "_format" is "<format>"
    When I send a GET request to "/Patient/{patient_id}"
    Then the response status is 200
    And the response content type is "application/fhir+json"
    And the response body is a Patient resource

    Examples:
      | format                |
      | json                  |
      | application/fhir+json |

  @req:R4-FMT-2 @capability:Patient.read
  Scenario: Accept: application/fhir+json is honoured
    Given the request headers are:
      | name   | value                 |
      | Accept | application/fhir+json |
    When I send a GET request to "/Patient/{patient_id}"
    Then the response status is 200
    And the response content type is "application/fhir+json"
    And the response body is a Patient resource

  @req:R4-FMT-3 @capability:Patient.read
  Scenario: An Accept header the server cannot satisfy is refused
    Given the request accepts "text/csv"
    When I send a GET request to "/Patient/{patient_id}"
    Then the response status is 406

  @req:R4-FMT-4 @capability:Patient.create
  Scenario: A body in an unsupported media type is refused
    Given the request accepts "application/fhir+json"
    And the request content type is "text/plain"
    And the request body is:
      """
      family=Smith
      """
    When I send a POST request to "/Patient"
    Then the response status is 415
