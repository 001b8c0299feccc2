@gpconnect @structured @capability:structured
Feature: Access Record Structured: allergies
  The $gpc.getstructuredrecord operation returns a collection Bundle with the patient
  and the allergies List, and the allergy records the List names when the patient has
  any.

  @req:GPC-SR-1 @control:structured-allergies
  Scenario: Retrieve a registered patient's allergies
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/allergies.json"
    When I send a POST request to "/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the Bundle type is "collection"
    And the FHIRPath "meta.profile contains 'https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-StructuredRecord-Bundle-1'" is true
    And the FHIRPath "entry.resource.ofType(Patient).identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').value contains '{registered_nhs_number}'" is true
    And the FHIRPath "entry.resource.ofType(List).code.coding.where(system = 'http://snomed.info/sct').code contains '886921000000105'" is true

  @req:GPC-SR-1
  Scenario: The allergies List names AllergyIntolerance resources of the Bundle
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/allergies.json"
    When I send a POST request to "/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the test data has "entry.resource.ofType(List).where(code.coding.code = '886921000000105').entry"
    And every "entry.resource.ofType(List).where(code.coding.code = '886921000000105').entry.item.reference" satisfies "contains('AllergyIntolerance/')"
    And the FHIRPath "entry.resource.ofType(AllergyIntolerance).exists()" is true

  @req:GPC-SR-2 @negative:structured-allergies
  Scenario: A patient not on record is PATIENT_NOT_FOUND
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/allergies-unknown.json"
    When I send a POST request to "/Patient/$gpc.getstructuredrecord"
    Then the response is a GP Connect error with code "PATIENT_NOT_FOUND" and status 404
