#!/bin/sh
# A consumer that does not: no trace id, XML asked for, and the NHS number under the
# wrong parameter name.
set -eu
curl -sS -o /dev/null -X POST "$ASSURE_COUNTERPART_PROVIDER/Patient/\$gpc.getstructuredrecord" \
  -H "Accept: application/xml" \
  -H "Content-Type: application/fhir+json" \
  -d "{\"resourceType\": \"Parameters\", \"parameter\": [{\"name\": \"nhsNumber\", \"valueString\": \"$ASSURE_PATIENT_NHS_NUMBER\"}]}"
