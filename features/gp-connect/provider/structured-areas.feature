@gpconnect @structured @capability:structured
Feature: Access Record Structured 1.6: clinical areas and their parameters
  Each clinical area is asked for with its include parameter and answered with its
  List (coded as the specification states) and the resources it names; the parameter
  parts (resolved allergies, prescription issues, problem filters, most recent
  consultations, search periods) shape what comes back. A check on what the test
  patient's record holds is not applicable when the record has nothing to look at
  (an empty List is a valid answer), never passed on nothing.

  Scenario Outline: The record for <body> holds the <area> List
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).code.coding.where(system = 'http://snomed.info/sct').code contains '<code>'" is true

    @req:GPC-ARS-2
    Examples: allergies
      | body | area | code |
      | allergies-active | allergies | 886921000000105 |
      | allergies-resolved | allergies | 886921000000105 |

    @req:GPC-ARS-3
    Examples: medications
      | body | area | code |
      | medications-default | medications | 933361000000108 |
      | medications-issues | medications | 933361000000108 |
      | medications-no-issues | medications | 933361000000108 |
      | medications-from-date | medications | 933361000000108 |

    @req:GPC-ARS-4
    Examples: problems
      | body | area | code |
      | problems | problems | 717711000000103 |
      | problems-active | problems | 717711000000103 |
      | problems-inactive | problems | 717711000000103 |
      | problems-major | problems | 717711000000103 |
      | problems-minor | problems | 717711000000103 |

    @req:GPC-ARS-5
    Examples: immunisations
      | body | area | code |
      | immunisations | immunisations | 1102181000000102 |
      | immunisations-not-given | immunisations | 1102181000000102 |

    @req:GPC-ARS-6
    Examples: consultations
      | body | area | code |
      | consultations | consultations | 1149501000000101 |
      | consultations-period | consultations | 1149501000000101 |
      | consultations-most-recent | consultations | 1149501000000101 |

    @req:GPC-ARS-7
    Examples: investigations
      | body | area | code |
      | investigations | investigations | 887191000000108 |
      | investigations-period | investigations | 887191000000108 |

    @req:GPC-ARS-9
    Examples: referrals
      | body | area | code |
      | referrals | referrals | 792931000000107 |
      | referrals-period | referrals | 792931000000107 |

    @req:GPC-ARS-8
    Examples: diary entries
      | body | area | code |
      | diary | diary entries | 714311000000108 |
      | diary-search-date | diary entries | 714311000000108 |

    @req:GPC-ARS-10
    Examples: uncategorised data
      | body | area | code |
      | uncategorised | uncategorised data | 826501000000100 |
      | uncategorised-period | uncategorised data | 826501000000100 |

  Scenario Outline: The <area> List of <body> names <type> resources of the record
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And every "entry.resource.ofType(List).where(code.coding.where(system = 'http://snomed.info/sct' and code = '<code>').exists()).entry.item.reference" satisfies "contains('<type>/') and ((%resource.entry.resource.select(resourceType + '/' + id) | %resource.entry.fullUrl) contains $this)"

    @req:GPC-ARS-2
    Examples: allergies
      | body | area | code | type |
      | allergies-active | allergies | 886921000000105 | AllergyIntolerance |
      | allergies-resolved | allergies | 886921000000105 | AllergyIntolerance |

    @req:GPC-ARS-3
    Examples: medications
      | body | area | code | type |
      | medications-default | medications | 933361000000108 | MedicationStatement |
      | medications-issues | medications | 933361000000108 | MedicationStatement |
      | medications-no-issues | medications | 933361000000108 | MedicationStatement |
      | medications-from-date | medications | 933361000000108 | MedicationStatement |

    @req:GPC-ARS-4
    Examples: problems
      | body | area | code | type |
      | problems | problems | 717711000000103 | Condition |
      | problems-active | problems | 717711000000103 | Condition |
      | problems-inactive | problems | 717711000000103 | Condition |
      | problems-major | problems | 717711000000103 | Condition |
      | problems-minor | problems | 717711000000103 | Condition |

    @req:GPC-ARS-5
    Examples: immunisations
      | body | area | code | type |
      | immunisations | immunisations | 1102181000000102 | Immunization |
      | immunisations-not-given | immunisations | 1102181000000102 | Immunization |

    @req:GPC-ARS-6
    Examples: consultations
      | body | area | code | type |
      | consultations | consultations | 1149501000000101 | Encounter |
      | consultations-period | consultations | 1149501000000101 | Encounter |
      | consultations-most-recent | consultations | 1149501000000101 | Encounter |

    @req:GPC-ARS-7
    Examples: investigations
      | body | area | code | type |
      | investigations | investigations | 887191000000108 | DiagnosticReport |
      | investigations-period | investigations | 887191000000108 | DiagnosticReport |

    @req:GPC-ARS-9
    Examples: referrals
      | body | area | code | type |
      | referrals | referrals | 792931000000107 | ReferralRequest |
      | referrals-period | referrals | 792931000000107 | ReferralRequest |

    @req:GPC-ARS-8
    Examples: diary entries
      | body | area | code | type |
      | diary | diary entries | 714311000000108 | ProcedureRequest |
      | diary-search-date | diary entries | 714311000000108 | ProcedureRequest |

    @req:GPC-ARS-10
    Examples: uncategorised data
      | body | area | code | type |
      | uncategorised | uncategorised data | 826501000000100 | Observation |
      | uncategorised-period | uncategorised data | 826501000000100 | Observation |

  @req:GPC-ARS-2
  Scenario: includeResolvedAllergies=true adds the ended allergies, contained in a List of their own
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/allergies-resolved.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the test data has "entry.resource.ofType(List).where(code.coding.where(system = 'http://snomed.info/sct' and code = '1103671000000101').exists())"
    And every "entry.resource.ofType(List).where(code.coding.where(system = 'http://snomed.info/sct' and code = '1103671000000101').exists()).entry.item.reference" satisfies "startsWith('#')"
    And every "entry.resource.ofType(List).where(code.coding.where(system = 'http://snomed.info/sct' and code = '1103671000000101').exists()).contained" satisfies "resourceType = 'AllergyIntolerance' and clinicalStatus = 'resolved'"

  @req:GPC-ARS-2
  Scenario: includeResolvedAllergies=false leaves out the ended allergies the patient has
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/allergies-resolved.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the test data has "entry.resource.ofType(List).where(code.coding.where(system = 'http://snomed.info/sct' and code = '1103671000000101').exists()).entry"
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/allergies-active.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).where(code.coding.where(system = 'http://snomed.info/sct' and code = '1103671000000101').exists()).empty()" is true
    And the FHIRPath "entry.resource.ofType(AllergyIntolerance).where(clinicalStatus = 'resolved').empty()" is true

  @req:GPC-ARS-3
  Scenario Outline: Each medication statement of <body> comes with its Medication
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And every "entry.resource.ofType(MedicationStatement).medication.ofType(Reference).reference" satisfies "(%resource.entry.resource.select(resourceType + '/' + id) | %resource.entry.fullUrl) contains $this"

    Examples:
      | body |
      | medications-default |
      | medications-issues |
      | medications-no-issues |
      | medications-from-date |

  @req:GPC-ARS-3
  Scenario Outline: Prescription issues come with includePrescriptionIssues=true, each with its Medication (<body>)
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And every "entry.resource.ofType(MedicationRequest).where(intent = 'order').medication.ofType(Reference).reference" satisfies "(%resource.entry.resource.select(resourceType + '/' + id) | %resource.entry.fullUrl) contains $this"

    Examples:
      | body |
      | medications-issues |
      | medications-from-date |

  @req:GPC-ARS-16
  Scenario: includePrescriptionIssues=false leaves out the prescription issues the patient has
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/medications-issues.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the test data has "entry.resource.ofType(MedicationRequest).where(intent = 'order')"
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/medications-no-issues.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(MedicationRequest).where(intent = 'order').empty()" is true
    And the FHIRPath "entry.resource.ofType(MedicationRequest).where(intent = 'plan').exists()" is true

  @req:GPC-ARS-4
  Scenario Outline: Problems link their clinical items, each in the record (<body>)
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And every "entry.resource.ofType(Condition).extension.where(url = 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-RelatedClinicalContent-1').value.reference" satisfies "(%resource.entry.resource.select(resourceType + '/' + id) | %resource.entry.fullUrl) contains $this"

    Examples:
      | body |
      | problems |
      | problems-active |

  @req:GPC-ARS-4
  Scenario Outline: filterStatus=<status> keeps only <status> problems in the problems List
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And every "entry.resource.ofType(List).where(code.coding.where(system = 'http://snomed.info/sct' and code = '717711000000103').exists()).entry.item.reference" satisfies "%resource.entry.where(resource.ofType(Condition).clinicalStatus = '<status>').select('Condition/' + resource.id | fullUrl) contains $this"

    Examples:
      | body | status |
      | problems-active | active |
      | problems-inactive | inactive |

  @req:GPC-ARS-4
  Scenario Outline: filterSignificance=<significance> keeps only <significance> problems, unless the provider (1.6.2) warns that it does not support it
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And every "entry.resource.ofType(List).where(code.coding.code = '717711000000103' and %resource.entry.resource.ofType(OperationOutcome).issue.where(diagnostics = 'includeProblems.filterSignificance').empty()).entry.item.reference" satisfies "%resource.entry.where(resource.ofType(Condition).extension.where(url = 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-ProblemSignificance-1').value = '<significance>').select('Condition/' + resource.id | fullUrl) contains $this"

    Examples:
      | body | significance |
      | problems-major | major |
      | problems-minor | minor |

  @req:GPC-ARS-6
  Scenario: includeNumberOfMostRecent=1 answers at most one consultation, and one when the patient has any
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/consultations-most-recent.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).where(code.coding.where(system = 'http://snomed.info/sct' and code = '1149501000000101').exists()).entry.count() <= 1" is true
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/consultations.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the test data has "entry.resource.ofType(List).where(code.coding.where(system = 'http://snomed.info/sct' and code = '1149501000000101').exists()).entry"
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/consultations-most-recent.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the FHIRPath "entry.resource.ofType(List).where(code.coding.where(system = 'http://snomed.info/sct' and code = '1149501000000101').exists()).entry.count() = 1" is true

  @req:GPC-ARS-7
  Scenario Outline: Each investigation report's results are in the record (<body>)
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And every "entry.resource.ofType(DiagnosticReport).result.reference" satisfies "(%resource.entry.resource.select(resourceType + '/' + id) | %resource.entry.fullUrl) contains $this"

    Examples:
      | body |
      | investigations |
      | investigations-period |

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
