@gpconnect @structured @errors
Feature: Access Record Structured 1.6: parameter and patient errors
  Parameters given twice, of the wrong type or with impossible dates are 422
  INVALID_PARAMETER (ones the provider does not recognise are warnings:
  structured-compatibility.feature); a body that is not Parameters is
  INVALID_RESOURCE; the patient's identity and consent decide the rest.

  @req:GPC-ARS-12
  Scenario Outline: An invalid request is rejected: <case>
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/invalid-<case>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response is a GP Connect error with code "<code>" and status <status>

    Examples:
      | case | code | status |
      | duplicate-parameter | INVALID_PARAMETER | 422 |
      | duplicate-part | INVALID_PARAMETER | 422 |
      | part-wrong-type | INVALID_PARAMETER | 422 |
      | medication-bad-date | INVALID_PARAMETER | 422 |
      | medication-future-date | INVALID_PARAMETER | 422 |
      | consultation-period-reversed | INVALID_PARAMETER | 422 |
      | consultation-period-future | INVALID_PARAMETER | 422 |
      | consultation-period-bad-date | INVALID_PARAMETER | 422 |
      | consultation-most-recent-and-period | INVALID_PARAMETER | 422 |
      | consultation-most-recent-zero | INVALID_PARAMETER | 422 |
      | problems-bad-status | INVALID_PARAMETER | 422 |
      | problems-bad-significance | INVALID_PARAMETER | 422 |
      | investigation-period-reversed | INVALID_PARAMETER | 422 |
      | referral-period-reversed | INVALID_PARAMETER | 422 |
      | uncategorised-period-reversed | INVALID_PARAMETER | 422 |
      | uncategorised-period-future | INVALID_PARAMETER | 422 |
      | diary-bad-date | INVALID_PARAMETER | 422 |
      | immunisations-not-given-wrong-type | INVALID_PARAMETER | 422 |
      | no-clinical-area | INVALID_PARAMETER | 422 |
      | no-nhs-number | INVALID_PARAMETER | 422 |

  @req:GPC-ARS-13
  Scenario Outline: A body that is not Parameters is rejected: <case>
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/invalid-<case>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response is a GP Connect error with code "<code>" and status <status>

    Examples:
      | case | code | status |
      | not-parameters | INVALID_RESOURCE | 422 |

  @req:GPC-ARS-14
  Scenario Outline: The patient's identity and consent decide: <case>
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/invalid-<case>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response is a GP Connect error with code "<code>" and status <status>

    Examples:
      | case | code | status |
      | patient-not-found | PATIENT_NOT_FOUND | 404 |
      | patient-deceased | PATIENT_NOT_FOUND | 404 |
      | patient-sensitive | PATIENT_NOT_FOUND | 404 |
      | invalid-nhs-number | INVALID_NHS_NUMBER | 400 |
      | wrong-identifier-system | INVALID_IDENTIFIER_SYSTEM | 400 |
      | dissent | NO_PATIENT_CONSENT | 403 |
