#!/usr/bin/env bash
# Start Apache Tomcat 10 (Debian package tomcat10, installed with apt-get if missing) on loopback
# with an empty webapp, as a strict HTTP/1.1 front end: Tomcat refuses a request target whose
# query holds a character RFC 3986 does not allow there (such as a raw `|`) with 400, before
# any application sees it. HAPI FHIR's starter runs on such a servlet container. Not a FHIR
# server: it shows how the harness's requests fare on a strict stack. Prints the base URL.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../common.sh"
PORT="${PORT:-8106}"
DIR="$CACHE_ROOT/tomcat"
if [ ! -x /usr/share/tomcat10/bin/catalina.sh ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tomcat10 >&2
fi
if [ ! -f "$DIR/webapps/ROOT/metadata" ]; then
  mkdir -p "$DIR"/{logs,temp,work,webapps/ROOT}
  cp -r /usr/share/tomcat10/etc "$DIR/conf" 2>/dev/null || cp -r /var/lib/tomcat10/conf "$DIR/conf"
  sed -i "s/port=\"8080\"/port=\"$PORT\" address=\"127.0.0.1\"/; s/port=\"8005\"/port=\"-1\"/" "$DIR/conf/server.xml"
  # A CapabilityStatement that declares Patient search, so the search scenarios run.
  echo '{"resourceType":"CapabilityStatement","status":"active","kind":"instance","fhirVersion":"4.0.1","format":["json"],"date":"2026-01-01","rest":[{"mode":"server","resource":[{"type":"Patient","interaction":[{"code":"read"},{"code":"search-type"}]}]}]}' \
    >"$DIR/webapps/ROOT/metadata"
fi
CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE="$DIR" \
  start_server tomcat "http://127.0.0.1:$PORT" 120 /usr/share/tomcat10/bin/catalina.sh run
