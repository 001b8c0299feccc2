@gpconnect @appointments @capability:appointments
Feature: Appointment Management: free slots, booking, amending, cancelling
  A consumer searches the practice's free slots, books one for a patient, reads,
  amends and cancels the appointment (with If-Match: the ETag it read), and lists the
  patient's appointments. The request bodies name the test data by suite input
  (bodies/appointments/). Each negative sends its control's request (the same
  interaction, accepted in the same run) with one defect.

  @req:GPC-APPT-1 @capability:Slot.search-type @control:slot-search
  Scenario: Search free slots with their schedules
    Given the request is a GP Connect "slot search" request
    And the request query parameter "start" is "ge{free_slot_start}"
    And the request query parameter "end" is "le{free_slot_end}"
    And the request query parameter "status" is "free"
    And the request query parameter "_include" is "Slot:schedule"
    When I send a GET request to "{gpc_appointments_base}/Slot"
    Then the response status is 200
    And the Bundle type is "searchset"

  @req:GPC-APPT-1 @capability:Slot.search-type
  Scenario: The free slots in the range are free, fall within it, and come with their schedules
    Given the request is a GP Connect "slot search" request
    And the request query parameter "start" is "ge{free_slot_start}"
    And the request query parameter "end" is "le{free_slot_end}"
    And the request query parameter "status" is "free"
    And the request query parameter "_include" is "Slot:schedule"
    When I send a GET request to "{gpc_appointments_base}/Slot"
    Then the response status is 200
    And every "entry.resource.ofType(Slot)" satisfies "status = 'free'"
    And every "entry.resource.ofType(Slot)" satisfies "start.toString().substring(0, 10) >= '{free_slot_start}' and end.toString().substring(0, 10) <= '{free_slot_end}'"
    And every "entry.resource.ofType(Slot).schedule.reference" satisfies "(%resource.entry.resource.select(resourceType + '/' + id) | %resource.entry.fullUrl) contains $this"

  @req:GPC-APPT-1 @capability:Slot.search-type
  Scenario: A range without free slots is an empty searchset
    Given the request is a GP Connect "slot search" request
    And the request query parameter "start" is "ge{no_slot_start}"
    And the request query parameter "end" is "le{no_slot_end}"
    And the request query parameter "status" is "free"
    And the request query parameter "_include" is "Slot:schedule"
    When I send a GET request to "{gpc_appointments_base}/Slot"
    Then the response status is 200
    And the Bundle type is "searchset"
    And the FHIRPath "entry.resource.ofType(Slot).empty()" is true

  @capability:Slot.search-type @negative:slot-search
  Scenario Outline: A slot search is rejected: <why>
    Given the request is a GP Connect "slot search" request
    And the request query parameter "start" is "<start>"
    And the request query parameter "end" is "<end>"
    And the request query parameter "status" is "<status>"
    And the request query parameter "_include" is "<include>"
    When I send a GET request to "{gpc_appointments_base}/Slot"
    Then the response is one of the GP Connect errors "422 INVALID_PARAMETER or 400 BAD_REQUEST"

    @req:GPC-APPT-2
    Examples: the page requires an error
      | why                         | start                  | end                  | status | include       |
      | more than 14 days           | ge2030-01-01           | le2030-02-28         | free   | Slot:schedule |
      | status is not free          | ge{free_slot_start}    | le{free_slot_end}    | busy   | Slot:schedule |
      | _include is not the schedule | ge{free_slot_start}   | le{free_slot_end}    | free   | Slot:start    |

    @req:GPC-APPT-9
    Examples: the page does not require an error (informational)
      | why                    | start        | end          | status | include       |
      | end before start       | ge2030-01-13 | le2030-01-07 | free   | Slot:schedule |
      | start is not a date    | ge2030-13-01 | le2030-01-13 | free   | Slot:schedule |
      | start prefix is not ge | eq2030-01-07 | le2030-01-13 | free   | Slot:schedule |

  @capability:Slot.search-type @negative:slot-search
  Scenario Outline: A slot search without <parameter> is rejected
    Given the request is a GP Connect "slot search" request
    And the request query parameter "<first>" is "<first value>"
    And the request query parameter "<second>" is "<second value>"
    And the request query parameter "<third>" is "<third value>"
    When I send a GET request to "{gpc_appointments_base}/Slot"
    Then the response is one of the GP Connect errors "422 INVALID_PARAMETER or 400 BAD_REQUEST"

    @req:GPC-APPT-2
    Examples: the page requires an error
      | parameter | first | first value         | second | second value      | third    | third value   |
      | status    | start | ge{free_slot_start} | end    | le{free_slot_end} | _include | Slot:schedule |
      | _include  | start | ge{free_slot_start} | end    | le{free_slot_end} | status   | free          |

    @req:GPC-APPT-9
    Examples: the page does not require an error (informational)
      | parameter | first | first value         | second | second value | third    | third value   |
      | end       | start | ge{free_slot_start} | status | free         | _include | Slot:schedule |
      | start     | end   | le{free_slot_end}   | status | free         | _include | Slot:schedule |

  @req:GPC-APPT-3 @capability:Appointment.create @control:appointment-book
  Scenario: Book an appointment in a free slot
    Given the request is a GP Connect "appointment book" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/book.json"
    When I send a POST request to "{gpc_appointments_base}/Appointment"
    Then the response status is 201
    And the response body is an Appointment resource
    And the JSON value at "status" is "booked"
    And the JSON value at "id" exists
    And the FHIRPath "slot.reference.where($this = 'Slot/{free_slot_id}' or endsWith('/Slot/{free_slot_id}')).exists()" is true
    And the FHIRPath "participant.actor.reference.where($this = 'Patient/{registered_patient_id}' or endsWith('/Patient/{registered_patient_id}')).exists()" is true
    And the response header "Location" is present

  @req:GPC-APPT-4 @capability:Appointment.create @negative:appointment-book
  Scenario: Booking a slot that is already booked is DUPLICATE_REJECTED
    Given the request is a GP Connect "appointment book" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/book-conflict.json"
    When I send a POST request to "{gpc_appointments_base}/Appointment"
    Then the response is a GP Connect error with code "DUPLICATE_REJECTED" and status 409

  @req:GPC-APPT-4 @capability:Appointment.create @negative:appointment-book
  Scenario Outline: A booking is rejected: <case>
    Given the request is a GP Connect "appointment book" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/<case>.json"
    When I send a POST request to "{gpc_appointments_base}/Appointment"
    Then the response is one of the GP Connect errors "422 INVALID_RESOURCE or 400 BAD_REQUEST"

    Examples:
      | case                 |
      | book-no-patient      |
      | book-not-appointment |

  @req:GPC-APPT-5 @capability:Appointment.read @control:appointment-read
  Scenario: Read an appointment
    Given the request is a GP Connect "appointment read" request
    When I send a GET request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then the response status is 200
    And the response body is an Appointment resource
    And the JSON value at "id" is "{appointment_id}"
    And the FHIRPath "participant.actor.reference.where($this = 'Patient/{registered_patient_id}' or endsWith('/Patient/{registered_patient_id}')).exists()" is true

  @req:GPC-APPT-5 @capability:Appointment.read @negative:appointment-read
  Scenario: Reading an unknown appointment is NO_RECORD_FOUND
    Given the request is a GP Connect "appointment read" request
    When I send a GET request to "{gpc_appointments_base}/Appointment/{unknown_id}"
    Then the response is a GP Connect error with code "NO_RECORD_FOUND" and status 404

  @req:GPC-APPT-6 @capability:Appointment.update @control:appointment-amend
  Scenario: Amend an appointment's comment
    Given the request is a GP Connect "appointment read" request
    When I send a GET request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then I capture the response header "ETag" as "etag"
    Given the request is a GP Connect "appointment amend" request
    And the request header "If-Match" is "{etag}"
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/amend.json"
    When I send a PUT request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then the response status is 200
    And the response body is an Appointment resource
    And the JSON value at "comment" is "Amended: the patient asks for a wheelchair-accessible room."
    And the JSON value at "status" is "booked"

  @capability:Appointment.update @negative:appointment-amend
  Scenario Outline: An amendment is rejected: <case>
    Given the request is a GP Connect "appointment read" request
    When I send a GET request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then I capture the response header "ETag" as "etag"
    Given the request is a GP Connect "appointment amend" request
    And the request header "If-Match" is "{etag}"
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/<case>.json"
    When I send a PUT request to "{gpc_appointments_base}/Appointment/<id>"
    Then <rejection>

    @req:GPC-APPT-6
    Examples:
      | case           | id               | rejection                                                                                |
      | amend-start    | {appointment_id} | the response is a GP Connect error with a 4xx status                                     |
      | amend-other-id | {appointment_id} | the response is one of the GP Connect errors "400 BAD_REQUEST or 422 INVALID_RESOURCE"    |
      | amend-unknown  | {unknown_id}     | the response is a GP Connect error with code "NO_RECORD_FOUND" and status 404            |

  @req:GPC-APPT-7 @capability:Appointment.update @control:appointment-cancel
  Scenario: Cancel an appointment
    Given the request is a GP Connect "appointment read" request
    When I send a GET request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then I capture the response header "ETag" as "etag"
    Given the request is a GP Connect "appointment cancel" request
    And the request header "If-Match" is "{etag}"
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/cancel.json"
    When I send a PUT request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then the response status is 200
    And the response body is an Appointment resource
    And the JSON value at "status" is "cancelled"
    And the FHIRPath "extension.where(url = 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-AppointmentCancellationReason-1').exists()" is true

  @capability:Appointment.update @negative:appointment-cancel
  Scenario Outline: A cancellation is rejected: <case>
    Given the request is a GP Connect "appointment read" request
    When I send a GET request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then I capture the response header "ETag" as "etag"
    Given the request is a GP Connect "appointment cancel" request
    And the request header "If-Match" is "{etag}"
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/<case>.json"
    When I send a PUT request to "{gpc_appointments_base}/Appointment/<id>"
    Then the response is one of the GP Connect errors "<errors>"

    @req:GPC-APPT-7
    Examples:
      | case           | id           | errors              |
      | cancel-unknown | {unknown_id} | 404 NO_RECORD_FOUND |

    @req:GPC-APPT-9
    Examples: the page does not require an error (informational)
      | case             | id               | errors                                    |
      | cancel-no-reason | {appointment_id} | 422 INVALID_RESOURCE or 400 BAD_REQUEST   |

  @req:GPC-APPT-8 @capability:Appointment.search-type @control:appointment-search
  Scenario: Retrieve a patient's appointments in a date range
    Given the request is a GP Connect "appointment search" request
    And the request query parameter "start" is "ge2030-01-01"
    And the request query parameter "start" is "le2030-12-31"
    When I send a GET request to "{gpc_appointments_base}/Patient/{registered_patient_id}/Appointment"
    Then the response status is 200
    And the Bundle type is "searchset"

  @req:GPC-APPT-8 @capability:Appointment.search-type
  Scenario: The appointments in the range are the patient's
    Given the request is a GP Connect "appointment search" request
    And the request query parameter "start" is "ge2030-01-01"
    And the request query parameter "start" is "le2030-12-31"
    When I send a GET request to "{gpc_appointments_base}/Patient/{registered_patient_id}/Appointment"
    Then the response status is 200
    And every Bundle entry is an Appointment resource
    And every "entry.resource.ofType(Appointment)" satisfies "participant.actor.reference.where($this = 'Patient/{registered_patient_id}' or endsWith('/Patient/{registered_patient_id}')).exists()"

  @req:GPC-APPT-8 @capability:Appointment.search-type @negative:appointment-search
  Scenario: A reversed date range is INVALID_PARAMETER
    Given the request is a GP Connect "appointment search" request
    And the request query parameter "start" is "ge2030-12-31"
    And the request query parameter "start" is "le2029-01-01"
    When I send a GET request to "{gpc_appointments_base}/Patient/{registered_patient_id}/Appointment"
    Then the response is a GP Connect error with code "INVALID_PARAMETER" and status 422

  @req:GPC-APPT-8 @capability:Appointment.search-type @negative:appointment-search
  Scenario: The appointments of an unknown patient are PATIENT_NOT_FOUND
    Given the request is a GP Connect "appointment search" request
    And the request query parameter "start" is "ge2030-01-01"
    And the request query parameter "start" is "le2030-12-31"
    When I send a GET request to "{gpc_appointments_base}/Patient/{unknown_id}/Appointment"
    Then the response is a GP Connect error with code "PATIENT_NOT_FOUND" and status 404
