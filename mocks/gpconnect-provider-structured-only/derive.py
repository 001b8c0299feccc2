#!/usr/bin/env python3
"""Write this overlay's two CapabilityStatement bodies (JSON and XML) from
../gpconnect-provider: the same statement, declaring the gpc.getstructuredrecord operation and
nothing else (no resource interactions, no gpc.registerpatient, no Appointment Management
profiles), as capability-statement-structured.{json,xml}. The rest of the set is mock.toml
(extends) and mappings/ (written by hand).
Run it after regenerating ../gpconnect-provider; edit this script, not the JSON.
"""

import json
import pathlib
import xml.etree.ElementTree as ET

HERE = pathlib.Path(__file__).resolve().parent
BASE = HERE.parent / "gpconnect-provider"
OPERATION = "gpc.getstructuredrecord"
DESCRIPTION = "This server implements GP Connect 1.6.2 Access Record Structured only"
# Profiles only Appointment Management uses.
DROP_PROFILES = ("GPConnect-Appointment-1", "GPConnect-Schedule-1", "GPConnect-Slot-1")
FHIR = "http://hl7.org/fhir"


def trim_json(cs):
    cs["description"] = DESCRIPTION
    cs["profile"] = [p for p in cs.get("profile", []) if not p["reference"].endswith(DROP_PROFILES)]
    for rest in cs["rest"]:
        rest.pop("resource", None)
        rest["operation"] = [op for op in rest.get("operation", []) if op["name"] == OPERATION]
    return cs


def trim_xml(text):
    ET.register_namespace("", FHIR)
    root = ET.fromstring(text)
    ns = {"f": FHIR}
    for desc in root.findall("f:description", ns):
        desc.set("value", DESCRIPTION)
    for prof in root.findall("f:profile", ns):
        ref = prof.find("f:reference", ns)
        if ref is not None and ref.get("value", "").endswith(DROP_PROFILES):
            root.remove(prof)
    for rest in root.findall("f:rest", ns):
        for res in rest.findall("f:resource", ns):
            rest.remove(res)
        for op in rest.findall("f:operation", ns):
            if op.find("f:name", ns).get("value") != OPERATION:
                rest.remove(op)
    return ET.tostring(root, encoding="unicode") + "\n"


def main():
    out = HERE / "__files"
    out.mkdir(exist_ok=True)
    cs = json.loads((BASE / "__files" / "capability-statement.json").read_text())
    (out / "capability-statement-structured.json").write_text(json.dumps(trim_json(cs), indent=2) + "\n")
    xml = (BASE / "__files" / "capability-statement.xml").read_text()
    (out / "capability-statement-structured.xml").write_text(trim_xml(xml))


if __name__ == "__main__":
    main()
