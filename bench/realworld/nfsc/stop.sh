#!/usr/bin/env bash
# Stop the node-fhir-server-core server started by start.sh (its data is in memory).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../common.sh"
stop_pidfile "$CACHE_ROOT/nfsc/server.pid"
