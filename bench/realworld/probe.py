#!/usr/bin/env python3
"""Probe a FHIR R4 server for behaviours the suites do not check yet (issue 14, point 8) and
print what it did: a created Patient read back at the id the server returned, an update
changing version and content, malformed JSON and an unknown element on create, and the ETag
and Last-Modified syntax. Usage: probe.py BASE. Prints one line per probe; changes the server
(creates two Patients)."""

import json
import re
import sys
import urllib.parse

from fhirhttp import send

HTTP_DATE = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")
ETAG = re.compile(r'^(W/)?"[^"]*"$')


def parsed(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return None


def outcome(status, headers, raw):
    body = parsed(raw)
    kind = body.get("resourceType") if isinstance(body, dict) else ("empty" if not raw else "not JSON")
    return f"{status} {headers.get('content-type', '-')} {kind}"


def main():
    base = sys.argv[1].rstrip("/")
    patient = {"resourceType": "Patient", "name": [{"family": "Probe", "given": ["Before"]}]}
    status, headers, raw = send("POST", f"{base}/Patient", patient)
    location = headers.get("location", "")
    etag = headers.get("etag", "-")
    print(f"create: {status}, Location {location or '-'}, ETag {etag} ({'valid' if ETAG.match(etag) else 'not an entity-tag'})")
    resolved = urllib.parse.urljoin(f"{base}/Patient", location) if location else ""
    match = re.search(r"/Patient/([^/]+)", resolved)
    the_id = match.group(1) if match else (parsed(raw) or {}).get("id")
    print(f"  Location resolves to {resolved or '-'}")
    status, headers, raw = send("GET", f"{base}/Patient/{the_id}")
    body = parsed(raw) or {}
    version = (body.get("meta") or {}).get("versionId")
    print(f"read back at the returned id: {status}, family {body.get('name', [{}])[0].get('family')}, versionId {version}")
    lm = headers.get("last-modified", "-")
    print(f"  Last-Modified {lm} ({'HTTP-date' if HTTP_DATE.match(lm) else 'not an HTTP-date'}), meta.lastUpdated {(body.get('meta') or {}).get('lastUpdated')}")
    body["name"] = [{"family": "Probe", "given": ["After"]}]
    status, headers, raw = send("PUT", f"{base}/Patient/{the_id}", body)
    print(f"update: {status}, ETag {headers.get('etag', '-')}")
    status, headers, raw = send("GET", f"{base}/Patient/{the_id}")
    after = parsed(raw) or {}
    new_version = (after.get("meta") or {}).get("versionId")
    print(f"  read after update: given {after.get('name', [{}])[0].get('given')}, versionId {version} -> {new_version}")
    print("malformed JSON on create:", outcome(*send("POST", f"{base}/Patient", raw=b'{"resourceType": "Patient",')))
    unknown = {"resourceType": "Patient", "notAnElement": True, "name": [{"family": "Probe"}]}
    status, headers, raw = send("POST", f"{base}/Patient", unknown)
    kept = ""
    if status in (200, 201):
        loc = headers.get("location", "")
        m = re.search(r"/Patient/([^/]+)", urllib.parse.urljoin(f"{base}/Patient", loc)) if loc else None
        rid = m.group(1) if m else (parsed(raw) or {}).get("id")
        _, _, back = send("GET", f"{base}/Patient/{rid}")
        kept = f", read back {'keeps' if 'notAnElement' in (parsed(back) or {}) else 'drops'} it"
    print("unknown element on create:", outcome(status, headers, raw) + kept)


if __name__ == "__main__":
    main()
