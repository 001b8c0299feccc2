@gpconnect @structured
Feature: Access Record Structured: allergies
  The $gpc.getstructuredrecord operation returns a collection Bundle with the patient,
  the allergies list and the allergy records.

  @req:GPC-SR-1
  Scenario: Retrieve a registered patient's allergies
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/allergies.json"
    When I send a POST request to "/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the Bundle type is "collection"
    And the JSON value at "meta.profile[0]" is "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-StructuredRecord-Bundle-1"
    And the FHIRPath "entry.resource.ofType(Patient).identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').value contains '{registered_nhs_number}'" is true
    And the FHIRPath "entry.resource.ofType(List).code.coding.where(system = 'http://snomed.info/sct').code contains '886921000000105'" is true
    And the FHIRPath "entry.resource.ofType(AllergyIntolerance).exists()" is true

  @req:GPC-SR-2
  Scenario: A patient not on record is PATIENT_NOT_FOUND
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/allergies-unknown.json"
    When I send a POST request to "/Patient/$gpc.getstructuredrecord"
    Then the response is a GP Connect error with code "PATIENT_NOT_FOUND" and status 404
