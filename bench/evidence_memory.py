#!/usr/bin/env python3
"""Peak memory and report size of `assure run` against a target that answers a
10 MiB FHIR JSON resource to every request (the default suite: 36 exchanges, each
body read whole for the checks, each kept only up to --evidence-body-limit).

    python3 bench/evidence_memory.py [--bin target/debug/assure] [--bin OTHER ...]
        [-- extra assure run arguments]

Peak RSS comes from `/usr/bin/time -v`. Prints one Markdown table row per binary.
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import hostile  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
MB = 1 << 20


def measure(bin_, url, extra):
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["/usr/bin/time", "-v", bin_, "run", "--target", url,
               "--report-dir", tmp, *extra]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tmp)
        rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", out.stderr).group(1)
        folders = [p for p in pathlib.Path(tmp).iterdir() if p.is_dir()]
        if not folders:
            return {"rss_mb": rss_kb / 1024, "wall": wall, "exit": out.returncode,
                    "exchanges": "-", "json_mb": 0, "folder_mb": 0}
        folder = folders[0]
        report = json.loads((folder / "report.json").read_text())
        return {
            "rss_mb": rss_kb / 1024,
            "wall": wall,
            "exit": out.returncode,
            "exchanges": len(report["exchanges"]),
            "json_mb": (folder / "report.json").stat().st_size / MB,
            "folder_mb": sum(f.stat().st_size for f in folder.iterdir()) / MB,
        }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", action="append")
    ap.add_argument("extra", nargs="*")
    a = ap.parse_args()
    bins = [str(pathlib.Path(b).resolve()) for b in (a.bin or [ROOT / "target/debug/assure"])]
    server, url = hostile.start("big-10mib")
    print("| binary | exchanges | exit | peak RSS MB | report.json MB | run folder MB | wall |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for b in bins:
        m = measure(b, url, a.extra)
        print(f"| {b} | {m['exchanges']} | {m['exit']} | {m['rss_mb']:.0f} | {m['json_mb']:.1f} "
              f"| {m['folder_mb']:.1f} | {m['wall']} |", flush=True)
    server.shutdown()


if __name__ == "__main__":
    main()
