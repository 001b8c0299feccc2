@gp-connect @consumer
Feature: A consumer asks for each clinical area it uses
  Each scenario asks the consumer under test for one clinical area and checks that its
  Parameters name the patient and ask for that area, with only the parts the
  specification defines for it. Only the areas the consumer uses are checked (the
  clinical_areas input; empty: all of them); the others are not applicable.

  @req:GPC-CONS-8
  Scenario Outline: The consumer asks for the <area>
    When the consumer is asked to "retrieve the <area> of {patient_nhs_number}"
    Then the counterpart "gpconnect-provider" receives a request within {wait_seconds} seconds
    And the received request is a POST to a path matching "/Patient/\$gpc\.getstructuredrecord$"
    And the checks that follow read the received request body
    And the FHIRPath "parameter.where(name = 'patientNHSNumber').value.value" evaluates to "{patient_nhs_number}"
    And the FHIRPath "parameter.where(name = '<parameter>').count() <times>" is true
    And the FHIRPath "parameter.where(name = '<parameter>').part.all(<parts>)" is true

    @capability:allergies
    Examples: allergies
      | area | parameter | times | parts |
      | allergies | includeAllergies | = 1 | name = 'includeResolvedAllergies' |

    @capability:medications
    Examples: medications
      | area | parameter | times | parts |
      | medications | includeMedication | = 1 | name = 'includePrescriptionIssues' or name = 'medicationSearchFromDate' |

    @capability:problems
    Examples: problems
      | area | parameter | times | parts |
      | problems | includeProblems | >= 1 | name = 'filterStatus' or name = 'filterSignificance' |

    @capability:immunisations
    Examples: immunisations
      | area | parameter | times | parts |
      | immunisations | includeImmunisations | = 1 | name = 'includeNotGiven' or name = 'includeStatus' |

    @capability:consultations
    Examples: consultations
      | area | parameter | times | parts |
      | consultations | includeConsultations | = 1 | name = 'consultationSearchPeriod' or name = 'includeNumberOfMostRecent' |

    @capability:investigations
    Examples: investigations
      | area | parameter | times | parts |
      | investigations | includeInvestigations | = 1 | name = 'investigationSearchPeriod' |

    @capability:referrals
    Examples: referrals
      | area | parameter | times | parts |
      | referrals | includeReferrals | = 1 | name = 'referralSearchPeriod' |

    @capability:diary
    Examples: diary entries
      | area | parameter | times | parts |
      | diary entries | includeDiaryEntries | = 1 | name = 'diaryEntriesSearchDate' |

    @capability:uncategorised
    Examples: uncategorised data
      | area | parameter | times | parts |
      | uncategorised data | includeUncategorisedData | = 1 | name = 'uncategorisedDataSearchPeriod' |

  @req:GPC-CONS-5 @capability:allergies
  Scenario: A request for allergies says whether to include resolved allergies
    When the consumer is asked to "retrieve the allergies of {patient_nhs_number}"
    Then the counterpart "gpconnect-provider" receives a request within {wait_seconds} seconds
    And the checks that follow read the received request body
    And the FHIRPath "parameter.where(name = 'includeAllergies').exists()" is true
    And the FHIRPath "parameter.where(name = 'includeAllergies').all(part.where(name = 'includeResolvedAllergies').count() = 1)" is true
