#!/bin/sh
# A consumer that behaves: it asks the provider for a structured record with the
# headers and the Parameters body the specification asks for.
set -eu
trace=$(cat /proc/sys/kernel/random/uuid)
curl -sS -o /dev/null -X POST "$ASSURE_COUNTERPART_PROVIDER/Patient/\$gpc.getstructuredrecord" \
  -H "Accept: application/fhir+json" \
  -H "Content-Type: application/fhir+json" \
  -H "Ssp-TraceID: $trace" \
  -d "{\"resourceType\": \"Parameters\", \"parameter\": [{\"name\": \"patientNHSNumber\", \"valueIdentifier\": {\"system\": \"https://fhir.nhs.uk/Id/nhs-number\", \"value\": \"$ASSURE_PATIENT_NHS_NUMBER\"}}]}"
