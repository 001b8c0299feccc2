@gpconnect @security @jwt
Feature: The JWT access token
  Every request carries an unsigned JWT (alg none) in the Authorization header with
  the claims of the cross-organisation audit and provenance page, issued at the time
  of sending. A provider refuses a token that lacks a claim, has expired, does not
  expire 5 minutes after it was issued, names a scope GP Connect does not define, or
  a reason other than direct care: 400 BAD_REQUEST, or as RFC 6750 answers bearer
  token errors (401 or 403 with a Bearer challenge). Each negative sends the request of
  its control (the same interaction, accepted in the same run) with that one defect.

  @req:GPC-JWT-1
  Scenario Outline: A token without <claim> is refused (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the JWT claim "<claim>" is removed
    When I send a GET request to "<path>"
    Then the response refuses the access token

    @negative:metadata
    Examples: metadata
      | interaction | path      | claim                   |
      | metadata    | /metadata | iss                     |
      | metadata    | /metadata | sub                     |
      | metadata    | /metadata | aud                     |
      | metadata    | /metadata | exp                     |
      | metadata    | /metadata | iat                     |
      | metadata    | /metadata | reason_for_request      |
      | metadata    | /metadata | requested_scope         |
      | metadata    | /metadata | requesting_device       |
      | metadata    | /metadata | requesting_organization |
      | metadata    | /metadata | requesting_practitioner |

    @capability:foundations @capability:Patient.read @negative:patient-read
    Examples: read a patient
      | interaction  | path                             | claim                   |
      | patient read | /Patient/{registered_patient_id} | iss                     |
      | patient read | /Patient/{registered_patient_id} | sub                     |
      | patient read | /Patient/{registered_patient_id} | aud                     |
      | patient read | /Patient/{registered_patient_id} | exp                     |
      | patient read | /Patient/{registered_patient_id} | iat                     |
      | patient read | /Patient/{registered_patient_id} | reason_for_request      |
      | patient read | /Patient/{registered_patient_id} | requested_scope         |
      | patient read | /Patient/{registered_patient_id} | requesting_device       |
      | patient read | /Patient/{registered_patient_id} | requesting_organization |
      | patient read | /Patient/{registered_patient_id} | requesting_practitioner |

    @capability:foundations @capability:Organization.read @negative:organization-read
    Examples: read an organisation
      | interaction       | path                            | claim                   |
      | organization read | /Organization/{organization_id} | iss                     |
      | organization read | /Organization/{organization_id} | sub                     |
      | organization read | /Organization/{organization_id} | aud                     |
      | organization read | /Organization/{organization_id} | exp                     |
      | organization read | /Organization/{organization_id} | iat                     |
      | organization read | /Organization/{organization_id} | reason_for_request      |
      | organization read | /Organization/{organization_id} | requested_scope         |
      | organization read | /Organization/{organization_id} | requesting_device       |
      | organization read | /Organization/{organization_id} | requesting_organization |
      | organization read | /Organization/{organization_id} | requesting_practitioner |

  @req:GPC-JWT-2
  Scenario Outline: A token issued now that expires 300 seconds later is accepted (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the JWT expires 300 seconds after it was issued
    When I send a GET request to "<path>"
    Then the response status is 200

    @control:metadata
    Examples: metadata
      | interaction | path      |
      | metadata    | /metadata |

    @capability:foundations @capability:Patient.read @control:patient-read
    Examples: read a patient
      | interaction  | path                             |
      | patient read | /Patient/{registered_patient_id} |

    @capability:foundations @capability:Organization.read @control:organization-read
    Examples: read an organisation
      | interaction       | path                            |
      | organization read | /Organization/{organization_id} |

  @req:GPC-JWT-3
  Scenario Outline: A token that expired in 2020 is refused (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the JWT claim "iat" is 1577836500
    And the JWT claim "exp" is 1577836800
    When I send a GET request to "<path>"
    Then the response refuses the access token

    @negative:metadata
    Examples: metadata
      | interaction | path      |
      | metadata    | /metadata |

    @capability:foundations @capability:Patient.read @negative:patient-read
    Examples: read a patient
      | interaction  | path                             |
      | patient read | /Patient/{registered_patient_id} |

  @req:GPC-JWT-3
  Scenario Outline: A token issued now that expires in 2100, not 5 minutes later, is refused (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the JWT claim "exp" is 4102444800
    When I send a GET request to "<path>"
    Then the response refuses the access token

    @negative:metadata
    Examples: metadata
      | interaction | path      |
      | metadata    | /metadata |

    @capability:foundations @capability:Patient.read @negative:patient-read
    Examples: read a patient
      | interaction  | path                             |
      | patient read | /Patient/{registered_patient_id} |

  @req:GPC-JWT-4 @capability:foundations
  Scenario Outline: A <interaction> token with another endpoint's scope <scope> is refused
    Given the request is a GP Connect "<interaction>" request
    And the JWT claim "requested_scope" is "<scope>"
    When I send a GET request to "<path>"
    Then the response refuses the access token

    @capability:Patient.read @negative:patient-read
    Examples: read a patient
      | interaction  | path                             | scope               |
      | patient read | /Patient/{registered_patient_id} | organization/*.read |

    @capability:Patient.search-type @negative:patient-search
    Examples: find a patient
      | interaction    | path                                                                   | scope                |
      | patient search | /Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C{registered_nhs_number} | organization/*.read  |
      | patient search | /Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C{registered_nhs_number} | organization/*.write |

    @capability:Organization.read @negative:organization-read
    Examples: read an organisation
      | interaction       | path                            | scope          |
      | organization read | /Organization/{organization_id} | patient/*.read |

    @capability:Practitioner.read @negative:practitioner-read
    Examples: read a practitioner
      | interaction       | path                            | scope          |
      | practitioner read | /Practitioner/{practitioner_id} | patient/*.read |

    @capability:Location.read @negative:location-read
    Examples: read a location
      | interaction   | path                    | scope           |
      | location read | /Location/{location_id} | patient/*.write |

  @req:GPC-JWT-5
  Scenario Outline: A token whose reason_for_request is <reason> is refused (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the JWT claim "reason_for_request" is <reason>
    When I send a GET request to "<path>"
    Then the response refuses the access token

    @negative:metadata
    Examples: metadata
      | interaction | path      | reason          |
      | metadata    | /metadata | "secondaryuses" |
      | metadata    | /metadata | "DirectCare"    |
      | metadata    | /metadata | ""              |

    @capability:foundations @capability:Patient.read @negative:patient-read
    Examples: read a patient
      | interaction  | path                             | reason          |
      | patient read | /Patient/{registered_patient_id} | "secondaryuses" |
      | patient read | /Patient/{registered_patient_id} | "DirectCare"    |
      | patient read | /Patient/{registered_patient_id} | ""              |

  @req:GPC-JWT-6
  Scenario Outline: <what> is refused (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the Spine header "Authorization" is "<authorization>"
    When I send a GET request to "<path>"
    Then the response refuses the access token

    @negative:metadata
    Examples: metadata
      | what            | interaction | path      | authorization    |
      | A non-JWT token | metadata    | /metadata | Bearer not-a-jwt |
      | An empty bearer | metadata    | /metadata | Bearer           |

    @capability:foundations @capability:Patient.read @negative:patient-read
    Examples: read a patient
      | what              | interaction  | path                             | authorization      |
      | A non-JWT token   | patient read | /Patient/{registered_patient_id} | Bearer not-a-jwt   |
      | Basic credentials | patient read | /Patient/{registered_patient_id} | Basic dXNlcjpwdw== |

  @req:GPC-JWT-6
  Scenario Outline: A request without an Authorization header is refused (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the Spine header "Authorization" is removed
    When I send a GET request to "<path>"
    Then the response refuses the access token

    @negative:metadata
    Examples: metadata
      | interaction | path      |
      | metadata    | /metadata |

    @capability:foundations @capability:Patient.read @negative:patient-read
    Examples: read a patient
      | interaction  | path                             |
      | patient read | /Patient/{registered_patient_id} |

    @capability:foundations @capability:Organization.read @negative:organization-read
    Examples: read an organisation
      | interaction       | path                            |
      | organization read | /Organization/{organization_id} |

  @req:GPC-JWT-7
  Scenario Outline: A token whose requested_scope is not a GP Connect scope is refused (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the JWT claim "requested_scope" is "openid"
    When I send a GET request to "<path>"
    Then the response refuses the access token

    @negative:metadata
    Examples: metadata
      | interaction | path      |
      | metadata    | /metadata |

    @capability:foundations @capability:Patient.read @negative:patient-read
    Examples: read a patient
      | interaction  | path                             |
      | patient read | /Patient/{registered_patient_id} |

    @capability:foundations @capability:Organization.read @negative:organization-read
    Examples: read an organisation
      | interaction       | path                            |
      | organization read | /Organization/{organization_id} |
