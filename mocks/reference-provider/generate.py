#!/usr/bin/env python3
"""Regenerates mappings/, __files/ and mock.toml of this stub set.

The JSON it writes is what assure serves and what is committed; this script only keeps
the many copies of each patient (reads, vreads, history, search pages) consistent.
Run it after changing a patient or a rule, then `python3 ../broken-provider/generate.py`
and `cargo test --test counterpart`.
"""
import json, os, datetime, shutil
OUT = os.path.dirname(os.path.abspath(__file__))
for sub in ("mappings", "__files"):
    shutil.rmtree(os.path.join(OUT, sub), ignore_errors=True)
    os.makedirs(os.path.join(OUT, sub))
with open(os.path.join(OUT, "mock.toml"), "w") as f:
    f.write('description = "Conformant FHIR R4 Patient server (read, vread, history, search, create, update, delete) for the fhir-r4-rest suite"\n')
FHIR_JSON = "application/fhir+json; charset=utf-8"
BASE = "{{request.baseUrl}}"
NHS_SYS = "https://fhir.nhs.uk/Id/nhs-number"
PROFILE = "https://fhir.nhs.uk/R4/StructureDefinition/UKCore-Patient"

def rfc1123(iso):
    return datetime.datetime.fromisoformat(iso[:19]).strftime('%a, %d %b %Y %H:%M:%S GMT')

def patient(nhs, version, updated, given, family, prefix, gender, birth, lines, city, postcode, phone, gp=None):
    return {
        "resourceType": "Patient", "id": nhs,
        "meta": {"versionId": str(version), "lastUpdated": updated, "profile": [PROFILE]},
        "identifier": [{
            "extension": [{
                "url": "https://fhir.nhs.uk/R4/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
                "valueCodeableConcept": {"coding": [{
                    "system": "https://fhir.nhs.uk/R4/CodeSystem/UKCore-NHSNumberVerificationStatus",
                    "code": "01", "display": "Number present and verified"}]}}],
            "system": NHS_SYS, "value": nhs}],
        "name": [{"use": "official", "family": family, "given": given, "prefix": [prefix]}],
        "telecom": [{"system": "phone", "value": phone, "use": "home"}],
        "gender": gender, "birthDate": birth,
        "address": [{"use": "home", "line": lines, "city": city, "postalCode": postcode}],
        "generalPractitioner": [{"type": "Organization", "identifier": {
            "system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": gp or "Y12345"}}],
    }

V = {}  # (nhs, version) -> resource
V[("9000000009", 1)] = patient("9000000009", 1, "2024-03-01T09:00:00+00:00", ["Jane"], "Smith", "Mrs", "female",
    "1985-02-14", ["22 Park Row"], "Leeds", "LS1 5JL", "01132 496000", "B82005")
V[("9000000009", 2)] = patient("9000000009", 2, "2025-06-12T14:30:00+00:00", ["Jane"], "Smith", "Mrs", "female",
    "1985-02-14", ["1 Trevelyan Square", "Boar Lane"], "Leeds", "LS1 6AE", "01132 496001", "B82005")
V[("9000000017", 1)] = patient("9000000017", 1, "2023-09-18T10:15:00+00:00", ["Oliver", "James"], "Jones", "Mr", "male",
    "1972-11-03", ["14 High Street"], "Bristol", "BS1 2AW", "01174 960123", "L81004")
V[("9000000025", 1)] = patient("9000000025", 1, "2024-11-05T16:45:00+00:00", ["Priya"], "Patel", "Ms", "female",
    "2001-07-22", ["3 Queen's Road"], "Manchester", "M8 8UP", "01614 960456", "P84016")
CURRENT = {"9000000009": 2, "9000000017": 1, "9000000025": 1}
FAMILY_PREFIX = {"9000000009": "s(?:m(?:i(?:t(?:h)?)?)?)?", "9000000017": "j(?:o(?:n(?:e(?:s)?)?)?)?", "9000000025": "p(?:a(?:t(?:e(?:l)?)?)?)?"}

def write_file(name, obj):
    with open(f"{OUT}/__files/{name}", "w") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False); f.write("\n")

n = [0]
def mapping(fname, m):
    n[0] += 1
    with open(f"{OUT}/mappings/{fname}.json", "w") as f:
        json.dump(m, f, indent=2, ensure_ascii=False); f.write("\n")

def oo(code, text, severity="error"):
    return {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": code, "diagnostics": text}]}

def fhir_headers(**extra):
    h = {"Content-Type": FHIR_JSON}; h.update(extra); return h

def error(fname, name, priority, request, status, code, text, extra_headers=None):
    mapping(fname, {"name": name, "priority": priority, "request": request, "response": {
        "status": status, "headers": fhir_headers(**(extra_headers or {})), "jsonBody": oo(code, text),
        "transformers": ["response-template"]}})

def bundle(kind, self_url, entries, total, extra_links=()):
    return {"resourceType": "Bundle", "id": "{{request.id}}", "meta": {"lastUpdated": "{{now}}"},
            "type": kind, "total": total,
            "link": [{"relation": "self", "url": self_url}] + [{"relation": r, "url": u} for r, u in extra_links],
            **({"entry": entries} if entries else {})}

def match_entry(nhs):
    return {"fullUrl": f"{BASE}/Patient/{nhs}", "resource": V[(nhs, CURRENT[nhs])], "search": {"mode": "match"}}

ALL = ["9000000009", "9000000017", "9000000025"]
ETAG = lambda v: f'W/"{v}"'

def not_matching(regex):
    """Present and not matching: WireMock's doesNotMatch alone also matches an absent value."""
    return {"and": [{"matches": ".*"}, {"doesNotMatch": regex}]}


# ---- 01: content negotiation (priority 1) ----
error("01-accept-not-json", "406 when Accept allows no JSON", 1,
      {"method": "ANY", "urlPattern": ".*",
       "headers": {"Accept": not_matching("(?i).*(json|\\*/\\*|application/\\*).*")},
       "queryParameters": {"_format": {"absent": True}}},
      406, "not-supported", "This server produces JSON only (application/fhir+json); the Accept header allows none")
error("01-format-not-json", "406 when _format is not JSON", 1,
      {"method": "ANY", "urlPattern": ".*",
       "queryParameters": {"_format": not_matching("(?i)(json|application/(fhir[+ ])?json)")}},
      406, "not-supported", "_format={{request.query._format}} is not supported: this server produces JSON only")
# ---- 02: request validation (priority 2) ----
error("02-create-unsupported-media-type", "415 for a create that is not JSON", 2,
      {"method": "POST", "urlPath": "/Patient",
       "headers": {"Content-Type": not_matching("(?i)application/(fhir\\+)?json.*")}},
      415, "not-supported", "Content-Type must be application/fhir+json")
error("02-create-no-content-type", "415 for a create without Content-Type", 2,
      {"method": "POST", "urlPath": "/Patient", "headers": {"Content-Type": {"absent": True}}},
      415, "not-supported", "Content-Type must be application/fhir+json")
KNOWN = "_id|identifier|family|birthdate|_count|_page|_format"
error("02-search-unknown-parameter-strict", "400 for an unknown search parameter with handling=strict", 2,
      {"method": "GET", "urlPattern": f"/Patient\\?(?:.*&)?(?!(?:{KNOWN})=)[^&=]+(?:=[^&]*)?(?:&.*)?",
       "headers": {"Prefer": {"contains": "handling=strict"}}},
      400, "not-supported", "Unknown search parameter in {{request.url}}; supported: _id, identifier, family, birthdate, _count")
error("02-create-unknown-element", "400 for a create with an element Patient does not define", 2,
      {"method": "POST", "urlPath": "/Patient",
       "bodyPatterns": [{"matchesJsonPath": "$.assureUnknownElement"}]},
      400, "structure", "Unknown element 'assureUnknownElement': Patient does not define it")
# ---- 03: conditional create (priority 3) ----
for nhs in ALL:
    v = CURRENT[nhs]; res = V[(nhs, v)]
    write_file(f"patient-{nhs}-v{v}.json", res)
    mapping(f"03-create-if-none-exist-{nhs}", {"name": f"conditional create finds {nhs}", "priority": 3,
        "request": {"method": "POST", "urlPath": "/Patient",
            "headers": {"If-None-Exist": {"matches": f"(?i)identifier=(https(://|%3A%2F%2F)fhir\\.nhs\\.uk(/|%2F)Id(/|%2F)nhs-number(\\||%7C))?{nhs}"}},
            "bodyPatterns": [{"matchesJsonPath": {"expression": "$.resourceType", "equalTo": "Patient"}}]},
        "response": {"status": 200, "headers": fhir_headers(ETag=ETAG(v), **{"Last-Modified": rfc1123(res["meta"]["lastUpdated"])}),
                     "bodyFileName": f"patient-{nhs}-v{v}.json"}})
# ---- 05: capability statement, reads, vreads, history, create, specific searches ----
cap = {
    "resourceType": "CapabilityStatement", "id": "assure-reference-provider", "version": "1.0.0",
    "name": "AssureReferenceProvider", "title": "assure reference FHIR R4 provider",
    "status": "active", "experimental": False, "date": "2026-11-26", "publisher": "assure",
    "description": "A conformant FHIR R4 Patient server built from stubs, used to check the fhir-r4-rest suite.",
    "kind": "instance",
    "software": {"name": "assure reference provider", "version": "1.0.0"},
    "implementation": {"description": "assure reference provider", "url": BASE},
    "fhirVersion": "4.0.1", "format": ["application/fhir+json", "json"],
    "rest": [{"mode": "server",
        "resource": [{"type": "Patient", "profile": "http://hl7.org/fhir/StructureDefinition/Patient",
            "supportedProfile": [PROFILE],
            "interaction": [{"code": c} for c in ["read", "vread", "update", "delete", "history-instance", "search-type", "create"]],
            "versioning": "versioned", "readHistory": True, "updateCreate": False,
            "conditionalCreate": True, "conditionalRead": "not-supported", "conditionalUpdate": False,
            "conditionalDelete": "not-supported",
            "searchParam": [
                {"name": "_id", "definition": "http://hl7.org/fhir/SearchParameter/Resource-id", "type": "token"},
                {"name": "identifier", "definition": "http://hl7.org/fhir/SearchParameter/Patient-identifier", "type": "token"},
                {"name": "family", "definition": "http://hl7.org/fhir/SearchParameter/individual-family", "type": "string"},
                {"name": "birthdate", "definition": "http://hl7.org/fhir/SearchParameter/individual-birthdate", "type": "date"}]}],
        "searchParam": [{"name": "_count", "type": "number",
            "documentation": "Page size for search results; pages are followed with the Bundle's next link"}]}]}
write_file("capability-statement.json", cap)
mapping("05-metadata", {"name": "capability statement", "priority": 5,
    "request": {"method": "GET", "urlPath": "/metadata"},
    "response": {"status": 200, "headers": fhir_headers(), "bodyFileName": "capability-statement.json",
                 "transformers": ["response-template"]}})
for (nhs, v), res in V.items():
    if (nhs, v) not in [(k, CURRENT[k]) for k in ALL]:
        write_file(f"patient-{nhs}-v{v}.json", res)
    headers = fhir_headers(ETag=ETAG(v), **{"Last-Modified": rfc1123(res["meta"]["lastUpdated"])})
    if v == CURRENT[nhs]:
        mapping(f"05-read-{nhs}", {"name": f"read Patient/{nhs}", "priority": 5,
            "request": {"method": "GET", "urlPath": f"/Patient/{nhs}"},
            "response": {"status": 200, "headers": headers, "bodyFileName": f"patient-{nhs}-v{v}.json"}})
    mapping(f"05-vread-{nhs}-{v}", {"name": f"vread Patient/{nhs}/_history/{v}", "priority": 5,
        "request": {"method": "GET", "urlPath": f"/Patient/{nhs}/_history/{v}"},
        "response": {"status": 200, "headers": headers, "bodyFileName": f"patient-{nhs}-v{v}.json"}})
for nhs in ALL:
    entries = []
    for v in range(CURRENT[nhs], 0, -1):
        res = V[(nhs, v)]
        entries.append({"fullUrl": f"{BASE}/Patient/{nhs}", "resource": res,
            "request": {"method": "POST" if v == 1 else "PUT", "url": "Patient" if v == 1 else f"Patient/{nhs}"},
            "response": {"status": "201 Created" if v == 1 else "200 OK", "etag": ETAG(v),
                         "lastModified": res["meta"]["lastUpdated"]}})
    write_file(f"history-{nhs}.json", bundle("history", f"{BASE}/Patient/{nhs}/_history", entries, len(entries)))
    mapping(f"05-history-{nhs}", {"name": f"history of Patient/{nhs}", "priority": 5,
        "request": {"method": "GET", "urlPath": f"/Patient/{nhs}/_history"},
        "response": {"status": 200, "headers": fhir_headers(), "bodyFileName": f"history-{nhs}.json",
                     "transformers": ["response-template"]}})
mapping("05-create", {"name": "create a Patient", "priority": 5,
    "request": {"method": "POST", "urlPath": "/Patient",
                "bodyPatterns": [{"matchesJsonPath": {"expression": "$.resourceType", "equalTo": "Patient"}}]},
    "response": {"status": 201, "headers": fhir_headers(
        Location=f"{BASE}/Patient/{{{{request.id}}}}/_history/1", ETag=ETAG(1),
        **{"Last-Modified": "{{now format=\"EEE, dd MMM yyyy HH:mm:ss 'GMT'\"}}"}),
        "body": "{{#jsonMerge request.body}}{\"id\": \"{{request.id}}\", \"meta\": {\"versionId\": \"1\", \"lastUpdated\": \"{{now}}\"}}{{/jsonMerge}}",
        "transformers": ["response-template"]}})
SEARCHES = {
    "_id": lambda nhs: nhs,
    "identifier": lambda nhs: f"(?:https://fhir\\.nhs\\.uk/Id/nhs-number\\|)?{nhs}",
    "family": lambda nhs: f"(?i){FAMILY_PREFIX[nhs]}",
    "birthdate": lambda nhs: f"(?:eq)?{V[(nhs, CURRENT[nhs])]['birthDate']}",
}
for param, pattern in SEARCHES.items():
    for nhs in ALL:
        # The value is constrained by the pattern, so it can go into the JSON as it is.
        write_file(f"search-{param}-{nhs}.json",
                   bundle("searchset", f"{BASE}/Patient?{param}={{{{request.query.{param}}}}}", [match_entry(nhs)], 1))
        mapping(f"05-search-{param}-{nhs}", {"name": f"search by {param} finds {nhs}", "priority": 5,
            "request": {"method": "GET", "urlPath": "/Patient", "queryParameters": {param: {"matches": pattern(nhs)}}},
            "response": {"status": 200, "headers": fhir_headers(), "bodyFileName": f"search-{param}-{nhs}.json",
                         "transformers": ["response-template"]}})
    # ---- 06: nothing on file ----
    write_file(f"search-{param}-none.json",
               bundle("searchset", f"{BASE}/Patient?{param}={{{{urlEncode request.query.{param}}}}}", [], 0))
    mapping(f"06-search-{param}-none", {"name": f"search by {param} finds nothing", "priority": 6,
        "request": {"method": "GET", "urlPath": "/Patient", "queryParameters": {param: {"matches": ".*"}}},
        "response": {"status": 200, "headers": fhir_headers(), "bodyFileName": f"search-{param}-none.json",
                     "transformers": ["response-template"]}})
# ---- 07: paging over all patients ----
def page_url(count, page):
    return f"{BASE}/Patient?_count={count}" + (f"&_page={page}" if page > 1 else "")
for count in (1, 2):
    pages = (len(ALL) + count - 1) // count
    for page in range(1, pages + 1):
        ids = ALL[(page - 1) * count: page * count]
        links = []
        if page > 1: links.append(("previous", f"{BASE}/Patient?_count={count}&_page={page - 1}"))
        if page < pages: links.append(("next", f"{BASE}/Patient?_count={count}&_page={page + 1}"))
        self_url = f"{BASE}/Patient?_count={count}" + (f"&_page={page}" if page > 1 else "")
        write_file(f"page-{count}-{page}.json", bundle("searchset", self_url, [match_entry(i) for i in ids], len(ALL), links))
        q = {"_count": {"equalTo": str(count)}, "_page": {"equalTo": str(page)}}
        variants = [q] + ([{"_count": {"equalTo": str(count)}, "_page": {"absent": True}}] if page == 1 else [])
        for i, query in enumerate(variants):
            mapping(f"07-page-{count}-{page}{'-default' if i else ''}", {"name": f"_count={count} page {page}", "priority": 7,
                "request": {"method": "GET", "urlPath": "/Patient", "queryParameters": query},
                "response": {"status": 200, "headers": fhir_headers(), "bodyFileName": f"page-{count}-{page}.json",
                             "transformers": ["response-template"]}})
write_file("page-all.json", bundle("searchset", f"{BASE}/Patient?_count={{{{request.query._count}}}}", [match_entry(i) for i in ALL], 3))
for suffix, page in [("", {"equalTo": "1"}), ("-default", {"absent": True})]:
    mapping(f"07-page-all{suffix}", {"name": "_count of 3 or more: one page", "priority": 7,
        "request": {"method": "GET", "urlPath": "/Patient",
                    "queryParameters": {"_count": {"matches": "[3-9]|[1-9][0-9]+"}, "_page": page}},
        "response": {"status": 200, "headers": fhir_headers(), "bodyFileName": "page-all.json", "transformers": ["response-template"]}})
write_file("page-count-only.json", bundle("searchset", f"{BASE}/Patient?_count=0", [], 3))
mapping("07-page-count-only", {"name": "_count=0: the total only", "priority": 7,
    "request": {"method": "GET", "urlPath": "/Patient", "queryParameters": {"_count": {"equalTo": "0"}}},
    "response": {"status": 200, "headers": fhir_headers(), "bodyFileName": "page-count-only.json", "transformers": ["response-template"]}})
write_file("page-beyond.json", bundle("searchset", f"{BASE}/Patient?_count={{{{urlEncode request.query._count}}}}&_page={{{{urlEncode request.query._page}}}}", [], 3))
mapping("08-page-beyond", {"name": "a page past the last one is empty", "priority": 8,
    "request": {"method": "GET", "urlPath": "/Patient", "queryParameters": {"_page": {"matches": ".*"}}},
    "response": {"status": 200, "headers": fhir_headers(), "bodyFileName": "page-beyond.json", "transformers": ["response-template"]}})
error("06-page-bad-count", "400 for a _count that is not a number", 6,
      {"method": "GET", "urlPath": "/Patient", "queryParameters": {"_count": not_matching("[0-9]+")}},
      400, "invalid", "_count must be a non-negative whole number")
# ---- 04: resources the suite creates, reads back, updates and deletes ----
# Each scenario that needs a created resource again marks its body with its own given
# name, so scenarios running at once never share a resource's state.
FLOW_TIME = "2026-01-01T00:00:00+00:00"
def flow_patient(fid, given, version, updated=False):
    return {"resourceType": "Patient", "id": fid,
            "meta": {"versionId": str(version), "lastUpdated": FLOW_TIME},
            "name": [{"use": "official", "family": "Assure-Updated" if updated else "Assure", "given": [given]}],
            "gender": "other" if updated else "unknown",
            "birthDate": "1990-01-02" if updated else "1990-01-01"}
FLOWS = {"ReadBack": "read-back", "UpdateStatus": "update-status", "UpdateVersion": "update-version",
         "UpdateContent": "update-content", "Delete": "delete-me"}
def flow_headers(version):
    return fhir_headers(ETag=ETAG(version), **{"Last-Modified": rfc1123(FLOW_TIME)})
for given, fid in FLOWS.items():
    scenario = f"created {fid}"
    write_file(f"flow-{fid}-v1.json", flow_patient(fid, given, 1))
    mapping(f"04-flow-{fid}-create", {"name": f"create of the '{given}' Patient", "priority": 4,
        "scenarioName": scenario, "newScenarioState": "v1",
        "request": {"method": "POST", "urlPath": "/Patient", "bodyPatterns": [
            {"matchesJsonPath": {"expression": "$.resourceType", "equalTo": "Patient"}},
            {"matchesJsonPath": {"expression": "$.name[0].given[0]", "equalTo": given}}]},
        "response": {"status": 201, "headers": dict(flow_headers(1), Location=f"{BASE}/Patient/{fid}/_history/1"),
                     "bodyFileName": f"flow-{fid}-v1.json", "transformers": ["response-template"]}})
    mapping(f"04-flow-{fid}-read-v1", {"name": f"read Patient/{fid} once created", "priority": 4,
        "scenarioName": scenario, "requiredScenarioState": "v1",
        "request": {"method": "GET", "urlPath": f"/Patient/{fid}"},
        "response": {"status": 200, "headers": flow_headers(1), "bodyFileName": f"flow-{fid}-v1.json"}})
    if fid.startswith("update-"):
        write_file(f"flow-{fid}-v2.json", flow_patient(fid, given, 2, updated=True))
        mapping(f"04-flow-{fid}-update", {"name": f"update of Patient/{fid}", "priority": 4,
            "scenarioName": scenario, "requiredScenarioState": "v1", "newScenarioState": "v2",
            "request": {"method": "PUT", "urlPath": f"/Patient/{fid}", "bodyPatterns": [
                {"matchesJsonPath": {"expression": "$.resourceType", "equalTo": "Patient"}},
                {"matchesJsonPath": {"expression": "$.id", "equalTo": fid}}]},
            "response": {"status": 200, "headers": flow_headers(2), "bodyFileName": f"flow-{fid}-v2.json"}})
        mapping(f"04-flow-{fid}-update-again", {"name": f"another update of Patient/{fid}", "priority": 4,
            "scenarioName": scenario, "requiredScenarioState": "v2",
            "request": {"method": "PUT", "urlPath": f"/Patient/{fid}", "bodyPatterns": [
                {"matchesJsonPath": {"expression": "$.resourceType", "equalTo": "Patient"}},
                {"matchesJsonPath": {"expression": "$.id", "equalTo": fid}}]},
            "response": {"status": 200, "headers": flow_headers(2), "bodyFileName": f"flow-{fid}-v2.json"}})
        mapping(f"04-flow-{fid}-read-v2", {"name": f"read Patient/{fid} once updated", "priority": 4,
            "scenarioName": scenario, "requiredScenarioState": "v2",
            "request": {"method": "GET", "urlPath": f"/Patient/{fid}"},
            "response": {"status": 200, "headers": flow_headers(2), "bodyFileName": f"flow-{fid}-v2.json"}})
    if fid == "delete-me":
        for state in ("v1", "deleted"):
            mapping(f"04-flow-{fid}-delete-{state}", {"name": f"delete of Patient/{fid} ({state})", "priority": 4,
                "scenarioName": scenario, "requiredScenarioState": state, "newScenarioState": "deleted",
                "request": {"method": "DELETE", "urlPath": f"/Patient/{fid}"},
                "response": {"status": 204}})
        error(f"04-flow-{fid}-read-deleted", f"410 for Patient/{fid} once deleted", 4,
              {"method": "GET", "urlPath": f"/Patient/{fid}"}, 410, "deleted",
              f"Patient/{fid} has been deleted")
        m = json.load(open(f"{OUT}/mappings/04-flow-{fid}-read-deleted.json"))
        m.update({"scenarioName": scenario, "requiredScenarioState": "deleted"})
        with open(f"{OUT}/mappings/04-flow-{fid}-read-deleted.json", "w") as f:
            json.dump(m, f, indent=2, ensure_ascii=False); f.write("\n")
# ---- 08: everything else a real server would answer ----
write_file("search-all.json", bundle("searchset", f"{BASE}/Patient", [match_entry(i) for i in ALL], 3))
mapping("09-search-all", {"name": "search without criteria: every patient", "priority": 9,
    "request": {"method": "GET", "urlPath": "/Patient"},
    "response": {"status": 200, "headers": fhir_headers(), "bodyFileName": "search-all.json", "transformers": ["response-template"]}})
error("09-read-unknown", "404 for a Patient or version not on file", 9,
      {"method": "GET", "urlPathPattern": "/Patient/[^/]+(?:/_history(?:/[^/]+)?)?"},
      404, "not-found", "Resource {{request.path}} is not known")
error("06-create-not-a-patient", "400 for a create whose body is not a Patient", 6,
      {"method": "POST", "urlPath": "/Patient"},
      400, "invalid", "The body must be a Patient resource (resourceType \"Patient\") in JSON")
TEST_IDS = "|".join(ALL)
error("08-delete-test-patient", "409 for a delete of a test patient", 8,
      {"method": "DELETE", "urlPathPattern": f"/Patient/(?:{TEST_IDS})"},
      409, "business-rule", "The test patients are kept: {{request.path}} is not deleted")
mapping("09-delete-any", {"name": "delete of anything else: done, or nothing to do", "priority": 9,
    "request": {"method": "DELETE", "urlPathPattern": "/Patient/[^/]+"},
    "response": {"status": 204}})
for nhs in ALL:
    error(f"08-update-test-patient-{nhs}", f"422 for an update of test patient {nhs}", 8,
          {"method": "PUT", "urlPath": f"/Patient/{nhs}", "bodyPatterns": [
              {"matchesJsonPath": {"expression": "$.resourceType", "equalTo": "Patient"}},
              {"matchesJsonPath": {"expression": "$.id", "equalTo": nhs}}]},
          422, "business-rule", f"The test patients are kept: Patient/{nhs} is not updated")
UPDATABLE = "|".join(ALL + [fid for fid in FLOWS.values() if fid.startswith("update-")])
# "If no id element is provided, or the id disagrees with the id in the URL, the server
# SHALL respond with an HTTP 400 error code"
error("09-update-wrong-id", "400 for an update whose body is not a Patient with the id of the URL", 9,
      {"method": "PUT", "urlPathPattern": f"/Patient/(?:{UPDATABLE})"},
      400, "invalid", "The body must be a Patient whose id is the one in {{request.path}}")
error("09-update-as-create", "405 for an update of an id this server does not have", 9,
      {"method": "PUT", "urlPathPattern": "/Patient/[^/]+"},
      405, "not-supported", "{{request.path}} does not exist, and this server does not let clients choose ids", {"Allow": "GET, POST"})
error("10-patient-method-not-allowed", "405 for interactions this server does not offer", 10,
      {"method": "ANY", "urlPathPattern": "/Patient(?:/.*)?"},
      405, "not-supported", "{{request.method}} is not supported on {{request.path}}: this server offers read, vread, history, search, create, update and delete",
      {"Allow": "GET, POST, PUT, DELETE"})
error("10-metadata-method-not-allowed", "405 for anything but GET on /metadata", 10,
      {"method": "ANY", "urlPath": "/metadata"},
      405, "not-supported", "only GET is supported on /metadata", {"Allow": "GET"})
error("11-not-found", "404 for any other path", 11,
      {"method": "ANY", "urlPattern": ".*"},
      404, "not-found", "No resource or operation at {{request.path}}: this server serves Patient only")
print(f"{n[0]} mappings written to {OUT}")
