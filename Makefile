# CareOps: `make dev` brings the stack up, `make test` proves it. Both are idempotent.
SHELL := /bin/bash
.DEFAULT_GOAL := help

DB_PORT ?= 54322
TEST_DB_PORT ?= 54330
# Cluster names: several checkouts on one machine each take their own (and ports).
DEV_CLUSTER ?= careops
TEST_CLUSTER ?= careops_test
API_PORT ?= 8000
LOCAL_DATABASE_URL := postgresql://postgres:postgres@127.0.0.1:$(DB_PORT)/postgres
LOCAL_TEST_DATABASE_URL := postgresql://postgres:postgres@127.0.0.1:$(TEST_DB_PORT)/postgres
# The local clusters' superuser plays the platform (hosted Supabase's supabase_admin):
# it creates databases, roles and extensions. Migrations, seed and tests run as
# `postgres`, a non-superuser shaped like hosted's. Reached over the Unix socket (trust).
admin_url = postgresql://supabase_admin@/postgres?host=/var/run/postgresql&port=$(1)
LOCAL_ADMIN_URL := $(call admin_url,$(DB_PORT))
LOCAL_TEST_ADMIN_URL := $(call admin_url,$(TEST_DB_PORT))
# Set DATABASE_URL to use an existing database (hosted Supabase, `supabase start`):
# nothing is provisioned then.
DATABASE_URL ?=
DEV_DATABASE_URL := $(or $(DATABASE_URL),$(LOCAL_DATABASE_URL))
DEV_ADMIN_URL := $(if $(DATABASE_URL),,$(LOCAL_ADMIN_URL))
TEST_DATABASE_URL ?= $(LOCAL_TEST_DATABASE_URL)
ifeq ($(TEST_DATABASE_URL),)
override TEST_DATABASE_URL := $(LOCAL_TEST_DATABASE_URL)
endif
# The JWT secret every `supabase start` uses; real deployments set their own.
LOCAL_JWT_SECRET := super-secret-jwt-token-with-at-least-32-characters-long
export SUPABASE_JWT_SECRET ?= $(LOCAL_JWT_SECRET)

# Webhook secrets `make dev` gives edge_api when none are set, so `make demo` can sign inbound
# SMS and email the way Twilio and Resend do (local development only, like the JWT secret).
LOCAL_TWILIO_AUTH_TOKEN := careops-local-twilio-auth-token
LOCAL_RESEND_WEBHOOK_SECRET := whsec_Y2FyZW9wcy1sb2NhbC1yZXNlbmQtd2ViaG9vay1rZXkh
dev api demo: export TWILIO_AUTH_TOKEN ?= $(LOCAL_TWILIO_AUTH_TOKEN)
dev api demo: export RESEND_WEBHOOK_SECRET ?= $(LOCAL_RESEND_WEBHOOK_SECRET)

# The Supabase CLI speaks TLS unless told otherwise; local clusters need not.
cli_url = $(if $(findstring sslmode=,$(1)),$(1),$(if $(findstring ?,$(1)),$(1)&sslmode=disable,$(1)?sslmode=disable))

VENV := .venv/bin
PY := $(VENV)/python
SUPABASE := node_modules/.bin/supabase
SQL_DIRS := supabase/migrations supabase/tests supabase/seed.sql supabase/compat
PY_DIRS := edge_api worker tests scripts bench

.PHONY: help tools db migrate seed dev api worker test test-db test-sql test-py lint format bench schema \
	migration-list stop clean lock types typecheck demo

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}' | \
		sed 's/\$$(API_PORT)/$(API_PORT)/g'

tools: ## install OS packages, .venv (uv, requirements.lock) and node_modules (npm ci: Supabase CLI, tsc, ...)
	@scripts/provision.sh tools

db: tools ## the dev database: cluster (unless DATABASE_URL), compat layer, pgmq, migrations, seed
ifeq ($(DATABASE_URL),)
	@scripts/provision.sh cluster $(DEV_CLUSTER) $(DB_PORT)
endif
	@$(PY) scripts/dbctl.py up "$(DEV_DATABASE_URL)" "$(DEV_ADMIN_URL)"

migrate: tools ## apply pending migrations to the dev database with `supabase db push`
	@$(PY) scripts/dbctl.py migrate "$(DEV_DATABASE_URL)"

seed: tools ## load supabase/seed.sql into the dev database again
	@$(PY) scripts/dbctl.py seed "$(DEV_DATABASE_URL)"

migration-list: tools ## show local vs applied migrations (supabase migration list)
	@$(SUPABASE) migration list --db-url "$(call cli_url,$(DEV_DATABASE_URL))" --workdir .

dev: tools ## the whole stack: database, edge_api on :$(API_PORT), worker; Ctrl-C stops what it started
	@was=$$(pg_lsclusters -h 2>/dev/null | awk '$$2 == "$(DEV_CLUSTER)" {print $$4}'); \
	$(MAKE) --no-print-directory db && \
	DATABASE_URL="$(DEV_DATABASE_URL)" API_PORT=$(API_PORT) \
	STOP_CLUSTER_ON_EXIT=$$([ -n "$(DATABASE_URL)" ] || [ "$$was" = online ] || echo $(DEV_CLUSTER)) \
	scripts/dev.sh

api: tools ## only edge_api (uvicorn, reload) against the dev database
	@DATABASE_URL="$(DEV_DATABASE_URL)" $(VENV)/uvicorn edge_api.main:app --reload --port $(API_PORT)

worker: tools ## only the worker against the dev database
	@DATABASE_URL="$(DEV_DATABASE_URL)" $(PY) -m worker

demo: tools ## a day in the life of a clinic against the running `make dev` stack (repeatable)
	@$(PY) scripts/demo.py --database-url "$(DEV_DATABASE_URL)" --api-url "http://127.0.0.1:$(API_PORT)" \
		--twilio-auth-token "$$TWILIO_AUTH_TOKEN" --resend-webhook-secret "$$RESEND_WEBHOOK_SECRET"

test: test-db ## fresh migrated test database, then pgTAP (pg_prove) and pytest
	@$(MAKE) --no-print-directory test-sql test-py

test-db: tools ## a fresh test database cloned from a migrated template (TEST_DATABASE_URL: migrate that one)
ifeq ($(TEST_DATABASE_URL),$(LOCAL_TEST_DATABASE_URL))
	@CAREOPS_FAST_CLUSTER=1 scripts/provision.sh cluster $(TEST_CLUSTER) $(TEST_DB_PORT)
	@$(PY) scripts/dbctl.py test-db "$(TEST_DATABASE_URL)" "$(LOCAL_TEST_ADMIN_URL)"
	@scripts/provision.sh restart $(TEST_CLUSTER)
else
	@scripts/provision.sh packages
	@$(PY) scripts/dbctl.py prepare "$(TEST_DATABASE_URL)"
	@$(PY) scripts/dbctl.py migrate "$(TEST_DATABASE_URL)"
endif

test-sql: ## pgTAP files in supabase/tests (what `supabase test db` runs)
	@pg_prove --recurse --ext .sql --failures --dbname "$(TEST_DATABASE_URL)" supabase/tests

test-py: ## the pytest suite against the test database
	@TEST_DATABASE_URL="$(TEST_DATABASE_URL)" $(VENV)/pytest $(PYTEST_ARGS)

SCHEMA_DIR := docs/schema
# Alert rules, their unit tests and a scrape configuration (docs/operations.md).
PROMETHEUS_DIR := ops/prometheus
ERRORS_DOC := docs/errors.md
TEST_ADMIN_DB_URL := $(LOCAL_TEST_ADMIN_URL)

schema: test-db ## write docs/schema (one file per object) and docs/errors.md's code table from the migrations
	@$(PY) scripts/schema.py tree "$(TEST_ADMIN_DB_URL)" $(SCHEMA_DIR)
	@$(PY) scripts/schema.py errors "$(TEST_ADMIN_DB_URL)" $(ERRORS_DOC)

lint: tools ## sqlfluff, ruff, promtool (ops/prometheus), supabase db lint (plpgsql_check), docs/schema up to date
	@$(VENV)/sqlfluff lint $(SQL_DIRS)
	@promtool check rules $(PROMETHEUS_DIR)/careops.rules.yml
	@promtool test rules $(PROMETHEUS_DIR)/careops.rules.test.yml
	@promtool check config $(PROMETHEUS_DIR)/prometheus.yml
	@$(VENV)/ruff check $(PY_DIRS)
	@$(VENV)/ruff format --check $(PY_DIRS)
	@$(MAKE) --no-print-directory test-db
	@$(SUPABASE) db lint --db-url "$(call cli_url,$(TEST_DATABASE_URL))" --workdir . \
		--schema public,private --level warning --fail-on warning
	@$(PY) scripts/schema.py check "$(TEST_ADMIN_DB_URL)" $(SCHEMA_DIR) $(ERRORS_DOC)

types: test-db ## regenerate supabase/types/database.types.ts and frontend/src/edge-api.types.ts
	@scripts/types.sh write "$(TEST_DATABASE_URL)"

typecheck: tools ## tsc --noEmit over frontend/ (the supabase-js calls against the generated types)
	@node_modules/.bin/tsc --noEmit -p frontend

format: tools ## apply sqlfluff fix and ruff format
	@$(VENV)/sqlfluff fix $(SQL_DIRS)
	@$(VENV)/ruff check --fix $(PY_DIRS)
	@$(VENV)/ruff format $(PY_DIRS)

bench: test-db ## benchmarks under bench/ (prints figures and ratios)
	@$(PY) bench/rls_overhead.py "$(LOCAL_TEST_ADMIN_URL)" $(BENCH_ARGS)
	@$(PY) bench/timezone_validation.py "$(TEST_DATABASE_URL)"
	@$(PY) bench/api_load.py "$(LOCAL_TEST_ADMIN_URL)" $(API_BENCH_ARGS)
	@$(PY) bench/worker_throughput.py "$(TEST_DATABASE_URL)"
	@$(PY) bench/queue_archive.py "$(TEST_DATABASE_URL)"
	@$(PY) bench/booking.py "$(LOCAL_TEST_DATABASE_URL)" $(BOOKING_BENCH_ARGS)
	@$(PY) bench/booking_side_effects.py "$(LOCAL_TEST_DATABASE_URL)"
	@$(PY) bench/booking_outbox.py "$(LOCAL_TEST_DATABASE_URL)"
	@$(PY) bench/booking_cpu.py "$(LOCAL_TEST_DATABASE_URL)"
	@$(PY) bench/reminder_sweep.py "$(LOCAL_TEST_ADMIN_URL)"
	@$(PY) bench/inbox_queries.py "$(LOCAL_TEST_ADMIN_URL)"

stop: ## stop the local clusters
	@scripts/provision.sh stop $(DEV_CLUSTER)
	@scripts/provision.sh stop $(TEST_CLUSTER)

clean: stop ## stop clusters and drop .venv, node_modules (clusters' data stays)
	rm -rf .venv .tools node_modules .pytest_cache .ruff_cache

lock: ## re-resolve Python dependencies into requirements.lock
	uv lock && uv export --frozen --all-groups --no-emit-project --no-header -o requirements.lock
