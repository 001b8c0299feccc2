@gpconnect @security
Feature: Security of the capability interactions
  The Spine Security Proxy headers and the JWT are checked on every capability
  interaction as on the foundations ones. Each negative sends the interaction's
  complete, valid request (its query, its body, If-Match where it needs one) with one
  defect: a missing Spine header or bearer token, another operation's interaction id
  (400 BAD_REQUEST), or a requested_scope that GP Connect does not define (refused as
  a malformed token). A provider that authorises by scope also refuses another
  endpoint's scope (GPC-JWT-4, optional, informational). The interaction's own
  positive scenario, accepted in the same run, is each negative's control.

  @capability:appointments @capability:Slot.search-type @negative:slot-search
  Scenario Outline: Search for free slots: a request <what> is rejected
    Given the request is a GP Connect "slot search" request
    And the request query parameter "start" is "ge{free_slot_start}"
    And the request query parameter "end" is "le{free_slot_end}"
    And the request query parameter "status" is "free"
    And the request query parameter "_include" is "Slot:schedule"
    And <defect>
    When I send a GET request to "{gpc_appointments_base}/Slot"
    Then <refusal>

    @req:GPC-SSP-1
    Examples: Spine headers
      | what | defect | refusal |
      | without Ssp-TraceID | the Spine header "Ssp-TraceID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-From | the Spine header "Ssp-From" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-To | the Spine header "Ssp-To" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-InteractionID | the Spine header "Ssp-InteractionID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-SSP-2
    Examples: another operation's interaction id
      | what | defect | refusal |
      | with the metadata interaction id | the Spine header "Ssp-InteractionID" is "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1" | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-JWT-6
    Examples: no bearer token
      | what | defect | refusal |
      | without an Authorization header | the Spine header "Authorization" is removed | the response refuses the access token |

    @req:GPC-JWT-7
    Examples: a scope GP Connect does not define
      | what | defect | refusal |
      | with the scope openid | the JWT claim "requested_scope" is "openid" | the response refuses the access token |

    @req:GPC-JWT-4
    Examples: another endpoint's scope (optional)
      | what | defect | refusal |
      | with the scope patient/*.read | the JWT claim "requested_scope" is "patient/*.read" | the response refuses the access token |

  @capability:appointments @capability:Appointment.create @negative:appointment-book
  Scenario Outline: Book an appointment: a request <what> is rejected
    Given the request is a GP Connect "appointment book" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/book.json"
    And <defect>
    When I send a POST request to "{gpc_appointments_base}/Appointment"
    Then <refusal>

    @req:GPC-SSP-1
    Examples: Spine headers
      | what | defect | refusal |
      | without Ssp-TraceID | the Spine header "Ssp-TraceID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-From | the Spine header "Ssp-From" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-To | the Spine header "Ssp-To" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-InteractionID | the Spine header "Ssp-InteractionID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-SSP-2
    Examples: another operation's interaction id
      | what | defect | refusal |
      | with the metadata interaction id | the Spine header "Ssp-InteractionID" is "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1" | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-JWT-6
    Examples: no bearer token
      | what | defect | refusal |
      | without an Authorization header | the Spine header "Authorization" is removed | the response refuses the access token |

    @req:GPC-JWT-7
    Examples: a scope GP Connect does not define
      | what | defect | refusal |
      | with the scope openid | the JWT claim "requested_scope" is "openid" | the response refuses the access token |

    @req:GPC-JWT-4
    Examples: another endpoint's scope (optional)
      | what | defect | refusal |
      | with the scope organization/*.write | the JWT claim "requested_scope" is "organization/*.write" | the response refuses the access token |

  @capability:appointments @capability:Appointment.read @negative:appointment-read
  Scenario Outline: Read an appointment: a request <what> is rejected
    Given the request is a GP Connect "appointment read" request
    And <defect>
    When I send a GET request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then <refusal>

    @req:GPC-SSP-1
    Examples: Spine headers
      | what | defect | refusal |
      | without Ssp-TraceID | the Spine header "Ssp-TraceID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-From | the Spine header "Ssp-From" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-To | the Spine header "Ssp-To" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-InteractionID | the Spine header "Ssp-InteractionID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-SSP-2
    Examples: another operation's interaction id
      | what | defect | refusal |
      | with the metadata interaction id | the Spine header "Ssp-InteractionID" is "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1" | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-JWT-6
    Examples: no bearer token
      | what | defect | refusal |
      | without an Authorization header | the Spine header "Authorization" is removed | the response refuses the access token |

    @req:GPC-JWT-7
    Examples: a scope GP Connect does not define
      | what | defect | refusal |
      | with the scope openid | the JWT claim "requested_scope" is "openid" | the response refuses the access token |

    @req:GPC-JWT-4
    Examples: another endpoint's scope (optional)
      | what | defect | refusal |
      | with the scope organization/*.read | the JWT claim "requested_scope" is "organization/*.read" | the response refuses the access token |

  @capability:appointments @capability:Appointment.update @negative:appointment-amend
  Scenario Outline: Amend an appointment: a request <what> is rejected
    Given the request is a GP Connect "appointment read" request
    When I send a GET request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then I capture the response header "ETag" as "etag"
    Given the request is a GP Connect "appointment amend" request
    And the request header "If-Match" is "{etag}"
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/amend.json"
    And <defect>
    When I send a PUT request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then <refusal>

    @req:GPC-SSP-1
    Examples: Spine headers
      | what | defect | refusal |
      | without Ssp-TraceID | the Spine header "Ssp-TraceID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-From | the Spine header "Ssp-From" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-To | the Spine header "Ssp-To" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-InteractionID | the Spine header "Ssp-InteractionID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-SSP-2
    Examples: another operation's interaction id
      | what | defect | refusal |
      | with the metadata interaction id | the Spine header "Ssp-InteractionID" is "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1" | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-JWT-6
    Examples: no bearer token
      | what | defect | refusal |
      | without an Authorization header | the Spine header "Authorization" is removed | the response refuses the access token |

    @req:GPC-JWT-7
    Examples: a scope GP Connect does not define
      | what | defect | refusal |
      | with the scope openid | the JWT claim "requested_scope" is "openid" | the response refuses the access token |

    @req:GPC-JWT-4
    Examples: another endpoint's scope (optional)
      | what | defect | refusal |
      | with the scope organization/*.write | the JWT claim "requested_scope" is "organization/*.write" | the response refuses the access token |

  @capability:appointments @capability:Appointment.update @negative:appointment-cancel
  Scenario Outline: Cancel an appointment: a request <what> is rejected
    Given the request is a GP Connect "appointment read" request
    When I send a GET request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then I capture the response header "ETag" as "etag"
    Given the request is a GP Connect "appointment cancel" request
    And the request header "If-Match" is "{etag}"
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/cancel.json"
    And <defect>
    When I send a PUT request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then <refusal>

    @req:GPC-SSP-1
    Examples: Spine headers
      | what | defect | refusal |
      | without Ssp-TraceID | the Spine header "Ssp-TraceID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-From | the Spine header "Ssp-From" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-To | the Spine header "Ssp-To" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-InteractionID | the Spine header "Ssp-InteractionID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-SSP-2
    Examples: another operation's interaction id
      | what | defect | refusal |
      | with the metadata interaction id | the Spine header "Ssp-InteractionID" is "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1" | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-JWT-6
    Examples: no bearer token
      | what | defect | refusal |
      | without an Authorization header | the Spine header "Authorization" is removed | the response refuses the access token |

    @req:GPC-JWT-7
    Examples: a scope GP Connect does not define
      | what | defect | refusal |
      | with the scope openid | the JWT claim "requested_scope" is "openid" | the response refuses the access token |

    @req:GPC-JWT-4
    Examples: another endpoint's scope (optional)
      | what | defect | refusal |
      | with the scope organization/*.write | the JWT claim "requested_scope" is "organization/*.write" | the response refuses the access token |

  @capability:appointments @capability:Appointment.search-type @negative:appointment-search
  Scenario Outline: Retrieve a patient's appointments: a request <what> is rejected
    Given the request is a GP Connect "appointment search" request
    And the request query parameter "start" is "ge2030-01-01"
    And the request query parameter "start" is "le2030-12-31"
    And <defect>
    When I send a GET request to "{gpc_appointments_base}/Patient/{registered_patient_id}/Appointment"
    Then <refusal>

    @req:GPC-SSP-1
    Examples: Spine headers
      | what | defect | refusal |
      | without Ssp-TraceID | the Spine header "Ssp-TraceID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-From | the Spine header "Ssp-From" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-To | the Spine header "Ssp-To" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-InteractionID | the Spine header "Ssp-InteractionID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-SSP-2
    Examples: another operation's interaction id
      | what | defect | refusal |
      | with the metadata interaction id | the Spine header "Ssp-InteractionID" is "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1" | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-JWT-6
    Examples: no bearer token
      | what | defect | refusal |
      | without an Authorization header | the Spine header "Authorization" is removed | the response refuses the access token |

    @req:GPC-JWT-7
    Examples: a scope GP Connect does not define
      | what | defect | refusal |
      | with the scope openid | the JWT claim "requested_scope" is "openid" | the response refuses the access token |

    @req:GPC-JWT-4
    Examples: another endpoint's scope (optional)
      | what | defect | refusal |
      | with the scope organization/*.read | the JWT claim "requested_scope" is "organization/*.read" | the response refuses the access token |

  @capability:structured @negative:structured-allergies
  Scenario Outline: Access Record Structured: a request <what> is rejected
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/allergies-active.json"
    And <defect>
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then <refusal>

    @req:GPC-SSP-1
    Examples: Spine headers
      | what | defect | refusal |
      | without Ssp-TraceID | the Spine header "Ssp-TraceID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-From | the Spine header "Ssp-From" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-To | the Spine header "Ssp-To" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-InteractionID | the Spine header "Ssp-InteractionID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-SSP-2
    Examples: another operation's interaction id
      | what | defect | refusal |
      | with the metadata interaction id | the Spine header "Ssp-InteractionID" is "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1" | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-JWT-6
    Examples: no bearer token
      | what | defect | refusal |
      | without an Authorization header | the Spine header "Authorization" is removed | the response refuses the access token |

    @req:GPC-JWT-7
    Examples: a scope GP Connect does not define
      | what | defect | refusal |
      | with the scope openid | the JWT claim "requested_scope" is "openid" | the response refuses the access token |

    @req:GPC-JWT-4
    Examples: another endpoint's scope (optional)
      | what | defect | refusal |
      | with the scope organization/*.read | the JWT claim "requested_scope" is "organization/*.read" | the response refuses the access token |

  @capability:register @negative:patient-register
  Scenario Outline: Register a patient: a request <what> is rejected
    Given the request is a GP Connect "patient register" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/register/register.json"
    And <defect>
    When I send a POST request to "/Patient/$gpc.registerpatient"
    Then <refusal>

    @req:GPC-SSP-1
    Examples: Spine headers
      | what | defect | refusal |
      | without Ssp-TraceID | the Spine header "Ssp-TraceID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-From | the Spine header "Ssp-From" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-To | the Spine header "Ssp-To" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-InteractionID | the Spine header "Ssp-InteractionID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-SSP-2
    Examples: another operation's interaction id
      | what | defect | refusal |
      | with the metadata interaction id | the Spine header "Ssp-InteractionID" is "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1" | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-JWT-6
    Examples: no bearer token
      | what | defect | refusal |
      | without an Authorization header | the Spine header "Authorization" is removed | the response refuses the access token |

    @req:GPC-JWT-7
    Examples: a scope GP Connect does not define
      | what | defect | refusal |
      | with the scope openid | the JWT claim "requested_scope" is "openid" | the response refuses the access token |

    @req:GPC-JWT-4
    Examples: another endpoint's scope (optional)
      | what | defect | refusal |
      | with the scope organization/*.write | the JWT claim "requested_scope" is "organization/*.write" | the response refuses the access token |

  @capability:documents @negative:document-metadata
  Scenario Outline: Access Document capability statement: a request <what> is rejected
    Given the request is a GP Connect "document metadata" request
    And <defect>
    When I send a GET request to "{gpc_documents_base}/metadata"
    Then <refusal>

    @req:GPC-SSP-1
    Examples: Spine headers
      | what | defect | refusal |
      | without Ssp-TraceID | the Spine header "Ssp-TraceID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-From | the Spine header "Ssp-From" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-To | the Spine header "Ssp-To" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-InteractionID | the Spine header "Ssp-InteractionID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-SSP-2
    Examples: another operation's interaction id
      | what | defect | refusal |
      | with the metadata interaction id | the Spine header "Ssp-InteractionID" is "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1" | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-JWT-6
    Examples: no bearer token
      | what | defect | refusal |
      | without an Authorization header | the Spine header "Authorization" is removed | the response refuses the access token |

    @req:GPC-JWT-7
    Examples: a scope GP Connect does not define
      | what | defect | refusal |
      | with the scope openid | the JWT claim "requested_scope" is "openid" | the response refuses the access token |

  @capability:documents @negative:document-patient-search
  Scenario Outline: Access Document find a patient: a request <what> is rejected
    Given the request is a GP Connect "document patient search" request
    And the request query parameter "identifier" is "https://fhir.nhs.uk/Id/nhs-number|{registered_nhs_number}"
    And <defect>
    When I send a GET request to "{gpc_documents_base}/Patient"
    Then <refusal>

    @req:GPC-SSP-1
    Examples: Spine headers
      | what | defect | refusal |
      | without Ssp-TraceID | the Spine header "Ssp-TraceID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-From | the Spine header "Ssp-From" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-To | the Spine header "Ssp-To" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-InteractionID | the Spine header "Ssp-InteractionID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-SSP-2
    Examples: another operation's interaction id
      | what | defect | refusal |
      | with the metadata interaction id | the Spine header "Ssp-InteractionID" is "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1" | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-JWT-6
    Examples: no bearer token
      | what | defect | refusal |
      | without an Authorization header | the Spine header "Authorization" is removed | the response refuses the access token |

    @req:GPC-JWT-7
    Examples: a scope GP Connect does not define
      | what | defect | refusal |
      | with the scope openid | the JWT claim "requested_scope" is "openid" | the response refuses the access token |

    @req:GPC-JWT-4
    Examples: another endpoint's scope (optional)
      | what | defect | refusal |
      | with the scope organization/*.read | the JWT claim "requested_scope" is "organization/*.read" | the response refuses the access token |

  @capability:documents @negative:document-search
  Scenario Outline: Search for a patient's documents: a request <what> is rejected
    Given the request is a GP Connect "document search" request
    And <defect>
    When I send a GET request to "{gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference?_include=DocumentReference:subject:Patient&_include=DocumentReference:custodian:Organization&_include=DocumentReference:author:Organization&_include=DocumentReference:author:Practitioner&_revinclude:recurse=PractitionerRole:practitioner"
    Then <refusal>

    @req:GPC-SSP-1
    Examples: Spine headers
      | what | defect | refusal |
      | without Ssp-TraceID | the Spine header "Ssp-TraceID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-From | the Spine header "Ssp-From" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-To | the Spine header "Ssp-To" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-InteractionID | the Spine header "Ssp-InteractionID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-SSP-2
    Examples: another operation's interaction id
      | what | defect | refusal |
      | with the metadata interaction id | the Spine header "Ssp-InteractionID" is "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1" | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-JWT-6
    Examples: no bearer token
      | what | defect | refusal |
      | without an Authorization header | the Spine header "Authorization" is removed | the response refuses the access token |

    @req:GPC-JWT-7
    Examples: a scope GP Connect does not define
      | what | defect | refusal |
      | with the scope openid | the JWT claim "requested_scope" is "openid" | the response refuses the access token |

    @req:GPC-JWT-4
    Examples: another endpoint's scope (optional)
      | what | defect | refusal |
      | with the scope organization/*.read | the JWT claim "requested_scope" is "organization/*.read" | the response refuses the access token |

  @capability:documents @negative:document-retrieve
  Scenario Outline: Retrieve a document: a request <what> is rejected
    Given the request is a GP Connect "document retrieve" request
    And <defect>
    When I send a GET request to "{gpc_documents_base}/Binary/{document_binary_id}"
    Then <refusal>

    @req:GPC-SSP-1
    Examples: Spine headers
      | what | defect | refusal |
      | without Ssp-TraceID | the Spine header "Ssp-TraceID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-From | the Spine header "Ssp-From" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-To | the Spine header "Ssp-To" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |
      | without Ssp-InteractionID | the Spine header "Ssp-InteractionID" is removed | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-SSP-2
    Examples: another operation's interaction id
      | what | defect | refusal |
      | with the metadata interaction id | the Spine header "Ssp-InteractionID" is "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1" | the response is a GP Connect error with code "BAD_REQUEST" and status 400 |

    @req:GPC-JWT-6
    Examples: no bearer token
      | what | defect | refusal |
      | without an Authorization header | the Spine header "Authorization" is removed | the response refuses the access token |

    @req:GPC-JWT-7
    Examples: a scope GP Connect does not define
      | what | defect | refusal |
      | with the scope openid | the JWT claim "requested_scope" is "openid" | the response refuses the access token |

    @req:GPC-JWT-4
    Examples: another endpoint's scope (optional)
      | what | defect | refusal |
      | with the scope organization/*.read | the JWT claim "requested_scope" is "organization/*.read" | the response refuses the access token |
