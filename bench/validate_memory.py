#!/usr/bin/env python3
"""Peak memory and time of `assure validate` on big inputs, generated into a temp dir:
a Bundle of 1,000,000 entries, a 500 MB Bundle, and a 1 GB NDJSON file (NDJSON is
read a line at a time, so its memory should not follow its size). Peak RSS comes
from `/usr/bin/time -v`; "baseline" is one small Patient (the packages alone).

    python3 bench/validate_memory.py [--bin target/release/assure] [--shared ../shared]
        [--only bundle-1m,json-500mb,ndjson-1gb]
"""
import argparse
import json
import pathlib
import re
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
MB = 1 << 20


def patient(i, narrative_bytes=0):
    p = {"resourceType": "Patient", "id": f"p{i}", "active": True,
         "name": [{"family": "Smith", "given": ["Jo"]}], "gender": "female",
         "birthDate": "1970-01-01"}
    if narrative_bytes:
        words = ("lorem ipsum dolor sit amet " * (narrative_bytes // 27 + 1))[:narrative_bytes]
        p["text"] = {"status": "generated",
                     "div": f"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{words}</p></div>"}
    return p


def write_bundle(path, entries, narrative_bytes=0):
    """One entry per line, so the file has lines as well as length."""
    with open(path, "w") as f:
        f.write('{"resourceType":"Bundle","type":"collection","entry":[\n')
        for i in range(entries):
            entry = {"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{i:012d}",
                     "resource": patient(i, narrative_bytes)}
            f.write((",\n" if i else "") + json.dumps(entry, separators=(",", ":")))
        f.write("\n]}\n")


def write_ndjson(path, target_bytes, narrative_bytes):
    i = 0
    size = 0
    with open(path, "w") as f:
        while size < target_bytes:
            line = json.dumps(patient(i, narrative_bytes), separators=(",", ":")) + "\n"
            f.write(line)
            size += len(line)
            i += 1
    return i


def measure(bin_, core, path):
    cmd = ["/usr/bin/time", "-v", bin_, "validate", str(path), "--package", str(core)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", out.stderr).group(1)
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    summary = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr[-300:]
    return out.returncode, rss_kb * 1024, secs, summary


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/release/assure"))
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--only", default="bundle-1m,json-500mb,ndjson-1gb")
    args = ap.parse_args()
    core = pathlib.Path(args.shared) / "fhir-packages/hl7.fhir.r4.core-4.0.1.tgz"
    only = set(args.only.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        small = tmp / "patient.json"
        small.write_text(json.dumps(patient(0)))
        code, base_rss, secs, summary = measure(args.bin, core, small)
        print(f"| baseline: one Patient | {small.stat().st_size} B | {secs:.2f} | "
              f"{base_rss / MB:.0f} | - | {summary} |")
        cases = []
        if "bundle-1m" in only:
            cases.append(("Bundle, 1,000,000 entries", "bundle-1m.json",
                          lambda p: write_bundle(p, 1_000_000)))
        if "json-500mb" in only:
            cases.append(("Bundle, 500 MB", "json-500mb.json",
                          lambda p: write_bundle(p, 940_000, narrative_bytes=250)))
        if "ndjson-1gb" in only:
            cases.append(("NDJSON, 1 GB", "ndjson-1gb.ndjson",
                          lambda p: write_ndjson(p, 1 << 30, narrative_bytes=4000)))
        print("| input | size | wall s | peak RSS MB | (RSS - baseline) / size | summary |")
        print("| --- | ---: | ---: | ---: | ---: | --- |")
        for label, name, make in cases:
            path = tmp / name
            make(path)
            size = path.stat().st_size
            code, rss, secs, summary = measure(args.bin, core, path)
            print(f"| {label} | {size / MB:.0f} MB | {secs:.1f} | {rss / MB:.0f} | "
                  f"{(rss - base_rss) / size:.2f} | exit {code}: {summary} |", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
