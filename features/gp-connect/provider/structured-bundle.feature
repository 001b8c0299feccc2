@gpconnect @structured @capability:structured
Feature: Access Record Structured 1.6: the record Bundle
  $gpc.getstructuredrecord answers a collection Bundle: the patient, the practice, the
  usual GP when the patient has one, one List per clinical area asked for (coded as the
  specification states), and every resource a List names. The checks that depend on
  what the test patient's record holds are in scenarios of their own, not applicable
  when the record has nothing to look at.

  @req:GPC-ARS-1
  Scenario Outline: The record for <body> holds the patient and the practice
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the Bundle type is "collection"
    And the FHIRPath "meta.profile contains 'https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-StructuredRecord-Bundle-1'" is true
    And the FHIRPath "entry.resource.ofType(Patient).identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').value contains '{registered_nhs_number}'" is true
    And the FHIRPath "entry.resource.ofType(Organization).exists()" is true

    @control:structured-allergies
    Examples: allergies
      | body |
      | allergies-active |
      | allergies-resolved |

    @control:structured-medications
    Examples: medications
      | body |
      | medications-default |
      | medications-issues |
      | medications-no-issues |
      | medications-from-date |

    @control:structured-problems
    Examples: problems
      | body |
      | problems |
      | problems-active |
      | problems-inactive |
      | problems-major |
      | problems-minor |

    @control:structured-immunisations
    Examples: immunisations
      | body |
      | immunisations |
      | immunisations-not-given |

    @control:structured-consultations
    Examples: consultations
      | body |
      | consultations |
      | consultations-period |
      | consultations-most-recent |

    @control:structured-investigations
    Examples: investigations
      | body |
      | investigations |
      | investigations-period |

    @control:structured-referrals
    Examples: referrals
      | body |
      | referrals |
      | referrals-period |

    @control:structured-diary
    Examples: diary
      | body |
      | diary |
      | diary-search-date |

    @control:structured-uncategorised
    Examples: uncategorised
      | body |
      | uncategorised |
      | uncategorised-period |

  @req:GPC-ARS-1
  Scenario Outline: Every item the Lists of <body> name is in the record
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the test data has "entry.resource.ofType(List).entry.item"
    And every item of every List in the Bundle is an entry of the Bundle

    Examples: allergies
      | body |
      | allergies-active |
      | allergies-resolved |

    Examples: medications
      | body |
      | medications-default |
      | medications-issues |
      | medications-no-issues |
      | medications-from-date |

    Examples: problems
      | body |
      | problems |
      | problems-active |
      | problems-inactive |
      | problems-major |
      | problems-minor |

    Examples: immunisations
      | body |
      | immunisations |
      | immunisations-not-given |

    Examples: consultations
      | body |
      | consultations |
      | consultations-period |
      | consultations-most-recent |

    Examples: investigations
      | body |
      | investigations |
      | investigations-period |

    Examples: referrals
      | body |
      | referrals |
      | referrals-period |

    Examples: diary
      | body |
      | diary |
      | diary-search-date |

    Examples: uncategorised
      | body |
      | uncategorised |
      | uncategorised-period |

  @req:GPC-ARS-1
  Scenario Outline: The record for <body> holds the patient's usual GP, if they have one
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And every "entry.resource.ofType(Patient).generalPractitioner.reference.where(contains('Practitioner/'))" satisfies "(%resource.entry.resource.select(resourceType + '/' + id) | %resource.entry.fullUrl) contains $this"

    Examples:
      | body |
      | allergies-active |
      | medications-default |
      | problems |
      | immunisations |
      | consultations |
      | investigations |
      | referrals |
      | diary |
      | uncategorised |
