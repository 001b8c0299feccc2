#!/usr/bin/env python3
"""Writes the GP Connect reference provider stub set (mappings/, __files/) and its
broken overlay (../gpconnect-provider-broken/mappings/) from one table, so that each
seeded defect answers exactly the request its base mapping answers.

Bodies are shaped from the GP Connect 1.6.2 specification examples. Run it from
anywhere: `python3 mocks/gpconnect-provider/generate.py`. The output is committed;
the harness never runs this script, and a test checks the output is what it writes.

The examples and the STU3 assets are read from the test data: `$ASSURE_TEST_DATA`
when set, else `../shared` beside the checkout (`cargo xtask test-data where` tells
where they are); `GPC_SPEC_EXAMPLES` and `GPC_ASSETS` name them one by one.
"""
import base64
import copy
import functools
import json
import os
import re
import shutil
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
BROKEN = os.path.join(os.path.dirname(HERE), "gpconnect-provider-broken")

FHIR_JSON = "application/fhir+json;charset=utf-8"
PROFILE_OO = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1"
SPINE_CODES = "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1"
NHS = "https://fhir.nhs.uk/Id/nhs-number"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
SDS_USER = "https://fhir.nhs.uk/Id/sds-user-id"
PREFIX = "urn:nhs:names:services:gpconnect:"

# The suite's default inputs (suites/gp-connect-foundations/suite.toml).
REGISTERED = ["9690937286", "9476719931"]
NOT_FOUND = "9690937294"
DECEASED = "9690937308"
SENSITIVE = "9690937316"
INVALID = ["9690937287", "96909372", "969093728X"]
UNREGISTERED = "9000000009"  # on the spine, not registered at the practice
UNKNOWN_ID = "does-not-exist-0000"  # a logical id nothing has
DISSENT = "9690937324"  # a registered patient who has dissented from record sharing
# Any other 10-digit NHS number is a patient here, with the registered patient's
# record under that number and its NHS number as its id: a consumer's or a provider
# run's own test patients (--input) are answered. The suites' other patients are not.
RESERVED = {NOT_FOUND: "not on record", DECEASED: "deceased", SENSITIVE: "sensitive",
            UNREGISTERED: "not registered here", DISSENT: "dissented from sharing", INVALID[0]: "a wrong check digit"}
ANY_NHS = "(?!%s)[0-9]{10}" % "|".join(RESERVED)
# The NHS number a request names, for the bodies that answer any patient.
NHS_OF_BODY = "{{#each (jsonPath request.body '$..valueIdentifier.value')}}{{this}}{{/each}}"
NHS_OF_QUERY = "{{regexExtract request.query.identifier '[0-9]+$'}}"
NHS_OF_PATH = "{{request.pathSegments.[1]}}"
# The requested_scope values GP Connect defines, alone or with a confidentiality scope.
VALID_SCOPES = ["%s/*.%s%s" % (f, a, c) for f in ("patient", "organization") for a in ("read", "write")
                for c in ("", " conf/N", " conf/R")]
# Endpoints the security guidance's table of acceptable scopes does not name.
UNSCOPED = {"metadata", "document metadata"}

ENDPOINTS = {
    # name: (method, url key, url, interaction id, scope)
    "metadata": ("GET", "urlPath", "/metadata", "fhir:rest:read:metadata-1", "organization/*.read"),
    "patient search": ("GET", "urlPath", "/Patient", "fhir:rest:search:patient-1", "patient/*.read"),
    "patient read": ("GET", "urlPathPattern", "/Patient/[^/$]+", "fhir:rest:read:patient-1", "patient/*.read"),
    "practitioner search": ("GET", "urlPath", "/Practitioner", "fhir:rest:search:practitioner-1", "organization/*.read"),
    "practitioner read": ("GET", "urlPathPattern", "/Practitioner/[^/]+", "fhir:rest:read:practitioner-1", "organization/*.read"),
    "organization search": ("GET", "urlPath", "/Organization", "fhir:rest:search:organization-1", "organization/*.read"),
    "organization read": ("GET", "urlPathPattern", "/Organization/[^/]+", "fhir:rest:read:organization-1", "organization/*.read"),
    "location read": ("GET", "urlPathPattern", "/Location/[^/]+", "fhir:rest:read:location-1", "organization/*.read"),
    "structured record": ("POST", "urlPath", "/Patient/$gpc.getstructuredrecord", "fhir:operation:gpc.getstructuredrecord-1", "patient/*.read"),
    "patient register": ("POST", "urlPath", "/Patient/$gpc.registerpatient", "fhir:operation:gpc.registerpatient-1", "patient/*.write"),
}

CHECKOUT = os.path.dirname(os.path.dirname(HERE))
TEST_DATA = os.environ.get("ASSURE_TEST_DATA") or os.path.join(os.path.dirname(CHECKOUT), "shared")
SPEC = os.environ.get("GPC_SPEC_EXAMPLES") or os.path.join(
    TEST_DATA, "corpora", "examples", "gpconnect-spec", "feature_1.6.2", "_includes")
if not os.path.isdir(SPEC):
    raise SystemExit(f"generate.py: the GP Connect specification examples are not at {SPEC}: "
                     "put ../shared beside the checkout, or set ASSURE_TEST_DATA (or GPC_SPEC_EXAMPLES)")


def b64_variants(text):
    """The base64url renderings of `text` at the three byte alignments a JWT payload
    may put it in: a token that contains `text` contains one of these. Only characters
    that `text` alone decides are kept, so the last byte may be decided only in part:
    end the text with a byte whose neighbours cannot occur there."""
    data = text.encode()
    out = []
    for offset in range(3):
        encoded = base64.urlsafe_b64encode(b"\0" * offset + data + b"\0\0").decode()
        first = -(-8 * offset // 6)
        last = 8 * (offset + len(data)) // 6
        out.append(encoded[first:last])
    return out


def contains_any(text):
    return "(?:" + "|".join(re.escape(v) for v in b64_variants(text)) + ")"


def error(status, issue_code, code, display, diagnostics):
    return {
        "resourceType": "OperationOutcome",
        "meta": {"profile": [PROFILE_OO]},
        "issue": [{
            "severity": "error",
            "code": issue_code,
            "details": {"coding": [{"system": SPINE_CODES, "code": code, "display": display}]},
            "diagnostics": diagnostics,
        }],
    }, status


# What the reference provider serves, said in every 404 it answers.
RESERVED_TEXT = ", ".join("%s (%s)" % kv for kv in RESERVED.items())
SERVED_PATIENTS = ("Patient/2 (NHS number %s), Patient/3 (%s) and, for any other 10-digit NHS number N, Patient/N; "
                   "the NHS numbers the suites keep for other cases are no one: %s" % (REGISTERED[0], REGISTERED[1], RESERVED_TEXT))
SERVED_RECORDS = ("the structured record of any 10-digit NHS number (the registered patient's record under that number), "
                  "except the NHS numbers the suites keep for other cases: %s" % RESERVED_TEXT)
ADD_PATIENT = ("Against your own provider, give your test patients with --input "
               "(registered_nhs_number, registered_patient_id)")


def not_served(what, served):
    return "No %s here. This reference provider (mocks/gpconnect-provider) serves %s. %s." % (what, served, ADD_PATIENT)


def bad_request(why):
    return error(400, "invalid", "BAD_REQUEST", "Bad request", why)


def respond(body_status, headers=None):
    body, status = body_status
    return {"status": status, "headers": headers or {"Content-Type": FHIR_JSON}, "jsonBody": body}


def respond_file(name, status=200, content_type=FHIR_JSON):
    return {"status": status, "headers": {"Content-Type": content_type}, "bodyFileName": name}


def endpoint_request(name, **extra):
    method, key, url, _, _ = ENDPOINTS[name]
    req = {"method": method, key: url}
    req.update(extra)
    return req


def load(rel):
    with open(os.path.join(SPEC, rel)) as f:
        return json.load(f)


def searchset(resources):
    bundle = {
        "resourceType": "Bundle",
        "meta": {"lastUpdated": "2026-11-26T09:00:00+00:00"},
        "type": "searchset",
        "total": len(resources),
        "entry": [{"fullUrl": "{{request.baseUrl}}/%s/%s" % (r["resourceType"], r["id"]), "resource": r} for r in resources],
    }
    if not resources:
        del bundle["entry"]  # FHIR JSON has no empty arrays
    return bundle


def patient(nhs, pid, family, given, **more):
    p = copy.deepcopy(load("foundations/find_patient_response_example.json")["entry"][0]["resource"])
    p["id"] = pid
    p["identifier"][0]["value"] = nhs
    p["name"][0].update({"family": family, "given": [given], "text": "%s %s" % (family.upper(), given)})
    # The example codes the verification status in a system that is not the ValueSet's.
    for ext in p["identifier"][0].get("extension", []):
        for c in ext.get("valueCodeableConcept", {}).get("coding", []):
            c["system"] = "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1"
    p.update(more)
    return p


def files():
    """Response bodies, by file name."""
    out = {}
    cap = load("foundations/get_capability_statement_response_example.json")
    cap["publisher"] = "assure reference GP Connect provider"
    cap["software"] = {"name": "assure gpconnect-provider", "version": "1.6.2", "releaseDate": "2026-11-26"}
    out["capability-statement.json"] = cap
    jackson = patient(REGISTERED[0], "2", "Jackson", "Jane")
    out["patient-2.json"] = jackson
    out["search-patient-%s.json" % REGISTERED[0]] = searchset([jackson])
    wood = patient(REGISTERED[1], "3", "Wood", "Sam")
    out["patient-3.json"] = wood
    out["search-patient-%s.json" % REGISTERED[1]] = searchset([wood])
    out["patient-any.json"] = patient(NHS_OF_PATH, NHS_OF_PATH, "Jackson", "Jane")
    out["search-patient-any.json"] = searchset([patient(NHS_OF_QUERY, NHS_OF_QUERY, "Jackson", "Jane")])
    out["search-empty.json"] = searchset([])
    deceased = patient(DECEASED, "4", "Tooley", "Alan", deceasedDateTime="2024-02-01T10:00:00+00:00")
    out["search-patient-deceased-leaked.json"] = searchset([deceased])
    prac = load("foundations/read_practitioner_response_example.json")
    prac["id"] = "1"
    prac["identifier"][0]["value"] = "G13579135"
    out["practitioner-1.json"] = prac
    out["practitioner-1-nonconformant.json"] = dict(copy.deepcopy(prac), gender="woman")
    out["search-practitioner.json"] = searchset([prac])
    org = load("foundations/read_organization_response_example.json")
    org["id"] = "1"
    out["organization-1.json"] = org
    out["search-organization.json"] = searchset([org])
    loc = load("foundations/read_location_response_example.json")
    loc["id"] = "1"
    loc["managingOrganization"] = {"reference": "Organization/1"}
    if isinstance(loc.get("address"), list):
        loc["address"] = loc["address"][0]  # STU3 Location.address is 0..1
    out["location-1.json"] = loc
    # Tidied as the structured areas' bodies are (see tidy_bundle): the allergies and
    # ended allergies of the registered patient.
    allergies = job_role_system(structured_bundles()["allergies-resolved"])
    out["structured-allergies.json"] = allergies
    out["structured-allergies-no-list.json"] = without(allergies, lambda r: r["resourceType"] != "List")
    # Every clinical-area parameter is optional: a request naming only the patient gets
    # the patient, their GP practice and GP, and no clinical List.
    out["structured-patient-only.json"] = without(
        allergies, lambda r: r["resourceType"] in ("Patient", "Organization", "Practitioner", "PractitionerRole"))
    return out



def not_matching(regex):
    """Present and not matching: WireMock's doesNotMatch alone also matches an absent value."""
    return {"and": [{"matches": ".*"}, {"doesNotMatch": regex}]}

def mappings():
    """(file name, mapping, defect overlay or None). Lower file prefixes answer first."""
    m = []

    def add(fname, name, priority, request, response, defect=None):
        mapping = {"name": name, "priority": priority, "request": request, "response": response}
        if response.get("bodyFileName") and "{{" in json.dumps(FILES.get(response["bodyFileName"], "")):
            response["transformers"] = ["response-template"]
        m.append((fname, mapping, defect))

    anything = {"method": "ANY", "urlPathPattern": "/.*"}
    # Spine Security Proxy headers and the JWT, on every request (priority 1).
    for h in ["Ssp-TraceID", "Ssp-From", "Ssp-To", "Ssp-InteractionID", "Authorization"]:
        add("01-missing-%s.json" % h.lower(), "%s header missing" % h, 1,
            dict(anything, headers={h: {"absent": True}}),
            respond(bad_request("the %s header is required" % h)),
            defect=("trace-id-optional", ["GPC-SSP-1"]) if h == "Ssp-TraceID" else None)
    for claim in ["iss", "sub", "aud", "exp", "iat", "reason_for_request", "requested_scope",
                  "requesting_device", "requesting_organization", "requesting_practitioner"]:
        add("01-jwt-missing-%s.json" % claim, "JWT claim %s missing" % claim, 1,
            dict(anything, headers={"Authorization": not_matching(".*%s.*" % contains_any('"%s":' % claim))}),
            respond(bad_request("the JWT has no %s claim" % claim)))
    add("01-jwt-reason.json", "JWT reason_for_request is not directcare", 1,
        dict(anything, headers={"Authorization": not_matching(".*%s.*" % contains_any('"reason_for_request":"directcare"'))}),
        respond(bad_request("reason_for_request must be directcare")))
    # exp: a stub cannot do arithmetic on the claims, so it decides by exp alone: before
    # 2023-11-14 (1700000000) the token has expired; from 2033-05-18 (2000000000) it
    # cannot be 5 minutes after a token issued now.
    # (A trailing digit is part of each text: the base64 of a text's last byte is only
    # partly its own, so the digit that decides must not be the last.)
    expired = "|".join(contains_any('"exp":1%d%d' % (d, e)) for d in range(7) for e in range(10))
    add("01-jwt-expired.json", "JWT has expired", 1,
        dict(anything, headers={"Authorization": {"matches": ".*(?:%s).*" % expired}}),
        respond(bad_request("the token has expired")),
        defect=("expired-token-accepted", ["GPC-JWT-3"]))
    far = "|".join(contains_any('"exp":%d%d' % (d, e)) for d in range(2, 10) for e in range(10))
    add("01-jwt-exp-far.json", "JWT exp is not 5 minutes after it was issued", 1,
        dict(anything, headers={"Authorization": {"matches": ".*(?:%s).*" % far}}),
        respond(bad_request("exp must be iat + 300 seconds")))
    # requested_scope must be a GP Connect scope, optionally with a confidentiality scope.
    add("01-jwt-scope-value.json", "JWT requested_scope is not a GP Connect scope", 1,
        dict(anything, headers={"Authorization": not_matching(".*(?:%s).*" % "|".join(
            contains_any('"requested_scope":"%s"' % v) for v in VALID_SCOPES))}),
        respond(bad_request("requested_scope is not a GP Connect scope")))

    # Each endpoint: the interaction id must be the operation's; the scope one the
    # endpoint accepts (GP Connect security guidance, authorisation of access to endpoints).
    for name, (method, key, url, iid, scope) in ENDPOINTS.items():
        slug = name.replace(" ", "-")
        defect = ("interaction-error-without-profile", ["GPC-SSP-2"]) if name == "metadata" else None
        # Amend and cancel share PUT /Appointment/{id}: either id is that operation's.
        ids = "|".join(re.escape(PREFIX + i) for i in iid.split(" "))
        add("02-%s-interaction.json" % slug, "%s: wrong Ssp-InteractionID" % name, 2,
            endpoint_request(name, headers={"Ssp-InteractionID": not_matching(ids)}),
            respond(bad_request("Ssp-InteractionID does not match the operation")), defect=defect)
        if name in UNSCOPED:
            continue
        family = scope.split("/")[0]
        defect = ("scope-not-checked", ["GPC-JWT-4"]) if name == "patient search" else None
        add("03-%s-scope.json" % slug, "%s: requested_scope of another endpoint" % name, 3,
            endpoint_request(name, headers={"Authorization": not_matching(".*%s.*" % contains_any('"requested_scope":"%s/*.' % family))}),
            respond(bad_request("requested_scope must be %s/*.read or %s/*.write" % (family, family))), defect=defect)

    add("05-metadata.json", "capability statement", 5, endpoint_request("metadata"),
        respond_file("capability-statement.json"), defect=("capability-r4", ["GPC-META-1"]))
    for nhs in REGISTERED:
        add("05-search-patient-%s.json" % nhs, "find patient %s" % nhs, 5,
            endpoint_request("patient search", queryParameters={"identifier": {"equalTo": "%s|%s" % (NHS, nhs)}}),
            respond_file("search-patient-%s.json" % nhs))
    add("05-read-patient-2.json", "read patient 2", 5, {"method": "GET", "urlPath": "/Patient/2"},
        respond_file("patient-2.json"))
    add("05-read-patient-3.json", "read patient 3", 5, {"method": "GET", "urlPath": "/Patient/3"},
        respond_file("patient-3.json"))
    for role, nhs in [("not-found", NOT_FOUND), ("deceased", DECEASED), ("sensitive", SENSITIVE)]:
        add("05-search-patient-%s.json" % role, "find patient: %s" % role, 5,
            endpoint_request("patient search", queryParameters={"identifier": {"equalTo": "%s|%s" % (NHS, nhs)}}),
            respond_file("search-empty.json"),
            defect=("deceased-patient-found", ["GPC-PAT-2"]) if role == "deceased" else None)
    add("06-search-patient-invalid.json", "find patient: invalid NHS number", 6,
        endpoint_request("patient search", queryParameters={"identifier": {"matches": re.escape(NHS + "|") + "(?!\\d{10}$).*"}}),
        respond(error(400, "value", "INVALID_NHS_NUMBER", "Invalid NHS number", "the NHS number is not 10 digits")))
    add("06-search-patient-check-digit.json", "find patient: bad check digit", 6,
        endpoint_request("patient search", queryParameters={"identifier": {"equalTo": "%s|%s" % (NHS, INVALID[0])}}),
        respond(error(400, "value", "INVALID_NHS_NUMBER", "Invalid NHS number", "the NHS number check digit is wrong")),
        defect=("nhs-number-check-digit-ignored", ["GPC-PAT-3"]))
    add("06-search-patient-system.json", "find patient: wrong identifier system", 6,
        endpoint_request("patient search", queryParameters={"identifier": not_matching(re.escape(NHS + "|") + ".*")}),
        respond(error(400, "value", "INVALID_IDENTIFIER_SYSTEM", "Invalid identifier system", "identifier must use " + NHS)))
    add("07-search-patient-any.json", "find patient: any other NHS number", 7,
        endpoint_request("patient search", queryParameters={"identifier": {"matches": re.escape(NHS + "|") + ANY_NHS}}),
        respond_file("search-patient-any.json"))
    add("08-search-patient-reserved.json", "find patient: a number the suites keep as not found here", 8,
        endpoint_request("patient search", queryParameters={"identifier": {"matches": re.escape(NHS + "|") + "\\d{10}"}}),
        respond_file("search-empty.json"))

    add("05-read-practitioner-1.json", "read practitioner 1", 5, {"method": "GET", "urlPath": "/Practitioner/1"},
        respond_file("practitioner-1.json"),
        defect=("practitioner-not-conformant", ["GPC-VAL-1"], respond_file("practitioner-1-nonconformant.json")))
    add("05-search-practitioner.json", "find practitioner by SDS user id", 5,
        endpoint_request("practitioner search", queryParameters={"identifier": {"equalTo": SDS_USER + "|G13579135"}}),
        respond_file("search-practitioner.json"), defect=("practitioner-search-empty", ["GPC-PRAC-2"]))
    add("05-read-organization-1.json", "read organization 1", 5, {"method": "GET", "urlPath": "/Organization/1"},
        respond_file("organization-1.json"))
    add("05-search-organization.json", "find organization by ODS code", 5,
        endpoint_request("organization search", queryParameters={"identifier": {"equalTo": ODS + "|A00001"}}),
        respond_file("search-organization.json"))
    add("05-read-location-1.json", "read location 1", 5, {"method": "GET", "urlPath": "/Location/1"},
        respond_file("location-1.json"), defect=("location-not-fhir-json", ["GPC-HTTP-1"]))
    add("05-read-patient-any.json", "read the patient of any other NHS number (its id)", 5,
        {"method": "GET", "urlPathPattern": "/Patient/" + ANY_NHS}, respond_file("patient-any.json"))
    # Spine-ErrorOrWarningCode-1 has no code for a Location: NO_RECORD_FOUND, the catch-all.
    for rtype, code, display, served in [("Patient", "PATIENT_NOT_FOUND", "Patient not found", SERVED_PATIENTS),
                                         ("Practitioner", "PRACTITIONER_NOT_FOUND", "Practitioner not found", "Practitioner/1"),
                                         ("Organization", "ORGANISATION_NOT_FOUND", "Organisation not found", "Organization/1"),
                                         ("Location", "NO_RECORD_FOUND", "No record found", "Location/1")]:
        add("06-read-%s-unknown.json" % rtype.lower(), "read unknown %s" % rtype, 6,
            {"method": "GET", "urlPathPattern": "/%s/[^/$]+" % rtype},
            respond(error(404, "not-found", code, display, not_served("%s with that id" % rtype, served))),
            defect=("organisation-not-found-plain", ["GPC-READ-2"]) if rtype == "Organization" else None)

    sr = endpoint_request("structured record", bodyPatterns=[
        {"matchesJsonPath": {"expression": "$.parameter[?(@.name == 'patientNHSNumber')].valueIdentifier.value",
                             "equalTo": REGISTERED[0]}},
        {"matchesJsonPath": "$.parameter[?(@.name == 'includeAllergies')]"},
    ])
    add("05-structured-allergies.json", "structured record: allergies", 5, sr,
        respond_file("structured-allergies.json"), defect=("allergies-without-list", ["GPC-SR-1", "GPC-ARS-1", "GPC-ARS-2", "GPC-VAL-1"]))
    add("05-structured-patient-only.json", "structured record: the patient only", 5, endpoint_request("structured record", bodyPatterns=[
        {"matchesJsonPath": {"expression": "$.parameter[?(@.name == 'patientNHSNumber')].valueIdentifier.value",
                             "equalTo": REGISTERED[0]}},
        {"matchesJsonPath": {"expression": "$.parameter[?(@.name != 'patientNHSNumber')]", "absent": True}},
    ]), respond_file("structured-patient-only.json"))
    any_patient_mappings(add)
    provider_mappings(add)
    return m


DEFECTS = {
    "trace-id-optional": "A request without Ssp-TraceID is answered 200 instead of 400 BAD_REQUEST",
    "expired-token-accepted": "A token that has expired is accepted (200)",
    "interaction-error-without-profile": "The metadata interaction-id error lacks meta.profile GPConnect-OperationOutcome-1",
    "scope-not-checked": "Find a patient accepts a token whose requested_scope is not patient/*.read",
    "capability-r4": "The CapabilityStatement declares fhirVersion 4.0.1 instead of 3.0.1",
    "deceased-patient-found": "Find a patient returns the deceased patient instead of an empty Bundle",
    "nhs-number-check-digit-ignored": "An NHS number with a wrong check digit is searched (empty Bundle) instead of 400 INVALID_NHS_NUMBER",
    "practitioner-search-empty": "Find a practitioner by SDS user id returns an empty Bundle",
    "location-not-fhir-json": "Read a location answers Content-Type application/json",
    "organisation-not-found-plain": "Reading an unknown Organization answers a plain-text 404 instead of ORGANISATION_NOT_FOUND",
    "allergies-without-list": "The allergies record (any includeAllergies request but the provider suite's exact bodies) lacks its Lists, so it does not conform to GPConnect-StructuredRecord-Bundle-1 either",
}


def readme(rows):
    lines = [
        "# gpconnect-provider-broken",
        "",
        "The GP Connect reference provider (`mocks/gpconnect-provider/`) with seeded defects,",
        "used to prove that the `gp-connect-foundations` and `gp-connect-provider` suites fail",
        "when a provider is wrong, and say which requirement failed. `mock.toml` extends",
        "`gpconnect-provider`; each file",
        "in `mappings/` answers exactly the request of the reference mapping of the same file",
        "name, at the same priority (an overlay wins ties), so each defect fails only its own",
        "requirements. A defect that breaks a check several reference mappings make (one",
        "endpoint's handling of a token claim that priority-1 and per-endpoint mappings both",
        "check) answers that endpoint's requests ahead of all of them, in a file of its own",
        "that names each mapping it overrides. This README and the mappings are written by",
        "`mocks/gpconnect-provider/generate.py`.",
        "",
        "Every defect mapping carries `\"metadata\": {\"defect\": ..., \"description\": ..., \"requirements\": [...], \"overrides\": ...}`.",
        "",
        "| Defect | What is wrong | Requirements | Overrides |",
        "|---|---|---|---|",
    ]
    for overrides, name, reqs in rows:
        lines.append("| `%s` | %s | %s | %s |" % (name, DEFECTS[name], ", ".join("`%s`" % r for r in reqs),
                                                  ", ".join("`%s`" % o for o in overrides)))
    return "\n".join(lines) + "\n"


def defect_response(defect, mapping):
    """The broken answer each seeded defect gives to its base mapping's request."""
    plain = {"Content-Type": FHIR_JSON}
    if defect in ("trace-id-optional", "expired-token-accepted", "scope-not-checked"):
        return {"status": 200, "headers": plain, "jsonBody": {"resourceType": "Bundle", "type": "searchset", "total": 0}}
    if defect == "interaction-error-without-profile":
        body = copy.deepcopy(mapping["response"]["jsonBody"])
        del body["meta"]
        return {"status": 400, "headers": plain, "jsonBody": body}
    if defect == "capability-r4":
        cap = copy.deepcopy(FILES["capability-statement.json"])
        cap["fhirVersion"] = "4.0.1"
        return {"status": 200, "headers": plain, "jsonBody": cap}
    if defect == "deceased-patient-found":
        return respond_file("search-patient-deceased-leaked.json") | {"transformers": ["response-template"]}
    if defect == "nhs-number-check-digit-ignored":
        return respond_file("search-empty.json") | {"transformers": ["response-template"]}
    if defect == "practitioner-search-empty":
        return respond_file("search-empty.json") | {"transformers": ["response-template"]}
    if defect == "location-not-fhir-json":
        return respond_file("location-1.json", content_type="application/json")
    if defect == "organisation-not-found-plain":
        return {"status": 404, "headers": {"Content-Type": "text/plain"}, "body": "Not Found"}
    if defect == "allergies-without-list":
        return respond_file("structured-allergies-no-list.json")
    raise ValueError(defect)


def write(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")



# ---------------------------------------------------------------------------------
# The rest of the provider: Access Record Structured (every clinical area and its
# parameters), Appointment Management, Access Document, and FHIR XML answers. Request
# bodies the suite sends are written here too (suites/gp-connect-provider/bodies/), so
# each stub answers exactly the body it was written for (equalToJson).

PROVIDER_SUITE = os.path.join(CHECKOUT, "suites", "gp-connect-provider")
FHIR_XML = "application/fhir+xml;charset=utf-8"
SNOMED = "http://snomed.info/sct"
SR_PROFILE = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-StructuredRecord-Bundle-1"
NHS_VERIFICATION = "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1"
DOCS = "/documents"  # where the reference provider serves Access Document
# The _include and _revinclude parameters a document search MUST carry.
DOCUMENT_INCLUDES = [("_include", "DocumentReference:subject:Patient"), ("_include", "DocumentReference:custodian:Organization"),
                     ("_include", "DocumentReference:author:Organization"), ("_include", "DocumentReference:author:Practitioner"),
                     ("_revinclude:recurse", "PractitionerRole:practitioner")]

ENDPOINTS.update({
    "slot search": ("GET", "urlPath", "/Slot", "fhir:rest:search:slot-1", "organization/*.read"),
    "appointment book": ("POST", "urlPath", "/Appointment", "fhir:rest:create:appointment-1", "patient/*.write"),
    "appointment read": ("GET", "urlPathPattern", "/Appointment/[^/]+", "fhir:rest:read:appointment-1", "patient/*.read"),
    "appointment update": ("PUT", "urlPathPattern", "/Appointment/[^/]+",
                           "fhir:rest:update:appointment-1 fhir:rest:cancel:appointment-1", "patient/*.write"),
    "appointment search": ("GET", "urlPathPattern", "/Patient/[^/]+/Appointment",
                           "fhir:rest:search:patient_appointments-1", "patient/*.read"),
    "document metadata": ("GET", "urlPath", DOCS + "/metadata", "documents:fhir:rest:read:metadata-1", "organization/*.read"),
    "document patient search": ("GET", "urlPath", DOCS + "/Patient", "documents:fhir:rest:search:patient-1", "patient/*.read"),
    "document search": ("GET", "urlPathPattern", DOCS + "/Patient/[^/]+/DocumentReference",
                        "documents:fhir:rest:search:documentreference-1", "patient/*.read"),
    "document retrieve": ("GET", "urlPathPattern", DOCS + "/Binary/[^/]+", "documents:fhir:rest:read:binary-1", "patient/*.read"),
})

# The List code of each clinical area (GP Connect Access Record Structured 1.6, List).
LIST_CODES = {
    "allergies": ("886921000000105", "Allergies and adverse reactions"),
    "resolved allergies": ("1103671000000101", "Ended allergies"),
    "medications": ("933361000000108", "Medications and medical devices"),
    "problems": ("717711000000103", "Problems"),
    "immunisations": ("1102181000000102", "Immunisations"),
    "consultations": ("1149501000000101", "List of consultations"),
    "investigations": ("887191000000108", "Investigations and results"),
    "referrals": ("792931000000107", "Outbound referral"),
    "diary": ("714311000000108", "Patient recall administration"),
    "uncategorised": ("826501000000100", "Miscellaneous record"),
}

SR_EXAMPLES = "accessrecord_structured/"


def load_page(rel):
    with open(os.path.join(SPEC, "..", "pages", rel)) as f:
        return json.load(f)


def trimmed(value):
    """FHIR strings have no leading or trailing whitespace; some examples do."""
    if isinstance(value, dict):
        return {k: trimmed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [trimmed(v) for v in value]
    return value.strip() if isinstance(value, str) else value


def tidy_bundle(bundle):
    """A spec example made into a body a conformant provider could send: every entry
    wrapped as `resource` with a fullUrl, the registered patient's NHS number, the
    NHS number verification status from its STU3 CodeSystem, strings trimmed."""
    bundle = trimmed(bundle)
    entries = []
    for e in bundle.get("entry", []):
        r = e.get("resource", e if "resourceType" in e else None)
        if r is None:
            continue
        r.setdefault("id", "%s-%d" % (r["resourceType"].lower(), len(entries) + 1))
        r["id"] = r["id"].split("/")[-1]  # some examples write `Type/id` as the id
        entries.append({"fullUrl": "{{request.baseUrl}}/%s/%s" % (r["resourceType"], r["id"]), "resource": r})
    bundle["entry"] = entries
    for e in entries:
        r = e["resource"]
        if r["resourceType"] == "Patient":
            for ident in r.get("identifier", []):
                if ident.get("system") == NHS:
                    ident["value"] = REGISTERED[0]
                    for ext in ident.get("extension", []):
                        for c in ext.get("valueCodeableConcept", {}).get("coding", []):
                            c["system"] = NHS_VERIFICATION
    # The examples are excerpts: some List items name resources they leave out.
    held = {"%s/%s" % (e["resource"]["resourceType"], e["resource"]["id"]) for e in entries}
    for e in entries:
        r = e["resource"]
        if r["resourceType"] == "List" and "entry" in r:
            set_entries(r, [i for i in r["entry"] if not i.get("item", {}).get("reference", "#").split("#")[0]
                            or "/".join(i["item"]["reference"].split("/")[-2:]) in held])
    bundle.setdefault("meta", {"profile": [SR_PROFILE]})
    return conform(bundle)


# The STU3 profile assets the bodies must conform to.
ASSETS = os.environ.get("GPC_ASSETS") or os.path.join(
    TEST_DATA, "fhir-packages", "nhsconnect-stu3-fhir-assets-develop-4543c050.tgz")
SCTDESCID = "Extension-coding-sctdescid"
DATA_ID = "https://provider.nhs.uk/data-identifier"
GPC_VERIFICATION = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-NHSNumberVerificationStatus-1"
DATE_RECORDED = "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-DateRecorded-1"
@functools.lru_cache(maxsize=None)
def sctdescid_at():
    """(profile url, coding path) -> the SNOMED description extension url the profile
    names there: the GPC profiles name two different urls, and only on some codings."""
    found = {}
    with tarfile.open(ASSETS) as tar:
        for m in tar.getmembers():
            name = os.path.basename(m.name)
            if not (name.startswith("CareConnect-GPC-") and name.endswith(".xml")):
                continue
            text = tar.extractfile(m).read().decode("utf-8-sig")
            url = re.search(r'<url value="([^"]+)"', text).group(1)
            for el in re.finditer(r'<element id="[^"]+">\s*<path value="([^"]+)\.extension"(.*?)</element>', text, re.S):
                for prof in re.findall(r'<profile value="([^"]+%s)"' % SCTDESCID, el.group(2)):
                    found[(url, el.group(1))] = prof
    return found


def conform(bundle):
    """Mends what the spec examples get wrong against the profiles they claim, so the
    reference provider's bodies validate: each mend is a defect of the examples, not
    of the profiles (docs/gp-connect.md)."""
    entries = [e["resource"] for e in bundle["entry"]]
    by_ref = {"%s/%s" % (r["resourceType"], r["id"]): r for r in entries}
    patient = next((r for r in entries if r["resourceType"] == "Patient"), None)
    practitioner_of = {k: r.get("practitioner", {}).get("reference") for k, r in by_ref.items()
                       if r["resourceType"] == "PractitionerRole"}
    statements_of = {}
    for r in entries:
        if r["resourceType"] == "MedicationStatement":
            for b in r.get("basedOn", []):
                statements_of[b.get("reference")] = "MedicationStatement/" + r["id"]
    sct = sctdescid_at()

    def mend_codings(node, path, profile):
        if isinstance(node, dict):
            if "code" in node and "system" in node and "extension" in node:
                keep = []
                for x in node["extension"]:
                    if not x.get("url", "").lower().replace("sctdecsid", "sctdescid").endswith(SCTDESCID.lower()):
                        keep.append(x)
                        continue
                    url = sct.get((profile, path))
                    if url:
                        x["url"] = url
                        for sub in x.get("extension", []):
                            sub["url"] = {"descriptionid": "descriptionId",
                                          "descriptiondisplay": "descriptionDisplay"}.get(sub["url"].lower(), sub["url"])
                        keep.append(x)
                node["extension"] = keep
                if not keep:
                    del node["extension"]
            for k, v in list(node.items()):
                mend_codings(v, path + "." + k if k not in ("extension",) else path, profile)
        elif isinstance(node, list):
            for v in node:
                mend_codings(v, path, profile)

    def resources(r):
        yield r
        for c in r.get("contained", []):
            yield c

    for top in entries:
        for r in resources(top):
            rt = r["resourceType"]
            profile = (r.get("meta", {}).get("profile") or [""])[0]
            for k, v in list(r.items()):
                if k not in ("resourceType", "meta"):
                    mend_codings(v, rt + "." + k, profile)
            # Practitioners act; PractitionerRole is not a target these profiles allow.
            for k in ("recorder", "asserter", "performer"):
                refs = r.get(k) if isinstance(r.get(k), list) else [r.get(k)]
                for ref in refs:
                    if isinstance(ref, dict) and ref.get("reference") in practitioner_of:
                        ref["reference"] = practitioner_of[ref["reference"]]
            # GPConnect-ParticipantType-1: the STU3 v3 system, and REC for who recorded it.
            for part in r.get("participant", []):
                for t in part.get("type", []):
                    for c in t.get("coding", []):
                        if c.get("system") == "http://terminology.hl7.org/CodeSystem/v3-ParticipationType":
                            c["system"] = "http://hl7.org/fhir/v3/ParticipationType"
                        if c.get("code") == "AUTH":
                            c.update({"system": "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-ParticipantType-1",
                                      "code": "REC", "display": "recorder"})
            for p in r.get("practitioner", []) if rt == "Immunization" else []:
                for c in p.get("role", {}).get("coding", []):
                    if "immunization-role" in c.get("system", ""):
                        c["system"] = "http://hl7.org/fhir/v2/0443"
            if rt == "ProcedureRequest" and "occurrence" in r:
                when = r.pop("occurrence")
                r["occurrencePeriod" if isinstance(when, dict) else "occurrenceDateTime"] = when
            if rt == "Condition" and not r.get("category"):
                r["category"] = [{"coding": [{"system": "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-ConditionCategory-1",
                                              "code": "problem-list-item", "display": "Problem List Item"}]}]
            if rt == "Condition" and "asserter" not in r and practitioner_of:
                r["asserter"] = {"reference": next(iter(practitioner_of.values()))}
            for x in r.get("extension", []):
                if x["url"] == "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-ActualProblem-1":
                    x["url"] = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-ActualProblem-1"
                ref = x.get("valueReference", {}).get("reference")
                if x["url"].endswith("RelatedClinicalContent-1") and ref in statements_of:
                    x["valueReference"]["reference"] = statements_of[ref]
            # The examples write some linked items' explanations where the reference goes,
            # and link items the excerpt leaves out.
            linked = []
            for x in r.get("extension", []):
                ref = x.get("valueReference", {}).get("reference")
                if x["url"].endswith("RelatedClinicalContent-1") and ref is not None:
                    if "/" not in ref:
                        x["valueReference"] = {"display": ref}
                    elif ref not in by_ref:
                        continue
                linked.append(x)
            if "extension" in r:
                r["extension"] = linked
            if rt in ("MedicationStatement", "Observation", "Condition") and not r.get("identifier"):
                r["identifier"] = [{"system": DATA_ID, "value": "assure-%s" % r["id"].lower()}]
            if rt in ("Observation", "Condition") and "subject" not in r and patient:
                r["subject"] = {"reference": "Patient/" + patient["id"]}
            if rt == "Observation" and "issued" not in r:
                r["issued"] = r.get("effectiveDateTime", "2019-03-28T10:30:00+00:00")
            if rt == "MedicationRequest":
                supply = r.get("dispenseRequest", {}).get("expectedSupplyDuration")
                if supply:
                    if isinstance(supply.get("code"), list):
                        supply["code"] = supply["code"][0]
                    supply.setdefault("code", "d")
                    supply.setdefault("system", "http://unitsofmeasure.org")
                for q in (supply, r.get("dispenseRequest", {}).get("quantity")):
                    if q and isinstance(q.get("value"), str):
                        q["value"] = int(q["value"]) if q["value"].isdigit() else float(q["value"])
            for x in r.get("extension", []):
                for sub in x.get("extension", []):
                    if "valuePositiveInt" in sub:
                        sub["valueUnsignedInt"] = sub.pop("valuePositiveInt")
            if rt == "Immunization":
                if not any(x["url"] == DATE_RECORDED for x in r.get("extension", [])):
                    r.setdefault("extension", []).append(
                        {"url": DATE_RECORDED, "valueDateTime": r.get("date", "2019-03-28T10:30:00+00:00")})
                why = r.get("explanation", {})
                if "notGivenReason" in why:
                    why["reasonNotGiven"] = why.pop("notGivenReason")
            if rt == "Patient":
                for ident in r.get("identifier", []):
                    for x in ident.get("extension", []):
                        if x["url"].endswith("NHSNumberVerificationStatus-1"):
                            x["url"] = GPC_VERIFICATION
    return with_offsets(bundle)


# A dateTime with a time needs its offset; some examples leave it out.
LOCAL_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$")


def with_offsets(node):
    if isinstance(node, dict):
        return {k: with_offsets(v) for k, v in node.items()}
    if isinstance(node, list):
        return [with_offsets(v) for v in node]
    if isinstance(node, str) and LOCAL_TIME.match(node):
        return node + "+00:00"
    return node


def set_entries(l, items):
    """A List's items; an empty List says why, as GP Connect's empty Lists do."""
    if items:
        l["entry"] = items
        return
    l.pop("entry", None)
    l["emptyReason"] = {"coding": [{"system": "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-ListEmptyReasonCode-1",
                                    "code": "no-content-recorded", "display": "No Content Recorded"}]}
    l["note"] = [{"text": "Information not available."}]


def list_code(bundle, old, area):
    code, display = LIST_CODES[area]
    for e in bundle["entry"]:
        r = e["resource"]
        if r["resourceType"] == "List":
            for c in r.get("code", {}).get("coding", []):
                if c.get("code") == old:
                    c.update({"system": SNOMED, "code": code, "display": display})


def without(bundle, keep):
    b = copy.deepcopy(bundle)
    b["entry"] = [e for e in b["entry"] if keep(e["resource"])]
    return b


def ref_id(item):
    """The logical id a List entry points at ("" for an item without a reference)."""
    return item.get("item", {}).get("reference", "").split("/")[-1]


def lists_of(bundle):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "List"]


def structured_bundles():
    out = {}
    allergies = tidy_bundle(load(SR_EXAMPLES + "allergies_response1.json"))
    list_code(allergies, "TBD", "resolved allergies")
    out["allergies-resolved"] = allergies
    resolved = LIST_CODES["resolved allergies"][0]
    resolved_ids = {ref_id(i) for l in lists_of(allergies)
                    if l["code"]["coding"][0]["code"] == resolved for i in l.get("entry", [])}
    out["allergies-active"] = without(allergies, lambda r: r["id"] not in resolved_ids and not (
        r["resourceType"] == "List" and r["code"]["coding"][0]["code"] == resolved))
    meds = tidy_bundle(load(SR_EXAMPLES + "meds_response.json"))
    list_code(meds, "933361000000108", "medications")
    out["medications"] = meds
    issue_ids = {r["id"] for r in (e["resource"] for e in meds["entry"])
                 if r["resourceType"] == "MedicationRequest" and r.get("intent") == "order"}
    no_issues = without(meds, lambda r: r["id"] not in issue_ids)
    for l in lists_of(no_issues):
        set_entries(l, [i for i in l.get("entry", []) if ref_id(i) not in issue_ids])
    out["medications-no-issues"] = no_issues
    consultations = tidy_bundle(load_page(SR_EXAMPLES + "consultations_response1.json"))
    list_code(consultations, "1149501000000101", "consultations")
    out["consultations"] = consultations
    # The most recent consultation only: the first Encounter of the consultations List.
    recent = copy.deepcopy(consultations)
    for l in lists_of(recent):
        if l["code"]["coding"][0]["code"] == LIST_CODES["consultations"][0]:
            l["entry"] = l["entry"][:1]
    out["consultations-most-recent"] = recent
    problems = copy.deepcopy(consultations)
    out["problems"] = problems
    for status in ["active", "inactive"]:
        out["problems-%s" % status] = without(problems, lambda r, s=status: r["resourceType"] != "Condition" or r.get("clinicalStatus") == s)
    for sig in ["major", "minor"]:
        out["problems-%s" % sig] = without(problems, lambda r, s=sig: r["resourceType"] != "Condition" or any(
            x.get("valueCode") == s for x in r.get("extension", []) if x["url"].endswith("ProblemSignificance-1")))
    for b in [v for k, v in out.items() if k.startswith("problems-")]:
        ids = {e["resource"]["id"] for e in b["entry"]}
        for l in lists_of(b):
            set_entries(l, [i for i in l.get("entry", []) if not ref_id(i) or ref_id(i) in ids])
    imms = tidy_bundle(load(SR_EXAMPLES + "immunizations_response2.json"))
    out["immunisations"] = imms
    out["investigations"] = tidy_bundle(load(SR_EXAMPLES + "pathology_response1.json"))
    referrals = tidy_bundle(load(SR_EXAMPLES + "referrals_response1.json"))
    list_code(referrals, "886721000000107", "referrals")
    out["referrals"] = referrals
    out["diary"] = tidy_bundle(load(SR_EXAMPLES + "diaryentries_response1.json"))
    out["uncategorised"] = tidy_bundle(load(SR_EXAMPLES + "uncategorised_response1.json"))
    return out


def parameters(nhs=None, *params, system=NHS):
    body = {"resourceType": "Parameters", "parameter": []}
    if nhs is not None:
        body["parameter"].append({"name": "patientNHSNumber", "valueIdentifier": {"system": system, "value": nhs}})
    body["parameter"].extend(params)
    return body


def param(name, *parts):
    p = {"name": name}
    if parts:
        p["part"] = list(parts)
    return p


def part(name, kind, value):
    return {"name": name, "value" + kind: value}


def period(start=None, end=None):
    p = {}
    if start:
        p["start"] = start
    if end:
        p["end"] = end
    return p


# Valid requests: body name -> (parameters, response bundle).
def structured_requests():
    R = REGISTERED[0]
    t, f = True, False
    return {
        "allergies-resolved": (parameters(R, param("includeAllergies", part("includeResolvedAllergies", "Boolean", t))), "allergies-resolved"),
        "allergies-active": (parameters(R, param("includeAllergies", part("includeResolvedAllergies", "Boolean", f))), "allergies-active"),
        "medications-issues": (parameters(R, param("includeMedication", part("includePrescriptionIssues", "Boolean", t))), "medications"),
        "medications-no-issues": (parameters(R, param("includeMedication", part("includePrescriptionIssues", "Boolean", f))), "medications-no-issues"),
        "medications-from-date": (parameters(R, param("includeMedication", part("includePrescriptionIssues", "Boolean", t),
                                                      part("medicationSearchFromDate", "Date", "2017-01-01"))), "medications"),
        "medications-default": (parameters(R, param("includeMedication")), "medications"),
        "problems": (parameters(R, param("includeProblems")), "problems"),
        "problems-active": (parameters(R, param("includeProblems", part("filterStatus", "Code", "active"))), "problems-active"),
        "problems-inactive": (parameters(R, param("includeProblems", part("filterStatus", "Code", "inactive"))), "problems-inactive"),
        "problems-major": (parameters(R, param("includeProblems", part("filterSignificance", "Code", "major"))), "problems-major"),
        "problems-minor": (parameters(R, param("includeProblems", part("filterSignificance", "Code", "minor"))), "problems-minor"),
        "immunisations": (parameters(R, param("includeImmunisations")), "immunisations"),
        "immunisations-not-given": (parameters(R, param("includeImmunisations", part("includeNotGiven", "Boolean", t))), "immunisations"),
        "consultations": (parameters(R, param("includeConsultations")), "consultations"),
        "consultations-period": (parameters(R, param("includeConsultations", part("consultationSearchPeriod", "Period",
                                                                                  period("2018-01-01", "2019-12-31")))), "consultations"),
        "consultations-most-recent": (parameters(R, param("includeConsultations", part("includeNumberOfMostRecent", "PositiveInt", 1))),
                                      "consultations-most-recent"),
        "investigations": (parameters(R, param("includeInvestigations")), "investigations"),
        "investigations-period": (parameters(R, param("includeInvestigations", part("investigationSearchPeriod", "Period",
                                                                                    period("2015-01-01", "2019-12-31")))), "investigations"),
        "referrals": (parameters(R, param("includeReferrals")), "referrals"),
        "referrals-period": (parameters(R, param("includeReferrals", part("referralSearchPeriod", "Period",
                                                                          period("2015-01-01", "2019-12-31")))), "referrals"),
        "diary": (parameters(R, param("includeDiaryEntries")), "diary"),
        "diary-search-date": (parameters(R, param("includeDiaryEntries", part("diaryEntriesSearchDate", "Date", "2030-12-31"))), "diary"),
        "uncategorised": (parameters(R, param("includeUncategorisedData")), "uncategorised"),
        "uncategorised-period": (parameters(R, param("includeUncategorisedData", part("uncategorisedDataSearchPeriod", "Period",
                                                                                      period("2015-01-01", "2019-12-31")))), "uncategorised"),
    }


# Forwards compatibility: a parameter or part the provider does not recognise is
# answered with what it does support and a warning per unrecognised name.
def structured_compat():
    R = REGISTERED[0]
    active = part("includeResolvedAllergies", "Boolean", False)
    return {
        "unrecognised-parameter": (parameters(R, param("includeAllergies", active), param("includeEverything")),
                                   ["includeEverything"]),
        "unrecognised-part": (parameters(R, param("includeAllergies", active, part("includeEverything", "Boolean", True))),
                              ["includeAllergies.includeEverything"]),
    }


def with_warnings(bundle, names):
    """The Bundle with the single OperationOutcome that warns of each unrecognised name."""
    b = copy.deepcopy(bundle)
    outcome = {"resourceType": "OperationOutcome", "id": "compatibility-warnings", "meta": {"profile": [PROFILE_OO]},
               "issue": [{"severity": "warning", "code": "not-supported",
                          "details": {"coding": [{"system": SPINE_CODES, "code": "NOT_IMPLEMENTED", "display": "Not implemented"}],
                                      "text": "%s is an unrecognised parameter" % n},
                          "diagnostics": n} for n in names]}
    b["entry"].append({"fullUrl": "{{request.baseUrl}}/OperationOutcome/compatibility-warnings", "resource": outcome})
    return b


# Invalid requests: body name -> (parameters, status, issue code, Spine code, why).
def structured_invalid():
    R = REGISTERED[0]
    bad = lambda *p: parameters(R, *p)
    inv = lambda body, why: (body, 422, "invalid", "INVALID_PARAMETER", why)
    cases = {
        "duplicate-parameter": inv(bad(param("includeAllergies", part("includeResolvedAllergies", "Boolean", True)),
                                       param("includeAllergies", part("includeResolvedAllergies", "Boolean", False))),
                                   "includeAllergies is given twice"),
        "duplicate-part": inv(bad(param("includeMedication", part("includePrescriptionIssues", "Boolean", True),
                                        part("includePrescriptionIssues", "Boolean", False))), "includePrescriptionIssues is given twice"),
        "part-wrong-type": inv(bad(param("includeMedication", part("includePrescriptionIssues", "String", "yes"))),
                               "includePrescriptionIssues must be a boolean"),
        "medication-bad-date": inv(bad(param("includeMedication", part("medicationSearchFromDate", "Date", "2019-13-45"))),
                                   "medicationSearchFromDate is not a date"),
        "medication-future-date": inv(bad(param("includeMedication", part("medicationSearchFromDate", "Date", "2100-01-01"))),
                                      "medicationSearchFromDate is in the future"),
        "consultation-period-reversed": inv(bad(param("includeConsultations", part("consultationSearchPeriod", "Period",
                                                                                   period("2019-12-31", "2018-01-01")))),
                                            "consultationSearchPeriod ends before it starts"),
        "consultation-period-future": inv(bad(param("includeConsultations", part("consultationSearchPeriod", "Period",
                                                                                 period("2100-01-01", "2100-12-31")))),
                                          "consultationSearchPeriod starts in the future"),
        "consultation-period-bad-date": inv(bad(param("includeConsultations", part("consultationSearchPeriod", "Period",
                                                                                   period("2019-02-30", "2019-12-31")))),
                                            "consultationSearchPeriod.start is not a date"),
        "consultation-most-recent-and-period": inv(bad(param("includeConsultations",
                                                             part("consultationSearchPeriod", "Period", period("2018-01-01", "2019-12-31")),
                                                             part("includeNumberOfMostRecent", "PositiveInt", 3))),
                                                   "consultationSearchPeriod and includeNumberOfMostRecent cannot be combined"),
        "consultation-most-recent-zero": inv(bad(param("includeConsultations", part("includeNumberOfMostRecent", "PositiveInt", 0))),
                                             "includeNumberOfMostRecent must be a positive integer"),
        "problems-bad-status": inv(bad(param("includeProblems", part("filterStatus", "Code", "resolved"))),
                                   "filterStatus must be active or inactive"),
        "problems-bad-significance": inv(bad(param("includeProblems", part("filterSignificance", "Code", "severe"))),
                                         "filterSignificance must be major or minor"),
        "investigation-period-reversed": inv(bad(param("includeInvestigations", part("investigationSearchPeriod", "Period",
                                                                                     period("2019-12-31", "2015-01-01")))),
                                             "investigationSearchPeriod ends before it starts"),
        "referral-period-reversed": inv(bad(param("includeReferrals", part("referralSearchPeriod", "Period",
                                                                           period("2019-12-31", "2015-01-01")))),
                                        "referralSearchPeriod ends before it starts"),
        "uncategorised-period-reversed": inv(bad(param("includeUncategorisedData", part("uncategorisedDataSearchPeriod", "Period",
                                                                                        period("2019-12-31", "2015-01-01")))),
                                             "uncategorisedDataSearchPeriod ends before it starts"),
        "uncategorised-period-future": inv(bad(param("includeUncategorisedData", part("uncategorisedDataSearchPeriod", "Period",
                                                                                      period("2100-01-01", "2100-12-31")))),
                                           "uncategorisedDataSearchPeriod starts in the future"),
        "diary-bad-date": inv(bad(param("includeDiaryEntries", part("diaryEntriesSearchDate", "Date", "2019-00-10"))),
                              "diaryEntriesSearchDate is not a date"),
        "immunisations-not-given-wrong-type": inv(bad(param("includeImmunisations", part("includeNotGiven", "Code", "true"))),
                                                  "includeNotGiven must be a boolean"),
        "no-clinical-area": inv(parameters(R), "no clinical area is asked for"),
        "no-nhs-number": inv(parameters(None, param("includeAllergies", part("includeResolvedAllergies", "Boolean", False))),
                             "patientNHSNumber is required"),
        "not-parameters": ({"resourceType": "Patient", "identifier": [{"system": NHS, "value": R}]}, 422, "invalid",
                           "INVALID_RESOURCE", "the body must be a Parameters resource"),
        "invalid-nhs-number": (parameters(INVALID[0], param("includeAllergies", part("includeResolvedAllergies", "Boolean", False))),
                               400, "value", "INVALID_NHS_NUMBER", "the NHS number check digit is wrong"),
        "wrong-identifier-system": (parameters(R, param("includeAllergies", part("includeResolvedAllergies", "Boolean", False)),
                                               system="https://fhir.nhs.uk/Id/local-patient-id"),
                                    400, "value", "INVALID_IDENTIFIER_SYSTEM", "identifier must use " + NHS),
        "dissent": (parameters(DISSENT, param("includeAllergies", part("includeResolvedAllergies", "Boolean", False))),
                    403, "forbidden", "NO_PATIENT_CONSENT", "the patient has dissented from sharing their record"),
    }
    for role, nhs in [("not-found", NOT_FOUND), ("deceased", DECEASED), ("sensitive", SENSITIVE)]:
        cases["patient-" + role] = (parameters(nhs, param("includeAllergies", part("includeResolvedAllergies", "Boolean", False))),
                                    404, "not-found", "PATIENT_NOT_FOUND", "no record of that patient can be shared")
    return cases


# Access Record Structured for any patient, whatever the body (priority 6, after the
# suite's exact bodies): every mapping names the cases the others do not, so none ties.
ANY_AREAS = [("includeAllergies", "allergies"), ("includeMedication", "medications"), ("includeProblems", "problems"),
             ("includeImmunisations", "immunisations"), ("includeConsultations", "consultations"),
             ("includeInvestigations", "investigations"), ("includeReferrals", "referrals"),
             ("includeDiaryEntries", "diary"), ("includeUncategorisedData", "uncategorised")]
# The bodies whose patient is the one the request names.
ANY_FILES = ["structured-%s.json" % f for _, f in ANY_AREAS] + ["structured-patient-only.json"]


def with_nhs_of_request(bundle):
    b = copy.deepcopy(bundle)
    for e in b["entry"]:
        if e["resource"]["resourceType"] == "Patient":
            for i in e["resource"]["identifier"]:
                if i["system"] == NHS:
                    i["value"] = NHS_OF_BODY
    return b


def any_patient_mappings(add):
    nhs_path = "$.parameter[?(@.name == 'patientNHSNumber')].valueIdentifier"
    is_params = {"matchesJsonPath": {"expression": "$.resourceType", "equalTo": "Parameters"}}
    nhs = lambda pattern: {"matchesJsonPath": dict({"expression": nhs_path + ".value"}, **pattern)}
    nhs_system = {"matchesJsonPath": {"expression": nhs_path + ".system", "equalTo": NHS}}
    has = lambda name: {"matchesJsonPath": "$.parameter[?(@.name == '%s')]" % name}
    lacks = lambda name: {"matchesJsonPath": {"expression": "$.parameter[?(@.name == '%s')]" % name, "absent": True}}
    sr = lambda *patterns: endpoint_request("structured record", bodyPatterns=[is_params, *patterns])
    # A request for several areas gets the first of them, in this order.
    for i, (name, area) in enumerate(ANY_AREAS):
        add("06-structured-any-%s.json" % area, "structured record of any patient: %s" % area, 6,
            sr(nhs({"matches": ANY_NHS}), nhs_system, has(name), *[lacks(n) for n, _ in ANY_AREAS[:i]]),
            respond_file("structured-%s.json" % area))
    add("06-structured-any-patient-only.json", "structured record of any patient: the patient only", 6,
        sr(nhs({"matches": ANY_NHS}), nhs_system,
           {"matchesJsonPath": {"expression": "$.parameter[?(@.name != 'patientNHSNumber')]", "absent": True}}),
        respond_file("structured-patient-only.json"))
    add("06-structured-any-dissent.json", "structured record: a patient who dissented", 6,
        sr(nhs({"equalTo": DISSENT}), nhs_system),
        respond(gpc_error(403, "forbidden", "NO_PATIENT_CONSENT", "the patient has dissented from sharing their record")))
    add("06-structured-any-invalid-nhs-number.json", "structured record: invalid NHS number", 6,
        sr(nhs({"matches": "(?![0-9]{10}$).*|" + INVALID[0]}), nhs_system),
        respond(gpc_error(400, "value", "INVALID_NHS_NUMBER", "the NHS number is not 10 digits or its check digit is wrong")))
    add("06-structured-any-identifier-system.json", "structured record: wrong identifier system", 6,
        sr({"matchesJsonPath": {"expression": nhs_path + ".system", "doesNotMatch": re.escape(NHS)}}),
        respond(gpc_error(400, "value", "INVALID_IDENTIFIER_SYSTEM", "identifier must use " + NHS)))
    not_here = "|".join(n for n, why in RESERVED.items() if n not in (DISSENT, INVALID[0]))
    add("06-structured-any-not-found.json", "structured record: a patient the suites keep as not found", 6,
        sr(nhs({"matches": not_here}), nhs_system),
        respond(gpc_error(404, "not-found", "PATIENT_NOT_FOUND",
                          not_served("record of that patient can be shared", SERVED_RECORDS))))
    add("06-structured-any-no-nhs-number.json", "structured record: no patientNHSNumber", 6,
        sr(lacks("patientNHSNumber")),
        respond(gpc_error(422, "invalid", "INVALID_PARAMETER", "patientNHSNumber is required")))
    add("06-structured-any-not-parameters.json", "structured record: the body is not Parameters", 6,
        endpoint_request("structured record", bodyPatterns=[
            {"matchesJsonPath": {"expression": "$.resourceType", "doesNotMatch": "Parameters"}}]),
        respond(gpc_error(422, "invalid", "INVALID_RESOURCE", "the body must be a Parameters resource")))
    # Parameters none of which this provider recognises; then a body that is not FHIR JSON.
    add("07-structured-unrecognised.json", "structured record: no recognised parameter", 7,
        endpoint_request("structured record", bodyPatterns=[{"matchesJsonPath": "$.resourceType"}]),
        respond(gpc_error(422, "invalid", "INVALID_PARAMETER", "No recognised parameters are provided: this reference "
                          "provider answers patientNHSNumber with any of " + ", ".join(n for n, _ in ANY_AREAS))))
    add("08-structured-unreadable.json", "structured record: the body is not FHIR JSON", 8,
        endpoint_request("structured record"),
        respond(gpc_error(400, "invalid", "BAD_REQUEST", "the body must be a FHIR JSON Parameters resource")))


DISPLAYS = {"INVALID_PARAMETER": "Invalid parameter", "INVALID_RESOURCE": "Invalid validation of resource",
            "INVALID_NHS_NUMBER": "Invalid NHS number", "INVALID_IDENTIFIER_SYSTEM": "Invalid identifier system",
            "NO_PATIENT_CONSENT": "Patient has not provided consent to share data", "PATIENT_NOT_FOUND": "Patient not found",
            "NO_RECORD_FOUND": "No record found", "DUPLICATE_REJECTED": "Create would lead to creation of a duplicate resource",
            "BAD_REQUEST": "Bad request", "INVALID_PATIENT_DEMOGRAPHICS": "Invalid patient demographics"}


def gpc_error(status, issue_code, code, why):
    return error(status, issue_code, code, DISPLAYS[code], why)


# Appointment Management ------------------------------------------------------------

APPT_EXAMPLES = "appointments/"


def appointment_bodies():
    book = load(APPT_EXAMPLES + "book_appt_request_example.json")
    book.update({"start": "2030-01-08T10:00:00+00:00", "end": "2030-01-08T10:25:00+00:00",
                 "created": "2029-12-20T13:48:41+00:00", "slot": [{"reference": "Slot/1584"}]})
    book["participant"] = [{"actor": {"reference": "Patient/2"}, "status": "accepted"},
                           {"actor": {"reference": "Location/17"}, "status": "accepted"}]
    booked = copy.deepcopy(book)
    booked["id"] = "148"
    booked["meta"]["versionId"] = "1"
    conflict = copy.deepcopy(book)
    conflict["slot"] = [{"reference": "Slot/1644"}]
    no_patient = copy.deepcopy(book)
    no_patient["participant"] = [p for p in book["participant"] if not p["actor"]["reference"].startswith("Patient/")]
    amend = copy.deepcopy(booked)
    amend["comment"] = "Amended: the patient asks for a wheelchair-accessible room."
    amended = copy.deepcopy(amend)
    amended["meta"]["versionId"] = "2"
    amend_start = copy.deepcopy(booked)
    amend_start["start"], amend_start["end"] = "2030-01-09T10:00:00+00:00", "2030-01-09T10:25:00+00:00"
    amend_other_id = copy.deepcopy(amend)
    amend_other_id["id"] = "149"
    cancel = copy.deepcopy(booked)
    cancel["status"] = "cancelled"
    cancel["extension"].append({"url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-AppointmentCancellationReason-1",
                                "valueString": "The patient no longer needs the appointment"})
    cancelled = copy.deepcopy(cancel)
    cancelled["meta"]["versionId"] = "2"
    cancel_no_reason = copy.deepcopy(booked)
    cancel_no_reason["status"] = "cancelled"
    amend_unknown = dict(copy.deepcopy(amend), id=UNKNOWN_ID)
    cancel_unknown = dict(copy.deepcopy(cancel), id=UNKNOWN_ID)
    requests = {"book": book, "book-conflict": conflict, "book-no-patient": no_patient, "amend": amend,
                "amend-unknown": amend_unknown, "cancel-unknown": cancel_unknown,
                "amend-start": amend_start, "amend-other-id": amend_other_id, "cancel": cancel,
                "cancel-no-reason": cancel_no_reason, "book-not-appointment": {"resourceType": "Patient", "id": "2"}}
    responses = {"appointment-148": booked, "appointment-148-amended": amended, "appointment-148-cancelled": cancelled}
    return requests, responses


def slots_bundle():
    b = load(APPT_EXAMPLES + "search_for_free_slots_response_example.json")
    for e in b["entry"]:
        r = e["resource"]
        e["fullUrl"] = "{{request.baseUrl}}/%s/%s" % (r["resourceType"], r["id"])
        if r["resourceType"] in ("Location", "Organization"):
            # The example has these cardinalities the wrong way round for STU3.
            for key in ("telecom",) + (("address",) if r["resourceType"] == "Organization" else ()):
                if isinstance(r.get(key), dict):
                    r[key] = [r[key]]
        if r["resourceType"] == "Slot":
            r["start"] = r["start"].replace(r["start"][:10], "2030-01-08")
            r["end"] = r["end"].replace(r["end"][:10], "2030-01-08")
    return b


def patient_appointments_bundle(booked):
    b = load(APPT_EXAMPLES + "retrieve_patients_appts_response_example.json")
    for e in b["entry"]:
        r = e["resource"]
        r["participant"] = [p if not p["actor"].get("reference", "").startswith("Patient/")
                            else {"actor": {"reference": "Patient/2"}, "status": p.get("status", "accepted")}
                            for p in r.get("participant", [])]
        r["start"] = "2030-02-%02dT10:00:00+00:00" % (int(r["id"]) % 28 + 1)
        r["end"] = "2030-02-%02dT10:25:00+00:00" % (int(r["id"]) % 28 + 1)
        e["fullUrl"] = "{{request.baseUrl}}/Appointment/%s" % r["id"]
    b["entry"][0]["resource"] = copy.deepcopy(booked)
    b["entry"][0]["fullUrl"] = "{{request.baseUrl}}/Appointment/148"
    b["total"] = len(b["entry"])
    return b


# Access Document --------------------------------------------------------------------

def documents_bundle():
    b = load("access_documents/documents_response.json")
    for e in b["entry"]:
        r = e["resource"]
        e["fullUrl"] = "{{request.baseUrl}}/%s/%s" % (r["resourceType"], r["id"])
        if r["resourceType"] == "Patient":
            r["id"] = "2"
            e["fullUrl"] = "{{request.baseUrl}}/Patient/2"
            for ident in r.get("identifier", []):
                if ident.get("system") == NHS:
                    ident["value"] = REGISTERED[0]
                    for ext in ident.get("extension", []):
                        for c in ext.get("valueCodeableConcept", {}).get("coding", []):
                            c["system"] = NHS_VERIFICATION
        if r["resourceType"] == "DocumentReference":
            r["subject"] = {"reference": "Patient/2"}
            r["content"][0]["attachment"]["url"] = "{{request.baseUrl}}/Binary/07a6483f-732b-461e-86b6-edb665c45510"
            r["context"].pop("encounter", None)
    # GPConnect-Searchset-Bundle-1 forbids Bundle.total and entry.search.
    b.pop("total", None)
    for e in b["entry"]:
        e.pop("search", None)
    return b


BINARY = {"resourceType": "Binary", "id": "07a6483f-732b-461e-86b6-edb665c45510", "contentType": "application/msword",
          "content": base64.b64encode(b"Discharge summary for Jane Jackson, 24 June 2019.\n").decode()}


# FHIR XML ---------------------------------------------------------------------------

def xml_escape(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))


def to_xml(resource):
    """FHIR XML of a JSON resource (elements in the JSON's order, which follows the
    definitions in these bodies): primitives as value attributes, extension urls and
    element ids as attributes, resources inside `resource`/`contained`, xhtml as is."""
    out = []

    def element(name, value, ind):
        if isinstance(value, list):
            for v in value:
                element(name, v, ind)
            return
        if isinstance(value, dict):
            if "resourceType" in value:
                out.append("%s<%s>" % (ind, name))
                res(value, ind + "  ")
                out.append("%s</%s>" % (ind, name))
                return
            attrs = ""
            if "url" in value and name in ("extension", "modifierExtension"):
                attrs += ' url="%s"' % xml_escape(value["url"])
            if "id" in value:
                attrs += ' id="%s"' % xml_escape(value["id"])
            children = [(k, v) for k, v in value.items() if k not in ("id",) and not (k == "url" and attrs.startswith(' url'))]
            out.append("%s<%s%s>" % (ind, name, attrs))
            for k, v in children:
                if k == "div":
                    div = v if "xmlns" in v else v.replace("<div", '<div xmlns="http://www.w3.org/1999/xhtml"', 1)
                    out.append(ind + "  " + div)
                else:
                    element(k, v, ind + "  ")
            out.append("%s</%s>" % (ind, name))
            return
        if isinstance(value, bool):
            value = "true" if value else "false"
        out.append('%s<%s value="%s"/>' % (ind, name, xml_escape(value)))

    def res(r, ind, root=False):
        ns = ' xmlns="http://hl7.org/fhir"' if root else ' xmlns="http://hl7.org/fhir"'
        out.append("%s<%s%s>" % (ind, r["resourceType"], ns))
        for k, v in r.items():
            if k != "resourceType":
                element(k, v, ind + "  ")
        out.append("%s</%s>" % (ind, r["resourceType"]))

    res(resource, "", root=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + "\n".join(out) + "\n"


def job_role_system(body):
    """The examples code job roles in the HL7 UK system, whose ValueSet includes a
    system URL that was never published; the GP Connect assets define the same codes
    in their own CodeSystem, which the GPC PractitionerRole binding accepts."""
    text = json.dumps(body).replace("https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1",
                                    "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1")
    return json.loads(text)


def provider_files():
    out = {}
    for name, bundle in structured_bundles().items():
        out["structured-%s.json" % name] = job_role_system(bundle)
    _, responses = appointment_bodies()
    for name, body in responses.items():
        out["%s.json" % name] = body
    out["slots-free.json"] = slots_bundle()
    out["slots-empty.json"] = searchset([])
    out["patient-appointments.json"] = patient_appointments_bundle(responses["appointment-148"])
    out["documents-search.json"] = job_role_system(documents_bundle())
    out["documents-empty.json"] = dict(searchset([]), meta={"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Searchset-Bundle-1"]})
    del out["documents-empty.json"]["total"]
    out["binary-document.json"] = BINARY
    cap = copy.deepcopy(BASE_FILES["capability-statement.json"])
    cap["name"] = "GP Connect Access Document"
    cap["rest"][0]["resource"] = [r for r in cap["rest"][0]["resource"] if r["type"] in ("Patient",)] + [
        {"type": "DocumentReference", "interaction": [{"code": "search-type"}]},
        {"type": "Binary", "interaction": [{"code": "read"}]}]
    cap["rest"][0].pop("operation", None)
    out["documents-capability-statement.json"] = cap
    # XML renderings of the resources the XML scenarios ask for.
    for name in ["capability-statement", "patient-2", "practitioner-1", "organization-1", "location-1",
                 "appointment-148", "structured-allergies-active"]:
        body = BASE_FILES.get(name + ".json") or out.get(name + ".json")
        out[name + ".xml"] = to_xml(body)
    out["error-patient-not-found.xml"] = to_xml(gpc_error(404, "not-found", "PATIENT_NOT_FOUND", "no Patient with that id")[0])
    # Bodies only the seeded defects answer with.
    slots = out["slots-free.json"]
    out["slots-no-schedule.json"] = without(slots, lambda r: r["resourceType"] != "Schedule")
    other = copy.deepcopy(out["patient-appointments.json"])
    for e in other["entry"]:
        for p in e["resource"]["participant"]:
            if p["actor"].get("reference") == "Patient/2":
                p["actor"]["reference"] = "Patient/3"
    out["patient-appointments-other.json"] = other
    docs = out["documents-search.json"]
    out["documents-no-includes.json"] = without(docs, lambda r: r["resourceType"] == "DocumentReference")
    problems = copy.deepcopy(out["structured-problems.json"])
    out["structured-problems-with-inactive.json"] = problems
    for e in problems["entry"]:
        if e["resource"]["resourceType"] == "Condition":
            e["resource"]["clinicalStatus"] = "inactive"
            break
    referrals = copy.deepcopy(out["structured-referrals.json"])
    for l in lists_of(referrals):
        l["code"]["coding"][0]["code"] = "886721000000107"
    out["structured-referrals-miscoded.json"] = referrals
    imms = out["structured-immunisations.json"]
    out["structured-immunisations-dangling.json"] = without(imms, lambda r: r["resourceType"] != "Immunization")
    # The medications as the specification's example writes them: quantities as JSON
    # strings, which only validation against the profiles notices.
    meds = copy.deepcopy(out["structured-medications.json"])
    for e in meds["entry"]:
        supply = e["resource"].get("dispenseRequest", {})
        for q in (supply.get("quantity"), supply.get("expectedSupplyDuration")):
            if q and "value" in q:
                q["value"] = str(q["value"])
    out["structured-medications-quantities-as-text.json"] = meds
    for name, (_, names) in structured_compat().items():
        out["structured-compat-%s.json" % name] = with_warnings(out["structured-allergies-active.json"], names)
    out["register-patient.json"] = registered_patient()
    out["register-patient-not-temporary.json"] = registered_patient(temporary=False)
    return out


# A body names the test data by suite input, so that a real provider's own test
# patients and slots can be given with --input (the file step expands them).
BODY_INPUTS = [('"%s"' % REGISTERED[0], '"{registered_nhs_number}"'), ('"%s"' % NOT_FOUND, '"{not_found_nhs_number}"'),
               ('"%s"' % DECEASED, '"{deceased_nhs_number}"'), ('"%s"' % SENSITIVE, '"{sensitive_nhs_number}"'),
               ('"%s"' % INVALID[0], '"{invalid_nhs_number}"'), ('"%s"' % DISSENT, '"{dissent_nhs_number}"'),
               ('"Patient/2"', '"Patient/{registered_patient_id}"'), ('"Slot/1584"', '"Slot/{free_slot_id}"'),
               ('"Slot/1644"', '"Slot/{booked_slot_id}"'), ('"Location/17"', '"Location/{slot_location_id}"'),
               ('"id": "148"', '"id": "{appointment_id}"'), ('"%s"' % UNREGISTERED, '"{unregistered_nhs_number}"'),
               ('"id": "%s"' % UNKNOWN_ID, '"id": "{unknown_id}"')]


def with_inputs(body):
    text = json.dumps(body)
    for value, name in BODY_INPUTS:
        text = text.replace(value, name)
    return json.loads(text)


def request_bodies():
    out = {}
    for name, (body, _) in structured_requests().items():
        out["structured/%s.json" % name] = with_inputs(body)
    for name, case in structured_invalid().items():
        out["structured/invalid-%s.json" % name] = with_inputs(case[0])
    for name, (body, _) in structured_compat().items():
        out["structured/compat-%s.json" % name] = with_inputs(body)
    requests, _ = appointment_bodies()
    for name, body in requests.items():
        out["appointments/%s.json" % name] = with_inputs(body)
    for name, (body, _) in register_requests().items():
        out["register/%s.json" % name] = with_inputs(body)
    return out


# Register a patient --------------------------------------------------------------------

REGISTRATION = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-RegistrationDetails-1"


def register_requests():
    """Body name -> (Parameters, answer): the answer is a file name, or
    (status, issue code, Spine code, why) for a GP Connect error."""
    example = load("foundations/register_patient_request_example.json")
    sent = example["parameter"][0]["resource"]
    for ident in sent["identifier"]:
        for ext in ident.get("extension", []):
            for c in ext.get("valueCodeableConcept", {}).get("coding", []):
                c["system"] = NHS_VERIFICATION
    sent["name"][0]["text"] = "Minnie DAWES"
    sent["name"][0].update({"family": "Dawes", "given": ["Minnie"]})

    def with_nhs(nhs, patient=None):
        body = copy.deepcopy(example)
        if patient is not None:
            body["parameter"][0]["resource"] = patient
        body["parameter"][0]["resource"]["identifier"][0]["value"] = nhs
        return body

    no_birth_date = copy.deepcopy(sent)
    del no_birth_date["birthDate"]
    wrong_name = with_nhs(UNREGISTERED)
    wrong_name["parameter"][0]["name"] = "patient"
    demographics = lambda who: (400, "business-rule", "INVALID_PATIENT_DEMOGRAPHICS", who)
    return {
        "register": (with_nhs(UNREGISTERED), "register-patient.json"),
        "already-registered": (with_nhs(REGISTERED[0]), (409, "duplicate", "DUPLICATE_REJECTED", "the patient is already registered at this practice")),
        "deceased": (with_nhs(DECEASED), demographics("the spine records the patient as deceased")),
        "sensitive": (with_nhs(SENSITIVE), demographics("the patient's spine record is sensitive")),
        "invalid-nhs-number": (with_nhs(INVALID[0]), (400, "value", "INVALID_NHS_NUMBER", "the NHS number's check digit is wrong")),
        "no-birth-date": (with_nhs(UNREGISTERED, no_birth_date), (400, "invalid", "BAD_REQUEST", "the Patient date of birth must be supplied")),
        "wrong-parameter": (wrong_name, (422, "invalid", "INVALID_PARAMETER", "the Parameters must carry registerPatient")),
        "not-parameters": ({"resourceType": "Patient", "id": "2"}, (422, "invalid", "INVALID_RESOURCE", "the body must be a Parameters resource")),
    }


def registered_patient(temporary=True):
    """The answer to a registration: a searchset holding the patient, now registered
    temporarily at the practice."""
    p = patient(UNREGISTERED, "5", "Dawes", "Minnie", managingOrganization={"reference": "Organization/1"})
    details = [{"url": "registrationPeriod", "valuePeriod": {"start": "2026-11-26T09:00:00+00:00"}}]
    if temporary:
        details.append({"url": "registrationType", "valueCodeableConcept": {"coding": [{
            "system": "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-RegistrationType-1", "code": "T", "display": "Temporary"}]}})
    p["extension"] = [x for x in p.get("extension", []) if x["url"] != REGISTRATION] + [{"url": REGISTRATION, "extension": details}]
    p["active"] = True
    bundle = searchset([p])
    del bundle["total"]  # GPConnect-Searchset-Bundle-1 has no total
    bundle["meta"]["profile"] = ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Searchset-Bundle-1"]
    return bundle


def provider_mappings(add):
    sr = lambda body, **more: endpoint_request("structured record", bodyPatterns=[
        {"equalToJson": body, "ignoreArrayOrder": True}], **more)
    for name, (body, bundle) in structured_requests().items():
        if name == "allergies-resolved":
            continue  # the foundations mapping 05-structured-allergies answers it
        defect = structured_defects().get(name)
        add("04-structured-%s.json" % name, "structured record: %s" % name, 4, sr(body),
            respond_file("structured-%s.json" % bundle), defect=defect)
    for name, (body, status, issue, code, why) in structured_invalid().items():
        defect = structured_defects().get("invalid-" + name)
        add("04-structured-invalid-%s.json" % name, "structured record: %s" % name, 4, sr(body),
            respond(gpc_error(status, issue, code, why)), defect=defect)
    for name, (body, names) in structured_compat().items():
        rejected = respond(gpc_error(422, "invalid", "INVALID_PARAMETER", "%s is not a parameter of the operation" % names[0]))
        add("04-structured-compat-%s.json" % name, "structured record: %s" % name, 4, sr(body),
            respond_file("structured-compat-%s.json" % name),
            defect=("unrecognised-parameter-rejected", ["GPC-ARS-15"], rejected) if name == "unrecognised-parameter" else None)
    # Access Record Structured in FHIR XML, when the consumer asks for it.
    allergies = structured_requests()["allergies-active"][0]
    # Above the JSON answer to the same body, so that its seeded defect leaves XML alone.
    add("03-structured-allergies-xml.json", "structured record: allergies in XML", 3,
        sr(allergies, headers={"Accept": {"contains": "fhir+xml"}}),
        respond_file("structured-allergies-active.xml", content_type=FHIR_XML))

    # Appointment Management.
    requests, _ = appointment_bodies()
    book = lambda body: endpoint_request("appointment book", bodyPatterns=[{"equalToJson": body, "ignoreArrayOrder": True}])
    put = lambda iid, body, id_="148": {"method": "PUT", "urlPath": "/Appointment/" + id_, "headers": {
        "Ssp-InteractionID": {"equalTo": PREFIX + iid}}, "bodyPatterns": [{"equalToJson": body, "ignoreArrayOrder": True}]}
    add("05-slot-search.json", "search free slots", 5, endpoint_request("slot search", queryParameters={
        "start": {"equalTo": "ge2030-01-07"}, "end": {"equalTo": "le2030-01-13"}, "status": {"equalTo": "free"},
        "_include": {"equalTo": "Slot:schedule"}}), respond_file("slots-free.json"),
        defect=("slot-search-without-schedule", ["GPC-APPT-1"], tfile("slots-no-schedule.json")))
    add("05-slot-search-none.json", "search free slots: none in range", 5, endpoint_request("slot search", queryParameters={
        "start": {"equalTo": "ge2031-06-02"}, "end": {"equalTo": "le2031-06-08"}, "status": {"equalTo": "free"}}),
        respond_file("slots-empty.json"))
    # The three errors the page requires (over 14 days, status other than free, no
    # _include=Slot:schedule), then the ones it leaves to the provider.
    for slug, query, why in [
        ("too-long", {"start": {"equalTo": "ge2030-01-01"}, "end": {"equalTo": "le2030-02-28"}}, "the search range is over 14 days"),
        ("no-status", {"status": {"absent": True}}, "status=free is required"),
        ("status-not-free", {"status": not_matching("free")}, "status must be free"),
        ("no-include", {"_include": {"absent": True}}, "_include=Slot:schedule is required"),
        ("include-not-schedule", {"_include": not_matching("Slot:schedule")}, "_include must be Slot:schedule"),
        ("reversed", {"start": {"equalTo": "ge2030-01-13"}, "end": {"equalTo": "le2030-01-07"}}, "end is before start"),
        ("no-end", {"start": {"matches": "ge.*"}, "end": {"absent": True}}, "end is required"),
        ("no-start", {"start": {"absent": True}, "end": {"matches": "le.*"}}, "start is required"),
        ("bad-date", {"start": {"equalTo": "ge2030-13-01"}}, "start is not a date"),
        ("bad-prefix", {"start": {"equalTo": "eq2030-01-07"}}, "start must be ge<date> and end le<date>"),
    ]:
        add("04-slot-search-%s.json" % slug, "search free slots: %s" % why, 4, endpoint_request("slot search", queryParameters=query),
            respond(gpc_error(422, "invalid", "INVALID_PARAMETER", why)),
            defect=("slot-range-length-not-checked", ["GPC-APPT-2"], tfile("slots-empty.json")) if slug == "too-long" else None)
    booked = {"status": 201, "headers": {"Content-Type": FHIR_JSON, "Location": "{{request.baseUrl}}/Appointment/148",
                                         "ETag": 'W/"1"'}, "bodyFileName": "appointment-148.json", "transformers": ["response-template"]}
    add("05-appointment-book.json", "book an appointment", 5, book(requests["book"]), booked,
        defect=("booking-answers-200", ["GPC-APPT-3"], dict(booked, status=200)))
    add("04-appointment-book-conflict.json", "book: slot already booked", 4, book(requests["book-conflict"]),
        respond(gpc_error(409, "duplicate", "DUPLICATE_REJECTED", "Slot/1644 is already booked")),
        defect=("double-booking-accepted", ["GPC-APPT-4"], booked))
    add("04-appointment-book-no-patient.json", "book: no patient participant", 4, book(requests["book-no-patient"]),
        respond(gpc_error(422, "invalid", "INVALID_RESOURCE", "the appointment has no Patient participant")))
    add("04-appointment-book-not-appointment.json", "book: not an Appointment", 4, book(requests["book-not-appointment"]),
        respond(gpc_error(422, "invalid", "INVALID_RESOURCE", "the body must be an Appointment")))
    add("05-appointment-read.json", "read appointment 148", 5, {"method": "GET", "urlPath": "/Appointment/148"},
        dict(respond_file("appointment-148.json"), headers={"Content-Type": FHIR_JSON, "ETag": 'W/"1"'}))
    add("06-appointment-read-unknown.json", "read an unknown appointment", 6, endpoint_request("appointment read"),
        respond(gpc_error(404, "not-found", "NO_RECORD_FOUND", "no appointment with that id")))
    add("05-appointment-amend.json", "amend appointment 148", 5, put("fhir:rest:update:appointment-1", requests["amend"]),
        respond_file("appointment-148-amended.json"),
        defect=("amend-ignored", ["GPC-APPT-6"], tfile("appointment-148.json")))
    add("04-appointment-amend-start.json", "amend: start changed", 4, put("fhir:rest:update:appointment-1", requests["amend-start"]),
        respond(gpc_error(422, "invalid", "INVALID_RESOURCE", "only the description and comment of an appointment may be amended")))
    add("04-appointment-amend-other-id.json", "amend: body id is not the URL's", 4,
        put("fhir:rest:update:appointment-1", requests["amend-other-id"]),
        respond(gpc_error(400, "invalid", "BAD_REQUEST", "the Appointment id does not match the URL")))
    add("05-appointment-cancel.json", "cancel appointment 148", 5, put("fhir:rest:cancel:appointment-1", requests["cancel"]),
        respond_file("appointment-148-cancelled.json"),
        defect=("cancel-keeps-booked", ["GPC-APPT-7"], tfile("appointment-148.json")))
    add("04-appointment-cancel-no-reason.json", "cancel: no cancellation reason", 4,
        put("fhir:rest:cancel:appointment-1", requests["cancel-no-reason"]),
        respond(gpc_error(422, "invalid", "INVALID_RESOURCE", "a cancellation needs a cancellation reason")))
    add("06-appointment-update-unknown.json", "amend or cancel an unknown appointment", 6, endpoint_request("appointment update"),
        respond(gpc_error(404, "not-found", "NO_RECORD_FOUND", "no appointment with that id")))
    add("05-patient-appointments.json", "a patient's appointments", 5, {"method": "GET", "urlPath": "/Patient/2/Appointment",
                                                                         "queryParameters": {"start": {"equalTo": "ge2030-01-01"}}},
        respond_file("patient-appointments.json"),
        defect=("appointments-of-another-patient", ["GPC-APPT-8"], tfile("patient-appointments-other.json")))
    add("04-patient-appointments-reversed.json", "a patient's appointments: range reversed", 4,
        {"method": "GET", "urlPath": "/Patient/2/Appointment", "queryParameters": {"start": {"equalTo": "le2029-01-01"}}},
        respond(gpc_error(422, "invalid", "INVALID_PARAMETER", "the start range ends before it begins")))
    add("06-patient-appointments-unknown.json", "appointments of an unknown patient", 6, endpoint_request("appointment search"),
        respond(gpc_error(404, "not-found", "PATIENT_NOT_FOUND", not_served("patient with that id", "the appointments of Patient/2"))))

    # Register a patient.
    reg = lambda body: endpoint_request("patient register", bodyPatterns=[{"equalToJson": body, "ignoreArrayOrder": True}])
    for name, (body, answer) in register_requests().items():
        if isinstance(answer, str):
            add("05-register-%s.json" % name, "register a patient", 5, reg(body), respond_file(answer),
                defect=("registration-not-temporary", ["GPC-REG-1"], tfile("register-patient-not-temporary.json")))
        else:
            status, issue, code, why = answer
            defect = (("duplicate-registration-accepted", ["GPC-REG-2"], tfile("register-patient.json"))
                      if name == "already-registered" else None)
            add("04-register-%s.json" % name, "register: %s" % why, 4, reg(body), respond(gpc_error(status, issue, code, why)),
                defect=defect)

    # Access Document (served under /documents).
    add("05-documents-metadata.json", "documents capability statement", 5, endpoint_request("document metadata"),
        respond_file("documents-capability-statement.json"))
    add("05-documents-find-patient.json", "documents: find patient", 5, endpoint_request(
        "document patient search", queryParameters={"identifier": {"equalTo": "%s|%s" % (NHS, REGISTERED[0])}}),
        respond_file("search-patient-%s.json" % REGISTERED[0]))
    add("06-documents-find-patient-other.json", "documents: find anyone else", 6, endpoint_request("document patient search"),
        respond_file("search-empty.json"))
    # The five _include/_revinclude parameters consumers MUST send, in any order (a
    # parameter matcher matches any one value of a repeated parameter, so the query is
    # matched as a whole).
    every_include = "".join("(?=.*[?&]%s=%s(&|$))" % (re.escape(k).replace(":", "(:|%3A)"), re.escape(v).replace(":", "(:|%3A)"))
                            for k, v in DOCUMENT_INCLUDES)
    docs_of_2 = lambda: {"method": "GET", "urlPattern": re.escape(DOCS + "/Patient/2/DocumentReference") + every_include + "\\?.*"}
    add("05-documents-search.json", "documents of patient 2", 5, docs_of_2(),
        respond_file("documents-search.json"),
        defect=("documents-without-includes", ["GPC-DOC-2"], tfile("documents-no-includes.json")))
    add("04-documents-search-none.json", "documents of patient 2 in an empty range", 4,
        dict(docs_of_2(), queryParameters={"created": {"equalTo": "ge2031-01-01"}}), respond_file("documents-empty.json"))
    add("04-documents-search-bad-date.json", "documents: created is not a date", 4,
        {"method": "GET", "urlPath": DOCS + "/Patient/2/DocumentReference", "queryParameters": {"created": {"equalTo": "ge2019-13-45"}}},
        respond(gpc_error(422, "invalid", "INVALID_PARAMETER", "created is not a date")))
    add("06-documents-search-no-includes.json", "documents: the mandatory _include parameters are missing", 6,
        {"method": "GET", "urlPath": DOCS + "/Patient/2/DocumentReference"},
        respond(gpc_error(422, "invalid", "INVALID_PARAMETER", "the request does not contain the mandatory _include parameters")),
        defect=("document-includes-not-required", ["GPC-DOC-3"], tfile("documents-search.json")))
    add("07-documents-search-unknown.json", "documents of an unknown patient", 7, endpoint_request("document search"),
        respond(gpc_error(404, "not-found", "PATIENT_NOT_FOUND", not_served("patient with that id", "the documents of Patient/2"))))
    add("05-documents-binary.json", "retrieve a document", 5, {"method": "GET", "urlPath": DOCS + "/Binary/" + BINARY["id"]},
        respond_file("binary-document.json"),
        defect=("binary-not-fhir", ["GPC-DOC-4", "GPC-VAL-1"], {"status": 200, "headers": {"Content-Type": "application/msword"},
                                                   "body": "Discharge summary"}))
    add("06-documents-binary-unknown.json", "retrieve an unknown document", 6, endpoint_request("document retrieve"),
        respond(gpc_error(404, "not-found", "NO_RECORD_FOUND", "no document with that id")))

    # FHIR XML: Accept application/fhir+xml, or _format=xml / application/fhir+xml.
    xml_reads = [("metadata", "/metadata", "capability-statement"), ("patient-2", "/Patient/2", "patient-2"),
                 ("practitioner-1", "/Practitioner/1", "practitioner-1"), ("organization-1", "/Organization/1", "organization-1"),
                 ("location-1", "/Location/1", "location-1"), ("appointment-148", "/Appointment/148", "appointment-148")]
    for slug, path, body in xml_reads:
        for how, match in [("accept", {"headers": {"Accept": {"contains": "fhir+xml"}}}),
                           ("format", {"queryParameters": {"_format": {"matches": "xml|application/fhir\\+xml|application/xml"}}})]:
            defect = None
            if slug == "patient-2" and how == "accept":
                defect = ("xml-patient-as-json", ["GPC-XML-1"], tfile("patient-2.json"))
            add("04-xml-%s-%s.json" % (slug, how), "%s in FHIR XML (%s)" % (slug, how), 4,
                dict({"method": "GET", "urlPath": path}, **match),
                respond_file(body + ".xml", content_type=FHIR_XML), defect=defect)
    add("05-xml-patient-unknown.json", "unknown patient, in FHIR XML", 5,
        {"method": "GET", "urlPathPattern": "/Patient/[^/$]+", "headers": {"Accept": {"contains": "fhir+xml"}}},
        respond_file("error-patient-not-found.xml", status=404, content_type=FHIR_XML))



def tfile(name, status=200, content_type=FHIR_JSON):
    """A file answer, templated when the file has {{...}} (a defect's answer does not
    pass through add(), which does this for the reference mappings)."""
    r = respond_file(name, status, content_type)
    if "{{" in json.dumps(FILES.get(name, "")):
        r["transformers"] = ["response-template"]
    return r


# Seeded defects of the Access Record Structured stubs, by request body name.
def structured_defects():
  return {
    "allergies-active": ("ended-allergies-leaked", ["GPC-ARS-2"], tfile("structured-allergies-resolved.json")),
    "medications-no-issues": ("prescription-issues-not-filtered", ["GPC-ARS-16"], tfile("structured-medications.json")),
    "problems-active": ("problem-status-not-filtered", ["GPC-ARS-4"], tfile("structured-problems-with-inactive.json")),
    "referrals": ("referrals-list-miscoded", ["GPC-ARS-9"], tfile("structured-referrals-miscoded.json")),
    "invalid-consultation-most-recent-and-period": ("most-recent-with-period-accepted", ["GPC-ARS-12"], tfile("structured-consultations.json")),
    "invalid-dissent": ("dissent-ignored", ["GPC-ARS-14"], tfile("structured-allergies-active.json")),
    "immunisations": ("immunisation-list-items-missing", ["GPC-ARS-1", "GPC-ARS-5"], tfile("structured-immunisations-dangling.json")),
    "medications-issues": ("medication-quantities-as-text", ["GPC-VAL-1"], tfile("structured-medications-quantities-as-text.json")),
}


def broken_only():
    """Defects with a request of their own: (file, mapping, defect, requirements, overridden files)."""
    scope = "|".join(contains_any('"requested_scope":"patient/*.%s' % a) for a in ("read", "write"))
    request = endpoint_request("structured record", bodyPatterns=[{"matchesJsonPath": "$.resourceType"}],
                               headers={"Authorization": not_matching(".*(?:%s).*" % scope)})
    return [("01-structured-record-scope-with-body.json",
             {"name": "structured record with a body, whatever its requested_scope", "priority": 1, "request": request,
              "response": tfile("structured-allergies-active.json")},
             "scope-ignored-with-body", ["GPC-JWT-4", "GPC-JWT-7"],
             ["01-jwt-scope-value", "03-structured-record-scope"])]


DEFECTS_MORE = {
    "scope-ignored-with-body": "Access Record Structured accepts a request with a body whatever its requested_scope: one GP Connect does not define, or another endpoint's (a bodiless request is still refused)",
    "ended-allergies-leaked": "includeResolvedAllergies=false still answers the ended allergies List",
    "prescription-issues-not-filtered": "includePrescriptionIssues=false still returns the issue MedicationRequests",
    "problem-status-not-filtered": "filterStatus=active returns an inactive problem",
    "referrals-list-miscoded": "The referrals List carries another SNOMED code than Outbound referral (792931000000107)",
    "most-recent-with-period-accepted": "includeNumberOfMostRecent with consultationSearchPeriod is answered 200 instead of 422 INVALID_PARAMETER",
    "dissent-ignored": "The record of a patient who dissented is returned instead of 403 NO_PATIENT_CONSENT",
    "immunisation-list-items-missing": "The immunisations List names Immunization resources the Bundle does not hold",
    "slot-search-without-schedule": "Slot search with _include=Slot:schedule omits the Schedule",
    "slot-range-length-not-checked": "A slot search over more than 14 days answers an empty Bundle instead of a GP Connect error",
    "booking-answers-200": "Booking an appointment answers 200 instead of 201 Created",
    "double-booking-accepted": "Booking an already booked slot succeeds instead of 409 DUPLICATE_REJECTED",
    "amend-ignored": "Amending an appointment answers the unchanged appointment",
    "cancel-keeps-booked": "Cancelling an appointment answers it still booked",
    "appointments-of-another-patient": "A patient's appointments include another patient's",
    "documents-without-includes": "DocumentReference search ignores _include: no Patient, Organization or Practitioner",
    "document-includes-not-required": "A DocumentReference search without the mandatory _include parameters answers 200 instead of 422 INVALID_PARAMETER",
    "binary-not-fhir": "Retrieve a document answers the raw document instead of a FHIR Binary",
    "xml-patient-as-json": "Read a patient with Accept application/fhir+xml answers FHIR JSON",
    "medication-quantities-as-text": "The medications Bundle writes dispense quantities and supply durations as JSON strings, as the specification's example does (decimals are JSON numbers)",
    "unrecognised-parameter-rejected": "A parameter the provider does not recognise is rejected with 422 INVALID_PARAMETER instead of a warning beside the supported data",
    "registration-not-temporary": "Register a patient answers the patient without a temporary registration type (registrationType T)",
    "duplicate-registration-accepted": "Registering a patient who is already registered answers 200 instead of 409 DUPLICATE_REJECTED",
    "practitioner-not-conformant": "Read a practitioner answers a Practitioner that breaks CareConnect-GPC-Practitioner-1 (gender outside its required value set)",
}
DEFECTS.update(DEFECTS_MORE)

BASE_FILES = files()
FILES = dict(BASE_FILES)
FILES.update(provider_files())
for _name in ANY_FILES:
    FILES[_name] = with_nhs_of_request(FILES[_name])
REQUEST_BODIES = request_bodies()

if __name__ == "__main__":
    for folder in [os.path.join(HERE, "mappings"), os.path.join(HERE, "__files"), os.path.join(BROKEN, "mappings")]:
        shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(os.path.join(PROVIDER_SUITE, "bodies"), ignore_errors=True)
    for name, body in FILES.items():
        if name.endswith(".xml"):
            os.makedirs(os.path.join(HERE, "__files"), exist_ok=True)
            with open(os.path.join(HERE, "__files", name), "w") as f:
                f.write(body)
        else:
            write(os.path.join(HERE, "__files", name), body)
    for name, body in REQUEST_BODIES.items():
        write(os.path.join(PROVIDER_SUITE, "bodies", name), body)
    # The foundations features run in the provider suite too, with their bodies.
    foundations = os.path.join(os.path.dirname(PROVIDER_SUITE), "gp-connect-foundations", "bodies")
    for name in os.listdir(foundations):
        shutil.copy(os.path.join(foundations, name), os.path.join(PROVIDER_SUITE, "bodies", name))
    rows = []
    for fname, mapping, defect in mappings():
        write(os.path.join(HERE, "mappings", fname), mapping)
        if defect:
            name, reqs = defect[0], defect[1]
            response = defect[2] if len(defect) > 2 else defect_response(name, mapping)
            broken = {"name": "defect %s: %s" % (name, mapping["name"]), "priority": mapping["priority"],
                      "request": mapping["request"], "response": response,
                      "metadata": {"defect": name, "description": DEFECTS[name], "requirements": reqs,
                                   "overrides": fname[:-5]}}
            write(os.path.join(BROKEN, "mappings", fname), broken)
            rows.append(([fname[:-5]], name, reqs))
    for fname, mapping, name, reqs, overrides in broken_only():
        mapping["metadata"] = {"defect": name, "description": DEFECTS[name], "requirements": reqs, "overrides": overrides}
        mapping["name"] = "defect %s: %s" % (name, mapping["name"])
        write(os.path.join(BROKEN, "mappings", fname), mapping)
        rows.append((overrides, name, reqs))
    with open(os.path.join(BROKEN, "README.md"), "w") as f:
        f.write(readme(rows))
