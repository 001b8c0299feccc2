@gp-connect @consumer
Feature: A consumer handles what a provider answers when it cannot give the record
  The harness plays the provider and answers the consumer's request with an error or a
  failure; the consumer command reports for the consumer under test whether it could
  retrieve the record (its exit status) and what it told its user (its output). A
  failing provider fails the first request and the 3 automated retries a consumer may
  make, so a consumer that retries is judged on what it finally shows.

  @req:GPC-CONS-6
  Scenario Outline: The consumer reports a GP Connect error and does not repeat the request
    Given the counterpart "gpconnect-provider" answers the next request with status <status> and the GP Connect error "<code>"
    When the consumer is asked to "retrieve the structured record of {patient_nhs_number}"
    Then the counterpart "gpconnect-provider" receives a request within {wait_seconds} seconds
    And the consumer command fails
    And the consumer output contains "<code>"
    And the counterpart "gpconnect-provider" receives no further request within 2 seconds

    Examples:
      | status | code                      |
      | 400    | BAD_REQUEST               |
      | 400    | INVALID_NHS_NUMBER        |
      | 403    | NO_RELATIONSHIP           |
      | 403    | ACCESS DENIED             |
      | 404    | PATIENT_NOT_FOUND         |
      | 422    | INVALID_PARAMETER         |

  @req:GPC-CONS-7
  Scenario Outline: The consumer reports a provider that fails
    Given the counterpart "gpconnect-provider" answers the next 4 requests with status <status> and the GP Connect error "<code>"
    When the consumer is asked to "retrieve the structured record of {patient_nhs_number}"
    Then the counterpart "gpconnect-provider" receives a request within {wait_seconds} seconds
    And the consumer command fails
    And the consumer output contains "<code>"

    Examples:
      | status | code                  |
      | 500    | INTERNAL_SERVER_ERROR |
      | 501    | NOT_IMPLEMENTED       |

  @req:GPC-CONS-7
  Scenario Outline: The consumer reports a connection that fails
    Given the counterpart "gpconnect-provider" answers the next request with the fault "<fault>"
    And the counterpart "gpconnect-provider" answers the next request with the fault "<fault>"
    And the counterpart "gpconnect-provider" answers the next request with the fault "<fault>"
    And the counterpart "gpconnect-provider" answers the next request with the fault "<fault>"
    When the consumer is asked to "retrieve the structured record of {patient_nhs_number}"
    Then the counterpart "gpconnect-provider" receives a request within {wait_seconds} seconds
    And the consumer command fails

    Examples:
      | fault                    |
      | CONNECTION_RESET_BY_PEER |
      | EMPTY_RESPONSE           |
      | RANDOM_DATA_THEN_CLOSE   |
