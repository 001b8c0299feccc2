#!/usr/bin/env python3
"""FHIRPath throughput beside fhirpath.js (the HL7 reference implementation): every
invariant of the R4 core resource definitions, evaluated on every R4 example of its
type. Both engines parse each expression once and are timed on evaluation only; CPU
seconds are the figure to compare on a shared machine.

    python3 bench/fhirpath_vs_js.py [--shared ../shared]
"""
import argparse
import json
import pathlib
import subprocess
import tarfile
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = ap.parse_args()
    shared = pathlib.Path(args.shared)
    core = shared / "fhir-packages/hl7.fhir.r4.core-4.0.1.tgz"
    examples = shared / "fhir-packages/hl7.fhir.r4.examples-4.0.1.tgz"
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "assure-fhir", "--example", "fhirpath_invariants"],
                   cwd=ROOT, check=True)
    js = ROOT / "bench/fhirpath-js"
    if not (js / "node_modules/fhirpath").is_dir():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=js, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        with tarfile.open(examples) as t:
            t.extractall(tmp, filter="data")
        workload = tmp / "workload.json"
        rust = json.loads(subprocess.run(
            [str(ROOT / "target/release/examples/fhirpath_invariants"), str(core), str(tmp / "package"), str(workload)],
            check=True, capture_output=True, text=True).stdout)
        node = json.loads(subprocess.run(
            ["node", str(js / "invariants.js"), str(workload), str(tmp / "package")],
            check=True, capture_output=True, text=True).stdout)
    print(f"{'engine':<22} {'resources':>9} {'invariant×resource':>19} {'CPU s':>8} {'pairs/CPU s':>12} {'wall s':>8} {'errors':>7}")
    for r in (rust, node):
        print(f"{r['engine']:<22} {r['resources']:>9} {r['pairs']:>19} {r['cpu_seconds']:>8.1f} "
              f"{r['pairs'] / r['cpu_seconds']:>12.0f} {r['seconds']:>8.1f} {r['errors']:>7}")
    if "evaluations" in rust:
        print(f"assure evaluated {rust['evaluations']} element-level invariant instances "
              f"({rust['evaluations'] / rust['cpu_seconds']:.0f} per CPU second)")


if __name__ == "__main__":
    main()
