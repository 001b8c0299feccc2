#!/bin/sh
# A GP Connect consumer with the mistakes onboarding finds: a token that lives ten
# minutes with a write scope and no practitioner, the interaction id of another
# operation, the NHS number under the wrong identifier system, and errors ignored: it
# sends every request twice and always says it worked.
set -eu
b64url() { printf '%s' "$1" | base64 | tr -d '\n=' | tr '+/' '-_'; }
now=$(date +%s)
header=$(b64url '{"alg":"none","typ":"JWT"}')
claims=$(b64url "{\"iss\":\"https://consumer.example.nhs.uk\",\"sub\":\"1\",\"aud\":\"$ASSURE_COUNTERPART_GPCONNECT_PROVIDER\",\"exp\":$((now + 600)),\"iat\":$now,\"reason_for_request\":\"directcare\",\"requested_scope\":\"patient/*.write\",\"requesting_device\":{\"resourceType\":\"Device\",\"identifier\":[{\"system\":\"https://consumer.example.nhs.uk/Id/device\",\"value\":\"EPR-1\"}]},\"requesting_organization\":{\"resourceType\":\"Organization\",\"identifier\":[{\"system\":\"https://fhir.nhs.uk/Id/ods-organization-code\",\"value\":\"A11111\"}]}}")
for attempt in 1 2; do
curl -sS -o /dev/null -X POST "$ASSURE_COUNTERPART_GPCONNECT_PROVIDER/Patient/\$gpc.getstructuredrecord" \
  -H "Authorization: Bearer $header.$claims." \
  -H "Ssp-TraceID: $(cat /proc/sys/kernel/random/uuid)" \
  -H "Ssp-From: 200000000359" \
  -H "Ssp-To: 918999198738" \
  -H "Ssp-InteractionID: urn:nhs:names:services:gpconnect:fhir:rest:search:patient-1" \
  -H "Accept: application/fhir+json" \
  -H "Content-Type: application/fhir+json" \
  -d "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"patientNHSNumber\",\"valueIdentifier\":{\"system\":\"https://example.org/nhs\",\"value\":\"$ASSURE_PATIENT_NHS_NUMBER\"}},{\"name\":\"includeAllergies\",\"part\":[{\"name\":\"includeResolvedAllergies\",\"valueBoolean\":true}]}]}" || true
done
echo "record retrieved"
