@gpconnect @structured
Feature: Access Record Structured 1.6: the record Bundle
  $gpc.getstructuredrecord answers a collection Bundle: the patient, the practice and
  the practitioners, one List per clinical area asked for (coded as the specification
  states), and every resource a List names.

  @req:GPC-ARS-1
  Scenario Outline: The record for <body> holds the patient, the practice and every listed item
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the Bundle type is "collection"
    And the FHIRPath "meta.profile contains 'https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-StructuredRecord-Bundle-1'" is true
    And the FHIRPath "entry.resource.ofType(Patient).identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').value contains '{registered_nhs_number}'" is true
    And the FHIRPath "entry.resource.ofType(Organization).exists()" is true
    And the FHIRPath "entry.resource.ofType(Practitioner).exists()" is true
    And every item of every List in the Bundle is an entry of the Bundle

    Examples:
      | body |
      | allergies-active |
      | allergies-resolved |
      | medications-default |
      | medications-issues |
      | medications-no-issues |
      | medications-from-date |
      | problems |
      | problems-active |
      | problems-inactive |
      | problems-major |
      | problems-minor |
      | immunisations |
      | immunisations-not-given |
      | consultations |
      | consultations-period |
      | consultations-most-recent |
      | investigations |
      | investigations-period |
      | referrals |
      | referrals-period |
      | diary |
      | diary-search-date |
      | uncategorised |
      | uncategorised-period |
