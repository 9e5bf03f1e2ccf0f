#!/usr/bin/env bash
# Runs edge_api and the worker in the foreground; Ctrl-C (or SIGTERM) stops both.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
: "${DATABASE_URL:?}"
API_PORT=${API_PORT:-8000}
export DATABASE_URL

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping edge_api and worker"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  # Only a cluster this run started; one that was already up stays up.
  if [ -n "${STOP_CLUSTER_ON_EXIT:-}" ]; then
    scripts/provision.sh stop "$STOP_CLUSTER_ON_EXIT"
  fi
}
trap stop INT TERM EXIT

.venv/bin/uvicorn edge_api.main:app --host 127.0.0.1 --port "$API_PORT" --log-level warning &
pids+=($!)
.venv/bin/python -m worker &
pids+=($!)

for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$API_PORT/health" >/dev/null 2>&1 && break
  sleep 0.2
done
cat <<MSG

  CareOps is up.
    edge_api     http://127.0.0.1:$API_PORT   (health: /health, docs: /docs)
    database     $DATABASE_URL
    worker       draining queue 'jobs' (pid ${pids[1]})
  Ctrl-C stops edge_api, the worker${STOP_CLUSTER_ON_EXIT:+ and the database cluster it started}.

MSG
# Ready-to-use access tokens for the seeded users (refused unless the secret is the local one).
for email in owner@demo.careops.test staff@demo.careops.test; do
  echo "  token for $email (valid 1 h; more: .venv/bin/python -m edge_api.dev_token --email ...):"
  .venv/bin/python -m edge_api.dev_token --email "$email" --curl "http://127.0.0.1:$API_PORT" 2>&1 |
    sed 's/^/    /' || true
  echo
done
wait -n "${pids[@]}"
