#!/usr/bin/env bash
# Install (once) and start node-fhir-server-core serving FHIR R4 (4_0_1) Patient with the
# in-memory service in server.cjs, on loopback. Prints the base URL.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../common.sh"
VERSION="${NFSC_VERSION:-2.2.5}"
PORT="${PORT:-8107}"
DIR="$CACHE_ROOT/nfsc"
PKG="$DIR/node_modules/@asymmetrik/node-fhir-server-core/package.json"
mkdir -p "$DIR"
if [ ! -f "$PKG" ] || ! grep -q "\"version\": \"$VERSION\"" "$PKG"; then
  (cd "$DIR" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --no-audit --no-fund "@asymmetrik/node-fhir-server-core@$VERSION" >&2)
fi
PORT="$PORT" NODE_PATH="$DIR/node_modules" \
  start_server nfsc "http://127.0.0.1:$PORT/4_0_1" 180 node "$HERE/server.cjs"
