# The two commands: `make run` (the portal with everything it needs) and `make test`.
.PHONY: run test test-fast fuzz lint install services bench demo screenshots

# The project's interpreter. PYTHON (from the environment) is the one that creates .venv: scripts/install.sh
# takes it, or else a Python 3.12+ it finds on PATH; nothing under the home directory is assumed.
VENV_PYTHON := .venv/bin/python

install:
	@scripts/install.sh

services:
	@scripts/ensure-services.sh

run: export KUBECONFIG := $(CURDIR)/.sandbox/kubeconfig
run: export PROMETHEUS_URL := http://127.0.0.1:9090
run: export PROMETHEUS_SCRAPE_SECONDS := 5
# The watcher (Procfile) writes a pod change within a second; with STATUS_SYNC=list instead, the demo lists
# every 2 s, so the page's 3 s poll shows a change within 5 s (production keeps the default 5 s).
run: export SYNC_INTERVAL_SECONDS := 2
run: export CAPACITY_REFRESH_SECONDS := 15
run: install services
	DEBUG=1 SECURE_HTTPS=0 $(VENV_PYTHON) manage.py migrate --noinput
	DEBUG=1 SECURE_HTTPS=0 $(VENV_PYTHON) manage.py seed_demo --second-cluster $(CURDIR)/.sandbox/kubeconfig-b
	@echo "Gantry: http://127.0.0.1:8000  (API docs /api/docs/, sandbox clusters http://127.0.0.1:8001 and :8002 for ORD1). Ctrl-C stops everything."
	DEBUG=1 SECURE_HTTPS=0 .venv/bin/honcho -f Procfile start

test: install services lint
	DEBUG=1 SECURE_HTTPS=0 $(VENV_PYTHON) -m pytest $(PYTEST_ARGS)

# The quick loop while coding: everything but the browser, worker and fault tests (under a minute).
test-fast: install services lint
	DEBUG=1 SECURE_HTTPS=0 $(VENV_PYTHON) -m pytest -m "not slow" $(PYTEST_ARGS)

# The nightly-size fuzz run of the REST API against its OpenAPI schema (no 5xx, responses match).
fuzz: install services
	DEBUG=1 SECURE_HTTPS=0 FUZZ_EXAMPLES=100 $(VENV_PYTHON) -m pytest tests/portal/test_api_schema.py -k conforms $(PYTEST_ARGS)

# A screenshot of every page (demo data, a live server, Chromium) in test-artifacts/screenshots/tour-*.png, for a
# reviewer; `make test` runs a short part of the same tour.
screenshots: install services
	DEBUG=1 SECURE_HTTPS=0 SCREENSHOT_TOUR=all $(VENV_PYTHON) -m pytest tests/system/browser/test_screenshot_tour.py $(PYTEST_ARGS)
	@echo "Screenshots: test-artifacts/screenshots/tour-*.png"

# Imports go only downward between the apps (contracts in pyproject.toml, drawn in docs/architecture.md).
lint: install
	.venv/bin/lint-imports

bench: install services
	$(VENV_PYTHON) -m bench
