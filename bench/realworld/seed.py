#!/usr/bin/env python3
"""Seed a FHIR R4 server with the three test Patients the fhir-r4-rest and uk-core-r4 suites use.

The bodies are the reference provider's (mocks/reference-provider/__files). Each Patient is
written with PUT at its own id (update-as-create, so the suite defaults apply); 9000000009 gets
two versions. A server that refuses client-assigned ids gets a POST instead, and the ids it chose
are printed as --input arguments. Writes those arguments to --inputs-file (one per line).
"""

import argparse
import json
import pathlib
import sys

from fhirhttp import send

REPO = pathlib.Path(__file__).resolve().parents[2]
FILES = REPO / "mocks" / "reference-provider" / "__files"
# (input name of the id, input name of the NHS number, bodies in version order)
PATIENTS = [
    ("patient_id", "patient_nhs_number", ["patient-9000000009-v1.json", "patient-9000000009-v2.json"]),
    ("second_patient_id", "second_patient_nhs_number", ["patient-9000000017-v1.json"]),
    ("third_patient_id", None, ["patient-9000000025-v1.json"]),
]


def body_of(name):
    body = json.loads((FILES / name).read_text())
    meta = body.get("meta", {})
    meta.pop("versionId", None)
    meta.pop("lastUpdated", None)
    return body


def created_id(status, headers, raw):
    try:
        return json.loads(raw)["id"]
    except (ValueError, KeyError, TypeError):
        loc = headers.get("location", "")
        parts = loc.split("/_history")[0].rstrip("/").split("/")
        return parts[-1] if loc else None


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("base", help="FHIR base URL")
    ap.add_argument("--inputs-file", help="write the --input arguments here")
    ap.add_argument("--post", action="store_true", help="always POST (server-assigned ids)")
    args = ap.parse_args()
    base = args.base.rstrip("/")
    inputs = []
    for id_input, nhs_input, files in PATIENTS:
        the_id = None
        for name in files:
            body = body_of(name)
            nhs = body["identifier"][0]["value"]
            if the_id is None and not args.post:
                status, headers, raw = send("PUT", f"{base}/Patient/{body['id']}", body)
                if status in (200, 201):
                    the_id = body["id"]
                    print(f"PUT Patient/{the_id} ({name}): {status}")
                    continue
                print(f"PUT Patient/{body['id']} refused ({status}: {raw[:200]!r}); using POST")
            if the_id is None:
                body.pop("id", None)
                status, headers, raw = send("POST", f"{base}/Patient", body)
                if status not in (200, 201):
                    sys.exit(f"POST Patient ({name}) failed: {status} {raw[:300]!r}")
                the_id = created_id(status, headers, raw)
                print(f"POST Patient ({name}): {status}, id {the_id}")
            else:
                body["id"] = the_id
                status, headers, raw = send("PUT", f"{base}/Patient/{the_id}", body)
                if status not in (200, 201):
                    sys.exit(f"PUT Patient/{the_id} ({name}) failed: {status} {raw[:300]!r}")
                print(f"PUT Patient/{the_id} ({name}): {status}")
        if the_id != body_of(files[0])["id"]:
            inputs.append(f"{id_input}={the_id}")
        if nhs_input and nhs != body_of(files[0])["identifier"][0]["value"]:
            inputs.append(f"{nhs_input}={nhs}")
    if args.inputs_file:
        pathlib.Path(args.inputs_file).write_text("".join(i + "\n" for i in inputs))
    print("inputs:", " ".join(f"--input {i}" for i in inputs) or "(suite defaults)")


if __name__ == "__main__":
    main()
