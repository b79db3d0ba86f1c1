# Werkvloer — every target installs what it needs; `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# uv may use only the Python that is on the machine, never download one.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON_PREFERENCE := only-system
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
BIN := $(VENV)/bin

SUB ?= alice
ROLES ?= worker
TEAMS ?= packaging

.PHONY: help uv install assets tools fuzz e2e-topology config-docs migrate demo run test lint format token schema bench

help: ## list the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-13s\033[0m %s\n", $$1, $$2}'

uv: ## install uv with pip when it is missing
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv

install: uv assets ## install every service, the gateway and the dev tools from uv.lock
	@$(UV) sync --all-extras --frozen --quiet

assets: ## GraphiQL's files from the npm registry (gateway/ide/package-lock.json), served locally
	@test gateway/ide/node_modules/.package-lock.json -nt gateway/ide/package-lock.json || npm ci --prefix gateway/ide --no-audit --no-fund --ignore-scripts --silent

migrate: install ## bring every service database to the newest schema
	@$(BIN)/python -m services.manage migrate

demo: migrate ## load the demo content (once; later runs skip it)
	@$(BIN)/python -m services.manage demo

run: demo ## start gateway :8000, ideas :8001, reflection :8002, analytics :8003 (Ctrl-C stops all)
	@$(BIN)/honcho start -f Procfile

test: install tools ## run the whole suite on SQLite and on PostgreSQL
	@$(BIN)/pytest

e2e-topology: install ## the production shape: four processes, a private PostgreSQL restarted mid-run
	@$(BIN)/pytest -q tests/topology

tools: ## the machine tools the tests use: kubectl (renders the manifests), PostgreSQL's initdb, Chromium (pages)
	@command -v kubectl >/dev/null || apt-get install -y -q kubectl || (apt-get update -q && apt-get install -y -q kubectl)
	@command -v chromium >/dev/null || apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)

lint: install ## ruff check, ruff format --check, mypy, the published GraphQL schema is current
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy
	@$(BIN)/python -m gateway.sdl --check

format: install ## apply ruff's fixes and formatting
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .

token: install ## print a dev token: make token SUB=alice ROLES=worker TEAMS=packaging
	@$(BIN)/python -m services.manage token --sub "$(SUB)" --roles "$(ROLES)" --teams "$(TEAMS)"

config-docs: install ## write docs/configuration.md from the settings classes
	@$(BIN)/python -m services.config_reference > docs/configuration.md
	@echo "wrote docs/configuration.md"

schema: install ## write the published GraphQL schema to gateway/schema.graphql
	@$(BIN)/python -m gateway.sdl > gateway/schema.graphql
	@echo "wrote gateway/schema.graphql"

fuzz: install ## schemathesis on every service's OpenAPI and the GraphQL schema, each role; writes bench/RESULTS.md
	@$(BIN)/python -m bench fuzz

bench: install ## run the benchmarks and rewrite bench/RESULTS.md (installs wrk and Ralph if missing)
	@command -v wrk >/dev/null || apt-get install -y -q wrk || (apt-get update -q && apt-get install -y -q wrk)
	@test -x .bench/ralph/bin/ralph || ($(UV) venv -q .bench/ralph && VIRTUAL_ENV=.bench/ralph $(UV) pip install -q "ralph-malph[cli,lrs,backend-fs]==5.*" requests)
	@$(BIN)/python -m bench
