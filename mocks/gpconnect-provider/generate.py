#!/usr/bin/env python3
"""Writes the GP Connect reference provider stub set (mappings/, __files/) and its
broken overlay (../gpconnect-provider-broken/mappings/) from one table, so that each
seeded defect answers exactly the request its base mapping answers.

Bodies are shaped from the GP Connect 1.6.2 specification examples. Run it from
anywhere: `python3 mocks/gpconnect-provider/generate.py`. The output is committed;
the harness never runs this script.
"""
import base64
import copy
import json
import os
import re
import shutil

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
FIXED_IAT = 4102444800  # 2100-01-01T00:00:00Z: only the exp scenarios use it

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
}

SPEC = "/work/shared/corpora/examples/gpconnect-spec/feature_1.6.2/_includes"
SPEC = os.environ.get("GPC_SPEC_EXAMPLES", SPEC)


def b64_variants(text):
    """The base64url renderings of `text` at the three byte alignments a JWT payload
    may put it in: a token contains `text` iff it contains one of these."""
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
    return {
        "resourceType": "Bundle",
        "meta": {"lastUpdated": "2026-11-26T09:00:00+00:00"},
        "type": "searchset",
        "total": len(resources),
        "entry": [{"fullUrl": "{{request.baseUrl}}/%s/%s" % (r["resourceType"], r["id"]), "resource": r} for r in resources],
    }


def patient(nhs, pid, family, given, **more):
    p = copy.deepcopy(load("foundations/find_patient_response_example.json")["entry"][0]["resource"])
    p["id"] = pid
    p["identifier"][0]["value"] = nhs
    p["name"][0].update({"family": family, "given": [given], "text": "%s %s" % (family.upper(), given)})
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
    out["search-patient-%s.json" % REGISTERED[1]] = searchset([patient(REGISTERED[1], "3", "Wood", "Sam")])
    out["search-empty.json"] = searchset([])
    deceased = patient(DECEASED, "4", "Tooley", "Alan", deceasedDateTime="2024-02-01T10:00:00+00:00")
    out["search-patient-deceased-leaked.json"] = searchset([deceased])
    prac = load("foundations/read_practitioner_response_example.json")
    prac["id"] = "1"
    prac["identifier"][0]["value"] = "G13579135"
    out["practitioner-1.json"] = prac
    out["search-practitioner.json"] = searchset([prac])
    org = load("foundations/read_organization_response_example.json")
    org["id"] = "1"
    out["organization-1.json"] = org
    out["search-organization.json"] = searchset([org])
    loc = load("foundations/read_location_response_example.json")
    loc["id"] = "1"
    loc["managingOrganization"] = {"reference": "Organization/1"}
    out["location-1.json"] = loc
    allergies = load("accessrecord_structured/allergies_response1.json")
    text = json.dumps(allergies).replace("9999999999", REGISTERED[0])
    out["structured-allergies.json"] = json.loads(text)
    broken = json.loads(text)
    broken["entry"] = [e for e in broken["entry"] if e["resource"]["resourceType"] != "List"]
    out["structured-allergies-no-list.json"] = broken
    return out


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
            dict(anything, headers={"Authorization": {"doesNotMatch": ".*%s.*" % contains_any('"%s":' % claim)}}),
            respond(bad_request("the JWT has no %s claim" % claim)))
    add("01-jwt-reason.json", "JWT reason_for_request is not directcare", 1,
        dict(anything, headers={"Authorization": {"doesNotMatch": ".*%s.*" % contains_any('"reason_for_request":"directcare"')}}),
        respond(bad_request("reason_for_request must be directcare")))
    # exp must be iat + 300: checked for tokens issued at the suite's fixed iat.
    exp_rule = "(?=.*%s)(?!.*%s).*" % (contains_any('"iat":%d' % FIXED_IAT),
                                       contains_any('"exp":%d,"iat":%d' % (FIXED_IAT + 300, FIXED_IAT)))
    add("01-jwt-exp.json", "JWT exp is not iat + 300", 1,
        dict(anything, headers={"Authorization": {"matches": exp_rule}}),
        respond(bad_request("exp must be iat + 300 seconds")),
        defect=("exp-not-checked", ["GPC-JWT-3"]))

    # Each endpoint: the interaction id and the scope must be the operation's.
    for name, (method, key, url, iid, scope) in ENDPOINTS.items():
        slug = name.replace(" ", "-")
        defect = ("interaction-error-without-profile", ["GPC-SSP-2"]) if name == "metadata" else None
        add("02-%s-interaction.json" % slug, "%s: wrong Ssp-InteractionID" % name, 2,
            endpoint_request(name, headers={"Ssp-InteractionID": {"doesNotMatch": re.escape(PREFIX + iid)}}),
            respond(bad_request("Ssp-InteractionID does not match the operation")), defect=defect)
        defect = ("scope-not-checked", ["GPC-JWT-4"]) if name == "patient search" else None
        add("03-%s-scope.json" % slug, "%s: wrong requested_scope" % name, 3,
            endpoint_request(name, headers={"Authorization": {"doesNotMatch": ".*%s.*" % contains_any('"requested_scope":"%s"' % scope)}}),
            respond(bad_request("requested_scope must be %s" % scope)), defect=defect)

    add("05-metadata.json", "capability statement", 5, endpoint_request("metadata"),
        respond_file("capability-statement.json"), defect=("capability-r4", ["GPC-META-1"]))
    for nhs in REGISTERED:
        add("05-search-patient-%s.json" % nhs, "find patient %s" % nhs, 5,
            endpoint_request("patient search", queryParameters={"identifier": {"equalTo": "%s|%s" % (NHS, nhs)}}),
            respond_file("search-patient-%s.json" % nhs))
    add("05-read-patient-2.json", "read patient 2", 5, {"method": "GET", "urlPath": "/Patient/2"},
        respond_file("patient-2.json"))
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
        endpoint_request("patient search", queryParameters={"identifier": {"doesNotMatch": re.escape(NHS + "|") + ".*"}}),
        respond(error(400, "value", "INVALID_IDENTIFIER_SYSTEM", "Invalid identifier system", "identifier must use " + NHS)))
    add("07-search-patient-unknown.json", "find patient: anyone else", 7,
        endpoint_request("patient search", queryParameters={"identifier": {"matches": re.escape(NHS + "|") + "\\d{10}"}}),
        respond_file("search-empty.json"))

    add("05-read-practitioner-1.json", "read practitioner 1", 5, {"method": "GET", "urlPath": "/Practitioner/1"},
        respond_file("practitioner-1.json"))
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
    for rtype, code, display in [("Patient", "PATIENT_NOT_FOUND", "Patient record not found"),
                                 ("Practitioner", "PRACTITIONER_NOT_FOUND", "Practitioner record not found"),
                                 ("Organization", "ORGANISATION_NOT_FOUND", "Organisation record not found"),
                                 ("Location", "LOCATION_NOT_FOUND", "Location record not found")]:
        add("06-read-%s-unknown.json" % rtype.lower(), "read unknown %s" % rtype, 6,
            {"method": "GET", "urlPathPattern": "/%s/[^/$]+" % rtype},
            respond(error(404, "not-found", code, display, "no %s with that id" % rtype)),
            defect=("organisation-not-found-plain", ["GPC-READ-2"]) if rtype == "Organization" else None)

    sr = endpoint_request("structured record", bodyPatterns=[
        {"matchesJsonPath": {"expression": "$.parameter[?(@.name == 'patientNHSNumber')].valueIdentifier.value",
                             "equalTo": REGISTERED[0]}},
        {"matchesJsonPath": "$.parameter[?(@.name == 'includeAllergies')]"},
    ])
    add("05-structured-allergies.json", "structured record: allergies", 5, sr,
        respond_file("structured-allergies.json"), defect=("allergies-without-list", ["GPC-SR-1"]))
    add("06-structured-unknown.json", "structured record: patient not found", 6, endpoint_request("structured record"),
        respond(error(404, "not-found", "PATIENT_NOT_FOUND", "Patient record not found", "no such patient")))
    return m


DEFECTS = {
    "trace-id-optional": "A request without Ssp-TraceID is answered 200 instead of 400 BAD_REQUEST",
    "exp-not-checked": "A token whose exp is not iat + 300 seconds is accepted (200)",
    "interaction-error-without-profile": "The metadata interaction-id error lacks meta.profile GPConnect-OperationOutcome-1",
    "scope-not-checked": "Find a patient accepts a token whose requested_scope is not patient/*.read",
    "capability-r4": "The CapabilityStatement declares fhirVersion 4.0.1 instead of 3.0.1",
    "deceased-patient-found": "Find a patient returns the deceased patient instead of an empty Bundle",
    "nhs-number-check-digit-ignored": "An NHS number with a wrong check digit is searched (empty Bundle) instead of 400 INVALID_NHS_NUMBER",
    "practitioner-search-empty": "Find a practitioner by SDS user id returns an empty Bundle",
    "location-not-fhir-json": "Read a location answers Content-Type application/json",
    "organisation-not-found-plain": "Reading an unknown Organization answers a plain-text 404 instead of ORGANISATION_NOT_FOUND",
    "allergies-without-list": "The structured allergies Bundle lacks the allergies List",
}


def readme(rows):
    lines = [
        "# gpconnect-provider-broken",
        "",
        "The GP Connect reference provider (`mocks/gpconnect-provider/`) with seeded defects,",
        "used to prove that the `gp-connect-foundations` suite fails when a provider is wrong,",
        "and says which requirement failed. `mock.toml` extends `gpconnect-provider`; each file",
        "in `mappings/` answers exactly the request of the reference mapping of the same file",
        "name, at the same priority (an overlay wins ties), so each defect fails only its own",
        "requirements. This README and the mappings are written by",
        "`mocks/gpconnect-provider/generate.py`.",
        "",
        "Every defect mapping carries `\"metadata\": {\"defect\": ..., \"description\": ..., \"requirements\": [...], \"overrides\": ...}`.",
        "",
        "| Defect | What is wrong | Requirements | Overrides |",
        "|---|---|---|---|",
    ]
    for fname, name, reqs in rows:
        lines.append("| `%s` | %s | %s | `%s` |" % (name, DEFECTS[name], ", ".join("`%s`" % r for r in reqs), fname[:-5]))
    return "\n".join(lines) + "\n"


def defect_response(defect, mapping):
    """The broken answer each seeded defect gives to its base mapping's request."""
    plain = {"Content-Type": FHIR_JSON}
    if defect in ("trace-id-optional", "exp-not-checked", "scope-not-checked"):
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


FILES = files()

if __name__ == "__main__":
    for folder in [os.path.join(HERE, "mappings"), os.path.join(HERE, "__files"), os.path.join(BROKEN, "mappings")]:
        shutil.rmtree(folder, ignore_errors=True)
    for name, body in FILES.items():
        write(os.path.join(HERE, "__files", name), body)
    rows = []
    for fname, mapping, defect in mappings():
        write(os.path.join(HERE, "mappings", fname), mapping)
        if defect:
            name, reqs = defect
            broken = {"name": "defect %s: %s" % (name, mapping["name"]), "priority": mapping["priority"],
                      "request": mapping["request"], "response": defect_response(name, mapping),
                      "metadata": {"defect": name, "description": DEFECTS[name], "requirements": reqs,
                                   "overrides": fname[:-5]}}
            write(os.path.join(BROKEN, "mappings", fname), broken)
            rows.append((fname, name, reqs))
    with open(os.path.join(BROKEN, "README.md"), "w") as f:
        f.write(readme(rows))
