# One tooling path for developers and CI. `make run` and `make test` set everything up themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed

.PHONY: run test lint format bench verdicts setup clean extension extension-test chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(RUNTIME): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(DEV): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(RUNTIME) $@

setup: $(DEV)

## Set up, migrate, create the first admin (printing a sign-in link) and start web + jobs.
run: $(RUNTIME)
	$(BIN)/python -m config.devenv
	$(FLASK) db upgrade
	$(FLASK) bootstrap
	$(FLASK) serve

## Set up and run the whole suite (SQLite, and PostgreSQL when it answers), the extension's too.
test: $(DEV) extension-test
	$(BIN)/python -m pytest

## Ruff, then known vulnerabilities in the pinned Python and npm packages (pip-audit, npm audit;
## an unreachable vulnerability database is reported, not failed).
lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m tests.security.dependency_audit

format: $(DEV)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Throughput and latency of the pixel and the redirect against nginx and bare Flask.
bench: $(DEV)
	$(BIN)/python -m bench.run

## Replay the labelled hit scenarios against the running `make run` server (started with
## TRUSTED_PROXIES=127.0.0.1/32) and print verdict accuracy per kind of traffic. The replay uses
## an account of its own, deleted afterwards.
verdicts: $(DEV)
	@run=$$(date +%s); user=verdict-replay-$$run@replay.invalid; account="Verdict replay $$run"; \
	$(FLASK) users create $$user --account "$$account" >/dev/null && \
	token=$$($(FLASK) tokens create $$user --label "verdict replay") && \
	$(BIN)/python -m tests.tracking.verdicts.labelled.replay \
		--url http://127.0.0.1:$${PORT:-5000} --token "$$token"; status=$$?; \
	$(FLASK) accounts terminate "$$account" --mode delete --yes >/dev/null; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache extension/node_modules extension/dist extension/dist-test

## The Gmail extension (extension/): npm packages, builds, and Debian's Chromium for its e2e tests.
NODE_MODULES := extension/node_modules/.package-lock.json
$(NODE_MODULES): extension/package.json extension/package-lock.json
	cd extension && npm ci --no-audit --no-fund

## extension/dist/ (load unpacked) and extension/leadcamp-extension.zip; needs INBOXSDK_APP_ID.
extension: $(NODE_MODULES)
	cd extension && node build.mjs

chromium:
	@test -x /usr/bin/chromium || ($(SUDO) apt-get update && \
		$(SUDO) apt-get install -y --no-install-recommends chromium chromium-driver)

## The test build (fake Gmail adapter) the e2e tests load, and the Node unit tests.
extension-test: $(NODE_MODULES) chromium
	cd extension && LEADCAMP_SERVER_URL=http://127.0.0.1 node build.mjs --test
	cd extension && node --test test/
