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

def empty_patient(m):
    m["request"] = {"method": "GET", "urlPathPattern": "/Patient/[^/]+"}
    r = m["response"]; r["status"] = 200; r.pop("jsonBody", None); r.pop("transformers", None)
    r["jsonBody"] = {"resourceType": "Patient"}
defect("unknown-returns-200", "unknown-returns-200",
       "Reading a Patient id that is not on file answers 200 with an empty Patient instead of 404",
       ["R4-READ-4", "UKC-BASE-2"], "09-read-unknown", 8, empty_patient)

bundle = ref_file("search-identifier-9000000017.json"); bundle["type"] = "collection"
write_file("search-identifier-9000000017-collection.json", bundle)
def collection(m): m["response"]["bodyFileName"] = "search-identifier-9000000017-collection.json"
defect("wrong-bundle-type", "wrong-bundle-type",
       "Searching by identifier for 9000000017 answers a Bundle of type collection instead of searchset",
       ["R4-SEARCH-1"], "05-search-identifier-9000000017", 4, collection)

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
       ["R4-CREATE-1"], "05-create", 4, no_location)

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

with open(f"{OUT}/mock.toml", "w") as f:
    f.write('description = "The reference provider with seeded defects: each breaks one request and one requirement"\n'
            'extends = "reference-provider"\n')
rows = "\n".join(f"| `{d}` | {desc} | {', '.join('`'+r+'`' for r in reqs)} | `{base}` |" for d, desc, reqs, base in DEFECTS)
with open(f"{OUT}/README.md", "w") as f:
    f.write(f"""# broken-provider

The reference provider (`mocks/reference-provider/`) with seeded defects, used to prove
that the `fhir-r4-rest` suite fails when a supplier is wrong, and says which requirement
failed (and `uk-core-r4` for the profile defect). `mock.toml` extends `reference-provider`; each file in `mappings/` overrides one
reference mapping (named in its `metadata.overrides`) for exactly the request the defect
names, so each defect fails only its own requirement. Everything else is answered by the
reference provider. This README and the mappings are written by `generate.py`.

Every defect mapping carries machine-readable metadata:

```json
"metadata": {{"defect": "<id>", "description": "...", "requirements": ["<requirement id>"], "overrides": "<reference mapping>"}}
```

| Defect | What is wrong | Requirements | Overrides |
|---|---|---|---|
{rows}

Priorities: overrides sit at priority 4, above the reference's specific mappings (5) and
below its content negotiation and request validation (1-3), so a request the reference
would reject (406, 415...) is still rejected. `unknown-returns-200` sits at 8, below every
known Patient (5) and just above the reference's 404 (9). Two overrides replace a mapping of the same
priority instead (`strict-ignored` at 2, the "no match" family search at 6): on a tie the
mapping loaded later, the overlay's, wins.

`missing-self-link` overrides every family search (the three matches and "none"), since
the defect is "family search answers no self link". `wrong-bundle-type` changes only
`Bundle.type`; `total` and `entry.search` are kept, so the Bundle also breaks the
invariants bdl-1/bdl-2 that tie those elements to searchset/history bundles.
""")
print(f"{len(DEFECTS)} defects written to {OUT}")
