#!/usr/bin/env python3
"""`assure validate` on the peer-benchmark corpus: the R4 example resources that are
not conformance resources and not over 1 MB (as ../shared/bench/medplum/README.md
defines it), plus the cold-start time of validating one Patient.

    python3 bench/validate_throughput.py [--bin target/release/assure] [--shared ../shared]
"""
import argparse
import json
import pathlib
import subprocess
import tarfile
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONFORMANCE = {"StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter", "CapabilityStatement",
               "OperationDefinition", "CompartmentDefinition", "ImplementationGuide", "ConceptMap",
               "NamingSystem", "StructureMap", "GraphDefinition", "MessageDefinition",
               "TerminologyCapabilities"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/release/assure"))
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = ap.parse_args()
    shared = pathlib.Path(args.shared)
    core = shared / "fhir-packages/hl7.fhir.r4.core-4.0.1.tgz"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
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
        files = len(list(corpus.iterdir()))
        parse_start = time.perf_counter()
        for f in corpus.iterdir():
            json.loads(f.read_bytes())
        parse_s = time.perf_counter() - parse_start
        cold = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run([args.bin, "validate", str(patient), "--package", str(core), "--format", "json"],
                           capture_output=True, check=False)
            cold.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        out = subprocess.run([args.bin, "validate", str(corpus), "--package", str(core), "--format", "json"],
                             capture_output=True, text=True, check=False)
        total = time.perf_counter() - t0
        report = json.loads(out.stdout)
        with_errors = sum(1 for f in report["files"]
                          if any(i.get("severity") in ("error", "fatal") for i in f["issues"]))
        print(f"{files} resources; Python json.loads of all: {parse_s:.2f} s")
        print(f"cold start (one Patient, R4 core from its .tgz), best of 5: {min(cold):.3f} s")
        print(f"whole corpus, one process, all cores: {total:.2f} s = {files / total:.0f} resources/s "
              f"(including the cold start); {with_errors} reported with errors")


if __name__ == "__main__":
    main()
