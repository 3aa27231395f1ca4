#!/usr/bin/env bash
# granian vs gunicorn for `fhir-ire serve`: the same app factory, 2 workers each, ApacheBench with keep-alive off
# (gunicorn sync workers close each connection), 4 concurrent clients, on GET /health and a CodeSystem/$lookup.
# Usage: benchmarks/wsgi.sh [requests]   (needs `ab` from apache2-utils and gunicorn in the venv)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
PY=${PY:-/work/venv/bin/python}
export FHIR_IRE_BUNDLES="$PWD/bundles"
LOOKUP='/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/sid/icd-10-cm&code=C25.0'

bench() {  # name, port
  until curl -s -o /dev/null "http://127.0.0.1:$2/health"; do sleep 0.2; done
  ab -q -n 500 -c 4 "http://127.0.0.1:$2/health" > /dev/null  # warm-up
  for path in /health "$LOOKUP"; do
    rps=$(ab -q -n "$N" -c 4 "http://127.0.0.1:$2$path" | awk '/Requests per second/ {print $4}')
    echo "$1 $path: $rps req/s"
  done
}

$PY -m granian --interface wsgi --workers 2 --host 127.0.0.1 --port 8801 --factory fhir_ire.serve:app_from_env \
  > /dev/null 2>&1 & G=$!
bench granian 8801; kill $G; wait $G 2>/dev/null || true

$PY -m gunicorn -w 2 -b 127.0.0.1:8802 'fhir_ire.serve:app_from_env()' > /dev/null 2>&1 & U=$!
bench gunicorn 8802; kill $U; wait $U 2>/dev/null || true
