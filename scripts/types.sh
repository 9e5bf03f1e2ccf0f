#!/usr/bin/env bash
# The frontend's generated types, from what the API really is:
#   supabase/types/database.types.ts  the `Database` type of schema public (tables, RPCs), by the
#                                     generator `supabase gen types typescript` runs in a container
#                                     (postgres-meta), without Docker. Pinned to 0.98.0: the pinned
#                                     CLI's image has 0.99.0, whose formatter (oxfmt) needs Node 20,
#                                     and Debian 12's Node is 18.20
#   frontend/src/edge-api.types.ts    edge_api's OpenAPI schema as TypeScript (openapi-typescript)
#
#   scripts/types.sh write DATABASE_URL   regenerate both files (make types)
#   scripts/types.sh check DATABASE_URL   regenerate into a scratch directory; fail if they differ
# DATABASE_URL is a freshly migrated database (make types uses the test template's clone).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DATABASE_TYPES=supabase/types/database.types.ts
EDGE_API_TYPES=frontend/src/edge-api.types.ts

database_types() {
  # postgres-meta's server prints the types and exits when PG_META_GENERATE_TYPES is set;
  # the same environment `supabase gen types typescript --db-url` gives its container.
  PG_META_DB_URL="$1" PG_META_GENERATE_TYPES=typescript PG_META_GENERATE_TYPES_INCLUDED_SCHEMAS=public \
    PG_META_GENERATE_TYPES_DETECT_ONE_TO_ONE_RELATIONSHIPS=true NODE_NO_WARNINGS=1 \
    node node_modules/@supabase/postgres-meta/dist/server/server.js
}

edge_api_types() {
  local schema
  schema=$(mktemp --suffix=.json)
  # The settings only let the app be built; the optional endpoints (webhooks, the metrics token)
  # stay off whatever .env says, so everyone generates the same file.
  DATABASE_URL=postgresql://unused@127.0.0.1/unused SUPABASE_JWT_SECRET=unused-for-the-schema \
    TWILIO_AUTH_TOKEN= RESEND_WEBHOOK_SECRET= METRICS_BEARER_TOKEN= \
    .venv/bin/python -c 'import json, sys
from edge_api.main import create_app
json.dump(create_app().openapi(), sys.stdout, indent=2, sort_keys=True)' >"$schema"
  node_modules/.bin/openapi-typescript "$schema" --output "$1" --alphabetize >/dev/null 2>&1
  rm -f "$schema"
}

generate() { # DATABASE_URL DIR
  mkdir -p "$2/$(dirname "$DATABASE_TYPES")" "$2/$(dirname "$EDGE_API_TYPES")"
  database_types "$1" >"$2/$DATABASE_TYPES"
  edge_api_types "$2/$EDGE_API_TYPES"
}

case "${1:-}" in
  write)
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    generate "${2:?DATABASE_URL}" "$scratch"
    cp "$scratch/$DATABASE_TYPES" "$DATABASE_TYPES"
    cp "$scratch/$EDGE_API_TYPES" "$EDGE_API_TYPES"
    echo "wrote $DATABASE_TYPES and $EDGE_API_TYPES"
    ;;
  check)
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    generate "${2:?DATABASE_URL}" "$scratch"
    stale=0
    for file in "$DATABASE_TYPES" "$EDGE_API_TYPES"; do
      if ! diff -u --label "$file (committed)" --label "$file (generated)" "$file" "$scratch/$file"; then
        stale=1
      fi
    done
    if [ "$stale" = 1 ]; then
      echo "The generated types are stale: the API changed. Run \`make types\` and commit the result." >&2
      exit 1
    fi
    ;;
  *)
    echo "usage: $0 write|check DATABASE_URL" >&2
    exit 2
    ;;
esac
