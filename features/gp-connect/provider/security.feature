@gpconnect @security
Feature: Security of the capability interactions
  The Spine Security Proxy headers and the JWT scope are checked on every capability
  interaction as on the foundations ones: a missing header, another operation's
  interaction id or another scope is 400 BAD_REQUEST.

  @req:GPC-SSP-1
  Scenario Outline: A request without <header> is rejected (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the Spine header "<header>" is removed
    When I send a <method> request to "<path>"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

    Examples:
      | header | interaction | method | path |
      | Ssp-TraceID | slot search | GET | {gpc_appointments_base}/Slot |
      | Ssp-From | slot search | GET | {gpc_appointments_base}/Slot |
      | Ssp-To | slot search | GET | {gpc_appointments_base}/Slot |
      | Ssp-InteractionID | slot search | GET | {gpc_appointments_base}/Slot |
      | Ssp-TraceID | appointment book | POST | {gpc_appointments_base}/Appointment |
      | Ssp-From | appointment book | POST | {gpc_appointments_base}/Appointment |
      | Ssp-To | appointment book | POST | {gpc_appointments_base}/Appointment |
      | Ssp-InteractionID | appointment book | POST | {gpc_appointments_base}/Appointment |
      | Ssp-TraceID | appointment read | GET | {gpc_appointments_base}/Appointment/{appointment_id} |
      | Ssp-From | appointment read | GET | {gpc_appointments_base}/Appointment/{appointment_id} |
      | Ssp-To | appointment read | GET | {gpc_appointments_base}/Appointment/{appointment_id} |
      | Ssp-InteractionID | appointment read | GET | {gpc_appointments_base}/Appointment/{appointment_id} |
      | Ssp-TraceID | appointment amend | PUT | {gpc_appointments_base}/Appointment/{appointment_id} |
      | Ssp-From | appointment amend | PUT | {gpc_appointments_base}/Appointment/{appointment_id} |
      | Ssp-To | appointment amend | PUT | {gpc_appointments_base}/Appointment/{appointment_id} |
      | Ssp-InteractionID | appointment amend | PUT | {gpc_appointments_base}/Appointment/{appointment_id} |
      | Ssp-TraceID | appointment cancel | PUT | {gpc_appointments_base}/Appointment/{appointment_id} |
      | Ssp-From | appointment cancel | PUT | {gpc_appointments_base}/Appointment/{appointment_id} |
      | Ssp-To | appointment cancel | PUT | {gpc_appointments_base}/Appointment/{appointment_id} |
      | Ssp-InteractionID | appointment cancel | PUT | {gpc_appointments_base}/Appointment/{appointment_id} |
      | Ssp-TraceID | appointment search | GET | {gpc_appointments_base}/Patient/{registered_patient_id}/Appointment |
      | Ssp-From | appointment search | GET | {gpc_appointments_base}/Patient/{registered_patient_id}/Appointment |
      | Ssp-To | appointment search | GET | {gpc_appointments_base}/Patient/{registered_patient_id}/Appointment |
      | Ssp-InteractionID | appointment search | GET | {gpc_appointments_base}/Patient/{registered_patient_id}/Appointment |
      | Ssp-TraceID | structured record | POST | {gpc_structured_base}/Patient/$gpc.getstructuredrecord |
      | Ssp-TraceID | patient register | POST | /Patient/$gpc.registerpatient |
      | Ssp-From | structured record | POST | {gpc_structured_base}/Patient/$gpc.getstructuredrecord |
      | Ssp-From | patient register | POST | /Patient/$gpc.registerpatient |
      | Ssp-To | structured record | POST | {gpc_structured_base}/Patient/$gpc.getstructuredrecord |
      | Ssp-To | patient register | POST | /Patient/$gpc.registerpatient |
      | Ssp-InteractionID | structured record | POST | {gpc_structured_base}/Patient/$gpc.getstructuredrecord |
      | Ssp-InteractionID | patient register | POST | /Patient/$gpc.registerpatient |
      | Ssp-TraceID | document metadata | GET | {gpc_documents_base}/metadata |
      | Ssp-From | document metadata | GET | {gpc_documents_base}/metadata |
      | Ssp-To | document metadata | GET | {gpc_documents_base}/metadata |
      | Ssp-InteractionID | document metadata | GET | {gpc_documents_base}/metadata |
      | Ssp-TraceID | document patient search | GET | {gpc_documents_base}/Patient |
      | Ssp-From | document patient search | GET | {gpc_documents_base}/Patient |
      | Ssp-To | document patient search | GET | {gpc_documents_base}/Patient |
      | Ssp-InteractionID | document patient search | GET | {gpc_documents_base}/Patient |
      | Ssp-TraceID | document search | GET | {gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference |
      | Ssp-From | document search | GET | {gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference |
      | Ssp-To | document search | GET | {gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference |
      | Ssp-InteractionID | document search | GET | {gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference |
      | Ssp-TraceID | document retrieve | GET | {gpc_documents_base}/Binary/{document_binary_id} |
      | Ssp-From | document retrieve | GET | {gpc_documents_base}/Binary/{document_binary_id} |
      | Ssp-To | document retrieve | GET | {gpc_documents_base}/Binary/{document_binary_id} |
      | Ssp-InteractionID | document retrieve | GET | {gpc_documents_base}/Binary/{document_binary_id} |

  @req:GPC-JWT-6
  Scenario Outline: A request without a bearer token is rejected (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the Spine header "Authorization" is removed
    When I send a <method> request to "<path>"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

    Examples:
      | interaction | method | path |
      | slot search | GET | {gpc_appointments_base}/Slot |
      | appointment book | POST | {gpc_appointments_base}/Appointment |
      | appointment read | GET | {gpc_appointments_base}/Appointment/{appointment_id} |
      | appointment amend | PUT | {gpc_appointments_base}/Appointment/{appointment_id} |
      | appointment cancel | PUT | {gpc_appointments_base}/Appointment/{appointment_id} |
      | appointment search | GET | {gpc_appointments_base}/Patient/{registered_patient_id}/Appointment |
      | structured record | POST | {gpc_structured_base}/Patient/$gpc.getstructuredrecord |
      | patient register | POST | /Patient/$gpc.registerpatient |
      | document metadata | GET | {gpc_documents_base}/metadata |
      | document patient search | GET | {gpc_documents_base}/Patient |
      | document search | GET | {gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference |
      | document retrieve | GET | {gpc_documents_base}/Binary/{document_binary_id} |

  @req:GPC-SSP-2
  Scenario Outline: Another operation's interaction id is rejected (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the Spine header "Ssp-InteractionID" is "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1"
    When I send a <method> request to "<path>"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

    Examples:
      | interaction | method | path |
      | slot search | GET | {gpc_appointments_base}/Slot |
      | appointment book | POST | {gpc_appointments_base}/Appointment |
      | appointment read | GET | {gpc_appointments_base}/Appointment/{appointment_id} |
      | appointment amend | PUT | {gpc_appointments_base}/Appointment/{appointment_id} |
      | appointment cancel | PUT | {gpc_appointments_base}/Appointment/{appointment_id} |
      | appointment search | GET | {gpc_appointments_base}/Patient/{registered_patient_id}/Appointment |
      | structured record | POST | {gpc_structured_base}/Patient/$gpc.getstructuredrecord |
      | patient register | POST | /Patient/$gpc.registerpatient |
      | document metadata | GET | {gpc_documents_base}/metadata |
      | document patient search | GET | {gpc_documents_base}/Patient |
      | document search | GET | {gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference |
      | document retrieve | GET | {gpc_documents_base}/Binary/{document_binary_id} |

  @req:GPC-JWT-4
  Scenario Outline: A token with the scope <scope> is rejected (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the JWT claim "requested_scope" is "<scope>"
    When I send a <method> request to "<path>"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

    Examples:
      | interaction | scope | method | path |
      | slot search | patient/*.read | GET | {gpc_appointments_base}/Slot |
      | appointment book | patient/*.read | POST | {gpc_appointments_base}/Appointment |
      | appointment read | organization/*.read | GET | {gpc_appointments_base}/Appointment/{appointment_id} |
      | appointment amend | patient/*.read | PUT | {gpc_appointments_base}/Appointment/{appointment_id} |
      | appointment cancel | patient/*.read | PUT | {gpc_appointments_base}/Appointment/{appointment_id} |
      | appointment search | organization/*.read | GET | {gpc_appointments_base}/Patient/{registered_patient_id}/Appointment |
      | structured record | organization/*.read | POST | {gpc_structured_base}/Patient/$gpc.getstructuredrecord |
      | patient register | patient/*.read | POST | /Patient/$gpc.registerpatient |
      | document metadata | patient/*.read | GET | {gpc_documents_base}/metadata |
      | document patient search | organization/*.read | GET | {gpc_documents_base}/Patient |
      | document search | organization/*.read | GET | {gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference |
      | document retrieve | organization/*.read | GET | {gpc_documents_base}/Binary/{document_binary_id} |
