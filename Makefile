# Pointcare: build, run and test. `make help` lists the targets.
#
# Works on a fresh Debian machine: as root, `make test` installs the system packages it needs
# (infra/install-system-packages.sh). Python packages go to .venv, reinstalled only when
# pyproject.toml or setup.py change. Under CI=true (exported to every step) tests that lack a
# tool fail instead of skipping.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.NOTPARALLEL:
MAKEFLAGS += --no-builtin-rules --no-print-directory

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
# Arguments for pytest: by default one worker per core (pytest-xdist); e.g. PYTEST_ARGS='-x -k dicom'.
PYTEST_ARGS ?= -n auto
# Which fault experiments `make chaos` runs (default: all; see tests/chaos/report.py).
CHAOS ?=

BIN := $(VENV)/bin
VENV_OK := $(VENV)/.created
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
PROJECT_FILES := pyproject.toml setup.py

export CI
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# `POINTCARE_HTMX_SRC=local make run` serves the vendored htmx: fetch it first.
RUN_DEPS := $(if $(filter local,$(POINTCARE_HTMX_SRC)),vendor)

.PHONY: help
help: ## List the targets
	@echo "Usage: make TARGET [PYTEST_ARGS=...] [HOST=...] [PORT=...] [PYTHON=python3.11]"
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | sort \
	  | awk 'BEGIN {FS = ":.*## "} {printf "  %-16s %s\n", $$1, $$2}'

# --- environment ------------------------------------------------------------------------

# The venv, made with PYTHON (3.11 or newer). On Debian, python3 lacks venv support until
# python3-venv is installed: installed here when we are root, explained otherwise.
$(VENV_OK):
	@command -v $(PYTHON) >/dev/null || { \
	  echo "error: '$(PYTHON)' not found; install Python 3.11+ or run make PYTHON=/path/to/python3.11" >&2; \
	  exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: Pointcare needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
	  echo "       Run make with PYTHON=python3.11 (or newer)." >&2; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || infra/install-system-packages.sh --require \
	  "$$($(PYTHON) -c 'import sys; print("python3.%d-venv" % sys.version_info[1])')"
	@echo "==> creating $(VENV) with $$($(PYTHON) --version)"
	@rm -rf $(VENV)
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	@touch $@

$(RUN_STAMP): $(PROJECT_FILES) | $(VENV_OK)
	@echo "==> installing Pointcare into $(VENV)"
	@$(BIN)/python -m pip install --quiet --editable .
	@touch $@

$(TEST_STAMP): $(PROJECT_FILES) | $(VENV_OK)
	@echo "==> installing Pointcare and its test tools into $(VENV)"
	@$(BIN)/python -m pip install --quiet --editable '.[test]'
	@touch $@ $(RUN_STAMP)

.PHONY: venv system-packages vendor viewer
venv: $(TEST_STAMP) ## Create .venv with Pointcare and the test tools

system-packages: ## Install the Debian packages the tests need (root; quick when present)
	@infra/install-system-packages.sh

vendor: ## Fetch the pinned htmx into pwa/static/vendor/ (checked against its SRI hash)
	@infra/fetch-htmx.sh

viewer: ## Fetch the pinned OHIF viewer into pwa/viewer/ (checked against its npm integrity)
	@infra/fetch-viewer.sh

# --- run --------------------------------------------------------------------------------

.PHONY: run
run: $(RUN_STAMP) $(RUN_DEPS) ## Serve Pointcare with demo data on http://127.0.0.1:8000
	@echo "==> http://$(HOST):$(PORT)/  (data in $${POINTCARE_DATA_DIR:-./var}; Ctrl-C stops)"
	@exec $(BIN)/pointcare serve --demo --host $(HOST) --port $(PORT)

# --- checks -----------------------------------------------------------------------------

.PHONY: docs
docs: $(RUN_STAMP) ## Write docs/settings.md from the Settings docstrings (a test checks it)
	@$(BIN)/python -m pointcare.settings_reference > docs/settings.md

.PHONY: test lint typecheck pytest bench bench-native chaos
# With --keep-going (as .ci/run does) every check runs even after one fails.
test: system-packages lint typecheck pytest ## Everything CI runs: system packages, lint, types, tests

lint: $(TEST_STAMP) ## ruff check, ruff format --check, and the import layering contracts
	@echo "==> ruff check"
	@$(BIN)/ruff check .
	@echo "==> ruff format --check"
	@$(BIN)/ruff format --check .
	@echo "==> import contracts (lint-imports)"
	@$(BIN)/lint-imports

typecheck: $(TEST_STAMP) ## mypy (strict, as configured in pyproject.toml)
	@echo "==> mypy"
	@$(BIN)/mypy

pytest: system-packages $(TEST_STAMP) vendor viewer ## Only the tests (PYTEST_ARGS=... passes options)
	@echo "==> pytest$(if $(PYTEST_ARGS), $(PYTEST_ARGS))$(if $(CI),  (CI=$(CI): a missing tool fails its tests))"
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

# Lighthouse 12 from npm into var/tools (gitignored), for `make bench` and `make lighthouse`.
LIGHTHOUSE := var/tools/node_modules/.bin/lighthouse

bench: system-packages $(TEST_STAMP) vendor $(LIGHTHOUSE) ## Run the benchmarks (python -m tests.bench)
	@$(BIN)/python -m tests.bench

bench-native: $(TEST_STAMP) ## Each native path against Pillow and pillow-heif alone, in one run
	@$(BIN)/python -m tests.bench.native

.PHONY: bench-measure
bench-measure: $(TEST_STAMP) ## Wound measurement accuracy per tilt band, into var/bench/measure.json
	@$(BIN)/python -m tests.bench.measure

.PHONY: screenshots
screenshots: $(TEST_STAMP) vendor ## Every page on a phone, a tablet and a desktop, in var/screenshots
	@$(BIN)/python -m tests.support.screenshots

# Not part of `make test`: about ten minutes of outages, kills and floods on real processes.
chaos: system-packages $(TEST_STAMP) ## Fault experiments, a table in var/chaos/report.md (CHAOS=name ...)
	@$(BIN)/python -m tests.chaos $(CHAOS)

$(LIGHTHOUSE):
	@echo "==> installing Lighthouse 12 into var/tools"
	@mkdir -p var/tools
	@npm install --prefix var/tools --no-audit --no-fund --loglevel=error lighthouse@12

.PHONY: lighthouse
lighthouse: $(RUN_STAMP) vendor $(LIGHTHOUSE) ## Lighthouse (mobile) on sign-in, home, scan, capture, review
	@CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(BIN)/python infra/lighthouse.py \
	  --lighthouse $(LIGHTHOUSE)

# --- cleaning ---------------------------------------------------------------------------

.PHONY: clean distclean
clean: ## Remove var/ and build, test and lint artefacts (keeps .venv)
	rm -rf var build dist test-results .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -prune \
	  -exec rm -rf {} +

distclean: clean ## Also remove .venv, the fetched htmx and the fetched viewer
	rm -rf $(VENV) pwa/static/vendor pwa/viewer
