@gpconnect @register
Feature: Register a patient
  A consumer (for example an urgent care service) registers a patient who is on the
  spine but not registered at the practice, as a temporary patient. The request bodies
  name the test data by suite input (bodies/register/); against a real provider,
  unregistered_nhs_number must be a patient not yet registered there.

  @req:GPC-REG-1
  Scenario: Register a patient who is not registered at the practice
    Given the request is a GP Connect "patient register" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/register/register.json"
    When I send a POST request to "/Patient/$gpc.registerpatient"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the Bundle has exactly 1 entry
    And every Bundle entry is a Patient resource
    And the FHIRPath "entry.resource.identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').value = '{unregistered_nhs_number}'" is true
    And the FHIRPath "entry.resource.active" is true
    And the FHIRPath "entry.resource.extension.where(url = 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-RegistrationDetails-1').extension.where(url = 'registrationType').value.coding.where(system = 'https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-RegistrationType-1').code = 'T'" is true
    And the response conforms to "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Searchset-Bundle-1"

  @req:GPC-REG-2
  Scenario: A patient already registered at the practice cannot be registered again
    Given the request is a GP Connect "patient register" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/register/already-registered.json"
    When I send a POST request to "/Patient/$gpc.registerpatient"
    Then the response is a GP Connect error with code "DUPLICATE_REJECTED" and status 409

  @req:GPC-REG-3
  Scenario Outline: A registration is refused: <why>
    Given the request is a GP Connect "patient register" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/register/<body>.json"
    When I send a POST request to "/Patient/$gpc.registerpatient"
    Then the response is a GP Connect error with code "<code>" and status <status>

    Examples:
      | why                                 | body               | code                         | status |
      | the patient is deceased             | deceased           | INVALID_PATIENT_DEMOGRAPHICS | 400    |
      | the patient's record is sensitive   | sensitive          | INVALID_PATIENT_DEMOGRAPHICS | 400    |
      | the NHS number's check digit        | invalid-nhs-number | INVALID_NHS_NUMBER           | 400    |
      | the Patient has no birth date       | no-birth-date      | BAD_REQUEST                  | 400    |
      | the body is not Parameters          | not-parameters     | INVALID_RESOURCE             | 422    |
      | the parameter is not registerPatient | wrong-parameter   | INVALID_PARAMETER            | 422    |
