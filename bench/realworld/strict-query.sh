#!/usr/bin/env bash
# Run fhir-r4-rest's search scenarios against Tomcat (tomcat/start.sh), a strict HTTP/1.1
# stack, and print each exchange's status: a request whose query carries a raw `|` is refused
# with 400 by Tomcat itself, the others reach the (empty) application and get 404.
#   bench/realworld/strict-query.sh [REPORT_DIR]
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/common.sh"
OUT="${1:-$REPO/target/realworld-reports}/strict-query"
ensure_assure
mkdir -p "$(dirname "$OUT")"
BASE="$("$HERE/tomcat/start.sh")" || exit 3
cd "$REPO"
"$ASSURE" run --suite fhir-r4-rest --target "$BASE" --tags @search --report-dir "$OUT" >"$OUT.log" 2>&1
echo "fhir-r4-rest @search: exit $? ($(tail -1 "$OUT.log"))"
python3 - "$OUT" <<'PY'
import json, pathlib, sys
report = sorted(pathlib.Path(sys.argv[1]).rglob("report.json"))[-1]
for ex in json.loads(report.read_text())["exchanges"]:
    status = (ex.get("response") or {}).get("status", ex.get("error"))
    print(status, ex["request"]["url"])
PY
"$HERE/tomcat/stop.sh"
