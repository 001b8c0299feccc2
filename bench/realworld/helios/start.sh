#!/usr/bin/env bash
# Install (once, with cargo install; a long build) and start the Helios FHIR Server
# (crate helios-hfs, binary hfs) for FHIR R4 on SQLite, on loopback. Prints the base URL.
# The database is a fresh file per start, so runs do not see each other's data.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../common.sh"
VERSION="${HELIOS_VERSION:-0.2.7}"
PORT="${PORT:-8105}"
DIR="$CACHE_ROOT/hfs"
mkdir -p "$DIR"
if ! "$DIR/bin/hfs" --version 2>/dev/null | grep -q "$VERSION"; then
  # R4 and SQLite only: the default feature set also builds the web UI.
  # A kept target folder: an interrupted build resumes where it stopped.
  cargo install --root "$DIR" --target-dir "$DIR/target" helios-hfs --version "$VERSION" --locked \
    --no-default-features --features R4,sqlite >&2
fi
# A fresh database per start, unless the server already runs.
kill -0 "$(cat "$DIR/server.pid" 2>/dev/null)" 2>/dev/null || rm -f "$DIR/fhir.db"
start_server hfs "http://127.0.0.1:$PORT" 120 \
  "$DIR/bin/hfs" --host 127.0.0.1 --port "$PORT" --database-url "$DIR/fhir.db"
