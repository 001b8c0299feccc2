#!/usr/bin/env python3
"""Regenerates mappings/, __files/ and mock.toml of this stub set: a FHIR R4 Patient
server that does the least FHIR R4 allows and nothing it forbids.

The three test patients are the reference provider's (read from its __files/, without
versions); run `python3 ../reference-provider/generate.py` first, then this, then
`cargo test --test counterpart`.
"""
import json, os, shutil
OUT = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(os.path.dirname(OUT), "reference-provider")
for sub in ("mappings", "__files"):
    shutil.rmtree(os.path.join(OUT, sub), ignore_errors=True)
    os.makedirs(os.path.join(OUT, sub))
with open(os.path.join(OUT, "mock.toml"), "w") as f:
    f.write('description = "Minimal but conformant FHIR R4 Patient server: no versioning, 404 after delete, no body on create, a strict query parser"\n')
FHIR_JSON = "application/fhir+json"
BASE = "{{request.baseUrl}}"
ALL = ["9000000009", "9000000017", "9000000025"]
CURRENT = {"9000000009": 2, "9000000017": 1, "9000000025": 1}
FAMILY_PREFIX = {"9000000009": "s(?:m(?:i(?:t(?:h)?)?)?)?", "9000000017": "j(?:o(?:n(?:e(?:s)?)?)?)?",
                 "9000000025": "p(?:a(?:t(?:e(?:l)?)?)?)?"}
HTTP_DATE = {}

def rfc1123(iso):
    import datetime
    return datetime.datetime.fromisoformat(iso[:19]).strftime('%a, %d %b %Y %H:%M:%S GMT')

def unversioned(nhs):
    res = json.load(open(f"{REF}/__files/patient-{nhs}-v{CURRENT[nhs]}.json"))
    # "Servers that do not support versioning SHALL ensure that Resource.meta.versionId
    # is not present on resources they return"
    del res["meta"]["versionId"]
    return res

P = {nhs: unversioned(nhs) for nhs in ALL}

def write_file(name, obj):
    with open(f"{OUT}/__files/{name}", "w") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False); f.write("\n")

n = [0]
def mapping(fname, m):
    n[0] += 1
    with open(f"{OUT}/mappings/{fname}.json", "w") as f:
        json.dump(m, f, indent=2, ensure_ascii=False); f.write("\n")

def oo(code, text):
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": text}]}

def fhir(**extra):
    h = {"Content-Type": FHIR_JSON}; h.update(extra); return h

def with_outcome(fname, name, priority, request, status, code, text):
    mapping(fname, {"name": name, "priority": priority, "request": request, "response": {
        "status": status, "headers": fhir(), "jsonBody": oo(code, text), "transformers": ["response-template"]}})

def bare(fname, name, priority, request, status, headers=None):
    """An error with no body: R4 lets an OperationOutcome go with any 4xx or 5xx, but
    does not require it."""
    mapping(fname, {"name": name, "priority": priority, "request": request,
                    "response": {"status": status, **({"headers": headers} if headers else {})}})

def searchset(self_url, ids, extra_links=()):
    # No total, no search.mode, no id or meta: all optional.
    b = {"resourceType": "Bundle", "type": "searchset",
         "link": [{"relation": "self", "url": self_url}] + [{"relation": r, "url": u} for r, u in extra_links]}
    if ids:
        b["entry"] = [{"fullUrl": f"{BASE}/Patient/{i}", "resource": P[i]} for i in ids]
    return b

def search(fname, name, priority, query, body_file, body):
    write_file(body_file, body)
    mapping(fname, {"name": name, "priority": priority,
        "request": {"method": "GET", "urlPath": "/Patient", "queryParameters": query},
        "response": {"status": 200, "headers": fhir(), "bodyFileName": body_file,
                     "transformers": ["response-template"]}})

# ---- 01: the query parser ----
# Like Jetty and Tomcat: a raw `|` is not allowed in a request target (RFC 3986), so the
# request is refused before any FHIR processing; `%7C` is read as `|`.
bare("01-raw-pipe-in-query", "400 for a raw | in the query (RFC 3986)", 1,
     {"method": "ANY", "urlPattern": "[^?]*\\?.*\\|.*"}, 400, {"Content-Type": "text/plain"})
with open(f"{OUT}/mappings/01-raw-pipe-in-query.json") as f:
    m = json.load(f)
m["response"]["body"] = "Bad Request: Illegal character in query\n"
with open(f"{OUT}/mappings/01-raw-pipe-in-query.json", "w") as f:
    json.dump(m, f, indent=2, ensure_ascii=False); f.write("\n")

# ---- 02: request validation ----
# WireMock reads `absent: false` as `absent: true`, and a `doesNotMatch` alone also
# matches a header that is not there: presence is `matches: .*`.
bare("02-create-not-json", "415 for a create that is not JSON", 2,
     {"method": "POST", "urlPath": "/Patient",
      "headers": {"Content-Type": {"and": [{"matches": ".*"}, {"doesNotMatch": "(?i)application/(fhir\\+)?json.*"}]}}}, 415)
bare("02-create-no-content-type", "415 for a create without Content-Type", 2,
     {"method": "POST", "urlPath": "/Patient", "headers": {"Content-Type": {"absent": True}}}, 415)
# "Servers that don't support the conditional update SHOULD return an HTTP 400 error and
# MAY include an OperationOutcome."
bare("02-conditional-create-not-supported", "400 for a conditional create (not supported)", 2,
     {"method": "POST", "urlPath": "/Patient", "headers": {"If-None-Exist": {"matches": ".*"}}}, 400)
KNOWN = "_id|identifier|family|_count|_page|_format"
with_outcome("02-search-unknown-parameter-strict", "400 for an unknown search parameter with handling=strict", 2,
      {"method": "GET", "urlPattern": f"/Patient\\?(?:.*&)?(?!(?:{KNOWN})=)[^&=]+(?:=[^&]*)?(?:&.*)?",
       "headers": {"Prefer": {"contains": "handling=strict"}}},
      400, "not-supported", "Unknown search parameter; supported: _id, identifier, family, _count")

# ---- 03: resources the suite creates and comes back to (marked by their given name) ----
FLOW_TIMES = ("2026-01-01T00:00:00+00:00", "2026-01-01T00:05:00+00:00")
def flow_patient(fid, given, updated=False):
    return {"resourceType": "Patient", "id": fid, "meta": {"lastUpdated": FLOW_TIMES[1 if updated else 0]},
            "name": [{"use": "official", "family": "Assure-Updated" if updated else "Assure", "given": [given]}],
            "gender": "other" if updated else "unknown",
            "birthDate": "1990-01-02" if updated else "1990-01-01"}
FLOWS = {"ReadBack": "read-back", "UnknownElement": "unknown-element", "UpdateStatus": "update-status",
         "UpdateVersion": "update-version", "UpdateContent": "update-content", "Delete": "delete-me"}
for given, fid in FLOWS.items():
    scenario = f"created {fid}"
    # The unknown element is ignored: what is stored and read back does not have it.
    write_file(f"flow-{fid}.json", flow_patient(fid, given))
    mapping(f"03-flow-{fid}-create", {"name": f"create of the '{given}' Patient", "priority": 3,
        "scenarioName": scenario, "newScenarioState": "created",
        "request": {"method": "POST", "urlPath": "/Patient", "bodyPatterns": [
            {"matchesJsonPath": {"expression": "$.resourceType", "equalTo": "Patient"}},
            {"matchesJsonPath": {"expression": "$.name[0].given[0]", "equalTo": given}}]},
        "response": {"status": 201, "headers": {"Location": f"Patient/{fid}",
                                                "Last-Modified": rfc1123(FLOW_TIMES[0])}}})
    mapping(f"03-flow-{fid}-read", {"name": f"read Patient/{fid} once created", "priority": 3,
        "scenarioName": scenario, "requiredScenarioState": "created",
        "request": {"method": "GET", "urlPath": f"/Patient/{fid}"},
        "response": {"status": 200, "headers": fhir(**{"Last-Modified": rfc1123(FLOW_TIMES[0])}),
                     "bodyFileName": f"flow-{fid}.json"}})
    if fid.startswith("update-"):
        write_file(f"flow-{fid}-updated.json", flow_patient(fid, given, updated=True))
        mapping(f"03-flow-{fid}-update", {"name": f"update of Patient/{fid}", "priority": 3,
            "scenarioName": scenario, "requiredScenarioState": "created", "newScenarioState": "updated",
            "request": {"method": "PUT", "urlPath": f"/Patient/{fid}", "bodyPatterns": [
                {"matchesJsonPath": {"expression": "$.resourceType", "equalTo": "Patient"}},
                {"matchesJsonPath": {"expression": "$.id", "equalTo": fid}}]},
            "response": {"status": 200, "headers": {"Last-Modified": rfc1123(FLOW_TIMES[1])}}})
        mapping(f"03-flow-{fid}-read-updated", {"name": f"read Patient/{fid} once updated", "priority": 3,
            "scenarioName": scenario, "requiredScenarioState": "updated",
            "request": {"method": "GET", "urlPath": f"/Patient/{fid}"},
            "response": {"status": 200, "headers": fhir(**{"Last-Modified": rfc1123(FLOW_TIMES[1])}),
                         "bodyFileName": f"flow-{fid}-updated.json"}})
    if fid == "delete-me":
        # Deleted records are not tracked: afterwards the id is unknown (404), not 410.
        mapping(f"03-flow-{fid}-delete", {"name": f"delete of Patient/{fid}", "priority": 3,
            "scenarioName": scenario, "requiredScenarioState": "created", "newScenarioState": "gone",
            "request": {"method": "DELETE", "urlPath": f"/Patient/{fid}"},
            "response": {"status": 204}})

# ---- 04: any other create: 201, a relative Location without a version, no body unless asked ----
CREATE = {"method": "POST", "urlPath": "/Patient",
          "bodyPatterns": [{"matchesJsonPath": {"expression": "$.resourceType", "equalTo": "Patient"}}]}
mapping("04-create-representation", {"name": "create a Patient, body asked for", "priority": 4,
    "request": dict(CREATE, headers={"Prefer": {"contains": "return=representation"}}),
    "response": {"status": 201, "headers": fhir(Location="Patient/{{request.id}}",
                                               **{"Last-Modified": "{{now timezone='GMT' format='EEE, dd MMM yyyy HH:mm:ss z'}}"}),
        "body": "{{#jsonMerge request.body}}{\"id\": \"{{request.id}}\", \"meta\": {\"lastUpdated\": \"{{now}}\"}}{{/jsonMerge}}",
        "transformers": ["response-template"]}})
mapping("05-create", {"name": "create a Patient", "priority": 5, "request": CREATE,
    "response": {"status": 201, "headers": {"Location": "Patient/{{request.id}}",
                                            "Last-Modified": "{{now timezone='GMT' format='EEE, dd MMM yyyy HH:mm:ss z'}}"},
                 "transformers": ["response-template"]}})

# ---- 05: capability statement, reads, searches ----
cap = {
    "resourceType": "CapabilityStatement", "id": "assure-minimal-provider",
    "name": "AssureMinimalProvider", "status": "active", "date": "2026-12-07", "kind": "instance",
    "software": {"name": "assure minimal provider"},
    "implementation": {"description": "assure minimal provider", "url": BASE},
    "fhirVersion": "4.0.1", "format": ["json"],
    "rest": [{"mode": "server",
        "resource": [{"type": "Patient",
            "interaction": [{"code": c} for c in ["read", "update", "delete", "search-type", "create"]],
            "versioning": "no-version", "readHistory": False, "updateCreate": False,
            "conditionalCreate": False, "conditionalUpdate": False, "conditionalDelete": "not-supported",
            "searchParam": [
                {"name": "_id", "type": "token"},
                {"name": "identifier", "type": "token"},
                {"name": "family", "type": "string"}]}],
        "searchParam": [{"name": "_count", "type": "number"}]}]}
write_file("capability-statement.json", cap)
mapping("05-metadata", {"name": "capability statement", "priority": 5,
    "request": {"method": "GET", "urlPath": "/metadata"},
    "response": {"status": 200, "headers": fhir(), "bodyFileName": "capability-statement.json",
                 "transformers": ["response-template"]}})
for nhs in ALL:
    write_file(f"patient-{nhs}.json", P[nhs])
    mapping(f"05-read-{nhs}", {"name": f"read Patient/{nhs}", "priority": 5,
        "request": {"method": "GET", "urlPath": f"/Patient/{nhs}"},
        "response": {"status": 200, "headers": fhir(**{"Last-Modified": rfc1123(P[nhs]["meta"]["lastUpdated"])}),
                     "bodyFileName": f"patient-{nhs}.json"}})
SEARCHES = {
    "_id": lambda nhs: nhs,
    "identifier": lambda nhs: f"(?:https://fhir\\.nhs\\.uk/Id/nhs-number\\|)?{nhs}",
    "family": lambda nhs: f"(?i){FAMILY_PREFIX[nhs]}",
}
for param, pattern in SEARCHES.items():
    for nhs in ALL:
        search(f"05-search-{param}-{nhs}", f"search by {param} finds {nhs}", 5,
               {param: {"matches": pattern(nhs)}}, f"search-{param}-{nhs}.json",
               searchset(f"{BASE}/Patient?{param}={{{{urlEncode request.query.{param}}}}}", [nhs]))
    search(f"06-search-{param}-none", f"search by {param} finds nothing", 6,
           {param: {"matches": ".*"}}, f"search-{param}-none.json",
           searchset(f"{BASE}/Patient?{param}={{{{urlEncode request.query.{param}}}}}", []))

# ---- 07: paging over all patients ----
for count in (1, 2):
    pages = (len(ALL) + count - 1) // count
    for page in range(1, pages + 1):
        links = []
        if page < pages:
            links.append(("next", f"{BASE}/Patient?_count={count}&_page={page + 1}"))
        self_url = f"{BASE}/Patient?_count={count}" + (f"&_page={page}" if page > 1 else "")
        body = searchset(self_url, ALL[(page - 1) * count: page * count], links)
        queries = [{"_count": {"equalTo": str(count)}, "_page": {"equalTo": str(page)}}]
        if page == 1:
            queries.append({"_count": {"equalTo": str(count)}, "_page": {"absent": True}})
        for i, q in enumerate(queries):
            search(f"07-page-{count}-{page}{'-default' if i else ''}", f"_count={count} page {page}", 7, q,
                   f"page-{count}-{page}.json", body)
search("08-page-all", "_count of 3 or more: one page", 8,
       {"_count": {"matches": "[3-9]|[1-9][0-9]+"}, "_page": {"absent": True}},
       "page-all.json", searchset(f"{BASE}/Patient?_count={{{{urlEncode request.query._count}}}}", ALL))
search("08-page-count-zero", "_count=0: no entries", 8, {"_count": {"equalTo": "0"}},
       "page-count-zero.json", searchset(f"{BASE}/Patient?_count=0", []))
search("08-search-all", "search without criteria: every patient", 8,
       {"_count": {"absent": True}, "_page": {"absent": True}},
       "search-all.json", searchset(f"{BASE}/Patient", ALL))
search("09-page-beyond", "any other page: empty", 9, {}, "page-beyond.json", searchset(f"{BASE}/Patient", []))

# ---- 09: what is left ----
with_outcome("09-read-unknown", "404 for a Patient not on file (or deleted)", 9,
             {"method": "GET", "urlPathPattern": "/Patient/[^/]+"}, 404, "not-found", "Resource {{request.path}} is not known")
with_outcome("09-create-not-a-patient", "400 for a create whose body is not a Patient in JSON", 9,
             {"method": "POST", "urlPath": "/Patient"}, 400, "invalid", "The body must be a Patient resource in JSON")
bare("09-delete-test-patient", "405 for a delete of a test patient", 9,
     {"method": "DELETE", "urlPathPattern": "/Patient/(?:" + "|".join(ALL) + ")"}, 405, {"Allow": "GET"})
bare("10-delete-any", "delete of anything else: done, or nothing to do", 10,
     {"method": "DELETE", "urlPathPattern": "/Patient/[^/]+"}, 204)
bare("11-method-not-allowed", "405 for anything else on Patient or /metadata", 11,
     {"method": "ANY", "urlPathPattern": "/(?:Patient(?:/.*)?|metadata)"}, 405)
bare("12-not-found", "404 for any other path", 12, {"method": "ANY", "urlPattern": ".*"}, 404)
print(f"{n[0]} mappings written to {OUT}")
