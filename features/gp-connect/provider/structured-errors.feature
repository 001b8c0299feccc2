@gpconnect @structured @errors @capability:structured
Feature: Access Record Structured 1.6: parameter and patient errors
  Each request is valid but for one defect: a parameter or part given twice, of the
  wrong type, with an impossible date or period (422 INVALID_PARAMETER, or
  INVALID_RESOURCE where the Parameters break the OperationDefinition), a body that is
  not Parameters (INVALID_RESOURCE), or a patient whose identity or consent forbids
  the record. Parameters the provider does not recognise are warnings
  (structured-compatibility.feature). Each negative's control is the valid request of
  the same clinical area (structured-bundle.feature), accepted in the same run.

  @req:GPC-ARS-12
  Scenario Outline: An invalid request is rejected: <case>
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/invalid-<case>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response is one of the GP Connect errors "<errors>"

    @negative:structured-allergies
    Examples: allergies
      | case | errors |
      | duplicate-parameter | 422 INVALID_RESOURCE or 422 INVALID_PARAMETER |
      | no-nhs-number | 422 INVALID_PARAMETER |

    @negative:structured-medications
    Examples: medications
      | case | errors |
      | duplicate-part | 422 INVALID_RESOURCE or 422 INVALID_PARAMETER |
      | part-wrong-type | 422 INVALID_RESOURCE or 422 INVALID_PARAMETER |
      | medication-bad-date | 422 INVALID_RESOURCE or 422 INVALID_PARAMETER |
      | medication-future-date | 422 INVALID_PARAMETER |

    @negative:structured-consultations
    Examples: consultations
      | case | errors |
      | consultation-period-reversed | 422 INVALID_PARAMETER |
      | consultation-period-future | 422 INVALID_PARAMETER |
      | consultation-period-bad-date | 422 INVALID_RESOURCE or 422 INVALID_PARAMETER |
      | consultation-most-recent-and-period | 422 INVALID_RESOURCE or 422 INVALID_PARAMETER |
      | consultation-most-recent-zero | 422 INVALID_RESOURCE or 422 INVALID_PARAMETER |

    @negative:structured-problems
    Examples: problems
      | case | errors |
      | problems-bad-status | 422 INVALID_PARAMETER |

    @negative:structured-immunisations
    Examples: immunisations
      | case | errors |
      | immunisations-not-given-wrong-type | 422 INVALID_RESOURCE or 422 INVALID_PARAMETER |

    @negative:structured-investigations
    Examples: investigations
      | case | errors |
      | investigation-period-reversed | 422 INVALID_RESOURCE or 422 INVALID_PARAMETER |

    @negative:structured-referrals
    Examples: referrals
      | case | errors |
      | referral-period-reversed | 422 INVALID_RESOURCE or 422 INVALID_PARAMETER |

    @negative:structured-diary
    Examples: diary
      | case | errors |
      | diary-bad-date | 422 INVALID_RESOURCE or 422 INVALID_PARAMETER |

    @negative:structured-uncategorised
    Examples: uncategorised
      | case | errors |
      | uncategorised-period-reversed | 422 INVALID_PARAMETER |
      | uncategorised-period-future | 422 INVALID_PARAMETER |

  @req:GPC-ARS-12 @negative:structured-problems
  Scenario: filterSignificance other than major or minor is rejected, or (1.6.2, which removed the part) warned about
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/invalid-problems-bad-significance.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response is one of the GP Connect errors "422 INVALID_PARAMETER", or a 200 answer where the FHIRPath "entry.resource.ofType(OperationOutcome).issue.where(severity = 'warning' and diagnostics = 'includeProblems.filterSignificance' and details.coding.where(code = 'NOT_IMPLEMENTED').exists()).exists()" is true

  @req:GPC-ARS-12
  Scenario: A request for no clinical area is rejected, or answered with the patient and no clinical List
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/invalid-no-clinical-area.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response is one of the GP Connect errors "422 INVALID_PARAMETER", or a 200 answer where the FHIRPath "entry.resource.ofType(Patient).exists() and entry.resource.ofType(List).empty()" is true

  @req:GPC-ARS-13 @negative:structured-allergies
  Scenario: A body that is not Parameters is rejected
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/invalid-not-parameters.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response is a GP Connect error with code "INVALID_RESOURCE" and status 422

  @req:GPC-ARS-14 @negative:structured-allergies
  Scenario Outline: The patient's identity and consent decide: <case>
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/invalid-<case>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response is one of the GP Connect errors "<errors>"

    Examples:
      | case | errors |
      | patient-not-found | 404 PATIENT_NOT_FOUND |
      | patient-deceased | 404 PATIENT_NOT_FOUND |
      | patient-sensitive | 404 PATIENT_NOT_FOUND |
      | invalid-nhs-number | 400 INVALID_NHS_NUMBER |
      | wrong-identifier-system | 400 INVALID_IDENTIFIER_SYSTEM or 422 INVALID_PARAMETER or 422 INVALID_RESOURCE |
      | dissent | 403 NO_PATIENT_CONSENT |
