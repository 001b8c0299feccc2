#!/usr/bin/env python3
"""Start-up of `assure` from a warm FHIR package cache: `assure validate` on one
Patient (R4 core), and `assure run --suite gp-connect-provider` (STU3 core, the
CareConnect and GP Connect folders), each run several times after a first run that
makes the package indexes. Prints wall time, CPU time and peak RSS (`/usr/bin/time`),
and with `--instructions` the instructions of one run (valgrind callgrind, every
thread; slow). `--before BIN` measures another build the same way, beside it.

The cache is `$FHIR_PACKAGE_CACHE` (it must hold hl7.fhir.r4.core#4.0.1, and for the
run the packages gp-connect-provider names: see .ci/run for how CI seeds it).

    python3 bench/startup.py [--bin target/release/assure] [--before OLD_BIN]
        [--repeat 7] [--instructions] [--only validate,gpconnect]
"""
import argparse
import os
import pathlib
import re
import statistics
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
PATIENT = ('{"resourceType":"Patient","id":"p1","active":true,"name":[{"family":"Smith",'
           '"given":["Jo"]}],"gender":"female","birthDate":"1970-01-01"}\n')


def timed(cmd, cwd):
    out = subprocess.run(["/usr/bin/time", "-f", "TIME %e %U %S %M"] + cmd, cwd=cwd,
                         capture_output=True, text=True, check=False)
    m = re.search(r"TIME (\S+) (\S+) (\S+) (\d+)", out.stderr)
    wall, user, sys_, rss = float(m[1]), float(m[2]), float(m[3]), int(m[4])
    return wall, user + sys_, rss // 1024, out.returncode


def instructions(cmd, cwd):
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(["valgrind", "--tool=callgrind",
                              f"--callgrind-out-file={tmp}/cg.out"] + cmd,
                             cwd=cwd, capture_output=True, text=True, check=False)
    m = re.search(r"Collected : (\d+)", out.stderr)
    return int(m[1]) if m else None


def measure(name, cmd, cwd, repeat, with_instructions):
    first = timed(cmd, cwd)
    runs = [timed(cmd, cwd) for _ in range(repeat)]
    walls = sorted(r[0] for r in runs)
    cpus = sorted(r[1] for r in runs)
    row = {
        "name": name,
        "first wall s": f"{first[0]:.2f}",
        "wall s min/median": f"{walls[0]:.3f} / {statistics.median(walls):.3f}",
        "cpu s min/median": f"{cpus[0]:.3f} / {statistics.median(cpus):.3f}",
        "peak RSS MB": str(max(r[2] for r in runs)),
        "exit": str(runs[-1][3]),
    }
    if with_instructions:
        n = instructions(cmd, cwd)
        row["instructions"] = f"{n:,}" if n else "?"
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/release/assure"))
    ap.add_argument("--before")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--instructions", action="store_true")
    ap.add_argument("--only", default="validate,gpconnect")
    args = ap.parse_args()
    if not os.environ.get("FHIR_PACKAGE_CACHE"):
        ap.error("set FHIR_PACKAGE_CACHE to a warm package cache")
    only = set(args.only.split(","))
    bins = ([("before", args.before)] if args.before else []) + [("after", args.bin)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        patient = pathlib.Path(tmp) / "patient.json"
        patient.write_text(PATIENT)
        for label, bin_ in bins:
            if "validate" in only:
                cmd = [bin_, "validate", str(patient), "--package", "hl7.fhir.r4.core#4.0.1"]
                rows.append(measure(f"{label}: validate one Patient", cmd, tmp,
                                    args.repeat, args.instructions))
            if "gpconnect" in only:
                # A generous exchange limit: under callgrind everything is slower.
                cmd = [bin_, "run", "--suite", "gp-connect-provider", "--timeout", "600",
                       "--report-dir", str(pathlib.Path(tmp) / "reports")]
                rows.append(measure(f"{label}: run gp-connect-provider", cmd, ROOT,
                                    max(1, args.repeat // 3), args.instructions))
    keys = list(rows[0].keys())
    print("| " + " | ".join(keys) + " |")
    print("|" + " --- |" * len(keys))
    for r in rows:
        print("| " + " | ".join(r.get(k, "") for k in keys) + " |")


if __name__ == "__main__":
    main()
