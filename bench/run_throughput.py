#!/usr/bin/env python3
"""Throughput of `assure run`: N simple request-and-assert scenarios against the
reference provider served by `assure mock` on loopback, in another process.

Prints exchanges per second (wall clock) and the harness's own cost per exchange:
the CPU time of the `assure run` process divided by the exchanges it made (time
spent waiting on the network costs no CPU), and the in-harness overhead that the
report records for each exchange.

    python3 bench/run_throughput.py [--scenarios 1000] [--concurrency 8,32] [--bin target/release/assure]
"""
import argparse
import json
import os
import pathlib
import re
import resource
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Plain scenarios, not one outline: cucumber clones an outline's whole Examples table
# for every row it expands, which would measure that rather than the harness.
SCENARIO = """
  Scenario: read {n}
    Given the request accepts "application/fhir+json"
    When I send a GET request to "/Patient/{id}"
    Then the response status is 200
    And the JSON value at "id" is "{id}"
"""

SUITE = """[suite]
id = "bench"
version = "1.0.0"
title = "Throughput"
features = ["../../features/*.feature"]
default = true

[[requirements]]
id = "B-1"
level = "MUST"
text = "reads work"
source = "bench"
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", type=int, default=1000)
    ap.add_argument("--concurrency", default="1,8,32")
    ap.add_argument("--bin", default=str(ROOT / "target/release/assure"))
    # Another build's `run` against the same counterpart (its `mock` may differ).
    ap.add_argument("--mock-bin", default=None, help="binary that serves the counterpart (default: --bin)")
    args = ap.parse_args()
    if not os.path.exists(args.bin):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)

    ids = ["9000000009", "9000000017", "9000000025"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "suites/bench").mkdir(parents=True)
        (tmp / "features").mkdir()
        (tmp / "suites/bench/suite.toml").write_text(SUITE)
        body = "".join(SCENARIO.format(n=i, id=ids[i % 3]) for i in range(args.scenarios))
        (tmp / "features/bench.feature").write_text("@req:B-1\nFeature: throughput\n" + body)

        mock = subprocess.Popen(
            [args.mock_bin or args.bin, "mock", "reference-provider", "--project", str(ROOT)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        try:
            line = mock.stdout.readline()
            match = re.search(r"http://127\.0\.0\.1:\d+", line)
            if not match:
                sys.exit(f"assure mock did not print its address: {line!r}")
            base = match.group(0)
            # The counterpart logs every request: keep reading, or a full pipe stalls it.
            import threading
            threading.Thread(target=lambda: [None for _ in mock.stdout], daemon=True).start()
            print(f"{args.scenarios} scenarios, 1 exchange each, against {base} (assure mock, separate process)")
            print(f"{'concurrency':>11} {'wall s':>8} {'exchanges/s':>12} {'harness CPU µs/exchange':>24} {'recorded overhead µs':>21}")
            for c in [int(x) for x in args.concurrency.split(",")]:
                out = tmp / f"reports-{c}"
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                run = subprocess.run(
                    [args.bin, "run", "--project", str(tmp), "--target", base, "--concurrency", str(c),
                     "--format", "json", "--report-dir", str(out)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                )
                wall = time.perf_counter() - start
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if run.returncode != 0:
                    sys.exit(f"assure run exited {run.returncode}:\n{run.stderr[-2000:]}")
                report = json.loads(next(out.glob("*/report.json")).read_text())
                exchanges = len(report["exchanges"])
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                overhead = sum(e["overhead_us"] for e in report["exchanges"]) / exchanges
                print(f"{c:>11} {wall:>8.2f} {exchanges / wall:>12.0f} {cpu / exchanges * 1e6:>24.0f} {overhead:>21.0f}")
        finally:
            mock.terminate()
            mock.wait()


if __name__ == "__main__":
    main()
