@gpconnect @structured
Feature: Access Record Structured 1.6: clinical areas and their parameters
  Each clinical area is asked for with its include parameter and answered with its
  List and resources; the parameter parts (resolved allergies, prescription issues,
  problem filters, most recent consultations, search periods) shape what comes back.

  @req:GPC-ARS-2
  Scenario Outline: Allergies are listed (<body>)
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).code.coding.where(system = 'http://snomed.info/sct').code contains '886921000000105'" is true
    And the FHIRPath "entry.resource.ofType(AllergyIntolerance).exists()" is true

    Examples:
      | body |
      | allergies-active |
      | allergies-resolved |

  @req:GPC-ARS-2
  Scenario: includeResolvedAllergies=true adds the ended allergies List
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/allergies-resolved.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).code.coding.code contains '1103671000000101'" is true
    And the FHIRPath "entry.resource.ofType(List).where(code.coding.code = '1103671000000101').entry.exists()" is true

  @req:GPC-ARS-2
  Scenario: includeResolvedAllergies=false leaves the ended allergies out
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/allergies-active.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).where(code.coding.code = '1103671000000101').empty()" is true

  @req:GPC-ARS-3
  Scenario Outline: Medications are listed (<body>)
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).code.coding.where(system = 'http://snomed.info/sct').code contains '933361000000108'" is true
    And the FHIRPath "entry.resource.ofType(MedicationStatement).exists()" is true
    And the FHIRPath "entry.resource.ofType(Medication).exists()" is true

    Examples:
      | body |
      | medications-default |
      | medications-issues |
      | medications-no-issues |
      | medications-from-date |

  @req:GPC-ARS-3
  Scenario Outline: Prescription issues come with includePrescriptionIssues=true (<body>)
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(MedicationRequest).where(intent = 'order').exists()" is true

    Examples:
      | body |
      | medications-issues |
      | medications-from-date |

  @req:GPC-ARS-3
  Scenario: includePrescriptionIssues=false leaves the issues out
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/medications-no-issues.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(MedicationRequest).where(intent = 'order').empty()" is true
    And the FHIRPath "entry.resource.ofType(MedicationRequest).where(intent = 'plan').exists()" is true

  @req:GPC-ARS-4
  Scenario Outline: Problems are listed with their linked clinical items (<body>)
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).code.coding.where(system = 'http://snomed.info/sct').code contains '717711000000103'" is true
    And the FHIRPath "entry.resource.ofType(Condition).exists()" is true
    And the FHIRPath "entry.resource.ofType(Condition).extension.where(url = 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-RelatedClinicalContent-1').exists()" is true

    Examples:
      | body |
      | problems |
      | problems-active |
      | problems-major |

  @req:GPC-ARS-4
  Scenario Outline: filterStatus=<status> keeps only <status> problems
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).code.coding.where(system = 'http://snomed.info/sct').code contains '717711000000103'" is true
    And the FHIRPath "entry.resource.ofType(Condition).all(clinicalStatus = '<status>')" is true

    Examples:
      | body | status |
      | problems-active | active |
      | problems-inactive | inactive |

  @req:GPC-ARS-4
  Scenario Outline: filterSignificance=<significance> keeps only <significance> problems
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).code.coding.where(system = 'http://snomed.info/sct').code contains '717711000000103'" is true
    And the FHIRPath "entry.resource.ofType(Condition).all(extension.where(url = 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-ProblemSignificance-1').value = '<significance>')" is true

    Examples:
      | body | significance |
      | problems-major | major |
      | problems-minor | minor |

  @req:GPC-ARS-5
  Scenario Outline: Immunisations are listed (<body>)
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).code.coding.where(system = 'http://snomed.info/sct').code contains '1102181000000102'" is true
    And the FHIRPath "entry.resource.ofType(Immunization).exists()" is true

    Examples:
      | body |
      | immunisations |
      | immunisations-not-given |

  @req:GPC-ARS-6
  Scenario Outline: Consultations are listed (<body>)
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).code.coding.where(system = 'http://snomed.info/sct').code contains '1149501000000101'" is true
    And the FHIRPath "entry.resource.ofType(Encounter).exists()" is true

    Examples:
      | body |
      | consultations |
      | consultations-period |
      | consultations-most-recent |

  @req:GPC-ARS-6
  Scenario: includeNumberOfMostRecent=1 answers one consultation
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/consultations-most-recent.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).where(code.coding.code = '1149501000000101').entry.count() = 1" is true

  @req:GPC-ARS-7
  Scenario Outline: Investigations are listed (<body>)
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).code.coding.where(system = 'http://snomed.info/sct').code contains '887191000000108'" is true
    And the FHIRPath "entry.resource.ofType(DiagnosticReport).exists()" is true
    And the FHIRPath "entry.resource.ofType(Observation).exists()" is true

    Examples:
      | body |
      | investigations |
      | investigations-period |

  @req:GPC-ARS-8
  Scenario Outline: Diary entries are listed (<body>)
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).code.coding.where(system = 'http://snomed.info/sct').code contains '714311000000108'" is true
    And the FHIRPath "entry.resource.ofType(ProcedureRequest).exists()" is true

    Examples:
      | body |
      | diary |
      | diary-search-date |

  @req:GPC-ARS-9
  Scenario Outline: Referrals are listed (<body>)
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).code.coding.where(system = 'http://snomed.info/sct').code contains '792931000000107'" is true
    And the FHIRPath "entry.resource.ofType(ReferralRequest).exists()" is true

    Examples:
      | body |
      | referrals |
      | referrals-period |

  @req:GPC-ARS-10
  Scenario Outline: Uncategorised data is listed (<body>)
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).code.coding.where(system = 'http://snomed.info/sct').code contains '826501000000100'" is true
    And the FHIRPath "entry.resource.ofType(Observation).exists()" is true

    Examples:
      | body |
      | uncategorised |
      | uncategorised-period |

  @req:GPC-ARS-11
  Scenario Outline: A valid search period or date is accepted (<body>)
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the Bundle type is "collection"

    Examples:
      | body |
      | medications-from-date |
      | consultations-period |
      | investigations-period |
      | referrals-period |
      | diary-search-date |
      | uncategorised-period |
