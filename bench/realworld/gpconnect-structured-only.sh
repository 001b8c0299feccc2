#!/usr/bin/env bash
# Serve mocks/gpconnect-provider-structured-only with `assure mock` and run the GP Connect
# provider suites against it.   bench/realworld/gpconnect-structured-only.sh [REPORT_DIR]
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/common.sh"
OUT="${1:-$REPO/target/realworld-reports}/gpconnect-structured-only"
PORT="${PORT:-8110}"
ensure_assure
mkdir -p "$OUT"
cd "$REPO"
"$ASSURE" mock gpconnect-provider-structured-only --port "$PORT" >"$OUT/mock.log" 2>&1 &
MOCK=$!
trap 'kill $MOCK 2>/dev/null' EXIT
for _ in $(seq 1 30); do grep -q "serving stub set" "$OUT/mock.log" && break; sleep 1; done
for suite in gp-connect-provider gp-connect-foundations; do
  "$ASSURE" run --suite "$suite" --target "http://127.0.0.1:$PORT" --report-dir "$OUT/$suite" \
    >"$OUT/$suite.log" 2>&1
  echo "$suite: exit $? ($(tail -1 "$OUT/$suite.log"))"
done
