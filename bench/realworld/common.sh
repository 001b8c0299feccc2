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
