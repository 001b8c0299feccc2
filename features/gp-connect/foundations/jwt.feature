@gpconnect @security @jwt
Feature: The JWT access token
  Every request carries an unsigned JWT (alg none) in the Authorization header with
  the claims of the cross-organisation audit and provenance page. A provider rejects
  a token that lacks a claim, whose exp is not iat + 300 seconds, whose scope is not
  the interaction's, or whose reason is not direct care, with 400 BAD_REQUEST.

  @req:GPC-JWT-1
  Scenario Outline: A token without <claim> is rejected (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the JWT claim "<claim>" is removed
    When I send a GET request to "<path>"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

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
  Scenario Outline: A token that expires 300 seconds after it was issued is accepted (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the JWT claim "iat" is {gpc_fixed_iat}
    And the JWT expires 300 seconds after it was issued
    When I send a GET request to "<path>"
    Then the response status is 200

    Examples:
      | interaction       | path                             |
      | metadata          | /metadata                        |
      | patient read      | /Patient/{registered_patient_id} |
      | organization read | /Organization/{organization_id}  |

  @req:GPC-JWT-3
  Scenario Outline: A token that expires <seconds> seconds after it was issued is rejected
    Given the request is a GP Connect "patient read" request
    And the JWT claim "iat" is {gpc_fixed_iat}
    And the JWT expires <seconds> seconds after it was issued
    When I send a GET request to "/Patient/{registered_patient_id}"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

    Examples:
      | seconds |
      | 299     |
      | 301     |
      | 0       |
      | 60      |
      | 600     |
      | 3600    |
      | -300    |

  @req:GPC-JWT-4
  Scenario Outline: A <interaction> token with scope <scope> is rejected
    Given the request is a GP Connect "<interaction>" request
    And the JWT claim "requested_scope" is "<scope>"
    When I send a GET request to "<path>"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

    Examples:
      | interaction       | path                                                               | scope                |
      | patient read      | /Patient/{registered_patient_id}                                   | organization/*.read  |
      | patient read      | /Patient/{registered_patient_id}                                   | patient/*.write      |
      | patient search    | /Patient?identifier=https://fhir.nhs.uk/Id/nhs-number\|{registered_nhs_number} | organization/*.read  |
      | patient search    | /Patient?identifier=https://fhir.nhs.uk/Id/nhs-number\|{registered_nhs_number} | organization/*.write |
      | organization read | /Organization/{organization_id}                                    | patient/*.read       |
      | practitioner read | /Practitioner/{practitioner_id}                                    | patient/*.read       |
      | location read     | /Location/{location_id}                                            | patient/*.write      |
      | metadata          | /metadata                                                          | patient/*.read       |

  @req:GPC-JWT-5
  Scenario Outline: A token whose reason_for_request is <reason> is rejected
    Given the request is a GP Connect "patient read" request
    And the JWT claim "reason_for_request" is <reason>
    When I send a GET request to "/Patient/{registered_patient_id}"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

    Examples:
      | reason          |
      | "secondaryuses" |
      | "DirectCare"    |
      | ""              |

  @req:GPC-JWT-6
  Scenario Outline: <what> is rejected (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the Spine header "Authorization" is "<authorization>"
    When I send a GET request to "<path>"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

    Examples:
      | what              | interaction  | path                             | authorization    |
      | A non-JWT token   | metadata     | /metadata                        | Bearer not-a-jwt |
      | A non-JWT token   | patient read | /Patient/{registered_patient_id} | Bearer not-a-jwt |
      | An empty bearer   | metadata     | /metadata                        | Bearer           |
      | Basic credentials | patient read | /Patient/{registered_patient_id} | Basic dXNlcjpwdw== |

  @req:GPC-JWT-6
  Scenario Outline: A request without an Authorization header is rejected (<interaction>)
    Given the request is a GP Connect "<interaction>" request
    And the Spine header "Authorization" is removed
    When I send a GET request to "<path>"
    Then the response is a GP Connect error with code "BAD_REQUEST" and status 400

    Examples:
      | interaction       | path                             |
      | metadata          | /metadata                        |
      | patient read      | /Patient/{registered_patient_id} |
      | organization read | /Organization/{organization_id}  |
