# strongroom — the two commands of the Quick start, and a few for developers.
# Needs only Python 3.11+ and make: everything else is installed into .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN    := $(VENV)/.installed-run
DEV    := $(VENV)/.installed-dev

.DEFAULT_GOAL := help
.PHONY: help serve test check bench fuzz clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "strongroom needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@ $(RUN)

serve: $(RUN)  ## run the server on 127.0.0.1:8080 with SQLite under ./.strongroom
	$(BIN)/strongroom serve

test: $(DEV)  ## install the dev dependencies and run the checks and the whole suite
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: $(DEV)  ## lint, format check, types and import contracts only
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

fuzz: $(DEV)  ## the heavy Schemathesis run over the OpenAPI document (100 examples per operation)
	STRONGROOM_HEAVY=1 $(BIN)/python -m pytest -s tests/fuzz $(PYTEST_ARGS)

bench: $(DEV)  ## run the benchmarks (with pycasbin and cedarpy beside the engine) and print figures
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	$(BIN)/python -m benchmarks

clean:  ## remove the virtualenv and caches (not ./.strongroom)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
