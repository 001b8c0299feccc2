@gpconnect @validation
Feature: Response bodies conform to the STU3 profiles
  Every kind of body the provider answers is validated with assure's validator
  against the CareConnect-GPC and GPConnect STU3 profiles (installed FHIR packages),
  not by reading meta.profile: structure, cardinality, fixed values, bindings and
  invariants. A profile that is not loaded makes the check inconclusive, naming it.

  @req:GPC-VAL-1
  Scenario Outline: <interaction> answers a body that conforms to its meta.profile
    Given the request is a GP Connect "<interaction>" request
    When I send a GET request to "<path>"
    Then the response status is 200
    And the response conforms to its meta.profile

    @capability:foundations
    Examples: Foundations
      | interaction       | path                             |
      | patient read      | /Patient/{registered_patient_id} |
      | practitioner read | /Practitioner/{practitioner_id}  |
      | organization read | /Organization/{organization_id}  |
      | location read     | /Location/{location_id}          |

    @capability:appointments
    Examples: Appointment Management
      | interaction      | path                                                 |
      | appointment read | {gpc_appointments_base}/Appointment/{appointment_id} |

  @req:GPC-VAL-1 @capability:foundations
  Scenario Outline: <interaction> answers a searchset that conforms to the Bundle definition
    Given the request is a GP Connect "<interaction>" request
    And the request query parameter "identifier" is "<identifier>"
    When I send a GET request to "<path>"
    Then the response status is 200
    And the response conforms to "http://hl7.org/fhir/StructureDefinition/Bundle"

    Examples:
      | interaction         | path          | identifier                                                            |
      | patient search      | /Patient      | https://fhir.nhs.uk/Id/nhs-number\|{registered_nhs_number}             |
      | patient search      | /Patient      | https://fhir.nhs.uk/Id/nhs-number\|{not_found_nhs_number}              |
      | practitioner search | /Practitioner | https://fhir.nhs.uk/Id/sds-user-id\|{practitioner_sds_user_id}         |
      | organization search | /Organization | https://fhir.nhs.uk/Id/ods-organization-code\|{organization_ods_code} |

  @req:GPC-VAL-1 @capability:appointments
  Scenario: A patient's appointments searchset conforms to the Bundle definition
    Given the request is a GP Connect "appointment search" request
    And the request query parameter "start" is "ge2030-01-01"
    And the request query parameter "start" is "le2030-12-31"
    When I send a GET request to "{gpc_appointments_base}/Patient/{registered_patient_id}/Appointment"
    Then the response status is 200
    And the response conforms to "http://hl7.org/fhir/StructureDefinition/Bundle"

  @req:GPC-VAL-1 @capability:documents
  Scenario: A patient's documents searchset conforms to GPConnect-Searchset-Bundle-1
    Given the request is a GP Connect "document search" request
    When I send a GET request to "{gpc_documents_base}/Patient/{registered_patient_id}/DocumentReference?_include=DocumentReference:subject:Patient&_include=DocumentReference:custodian:Organization&_include=DocumentReference:author:Organization&_include=DocumentReference:author:Practitioner&_revinclude:recurse=PractitionerRole:practitioner"
    Then the response status is 200
    And the response conforms to "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Searchset-Bundle-1"

  @req:GPC-VAL-1
  Scenario Outline: The <interaction> CapabilityStatement conforms to the base definition
    Given the request is a GP Connect "<interaction>" request
    When I send a GET request to "<path>"
    Then the response status is 200
    And the response conforms to "http://hl7.org/fhir/StructureDefinition/CapabilityStatement"

    Examples: every provider
      | interaction | path      |
      | metadata    | /metadata |

    @capability:documents
    Examples: Access Document
      | interaction       | path                          |
      | document metadata | {gpc_documents_base}/metadata |

  @req:GPC-VAL-1 @capability:appointments
  Scenario: The free slots searchset conforms
    Given the request is a GP Connect "slot search" request
    And the request query parameter "start" is "ge{free_slot_start}"
    And the request query parameter "end" is "le{free_slot_end}"
    And the request query parameter "status" is "free"
    And the request query parameter "_include" is "Slot:schedule"
    When I send a GET request to "{gpc_appointments_base}/Slot"
    Then the response status is 200
    And the response conforms to "http://hl7.org/fhir/StructureDefinition/Bundle"

  @req:GPC-VAL-1 @capability:appointments
  Scenario: The booked appointment conforms to its meta.profile
    Given the request is a GP Connect "appointment book" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/book.json"
    When I send a POST request to "{gpc_appointments_base}/Appointment"
    Then the response conforms to its meta.profile

  @req:GPC-VAL-1 @capability:appointments
  Scenario Outline: The appointment answered to <case> conforms to its meta.profile
    Given the request is a GP Connect "appointment read" request
    When I send a GET request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then I capture the response header "ETag" as "etag"
    Given the request is a GP Connect "<interaction>" request
    And the request header "If-Match" is "{etag}"
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/appointments/<case>.json"
    When I send a PUT request to "{gpc_appointments_base}/Appointment/{appointment_id}"
    Then the response conforms to its meta.profile

    Examples:
      | case   | interaction        |
      | amend  | appointment amend  |
      | cancel | appointment cancel |

  @req:GPC-VAL-1 @capability:documents
  Scenario: The document Binary conforms to the base Binary
    Given the request is a GP Connect "document retrieve" request
    When I send a GET request to "{gpc_documents_base}/Binary/{document_binary_id}"
    Then the response status is 200
    And the response conforms to "http://hl7.org/fhir/StructureDefinition/Binary"

  @req:GPC-VAL-1
  Scenario Outline: A GP Connect error conforms to GPConnect-OperationOutcome-1 (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    When I send a GET request to "<path>"
    Then the response status is 404
    And the response conforms to its meta.profile

    @capability:foundations
    Examples: Foundations
      | interaction  | path                  |
      | patient read | /Patient/{unknown_id} |

    @capability:appointments
    Examples: Appointment Management
      | interaction      | path                                             |
      | appointment read | {gpc_appointments_base}/Appointment/{unknown_id} |

    @capability:documents
    Examples: Access Document
      | interaction       | path                                     |
      | document retrieve | {gpc_documents_base}/Binary/{unknown_id} |

  @req:GPC-VAL-1 @capability:structured
  Scenario Outline: The structured record for <body> conforms to its meta.profile
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/<body>.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 200
    And the response conforms to its meta.profile

    Examples:
      | body |
      | allergies-active |
      | allergies-resolved |
      | consultations |
      | consultations-most-recent |
      | consultations-period |
      | diary |
      | diary-search-date |
      | immunisations |
      | immunisations-not-given |
      | investigations |
      | investigations-period |
      | medications-default |
      | medications-from-date |
      | medications-issues |
      | medications-no-issues |
      | problems |
      | problems-active |
      | problems-inactive |
      | problems-major |
      | problems-minor |
      | referrals |
      | referrals-period |
      | uncategorised |
      | uncategorised-period |

  @req:GPC-VAL-1 @capability:structured
  Scenario: A structured record error conforms to GPConnect-OperationOutcome-1
    Given the request is a GP Connect "structured record" request
    And the request content type is "application/fhir+json"
    And the request body is the file "bodies/structured/invalid-patient-not-found.json"
    When I send a POST request to "{gpc_structured_base}/Patient/$gpc.getstructuredrecord"
    Then the response status is 404
    And the response conforms to its meta.profile
