#!/usr/bin/env bash
# Install (once, in a virtualenv) and start FHIRStarter's own example server, as the package
# ships it (fhirstarter.examples.example: Patient read/create/update/patch/delete/search,
# Practitioner read; FHIR R5 models through fhir.resources). Prints the base URL.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../common.sh"
VERSION="${FHIRSTARTER_VERSION:-4.2.0}"
PORT="${PORT:-8104}"
DIR="$CACHE_ROOT/fhirstarter"
mkdir -p "$DIR"
if [ ! -x "$DIR/venv/bin/python" ]; then
  python3 -m venv "$DIR/venv"
fi
if ! "$DIR/venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('fhirstarter') != '$VERSION')" 2>/dev/null; then
  "$DIR/venv/bin/pip" install --quiet "fhirstarter==$VERSION" uvicorn jsonpatch >&2
fi
start_server fhirstarter "http://127.0.0.1:$PORT" 120 \
  "$DIR/venv/bin/uvicorn" fhirstarter.examples.example:app --host 127.0.0.1 --port "$PORT"
