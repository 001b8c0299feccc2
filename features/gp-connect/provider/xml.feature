@gpconnect @xml @capability:format:xml
Feature: FHIR XML answers
  A consumer may ask for FHIR XML, with Accept application/fhir+xml or with _format.
  Servers SHOULD support XML; these scenarios apply to a provider whose
  CapabilityStatement declares the XML format, which then answers FHIR XML, read by
  the same checks (JSON paths, FHIRPath, validation) as JSON.

  @req:GPC-XML-1
  Scenario Outline: <interaction> answers FHIR XML when Accept asks for it
    Given the request is a GP Connect "<interaction>" request
    And the request accepts "application/fhir+xml"
    When I send a GET request to "<path>"
    Then the response status is 200
    And the response content type is "application/fhir+xml"
    And the response body is a <type> resource
    And the JSON value at "id" is "<id>"

    @capability:foundations
    Examples: Foundations
      | interaction       | path                            | type         | id                      |
      | patient read      | /Patient/{registered_patient_id} | Patient      | {registered_patient_id} |
      | practitioner read | /Practitioner/{practitioner_id} | Practitioner | {practitioner_id}       |
      | organization read | /Organization/{organization_id} | Organization | {organization_id}       |
      | location read     | /Location/{location_id}         | Location     | {location_id}           |

    @capability:appointments
    Examples: Appointment Management
      | interaction      | path                                                 | type        | id               |
      | appointment read | {gpc_appointments_base}/Appointment/{appointment_id} | Appointment | {appointment_id} |

  @req:GPC-XML-1
  Scenario Outline: <interaction> answers FHIR XML when _format asks for it
    Given the request is a GP Connect "<interaction>" request
    And the request query parameter "_format" is "<format>"
    When I send a GET request to "<path>"
    Then the response status is 200
    And the response content type is "application/fhir+xml"
    And the response body is a <type> resource

    Examples: every provider
      | interaction | path      | type                | format |
      | metadata    | /metadata | CapabilityStatement | xml    |

    @capability:foundations
    Examples: Foundations
      | interaction       | path                             | type         | format               |
      | patient read      | /Patient/{registered_patient_id} | Patient      | application/fhir+xml |
      | practitioner read | /Practitioner/{practitioner_id}  | Practitioner | xml                  |
      | organization read | /Organization/{organization_id}  | Organization | application/fhir+xml |
      | location read     | /Location/{location_id}          | Location     | xml                  |

    @capability:appointments
    Examples: Appointment Management
      | interaction      | path                                                 | type        | format               |
      | appointment read | {gpc_appointments_base}/Appointment/{appointment_id} | Appointment | application/fhir+xml |

  @req:GPC-XML-1
  Scenario: The capability statement in XML declares STU3
    Given the request is a GP Connect "metadata" request
    And the request accepts "application/fhir+xml"
    When I send a GET request to "/metadata"
    Then the response status is 200
    And the response content type is "application/fhir+xml"
    And the JSON value at "fhirVersion" is "3.0.1"
    And the FHIRPath "rest.where(mode = 'server').exists()" is true

  @req:GPC-XML-1 @capability:structured
  Scenario: A structured record in XML holds the patient and the allergies List
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request accepts "application/fhir+xml"
    And the request body is the file "bodies/structured/allergies-active.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the response content type is "application/fhir+xml"
    And the Bundle type is "collection"
    And the FHIRPath "entry.resource.ofType(Patient).identifier.where(system = 'https://fhir.nhs.uk/Id/nhs-number').value contains '{registered_nhs_number}'" is true
    And the FHIRPath "entry.resource.ofType(List).code.coding.code contains '886921000000105'" is true
    And every item of every List in the Bundle is an entry of the Bundle

  @req:GPC-XML-1 @capability:foundations
  Scenario: A GP Connect error in XML
    Given the request is a GP Connect "patient read" request
    And the request accepts "application/fhir+xml"
    When I send a GET request to "/Patient/{unknown_id}"
    Then the response content type is "application/fhir+xml"
    And the response is a GP Connect error with code "PATIENT_NOT_FOUND" and status 404

  @req:GPC-VAL-1
  Scenario Outline: An XML <type> conforms to its profile
    Given the request is a GP Connect "<interaction>" request
    And the request accepts "application/fhir+xml"
    When I send a GET request to "<path>"
    Then the response status is 200
    And the response conforms to its meta.profile

    @capability:foundations
    Examples: Foundations
      | interaction       | path                             | type         |
      | practitioner read | /Practitioner/{practitioner_id}  | Practitioner |
      | organization read | /Organization/{organization_id}  | Organization |
      | patient read      | /Patient/{registered_patient_id} | Patient      |

    @capability:appointments
    Examples: Appointment Management
      | interaction      | path                                                 | type        |
      | appointment read | {gpc_appointments_base}/Appointment/{appointment_id} | Appointment |
