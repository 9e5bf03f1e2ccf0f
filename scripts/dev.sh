#!/usr/bin/env bash
# Runs edge_api and the worker in the foreground; Ctrl-C (or SIGTERM) stops both, gracefully.
#
# Ctrl-C sends SIGINT to the terminal's whole foreground process group. edge_api and the worker
# run in sessions of their own (setsid), so they get exactly one signal: the SIGTERM sent here.
# (Sharing the group, the worker took Ctrl-C's SIGINT as its first signal and this script's
# SIGTERM as a second one, which skips its graceful finish.) A stop that went well exits 0, so
# make prints no `Error 130`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
: "${DATABASE_URL:?}"
API_PORT=${API_PORT:-8000}
export DATABASE_URL

pids=()
stopped=0
stop() {
  [ "$stopped" = 1 ] && return
  stopped=1
  echo
  echo "stopping edge_api and worker"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  # uvicorn re-raises the SIGTERM after its graceful shutdown (143); the worker exits 0.
  local status=0 code
  for pid in "${pids[@]}"; do
    code=0
    wait "$pid" 2>/dev/null || code=$?
    [ "$code" = 0 ] || [ "$code" = 143 ] || status=$code
  done
  # Only a cluster this run started; one that was already up stays up.
  if [ -n "${STOP_CLUSTER_ON_EXIT:-}" ]; then
    scripts/provision.sh stop "$STOP_CLUSTER_ON_EXIT"
  fi
  return "$status"
}
on_signal() {
  trap - INT TERM HUP
  # Both finished their work: a stop asked for is a success.
  stop && exit 0
  exit 1
}
trap on_signal INT TERM HUP
trap stop EXIT

# A client that keeps a connection open must not hold the stop: 5 s, then uvicorn closes it.
setsid .venv/bin/uvicorn edge_api.main:app --host 127.0.0.1 --port "$API_PORT" --log-level warning \
  --timeout-graceful-shutdown 5 &
pids+=($!)
setsid .venv/bin/python -m worker &
pids+=($!)

for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$API_PORT/health" >/dev/null 2>&1 && break
  sleep 0.2
done
cat <<MSG

  CareOps is up.
    edge_api     http://127.0.0.1:$API_PORT   (health: /health, docs: /docs)
    database     $DATABASE_URL
    worker       draining queue '${QUEUE_NAME:-jobs}' (pid ${pids[1]})
  Ctrl-C stops edge_api, the worker${STOP_CLUSTER_ON_EXIT:+ and the database cluster it started}.

MSG
# Ready-to-use access tokens for the seeded users (refused unless the secret is the local one).
for email in owner@demo.careops.test staff@demo.careops.test; do
  echo "  token for $email (more, in any shell: .venv/bin/python -m edge_api.dev_token --email ...):"
  .venv/bin/python -m edge_api.dev_token --email "$email" --curl "http://127.0.0.1:$API_PORT" 2>&1 |
    sed 's/^/    /' || true
  echo
done
echo "  A business in full swing: \`make demo\` in another terminal."
# Until one of them stops by itself (the EXIT trap stops the other) or a signal arrives.
wait -n "${pids[@]}"
