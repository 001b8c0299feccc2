#!/usr/bin/env python3
"""Regenerates mappings/, __files/, mock.toml and README.md of this stub set from the
reference provider's mappings: each defect is a reference mapping, copied and broken.
Run it after `python3 ../reference-provider/generate.py`, then
`cargo test --test counterpart`.
"""
import json, os, shutil, copy
OUT = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(os.path.dirname(OUT), "reference-provider")
for sub in ("mappings", "__files"):
    shutil.rmtree(os.path.join(OUT, sub), ignore_errors=True)
    os.makedirs(os.path.join(OUT, sub))
def ref_mapping(name):
    return json.load(open(f"{REF}/mappings/{name}.json"))
def ref_file(name):
    return json.load(open(f"{REF}/__files/{name}"))
def write_file(name, obj):
    with open(f"{OUT}/__files/{name}", "w") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False); f.write("\n")
DEFECTS = []
def defect(fname, defect_id, description, requirements, base, priority, change, name=None):
    m = copy.deepcopy(ref_mapping(base))
    m["name"] = name or f"defect {defect_id}"
    m["priority"] = priority
    change(m)
    m = {"name": m.pop("name"), "priority": m.pop("priority"),
         "metadata": {"defect": defect_id, "description": description, "requirements": requirements,
                      "overrides": base}, **m}
    with open(f"{OUT}/mappings/{fname}.json", "w") as f:
        json.dump(m, f, indent=2, ensure_ascii=False); f.write("\n")
    if (defect_id, description, requirements) not in [(d[0], d[1], d[2]) for d in DEFECTS]:
        DEFECTS.append((defect_id, description, requirements, base))

def ct(value):
    def f(m): m["response"]["headers"]["Content-Type"] = value
    return f
defect("wrong-content-type", "wrong-content-type",
       "Reading Patient/9000000017 answers Content-Type application/json instead of application/fhir+json",
       ["R4-HTTP-1"], "05-read-9000000017", 4, ct("application/json"))

def no_etag(m): del m["response"]["headers"]["ETag"]
defect("missing-etag", "missing-etag", "Reading Patient/9000000025 answers without an ETag header",
       ["R4-READ-2"], "05-read-9000000025", 4, no_etag)

def gone(m):
    m["request"] = {"method": "GET", "urlPathPattern": "/Patient/[^/]+"}
    m["response"]["status"] = 410
    m["response"]["jsonBody"]["issue"][0]["code"] = "deleted"
defect("unknown-returns-410", "unknown-returns-410",
       "Reading a Patient id that was never on file answers 410 Gone (the answer for a deleted resource) instead of 404",
       ["R4-READ-4", "UKC-BASE-2"], "09-read-unknown", 8, gone)

for suffix, priority in [("9000000009", 4), ("9000000017", 4), ("9000000025", 4), ("none", 6)]:
    b = ref_file(f"search-family-{suffix}.json"); del b["link"]
    write_file(f"search-family-{suffix}-no-self.json", b)
    def no_self(m, suffix=suffix): m["response"]["bodyFileName"] = f"search-family-{suffix}-no-self.json"
    base = f"05-search-family-{suffix}" if suffix != "none" else "06-search-family-none"
    defect(f"missing-self-link-{suffix}", "missing-self-link",
           "Searching by family name answers a searchset Bundle without a self link",
           ["R4-SEARCH-2"], base, priority, no_self, name=f"defect missing-self-link ({suffix})")

def lenient(m):
    ref = ref_mapping("09-search-all")
    m["response"] = ref["response"]
defect("strict-ignored", "strict-ignored",
       "An unknown search parameter with Prefer: handling=strict is ignored (200) instead of rejected with 400",
       ["R4-SEARCH-7"], "02-search-unknown-parameter-strict", 2, lenient)

def no_location(m): del m["response"]["headers"]["Location"]
defect("create-no-location", "create-no-location",
       "Creating a Patient answers 201 without a Location header",
       ["R4-CREATE-1"], "05-create", 5, no_location)

cap = ref_file("capability-statement.json"); cap["fhirVersion"] = "3.0.1"
write_file("capability-statement-stu3.json", cap)
def stu3(m): m["response"]["bodyFileName"] = "capability-statement-stu3.json"
defect("wrong-fhir-version", "wrong-fhir-version",
       "The CapabilityStatement declares fhirVersion 3.0.1 instead of 4.0.1",
       ["R4-CAP-2"], "05-metadata", 4, stu3)

bad = ref_file("search-identifier-9000000009.json")
patient = bad["entry"][0]["resource"]
patient["gender"] = "unspecified"
patient["birthDate"] = "1962-02-30"
write_file("search-identifier-9000000009-nonconforming.json", bad)
def nonconforming(m): m["response"]["bodyFileName"] = "search-identifier-9000000009-nonconforming.json"
defect("nonconforming-patient", "nonconforming-patient",
       "Searching by identifier for 9000000009 answers a Patient whose gender is not in the required value set and whose birthDate is not a date",
       ["UKC-PAT-3"], "05-search-identifier-9000000009", 4, nonconforming)

# ---- defects in what the create, update and delete scenarios come back to ----
def server_error(m):
    m["request"] = {"method": "POST", "urlPath": "/Patient",
                    "bodyPatterns": [{"doesNotMatch": "(?s).*\\}\\s*"}]}
    m["response"]["status"] = 500
    m["response"]["jsonBody"]["issue"][0].update(
        {"severity": "fatal", "code": "exception", "diagnostics": "Unexpected end of JSON input"})
defect("malformed-json-500", "malformed-json-500",
       "A create whose body is not well-formed JSON (it breaks off before its closing brace) answers 500 instead of 400",
       ["R4-CREATE-7"], "06-create-not-a-patient", 4, server_error)

def bare_400(m):
    m["request"]["bodyPatterns"] = [{"matchesJsonPath": {"expression": "$.resourceType", "doesNotMatch": "Patient"}}]
    r = m["response"]
    for k in ("jsonBody", "transformers", "headers"):
        r.pop(k, None)
defect("error-without-outcome", "error-without-outcome",
       "A create whose body is another resource type is refused with 400 and no body (no OperationOutcome)",
       ["R4-ERR-1"], "06-create-not-a-patient", 4, bare_400)

def keep_unknown(m):
    ref = ref_mapping("04-flow-read-back-create")
    m["request"] = {"method": "POST", "urlPath": "/Patient",
                    "bodyPatterns": [{"matchesJsonPath": "$.assureUnknownElement"}]}
    m["scenarioName"] = "kept unknown-element"
    m["newScenarioState"] = "created"
    m["response"] = copy.deepcopy(ref["response"])
    m["response"]["headers"]["Location"] = "{{request.baseUrl}}/Patient/unknown-element/_history/1"
    m["response"]["bodyFileName"] = "flow-unknown-element-kept.json"
kept = ref_file("flow-read-back-v1.json")
kept.update({"id": "unknown-element", "assureUnknownElement": "not an element of FHIR R4 Patient"})
kept["name"][0]["given"] = ["UnknownElement"]
write_file("flow-unknown-element-kept.json", kept)
KEPT = ("unknown-element-kept",
        "A create with an element Patient does not define is accepted and the element kept: the Patient read back has it",
        ["R4-CREATE-8"])
defect("unknown-element-kept-create", *KEPT, "02-create-unknown-element", 2, keep_unknown)
def read_kept(m):
    m["request"]["urlPath"] = "/Patient/unknown-element"
    m["scenarioName"] = "kept unknown-element"
    m["requiredScenarioState"] = "created"
    m["response"]["bodyFileName"] = "flow-unknown-element-kept.json"
defect("unknown-element-kept-read", *KEPT, "04-flow-read-back-read-v1", 4, read_kept)

same = ref_file("flow-update-version-v2.json"); same["meta"]["versionId"] = "1"
write_file("flow-update-version-v2-same-version.json", same)
def same_version(m):
    m["response"]["headers"]["ETag"] = 'W/"1"'
    m["response"]["bodyFileName"] = "flow-update-version-v2-same-version.json"
defect("update-keeps-version", "update-keeps-version",
       "An update of a versioned Patient is answered 200, but the Patient read afterwards keeps its old versionId (1)",
       ["R4-UPDATE-2"], "04-flow-update-version-read-v2", 4, same_version)

def still_there(m):
    ref = ref_mapping("04-flow-delete-me-read-v1")
    m["response"] = copy.deepcopy(ref["response"])
defect("deleted-still-readable", "deleted-still-readable",
       "A delete is answered 204, but the Patient can still be read (200) afterwards",
       ["R4-DELETE-1"], "04-flow-delete-me-read-deleted", 4, still_there)

with open(f"{OUT}/mock.toml", "w") as f:
    f.write('description = "The reference provider with seeded defects: each breaks one request and one requirement"\n'
            'extends = "reference-provider"\n')
rows = "\n".join(f"| `{d}` | {desc} | {', '.join('`'+r+'`' for r in reqs)} | `{base}` |" for d, desc, reqs, base in DEFECTS)
with open(f"{OUT}/README.md", "w") as f:
    f.write(f"""# broken-provider

The reference provider (`mocks/reference-provider/`) with seeded defects, used to prove
that the `fhir-r4-rest` suite fails when a supplier is wrong, and says which requirement
failed (and `uk-core-r4` for the profile and not-found defects). `mock.toml` extends
`reference-provider`; each file in `mappings/` overrides one reference mapping (named in
its `metadata.overrides`) for exactly the request the defect names, so each defect fails
only its own requirements. Everything else is answered by the reference provider. This
README and the mappings are written by `generate.py`.

Every defect mapping carries machine-readable metadata:

```json
"metadata": {{"defect": "<id>", "description": "...", "requirements": ["<requirement id>"], "overrides": "<reference mapping>"}}
```

| Defect | What is wrong | Requirements | Overrides |
|---|---|---|---|
{rows}

One run of `fhir-r4-rest` and `uk-core-r4` against this set fails exactly these
requirements; the MUST ones (`R4-CAP-2`, `R4-HTTP-1`, `R4-READ-4`, `R4-SEARCH-2`,
`R4-CREATE-1`, `R4-CREATE-7`, `R4-UPDATE-2`, `R4-DELETE-1`) fail the run (exit 1), the
SHOULD ones (`R4-READ-2`, `R4-SEARCH-7`, `R4-ERR-1`, `UKC-BASE-2`) and the MAY ones
(`R4-CREATE-8`, `UKC-PAT-3`) are reported without failing it.

Defects are seeded only where no other defect's requirement depends on theirs
(`depends_on` in suite.toml): a failure under a requirement whose dependency failed is
reported "not run", so such a pair would show one defect, not two. That is why there is
no defect in `R4-SEARCH-1` (every search requirement depends on it) or `R4-CREATE-5`
(the update, delete and unknown-element requirements read back what they created), and
why `create-no-location` breaks only the plain create, not the creates the read-back,
update and delete scenarios come back to.

Priorities: overrides sit at priority 4, above the reference's specific mappings (5) and
below its content negotiation and request validation (1-3), so a request the reference
would reject (406, 415...) is still rejected; the overrides of the reference's own
priority-4 mappings (the resources the suite creates and comes back to) win the tie, as
the mapping loaded later. `create-no-location` sits at 5, the reference's own create's
priority, so that it wins that tie but not the creates of the resources the suite comes
back to (4). `unknown-returns-410` sits at 8, below every known Patient (5)
and just above the reference's 404 (9). Two overrides replace a mapping of priority 2
(`strict-ignored`, `unknown-element-kept`) and one of 6 (the "no match" family search):
on a tie the overlay wins.

`missing-self-link` overrides every family search (the three matches and "none"), since
the defect is "family search answers no self link". `malformed-json-500` tells a body
that is not JSON by its end (no closing brace), the way the suite's malformed body
breaks off. `unknown-element-kept` and `update-keeps-version` and
`deleted-still-readable` act on the resources the suite creates, with the reference's
scenario states.
""")
print(f"{len(DEFECTS)} defects written to {OUT}")
