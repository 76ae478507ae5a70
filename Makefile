# cutout: the two commands a user needs are `make demo` and `make test`.
# Every target creates .venv and installs what it needs; nothing is installed by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= auto

.PHONY: help venv test test-fast lint typecheck bench bench-backfill mutation clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(STAMP): pyproject.toml layers/cutout/requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "cutout needs Python >= 3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@# setuptools' "Editable installation" notice is information only: not the first thing a new user should read.
	PYTHONWARNINGS='ignore:Editable installation' $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(STAMP) ## create .venv and install the project with its dev dependencies (quick when nothing changed)

lint: venv ## ruff on everything, and the layering contracts (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: venv ## mypy --strict on the library and the tools
	$(BIN)/mypy

test: venv tools browser ## the whole suite: lint, types, the docs' strict build, unit, functional, e2e (slow ones too)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(MKDOCS) build --strict --site-dir $(DOCS_SITE)
	$(BIN)/pytest -n $(PYTEST_WORKERS) tests

# The documentation site (mkdocs.yml, docs/); --strict: a broken link or anchor fails the build
# (not with --quiet: mkdocs then counts no warnings, and strict passes whatever is broken).
MKDOCS := NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs
DOCS_SITE ?= site

.PHONY: docs
docs: venv ## build the documentation site into site/ (strict: broken links fail); open site/index.html
	$(MKDOCS) build --strict --site-dir $(DOCS_SITE)

test-fast: venv ## unit and functional tests, without the slow ones
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m 'not slow' tests/unit tests/functional

BENCH_ARGS ?=
bench: venv ## benchmarks: engine quality, variants vs Pillow alone, performance vs the naive handler, the default deployment's cost (BENCH_ARGS=--quick: fast)
	$(BIN)/python bench/engine_quality.py
	$(BIN)/python bench/variants.py
	$(BIN)/python bench/performance.py $(BENCH_ARGS)
	$(BIN)/python bench/default_cost.py $(filter --quick,$(BENCH_ARGS))
	$(BIN)/python bench/camera_batch.py

bench-backfill: venv ## inventory backfill: 1,000,000 rows (+2,000 into moto's SQS) timed, and their SQS cost on AWS
	$(BIN)/python bench/inventory_backfill.py $(BENCH_BACKFILL_ARGS)

MUTATION_MODULES ?=
MUTATION_ARGS ?=
mutation: venv ## mutation score of the rule-holding modules (cosmic-ray; long, not part of `make test`): MUTATION_MODULES="spending.guard ..." to scope
	$(BIN)/python bench/mutation.py $(MUTATION_ARGS) $(MUTATION_MODULES)

clean: ## remove build and test leftovers (keeps .venv)
	rm -rf .aws-sam build dist out site .pytest_cache .mypy_cache .ruff_cache

# --- Template tooling: SAM CLI, cfn-lint (+ serverless rules), checkov -----------------------------
# These tools pin dependencies that conflict with the project's (boto3, pydantic, ...), so each one
# lives in its own venv under .tools/<name>/ (gitignored), created on first use from pinned versions.
TOOLS := .tools
SAM_CLI_VERSION := 1.170.0
CFN_LINT_VERSION := 1.58.0
CFN_LINT_SERVERLESS_VERSION := 0.3.6
CHECKOV_VERSION := 3.3.30
TEMPLATE := template.yaml
# The template is region-agnostic; the linters and the SAM translator still need one to resolve ARNs.
TEMPLATE_REGION ?= us-east-1
TOOL_PIP := -m pip install --quiet --disable-pip-version-check
SAM := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$(TEMPLATE_REGION) $(TOOLS)/sam/bin/sam

.PHONY: tools lint-template build

$(TOOLS)/sam/.installed-$(SAM_CLI_VERSION):
	rm -rf $(TOOLS)/sam && $(PYTHON) -m venv $(TOOLS)/sam
	$(TOOLS)/sam/bin/python $(TOOL_PIP) --upgrade pip
	$(TOOLS)/sam/bin/python $(TOOL_PIP) 'aws-sam-cli==$(SAM_CLI_VERSION)'
	@touch $@

$(TOOLS)/cfn-lint/.installed-$(CFN_LINT_VERSION)-$(CFN_LINT_SERVERLESS_VERSION):
	rm -rf $(TOOLS)/cfn-lint && $(PYTHON) -m venv $(TOOLS)/cfn-lint
	$(TOOLS)/cfn-lint/bin/python $(TOOL_PIP) --upgrade pip
	$(TOOLS)/cfn-lint/bin/python $(TOOL_PIP) 'cfn-lint==$(CFN_LINT_VERSION)' \
		'cfn-lint-serverless==$(CFN_LINT_SERVERLESS_VERSION)'
	@touch $@

$(TOOLS)/checkov/.installed-$(CHECKOV_VERSION):
	rm -rf $(TOOLS)/checkov && $(PYTHON) -m venv $(TOOLS)/checkov
	$(TOOLS)/checkov/bin/python $(TOOL_PIP) --upgrade pip
	$(TOOLS)/checkov/bin/python $(TOOL_PIP) 'checkov==$(CHECKOV_VERSION)'
	@touch $@

tools: $(TOOLS)/sam/.installed-$(SAM_CLI_VERSION) $(TOOLS)/cfn-lint/.installed-$(CFN_LINT_VERSION)-$(CFN_LINT_SERVERLESS_VERSION) $(TOOLS)/checkov/.installed-$(CHECKOV_VERSION) ## install SAM CLI, cfn-lint, checkov and pip-audit, each in .tools/<name>/

lint-template: $(TOOLS)/sam/.installed-$(SAM_CLI_VERSION) $(TOOLS)/cfn-lint/.installed-$(CFN_LINT_VERSION)-$(CFN_LINT_SERVERLESS_VERSION) ## cfn-lint (+ serverless rules) and sam validate --lint on template.yaml
	AWS_DEFAULT_REGION=$(TEMPLATE_REGION) $(TOOLS)/cfn-lint/bin/cfn-lint --regions $(TEMPLATE_REGION) \
		--append-rules cfn_lint_serverless.rules -- $(TEMPLATE)
	$(SAM) validate --lint --template-file $(TEMPLATE)

# The layer and function build with `BuildMethod: makefile` (no Docker, no python3.13 needed for the
# wheels): their Makefiles run `python3 -m pip install --platform ...`, and python3 is the SAM venv's.
# Two checks run first and fail loudly, one line each (cutout_tools/build_checks.py):
# - the profiles file the function will load (PROFILES_FILE, the template's ProfilesFile), validated as
#   the function validates it at start: a wrong one is named with its profile, variant and field;
# - CPython 3.13, the runtime's Python, to compile the layer's bytecode (python3.13 on the PATH, or
#   PYC_PYTHON=/path): without it the build stops and says how to get one (ALLOW_NO_BYTECODE=1 builds
#   without, with a warning: every cold start then compiles the layer).
PROFILES_FILE ?= profiles.toml
PYC_PYTHON ?=
ALLOW_NO_BYTECODE ?=

.PHONY: build-checks
build-checks: venv ## the checks `make build` runs first: the profiles file, and CPython 3.13 for the layer's bytecode
	@$(BIN)/python -m cutout_tools.build_checks profiles --setting '$(PROFILES_FILE)'
	@$(BIN)/python -m cutout_tools.build_checks bytecode $(if $(PYC_PYTHON),--python '$(PYC_PYTHON)') \
		$(if $(ALLOW_NO_BYTECODE),--allow-missing) >/dev/null

build: build-checks $(TOOLS)/sam/.installed-$(SAM_CLI_VERSION) ## sam build into .aws-sam/build/ (layer wheels for arm64 / CPython 3.13, with bytecode)
	@pyc=$$($(BIN)/python -m cutout_tools.build_checks bytecode $(if $(PYC_PYTHON),--python '$(PYC_PYTHON)') \
		$(if $(ALLOW_NO_BYTECODE),--allow-missing) 2>/dev/null); \
	PATH="$(CURDIR)/$(TOOLS)/sam/bin:$$PATH" PYC_PYTHON="$$pyc" ALLOW_NO_BYTECODE='$(ALLOW_NO_BYTECODE)' \
		$(SAM) build --template-file $(TEMPLATE)

# --- Report and samples ----------------------------------------------------------------------------
.PHONY: browser samples cli-reference

cli-reference: venv ## regenerate the command-line reference (docs/cli.md) from the `cutout` parser
	$(BIN)/python -m cutout_tools.cli_reference docs/cli.md

CHROMIUM := /usr/bin/chromium

browser: ## headless Chromium (Debian's chromium) for the report's browser test; quick when installed
	@test -x $(CHROMIUM) || { apt-get update && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends chromium; }
	@$(CHROMIUM) --version 2>/dev/null

samples: venv ## regenerate samples/ (needs npm once for the emoji SVGs; the result is committed)
	$(BIN)/python -m cutout_tools.samples samples
	$(BIN)/python -m cutout_tools.upload_samples samples

# --- The demo: the whole pipeline on this machine, offline ------------------------------------------
# template.yaml on moto, the Aidge emulator with the local studio engine, the real function in-process.
# No AWS account, no Aidge key, no Docker; only the package registries, for `make venv`.
DEMO_INPUT ?= samples/
DEMO_OUT ?= out/

.PHONY: demo
demo: venv ## process samples/ through the local stack into out/ (open out/report.html; out/review-page.png: the review page)
	@# Chromium takes the review page's screenshot; without it (no root for apt-get) the demo runs without one.
	@$(MAKE) --no-print-directory browser >/dev/null 2>&1 || echo "make demo: no Chromium (make browser): no screenshot of the review page"
	$(BIN)/cutout local run $(DEMO_INPUT) --out $(DEMO_OUT) --review-screenshot

# --- Reliability and security (issue 5): soak, dependency audit, strict template scan ---------------
PIP_AUDIT_VERSION := 2.10.1
# Known vulnerabilities accepted with a reason, one `--ignore-vuln ID` each (with a comment saying
# why it does not apply). None today.
PIP_AUDIT_IGNORES :=
SOAK_UPLOADS ?= 1000

.PHONY: soak audit security

$(TOOLS)/pip-audit/.installed-$(PIP_AUDIT_VERSION):
	rm -rf $(TOOLS)/pip-audit && $(PYTHON) -m venv $(TOOLS)/pip-audit
	$(TOOLS)/pip-audit/bin/python $(TOOL_PIP) --upgrade pip
	$(TOOLS)/pip-audit/bin/python $(TOOL_PIP) 'pip-audit==$(PIP_AUDIT_VERSION)'
	@touch $@

tools: $(TOOLS)/pip-audit/.installed-$(PIP_AUDIT_VERSION)

soak: venv ## fault soak: SOAK_UPLOADS (1000) uploads through moto + the emulator at 30 % faults; prints figures
	$(BIN)/python bench/soak.py --uploads $(SOAK_UPLOADS)

# pip-audit asks PyPI's JSON API for each pinned version's known vulnerabilities. --strict: a
# dependency it cannot look up fails the audit instead of being skipped silently.
audit: $(TOOLS)/pip-audit/.installed-$(PIP_AUDIT_VERSION) ## pip-audit of the runtime dependencies (layers/cutout/requirements.txt)
	@set -o pipefail; status=0; \
	$(TOOLS)/pip-audit/bin/pip-audit --strict --progress-spinner off --requirement layers/cutout/requirements.txt \
		$(PIP_AUDIT_IGNORES) 2>&1 | grep -v "^WARNING: Location 'file:" | tee $(TOOLS)/pip-audit/last-run.txt || status=$$?; \
	if [ $$status -ne 0 ] && grep -q "could not be audited" $(TOOLS)/pip-audit/last-run.txt; then \
		echo "audit FAILED: no vulnerability data. pip-audit could not look the pinned runtime dependencies up in PyPI's vulnerability data (offline, or the service does not answer). Nothing was audited." >&2; \
	fi; exit $$status

security: lint-template $(TOOLS)/checkov/.installed-$(CHECKOV_VERSION) ## cfn-lint (+ serverless rules) and strict checkov (cloudformation + secrets) on template.yaml
	BC_SKIP_MAPPING=TRUE $(TOOLS)/checkov/bin/checkov --quiet --compact --framework cloudformation secrets --file $(TEMPLATE)
