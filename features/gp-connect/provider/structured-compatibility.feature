@gpconnect @structured @compatibility @capability:structured
Feature: Access Record Structured 1.6: forwards compatibility
  A consumer on a newer version of the specification may ask for parameters or parts
  the provider does not know. The provider answers what it supports and warns of each
  name it does not recognise in one OperationOutcome inside the Bundle.

  @req:GPC-ARS-15
  Scenario Outline: An unrecognised <kind> is a warning beside the supported data
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/compat-<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the Bundle type is "collection"
    And the FHIRPath "entry.resource.ofType(List).code.coding.where(system = 'http://snomed.info/sct' and code = '886921000000105').exists()" is true
    And the FHIRPath "entry.resource.ofType(OperationOutcome).count() = 1" is true
    And the FHIRPath "entry.resource.ofType(OperationOutcome).issue.where(severity = 'warning' and code = 'not-supported' and diagnostics = '<name>' and details.text = '<name> is an unrecognised parameter' and details.coding.where(system = 'https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1' and code = 'NOT_IMPLEMENTED').exists()).exists()" is true
    And the response conforms to its meta.profile

    Examples:
      | kind      | body                   | name                               |
      | parameter | unrecognised-parameter | includeEverything                  |
      | part      | unrecognised-part      | includeAllergies.includeEverything |
