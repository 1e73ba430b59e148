# duban — the two commands a newcomer needs: `make run` and `make test`.
#
# Everything is installed into the repository: uv into .tools/, the Python packages into .venv/
# (from uv.lock), and — where missing and where we may — the few Debian packages the PDF reports and
# the operations checks use.

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

DEBIAN_PACKAGES := fonts-noto-cjk libharfbuzz-subset0 poppler-utils prometheus docker-compose chromium

.PHONY: help install compile system-deps run test lint format typecheck unit schemas bench clean reliability

help:
	@echo "make run        start duban on embedded defaults, replay the simulated 2023 (ONCE=1: exit when done;"
	@echo "                FEED=sample: ten sample submissions instead of the year, FEED=none: nothing)"
	@echo "make test       lint, type-check and run every test"
	@echo "make bench      run the benchmarks (bench/RESULTS.md)"
	@echo "make schemas    regenerate contracts/schemas and contracts/asyncapi"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set (as on CI), every service
# process would otherwise recompile SQLAlchemy & co. at each start (seconds per process).
$(VENV)/.installed: $(UV) uv.lock pyproject.toml contracts/pyproject.toml kit/pyproject.toml services/*/pyproject.toml
	$(UV) sync --frozen --all-packages --compile-bytecode --python "$$(command -v $(PYTHON))"
	@touch $@

# Our own sources change between runs: compile them each time (quick when nothing changed).
compile: install
	@PYTHONDONTWRITEBYTECODE= $(BIN)/python -m compileall -q contracts/src kit/src services/*/src src

install: $(VENV)/.installed

# Debian packages: CJK fonts and pdftotext/pdftoppm for the PDF reports, promtool and docker-compose
# for the operations checks, chromium for the console's browser tests (Playwright drives it; it never
# downloads a browser of its own). Installed only where missing, and only where apt-get may run.
system-deps:
	@missing=""; \
	for pkg in $(DEBIAN_PACKAGES); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
		elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq $$missing; \
		else echo "please install:$$missing (Debian packages)"; exit 1; fi; \
	fi

run: install system-deps compile
	$(BIN)/duban up $(if $(ONCE),--once,) $(if $(FEED),--feed $(FEED),)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

test: install system-deps compile lint typecheck
	$(BIN)/pytest

unit: install
	$(BIN)/pytest -m "not e2e and not reliability and not slow"

# The fault-injection suite RUNS times in a row, stopping at the first failure (docs/reliability-runs.md).
RUNS ?= 20
reliability: install system-deps compile
	$(BIN)/python -m tests.reliability.repeat --runs $(RUNS)

schemas: install
	$(BIN)/python -m duban.schemas --write

bench: install system-deps compile
	$(BIN)/python -m bench

clean:
	rm -rf var out .pytest_cache .mypy_cache .ruff_cache
