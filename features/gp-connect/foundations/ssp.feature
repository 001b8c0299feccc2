@gpconnect @security @ssp
Feature: Spine Security Proxy headers
  Every request carries Ssp-TraceID, Ssp-From, Ssp-To and Ssp-InteractionID, the last
  naming the operation. A request missing one, or naming another operation, is
  rejected with 400 BAD_REQUEST. Each negative sends the request of its control (the
  same interaction, accepted in the same run) with that one defect.

  @req:GPC-SSP-1
  Scenario Outline: A request without <header> is rejected (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the Spine header "<header>" is removed
    When I send a GET request to "<path>"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

    @negative:metadata
    Examples: metadata
      | header            | interaction | path      |
      | Ssp-TraceID       | metadata    | /metadata |
      | Ssp-From          | metadata    | /metadata |
      | Ssp-To            | metadata    | /metadata |
      | Ssp-InteractionID | metadata    | /metadata |

    @capability:foundations @capability:Patient.read @negative:patient-read
    Examples: read a patient
      | header            | interaction  | path                             |
      | Ssp-TraceID       | patient read | /Patient/{registered_patient_id} |
      | Ssp-From          | patient read | /Patient/{registered_patient_id} |
      | Ssp-To            | patient read | /Patient/{registered_patient_id} |
      | Ssp-InteractionID | patient read | /Patient/{registered_patient_id} |

    @capability:foundations @capability:Practitioner.read @negative:practitioner-read
    Examples: read a practitioner
      | header            | interaction       | path                            |
      | Ssp-TraceID       | practitioner read | /Practitioner/{practitioner_id} |
      | Ssp-From          | practitioner read | /Practitioner/{practitioner_id} |
      | Ssp-To            | practitioner read | /Practitioner/{practitioner_id} |
      | Ssp-InteractionID | practitioner read | /Practitioner/{practitioner_id} |

    @capability:foundations @capability:Location.read @negative:location-read
    Examples: read a location
      | header            | interaction   | path                    |
      | Ssp-TraceID       | location read | /Location/{location_id} |
      | Ssp-From          | location read | /Location/{location_id} |
      | Ssp-To            | location read | /Location/{location_id} |
      | Ssp-InteractionID | location read | /Location/{location_id} |

  @req:GPC-SSP-2
  Scenario Outline: <interaction> with the interaction id of <other> is rejected
    Given the request is a GP Connect "<interaction>" request
    And the Spine header "Ssp-InteractionID" is "urn:nhs:names:services:gpconnect:<other>"
    When I send a GET request to "<path>"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

    @negative:metadata
    Examples: metadata
      | interaction | path      | other                      |
      | metadata    | /metadata | fhir:rest:search:patient-1 |
      | metadata    | /metadata | fhir:rest:read:metadata    |

    @capability:foundations @capability:Patient.read @negative:patient-read
    Examples: read a patient
      | interaction  | path                             | other                         |
      | patient read | /Patient/{registered_patient_id} | fhir:rest:search:patient-1    |
      | patient read | /Patient/{registered_patient_id} | fhir:rest:read:practitioner-1 |

    @capability:foundations @capability:Practitioner.read @negative:practitioner-read
    Examples: read a practitioner
      | interaction       | path                            | other                         |
      | practitioner read | /Practitioner/{practitioner_id} | fhir:rest:read:organization-1 |

    @capability:foundations @capability:Organization.read @negative:organization-read
    Examples: read an organisation
      | interaction       | path                            | other                     |
      | organization read | /Organization/{organization_id} | fhir:rest:read:location-1 |

    @capability:foundations @capability:Location.read @negative:location-read
    Examples: read a location
      | interaction   | path                    | other                                    |
      | location read | /Location/{location_id} | fhir:operation:gpc.getstructuredrecord-1 |
