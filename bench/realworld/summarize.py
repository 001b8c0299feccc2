#!/usr/bin/env python3
"""Summarise assure report.json files: counts, then every failed/error scenario with its
failing step, message, and the last exchange before it (request line, status, headers of
interest, body excerpt). Usage: summarize.py REPORT_DIR... (searched for report.json)."""

import json
import pathlib
import sys

HEADERS = {"location", "etag", "content-type", "last-modified"}


def exchange_lines(ex):
    req, resp = ex.get("request") or {}, ex.get("response") or {}
    out = [f"      > {req.get('method')} {req.get('url')}"]
    for name, value in req.get("headers") or []:
        if name.lower() in ("prefer", "if-none-exist", "content-type", "accept"):
            out.append(f"      > {name}: {value}")
    if ex.get("error"):
        out.append(f"      ! {ex['error']}")
    if resp:
        out.append(f"      < {resp.get('status')}")
        for name, value in resp.get("headers") or []:
            if name.lower() in HEADERS:
                out.append(f"      < {name}: {value}")
        body = (resp.get("body") or {}).get("text") or ""
        if body:
            out.append("      < " + " ".join(body.split())[:400])
    return out


def summarize(path):
    report = json.loads(path.read_text())
    exchanges = {e["id"]: e for e in report.get("exchanges", [])}
    s = report["summary"]["scenarios"]
    print(f"## {path.parent}")
    print(f"   target {report['run']['target']['base_url']} ({report['run']['target'].get('software')})")
    print(
        f"   scenarios {s['total']}: passed {s['passed']}, failed {s['failed']}, error {s['error']}, "
        f"not applicable {s['not_applicable']}, not run {s['not_run']}; verdict {report['verdict']}"
    )
    for suite in report["suites"]:
        levels = {r["id"]: r["level"] for r in suite["requirements"]}
        for feature in suite["features"]:
            for sc in feature["scenarios"]:
                if sc["status"] in ("passed", "not_applicable", "waived"):
                    continue
                reqs = ",".join(f"{r}({levels.get(r, '?')})" for r in sc["requirements"])
                print(f" - [{sc['status']}] {reqs} {sc['name']}  ({sc['id']})")
                last = None
                for step in sc["steps"]:
                    if step["exchanges"]:
                        last = step["exchanges"][-1]
                    if step["status"] in ("failed", "error"):
                        print(f"     step: {step['keyword']} {step['text']}")
                        print(f"     failure: {json.dumps(step['failure'])[:700]}")
                        if last and last in exchanges:
                            print("\n".join(exchange_lines(exchanges[last])))
                        break
                else:
                    if sc.get("reason"):
                        print(f"     reason: {sc['reason']}")
    for err in report.get("errors", []):
        print(f" ! run error: {json.dumps(err)[:400]}")
    print()


def main():
    for root in sys.argv[1:]:
        for path in sorted(pathlib.Path(root).rglob("report.json")):
            summarize(path)


if __name__ == "__main__":
    main()
