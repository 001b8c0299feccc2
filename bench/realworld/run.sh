#!/usr/bin/env bash
# Start one realworld server, seed it, run fhir-r4-rest and uk-core-r4 against it, stop it.
#   bench/realworld/run.sh NAME [REPORT_DIR]
# ASSURE names the assure binary (default: target/release/assure, built if missing).
# Each suite's run folder lands in REPORT_DIR/NAME/<suite>/ (default target/realworld-reports).
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/common.sh"
NAME="${1:?usage: run.sh NAME [REPORT_DIR]}"
OUT="${2:-$REPO/target/realworld-reports}/$NAME"
ensure_assure
mkdir -p "$OUT"
BASE="$("$HERE/$NAME/start.sh")" || exit 3
echo "== $NAME at $BASE"
INPUTS_FILE="$CACHE_ROOT/$NAME/inputs.txt"
python3 "$HERE/seed.py" "$BASE" --inputs-file "$INPUTS_FILE" ${SEED_ARGS:-} || exit 3
ARGS=()
while read -r line; do [ -n "$line" ] && ARGS+=(--input "$line"); done <"$INPUTS_FILE"
cd "$REPO"
for suite in fhir-r4-rest uk-core-r4; do
  "$ASSURE" run --suite "$suite" --target "$BASE" "${ARGS[@]}" --report-dir "$OUT/$suite" \
    >"$OUT/$suite.log" 2>&1
  echo "$suite: exit $? ($(tail -1 "$OUT/$suite.log"))"
done
[ -n "${KEEP_RUNNING:-}" ] || "$HERE/$NAME/stop.sh"
