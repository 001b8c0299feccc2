@gpconnect @register @capability:register
Feature: Register a patient
  A consumer (for example an urgent care service) registers a patient who is on the
  spine but not registered at the practice, as a temporary patient. The request bodies
  name the test data by suite input (bodies/register/); against a real provider,
  unregistered_nhs_number must be a patient not yet registered there. Each refusal
  sends the registration's request with one defect.

  @req:GPC-REG-1 @control:patient-register
  Scenario: Register a patient who is not registered at the practice
    Given the request is a GP Connect "patient register" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/register/register.json"
    When I send a POST request to "/Patient/$gpc.registerpatient"
    Then the response status is 200
    And the Bundle type is "searchset"
    And every Bundle entry is a Patient resource
    And the FHIRPath "entry.resource.ofType(Patient).count() = 1" is true
    And the FHIRPath "entry.resource.ofType(Patient).identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').value contains '{unregistered_nhs_number}'" is true
    And the FHIRPath "entry.resource.ofType(Patient).all(active.empty() or active = true)" is true
    And the FHIRPath "entry.resource.ofType(Patient).extension.where(url = 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-RegistrationDetails-1').extension.where(url = 'registrationType').value.coding.where(system = 'https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-RegistrationType-1' or system = 'https://fhir.nhs.uk/CareConnect-RegistrationType-1').exists()" is true
    And every "entry.resource.ofType(Patient).extension.where(url = 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-RegistrationDetails-1').extension.where(url = 'registrationType').value" satisfies "coding.where(code = 'R').empty() and (coding.where(code = 'Other').empty() or text.exists())"
    And the response conforms to "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Searchset-Bundle-1"

  @req:GPC-REG-2 @negative:patient-register
  Scenario: A patient already registered at the practice cannot be registered again
    Given the request is a GP Connect "patient register" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/register/already-registered.json"
    When I send a POST request to "/Patient/$gpc.registerpatient"
    Then the response is a GP Connect error with code "DUPLICATE_REJECTED" and status 409

  @req:GPC-REG-3 @negative:patient-register
  Scenario Outline: A registration is refused: <why> (a GP Connect error; <expected> expected)
    Given the request is a GP Connect "patient register" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/register/<body>.json"
    When I send a POST request to "/Patient/$gpc.registerpatient"
    Then the response is a GP Connect error with a 4xx status

    Examples:
      | why                                  | body               | expected                                         |
      | the patient is deceased              | deceased           | 400 INVALID_PATIENT_DEMOGRAPHICS                 |
      | the patient's record is sensitive    | sensitive          | 400 INVALID_PATIENT_DEMOGRAPHICS                 |
      | the NHS number's check digit         | invalid-nhs-number | 400 INVALID_NHS_NUMBER                           |
      | the Patient has no birth date        | no-birth-date      | 400 BAD_REQUEST or 422 INVALID_RESOURCE          |
      | the body is not Parameters           | not-parameters     | 422 INVALID_RESOURCE or 400 BAD_REQUEST          |
      | the parameter is not registerPatient | wrong-parameter    | 422 INVALID_PARAMETER or 422 INVALID_RESOURCE    |
