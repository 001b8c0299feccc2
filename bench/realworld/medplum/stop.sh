#!/usr/bin/env bash
# Stop the Medplum router started by start.sh (its data is in memory and goes with it).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../common.sh"
stop_pidfile "$CACHE_ROOT/medplum/server.pid"
