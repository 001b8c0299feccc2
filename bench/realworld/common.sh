# Shared by the realworld server scripts: cache folder, pid files, waiting for /metadata.
CACHE_ROOT="${ASSURE_REALWORLD_CACHE:-$HOME/.cache/assure-realworld}"

# wait_metadata BASE SECONDS: poll BASE/metadata until it answers 200.
wait_metadata() {
  local base="$1" limit="${2:-120}" i=0
  while [ "$i" -lt "$limit" ]; do
    if curl -fs -o /dev/null -H 'Accept: application/fhir+json' "$base/metadata"; then
      return 0
    fi
    sleep 1
    i=$((i + 1))
  done
  echo "no answer from $base/metadata after ${limit}s" >&2
  return 1
}

# stop_pidfile FILE: end the process recorded in FILE (and its group), if still running.
stop_pidfile() {
  local file="$1"
  [ -f "$file" ] || { echo "not running (no $file)"; return 0; }
  local pid
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
  echo "stopped $pid"
}

# start_server NAME BASE SECONDS CMD...: run CMD in the background from the cache folder of
# NAME (its output in server.log, its pid in server.pid) unless it already runs, wait until
# BASE/metadata answers, then print BASE.
start_server() {
  local name="$1" base="$2" limit="$3"
  shift 3
  local dir="$CACHE_ROOT/$name"
  mkdir -p "$dir"
  if [ -f "$dir/server.pid" ] && kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; then
    echo "already running" >&2
  else
    # Only the server itself goes to the background: a backgrounded list would keep this
    # script's stdout open, and with it a caller's $(...).
    (cd "$dir" || exit 1; nohup "$@" >"$dir/server.log" 2>&1 </dev/null & echo $! >"$dir/server.pid")
  fi
  wait_metadata "$base" "$limit" || return 1
  echo "$base"
}

# The checkout, and the assure binary: $ASSURE, else its release build (built when missing).
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ASSURE="${ASSURE:-$REPO/target/release/assure}"
ensure_assure() {
  [ -x "$ASSURE" ] || (cd "$REPO" && cargo build --release) || exit 3
}
