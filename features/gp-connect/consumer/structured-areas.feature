@gp-connect @consumer
Feature: A consumer asks for each clinical area of the structured record
  Each scenario asks the consumer under test for one clinical area and checks that its
  Parameters name the patient and ask for that area, with only the parts the
  specification defines for it.

  @req:GPC-CONS-8
  Scenario Outline: The consumer asks for the <area>
    When the consumer is asked to "retrieve the <area> of {patient_nhs_number}"
    Then the counterpart "gpconnect-provider" receives a request within {wait_seconds} seconds
    And the received request is a POST to a path matching "/Patient/\$gpc\.getstructuredrecord$"
    And the checks that follow read the received request body
    And the FHIRPath "parameter.where(name = 'patientNHSNumber').value.value" evaluates to "{patient_nhs_number}"
    And the FHIRPath "parameter.where(name = '<parameter>').count() = 1" is true
    And the FHIRPath "parameter.where(name = '<parameter>').part.all(<parts>)" is true

    Examples:
      | area              | parameter                | parts                                                                   |
      | medications       | includeMedication        | name = 'includePrescriptionIssues' or name = 'medicationSearchFromDate' |
      | problems          | includeProblems          | name = 'filterStatus' or name = 'filterSignificance'                    |
      | immunisations     | includeImmunisations     | name = 'includeNotGiven'                                                |
      | consultations     | includeConsultations     | name = 'consultationSearchPeriod' or name = 'includeNumberOfMostRecent' |
      | investigations    | includeInvestigations    | name = 'investigationSearchPeriod'                                      |
      | referrals         | includeReferrals         | name = 'referralSearchPeriod'                                           |
      | diary             | includeDiaryEntries      | name = 'diaryEntriesSearchDate'                                         |
      | uncategorised data | includeUncategorisedData | name = 'uncategorisedDataSearchPeriod'                                  |
