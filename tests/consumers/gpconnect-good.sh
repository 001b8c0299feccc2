#!/bin/sh
# A GP Connect consumer that follows the 1.x specification: an unsigned JWT with every
# required claim, the Spine headers of the operation, FHIR JSON, and the Parameters of
# the clinical area the action names (allergies by default). It reports what the
# provider answered: exit 0 with the record, or exit 1 naming the Spine error code (or
# the transport failure); it never repeats a rejected request. With GPC_PATIENT_ONLY=1
# it is the minimal consumer GP Connect 1.6 allows: it names the patient and no
# clinical area, adds the conf/N confidentiality scope and sends no Accept header
# (curl's default removed: the provider answers in the Content-Type's format).
set -eu
scope='patient/*.read'
accept='Accept: application/fhir+json'
if [ "${GPC_PATIENT_ONLY:-}" = 1 ]; then
  scope='patient/*.read conf/N'
  accept='Accept:'
fi
b64url() { printf '%s' "$1" | base64 | tr -d '\n=' | tr '+/' '-_'; }
now=$(date +%s)
header=$(b64url '{"alg":"none","typ":"JWT"}')
claims=$(b64url "{\"iss\":\"https://consumer.example.nhs.uk\",\"sub\":\"1\",\"aud\":\"$ASSURE_COUNTERPART_GPCONNECT_PROVIDER\",\"exp\":$((now + 300)),\"iat\":$now,\"reason_for_request\":\"directcare\",\"requested_scope\":\"$scope\",\"requesting_device\":{\"resourceType\":\"Device\",\"identifier\":[{\"system\":\"https://consumer.example.nhs.uk/Id/device\",\"value\":\"EPR-1\"}],\"model\":\"Example EPR\",\"version\":\"1.0\"},\"requesting_organization\":{\"resourceType\":\"Organization\",\"identifier\":[{\"system\":\"https://fhir.nhs.uk/Id/ods-organization-code\",\"value\":\"A11111\"}],\"name\":\"Example Hospital\"},\"requesting_practitioner\":{\"resourceType\":\"Practitioner\",\"id\":\"1\",\"identifier\":[{\"system\":\"https://fhir.nhs.uk/Id/sds-user-id\",\"value\":\"111222333444\"},{\"system\":\"https://fhir.nhs.uk/Id/sds-role-profile-id\",\"value\":\"444555666777\"}],\"name\":[{\"family\":\"Jones\",\"given\":[\"Sam\"]}]}}")
# The clinical area the action names, as the 1.6 Parameters ask for it.
case "${ASSURE_ACTION:-}" in
  *medications*) area='{"name":"includeMedication","part":[{"name":"includePrescriptionIssues","valueBoolean":true}]}' ;;
  *problems*) area='{"name":"includeProblems"}' ;;
  *immunisations*) area='{"name":"includeImmunisations"}' ;;
  *consultations*) area='{"name":"includeConsultations","part":[{"name":"includeNumberOfMostRecent","valueInteger":3}]}' ;;
  *investigations*) area='{"name":"includeInvestigations"}' ;;
  *referrals*) area='{"name":"includeReferrals"}' ;;
  *diary*) area='{"name":"includeDiaryEntries"}' ;;
  *uncategorised*) area='{"name":"includeUncategorisedData"}' ;;
  *) area='{"name":"includeAllergies","part":[{"name":"includeResolvedAllergies","valueBoolean":true}]}' ;;
esac
if [ "${GPC_PATIENT_ONLY:-}" = 1 ]; then area=''; else area=",$area"; fi
answer=$(mktemp)
trap 'rm -f "$answer"' EXIT
if ! status=$(curl -sS -o "$answer" -w '%{http_code}' -X POST "$ASSURE_COUNTERPART_GPCONNECT_PROVIDER/Patient/\$gpc.getstructuredrecord" \
  -H "Authorization: Bearer $header.$claims." \
  -H "Ssp-TraceID: $(cat /proc/sys/kernel/random/uuid)" \
  -H "Ssp-From: 200000000359" \
  -H "Ssp-To: 918999198738" \
  -H "Ssp-InteractionID: urn:nhs:names:services:gpconnect:fhir:operation:gpc.getstructuredrecord-1" \
  -H "$accept" \
  -H "Content-Type: application/fhir+json" \
  -d "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"patientNHSNumber\",\"valueIdentifier\":{\"system\":\"https://fhir.nhs.uk/Id/nhs-number\",\"value\":\"$ASSURE_PATIENT_NHS_NUMBER\"}}$area]}"); then
  echo "could not retrieve the record: the provider connection failed" >&2
  exit 1
fi
if [ "$status" != 200 ]; then
  code=$(grep -o '"code": *"[A-Z][A-Z_ ]*"' "$answer" | sed 's/.*"\([A-Z][A-Z_ ]*\)"$/\1/' | head -n 1)
  echo "could not retrieve the record: HTTP $status ${code:-(no Spine error code)}" >&2
  exit 1
fi
grep -q '"resourceType": *"Bundle"' "$answer" || { echo "could not retrieve the record: the answer is not a Bundle" >&2; exit 1; }
echo "record retrieved"
