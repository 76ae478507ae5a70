# cutout: the two commands a user needs are `make demo` and `make test`.
# Every target creates .venv and installs what it needs; nothing is installed by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= auto

.PHONY: help venv test test-fast lint typecheck check bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(STAMP): pyproject.toml layers/cutout/requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "cutout needs Python >= 3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(STAMP) ## create .venv and install the project with its dev dependencies (quick when nothing changed)

lint: venv ## ruff on everything
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv ## mypy --strict on the library and the tools
	$(BIN)/mypy

test: venv ## the whole suite: lint, types, unit, functional, e2e (slow ones too)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n $(PYTEST_WORKERS) tests

test-fast: venv ## unit and functional tests, without the slow ones
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m 'not slow' tests/unit tests/functional

bench: venv ## benchmarks: print figures, write bench/results.json
	$(BIN)/python bench/engine_quality.py

clean: ## remove build and test leftovers (keeps .venv)
	rm -rf .aws-sam build dist out .pytest_cache .mypy_cache .ruff_cache
