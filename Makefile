# The two commands: `make run` (the portal with everything it needs) and `make test`.
.PHONY: run test test-fast fuzz lint install services bench demo

PYTHON := .venv/bin/python

install:
	@scripts/install.sh

services:
	@scripts/ensure-services.sh

run: export KUBECONFIG := $(CURDIR)/.sandbox/kubeconfig
run: export PROMETHEUS_URL := http://127.0.0.1:9090
run: export PROMETHEUS_SCRAPE_SECONDS := 5
# The demo syncs every 2 s: with the page's 3 s poll a pod change shows within 5 s (clusters keep the default 5 s).
run: export SYNC_INTERVAL_SECONDS := 2
run: install services
	DEBUG=1 SECURE_HTTPS=0 $(PYTHON) manage.py migrate --noinput
	DEBUG=1 SECURE_HTTPS=0 $(PYTHON) manage.py seed_demo --second-cluster $(CURDIR)/.sandbox/kubeconfig-b
	@echo "Gantry: http://127.0.0.1:8000  (API docs /api/docs/, sandbox clusters http://127.0.0.1:8001 and :8002 for ORD1). Ctrl-C stops everything."
	DEBUG=1 SECURE_HTTPS=0 .venv/bin/honcho -f Procfile start

test: install services lint
	DEBUG=1 SECURE_HTTPS=0 $(PYTHON) -m pytest $(PYTEST_ARGS)

# The quick loop while coding: everything but the browser, worker and fault tests (under a minute).
test-fast: install services lint
	DEBUG=1 SECURE_HTTPS=0 $(PYTHON) -m pytest -m "not slow" $(PYTEST_ARGS)

# The nightly-size fuzz run of the REST API against its OpenAPI schema (no 5xx, responses match).
fuzz: install services
	DEBUG=1 SECURE_HTTPS=0 FUZZ_EXAMPLES=100 $(PYTHON) -m pytest tests/portal/test_api_schema.py -k conforms $(PYTEST_ARGS)

# Imports go only downward between the apps (contracts in pyproject.toml, drawn in docs/architecture.md).
lint: install
	.venv/bin/lint-imports

bench: install services
	DEBUG=1 SECURE_HTTPS=0 $(PYTHON) -m bench
