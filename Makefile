# Community — common tasks. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.DEFAULT_GOAL := help
.PHONY: help install install-test translations run test test-postgres lint format clean browser

help: ## Show this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The bundled plugins, installed through their entry points like any third-party plugin.
BUNDLED_PLUGINS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))
PLUGIN_CATALOGS := $(wildcard plugins/*/*/translations)

install: $(BIN)/python ## Install Community and the bundled plugins into .venv
	$(BIN)/pip install -q -e . $(addprefix -e ,$(BUNDLED_PLUGINS))
	@$(MAKE) --no-print-directory translations

install-test: $(BIN)/python ## Install Community with the test tools into .venv
	$(BIN)/pip install -q -e '.[test]' $(addprefix -e ,$(BUNDLED_PLUGINS))
	@$(MAKE) --no-print-directory translations

translations: ## Compile the message catalogs of core and bundled plugins (.po -> .mo)
	$(BIN)/pybabel compile -d community/translations
	@for dir in $(PLUGIN_CATALOGS); do $(BIN)/pybabel compile -d $$dir; done

run: install ## Set up SQLite with demo content and start the site (and its worker) on http://127.0.0.1:5000
	$(BIN)/community db upgrade
	$(BIN)/community demo --if-empty --enable-plugin moderation --enable-plugin gamification --enable-plugin experts --enable-plugin ideation
	@echo "Open http://$(HOST):$(PORT)/ — demo admin: admin / community-admin"
	@# The background worker (search index, notifications, mail) runs beside the site and stops with it.
	COMMUNITY_SITE_URL=$${COMMUNITY_SITE_URL:-http://$(HOST):$(PORT)} $(BIN)/community worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/community run --host $(HOST) --port $(PORT) --with-threads

browser: ## Install Debian's Chromium for the browser tests when it is missing
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: install-test browser ## Install test dependencies and run the whole suite (SQLite)
	$(BIN)/pytest

test-postgres: install-test browser ## The whole suite on PostgreSQL (COMMUNITY_TEST_DATABASE_URL)
	COMMUNITY_TEST_DATABASE_URL=$${COMMUNITY_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(BIN)/pytest

lint: install-test ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install-test ## Format the code with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## Remove the virtualenv and caches (keeps instance/)
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
