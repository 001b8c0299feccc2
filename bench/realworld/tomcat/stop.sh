#!/usr/bin/env bash
# Stop the Tomcat started by start.sh.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../common.sh"
stop_pidfile "$CACHE_ROOT/tomcat/server.pid"
