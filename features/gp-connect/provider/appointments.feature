@gpconnect @appointments
Feature: Appointment Management: free slots, booking, amending, cancelling
  A consumer searches the practice's free slots, books one for a patient, reads,
  amends and cancels the appointment, and lists the patient's appointments. The
  request bodies name the test data by suite input (bodies/appointments/).

  @req:GPC-APPT-1
  Scenario: Search free slots with their schedules
    Given the request is a GP Connect "slot search" request
    And the request query parameter "start" is "ge{free_slot_start}"
    And the request query parameter "end" is "le{free_slot_end}"
    And the request query parameter "status" is "free"
    And the request query parameter "_include" is "Slot:schedule"
    When I send a GET request to "{gpc_appointments_base}/Slot"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the FHIRPath "entry.resource.ofType(Slot).exists()" is true
    And the FHIRPath "entry.resource.ofType(Slot).all(status = 'free')" is true
    And the FHIRPath "entry.resource.ofType(Slot).all(start.toString() >= '{free_slot_start}' and end.toString() <= '{free_slot_end}T23:59:59')" is true
    And the FHIRPath "entry.resource.ofType(Schedule).exists()" is true
    And the FHIRPath "entry.resource.ofType(Slot).schedule.reference.all(startsWith('Schedule/'))" is true

  @req:GPC-APPT-1
  Scenario: A range without free slots is an empty searchset
    Given the request is a GP Connect "slot search" request
    And the request query parameter "start" is "ge{no_slot_start}"
    And the request query parameter "end" is "le{no_slot_end}"
    And the request query parameter "status" is "free"
    When I send a GET request to "{gpc_appointments_base}/Slot"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the FHIRPath "entry.resource.ofType(Slot).empty()" is true

  @req:GPC-APPT-2
  Scenario Outline: A slot search is rejected: <why>
    Given the request is a GP Connect "slot search" request
    And the request query parameter "<first>" is "<first value>"
    And the request query parameter "<second>" is "<second value>"
    When I send a GET request to "{gpc_appointments_base}/Slot"
    Then the response is a GP Connect error with code "INVALID_PARAMETER" and status 422

    Examples:
      | why                   | first  | first value   | second | second value  |
      | end before start      | start  | ge2030-01-13  | end    | le2030-01-07  |
      | more than 14 days     | start  | ge2030-01-01  | end    | le2030-02-28  |
      | no end                | start  | ge2030-01-07  | status | free          |
      | no start              | end    | le2030-01-13  | status | free          |
      | no status             | start  | ge2030-01-07  | end    | le2030-01-13  |
      | start is not a date   | start  | ge2030-13-01  | end    | le2030-01-13  |
      | start prefix is not ge | start | eq2030-01-07  | end    | le2030-01-13  |

  @req:GPC-APPT-3
  Scenario: Book an appointment in a free slot
    Given the request is a GP Connect "appointment book" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/book.json"
    When I send a POST request to "{gpc_appointments_base}/Appointment"
    Then the response status is 201
    And the response body is an Appointment resource
    And the JSON value at "status" is "booked"
    And the JSON value at "id" exists
    And the FHIRPath "slot.reference contains 'Slot/{free_slot_id}'" is true
    And the FHIRPath "participant.actor.reference contains 'Patient/{registered_patient_id}'" is true
    And the response header "Location" is present

  @req:GPC-APPT-4
  Scenario Outline: A booking is rejected: <case>
    Given the request is a GP Connect "appointment book" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/<case>.json"
    When I send a POST request to "{gpc_appointments_base}/Appointment"
    Then the response is a GP Connect error with code "<code>" and status <status>

    Examples:
      | case                 | code               | status |
      | book-conflict        | DUPLICATE_REJECTED | 409    |
      | book-no-patient      | INVALID_RESOURCE   | 422    |
      | book-not-appointment | INVALID_RESOURCE   | 422    |

  @req:GPC-APPT-5
  Scenario: Read an appointment
    Given the request is a GP Connect "appointment read" request
    When I send a GET request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then the response status is 200
    And the response body is an Appointment resource
    And the JSON value at "id" is "{appointment_id}"
    And the FHIRPath "participant.actor.reference contains 'Patient/{registered_patient_id}'" is true

  @req:GPC-APPT-5
  Scenario: Reading an unknown appointment is NO_RECORD_FOUND
    Given the request is a GP Connect "appointment read" request
    When I send a GET request to "{gpc_appointments_base}/Appointment/{unknown_id}"
    Then the response is a GP Connect error with code "NO_RECORD_FOUND" and status 404

  @req:GPC-APPT-6
  Scenario: Amend an appointment's comment
    Given the request is a GP Connect "appointment amend" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/amend.json"
    When I send a PUT request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then the response status is 200
    And the response body is an Appointment resource
    And the JSON value at "comment" is "Amended: the patient asks for a wheelchair-accessible room."
    And the JSON value at "status" is "booked"

  @req:GPC-APPT-6
  Scenario Outline: An amendment is rejected: <case>
    Given the request is a GP Connect "appointment amend" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/<case>.json"
    When I send a PUT request to "{gpc_appointments_base}/Appointment/<id>"
    Then the response is a GP Connect error with code "<code>" and status <status>

    Examples:
      | case           | id               | code             | status |
      | amend-start    | {appointment_id} | INVALID_RESOURCE | 422    |
      | amend-other-id | {appointment_id} | BAD_REQUEST      | 400    |
      | amend          | {unknown_id}     | NO_RECORD_FOUND  | 404    |

  @req:GPC-APPT-7
  Scenario: Cancel an appointment
    Given the request is a GP Connect "appointment cancel" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/cancel.json"
    When I send a PUT request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then the response status is 200
    And the response body is an Appointment resource
    And the JSON value at "status" is "cancelled"
    And the FHIRPath "extension.where(url = 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-AppointmentCancellationReason-1').exists()" is true

  @req:GPC-APPT-7
  Scenario Outline: A cancellation is rejected: <case>
    Given the request is a GP Connect "appointment cancel" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/<case>.json"
    When I send a PUT request to "{gpc_appointments_base}/Appointment/<id>"
    Then the response is a GP Connect error with code "<code>" and status <status>

    Examples:
      | case             | id               | code             | status |
      | cancel-no-reason | {appointment_id} | INVALID_RESOURCE | 422    |
      | cancel           | {unknown_id}     | NO_RECORD_FOUND  | 404    |

  @req:GPC-APPT-8
  Scenario: Retrieve a patient's appointments in a date range
    Given the request is a GP Connect "appointment search" request
    And the request query parameter "start" is "ge2030-01-01"
    And the request query parameter "start" is "le2030-12-31"
    When I send a GET request to "{gpc_appointments_base}/Patient/{registered_patient_id}/Appointment"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the Bundle has at least 1 entry
    And every Bundle entry is an Appointment resource
    And the FHIRPath "entry.resource.all(participant.actor.reference contains 'Patient/{registered_patient_id}')" is true

  @req:GPC-APPT-8
  Scenario: A reversed date range is INVALID_PARAMETER
    Given the request is a GP Connect "appointment search" request
    And the request query parameter "start" is "ge2030-12-31"
    And the request query parameter "start" is "le2029-01-01"
    When I send a GET request to "{gpc_appointments_base}/Patient/{registered_patient_id}/Appointment"
    Then the response is a GP Connect error with code "INVALID_PARAMETER" and status 422

  @req:GPC-APPT-8
  Scenario: The appointments of an unknown patient are PATIENT_NOT_FOUND
    Given the request is a GP Connect "appointment search" request
    And the request query parameter "start" is "ge2030-01-01"
    When I send a GET request to "{gpc_appointments_base}/Patient/{unknown_id}/Appointment"
    Then the response is a GP Connect error with code "PATIENT_NOT_FOUND" and status 404
