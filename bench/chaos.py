#!/usr/bin/env python3
"""The chaos table: `assure run` (the default suite) against a supplier that answers
every request with one fault (bench/hostile.py). For each fault: the exit code (1 or 3
expected), whether every report file was written and parses, whether the folder
verifies against its manifest, peak RSS (under 400 MB expected), report size, wall time
and the first finding's words.

    python3 bench/chaos.py [--bin target/debug/assure] [--timeout 5] [--only reset,hang]
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile
import xml.dom.minidom

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import hostile  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
MB = 1 << 20
FILES = ["report.json", "report.html", "junit.xml", "summary.md", "messages.ndjson", "manifest.json"]


def whole(folder):
    """Every report file present and parseable; '' or what is wrong."""
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing:
        return "missing " + ", ".join(missing)
    try:
        json.loads((folder / "report.json").read_text())
        json.loads((folder / "manifest.json").read_text())
        for line in (folder / "messages.ndjson").read_text().splitlines():
            json.loads(line)
        xml.dom.minidom.parse(str(folder / "junit.xml"))
    except Exception as e:  # noqa: BLE001 - any parse failure is the finding
        return f"does not parse: {e}"
    if not (folder / "report.html").read_text().rstrip().endswith("</html>"):
        return "report.html is cut short"
    return ""


def first_finding(report):
    for e in report.get("exchanges", []):
        if e.get("error"):
            return e["error"]
    for s in report["suites"]:
        for f in s["features"]:
            for sc in f["scenarios"]:
                for st in sc["steps"]:
                    fl = st.get("failure")
                    if fl:
                        return " ".join(x for x in [fl["message"], fl.get("actual") or ""] if x)
    return ""


def run(bin_, fault, timeout):
    server, url = hostile.start(fault)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["/usr/bin/time", "-v", bin_, "run", "--target", url, "--report-dir", tmp,
               "--timeout", str(timeout), "--format", "html,json,junit,md,messages"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tmp)
        server.shutdown()
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1)) / 1024
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", out.stderr).group(1)
        folders = [p for p in pathlib.Path(tmp).iterdir() if p.is_dir()]
        if not folders:
            return [fault, out.returncode, "no report", "-", f"{rss:.0f}", "-", wall, ""]
        folder = folders[0]
        problem = whole(folder)
        verify = subprocess.run([bin_, "report", "verify", str(folder)], capture_output=True,
                                text=True, check=False)
        report = json.loads((folder / "report.json").read_text()) if not problem else {}
        words = first_finding(report) if report else ""
        words = re.sub(r"http://127\.0\.0\.1:\d+", "", words)[:90].replace("|", "\\|")
        size = (folder / "report.json").stat().st_size / MB
        return [fault, out.returncode, problem or "yes", verify.returncode, f"{rss:.0f}",
                f"{size:.2f}", wall, words]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/debug/assure"))
    ap.add_argument("--timeout", type=int, default=5)
    ap.add_argument("--only")
    a = ap.parse_args()
    bin_ = str(pathlib.Path(a.bin).resolve())
    faults = a.only.split(",") if a.only else hostile.FAULTS
    print("| fault | exit | report whole | verify exit | peak RSS MB | report.json MB | wall | first finding |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |")
    for fault in faults:
        row = run(bin_, fault, a.timeout)
        print("| " + " | ".join(str(c) for c in row) + " |", flush=True)


if __name__ == "__main__":
    main()
