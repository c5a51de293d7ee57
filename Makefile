# The portal's entry points. `make run` and `make test` do all the set-up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Debian's chromium drives the browser tests; Playwright never downloads one.
CHROMIUM ?= $(firstword $(wildcard /usr/bin/chromium /usr/bin/chromium-browser))

# Python 3.12 or newer: PYTHON=... wins; otherwise the first candidate that
# really runs (pyenv shims exist for versions that are not selected, and fail).
PYTHON_CANDIDATES := $(PYTHON) python3.13 python3.12 python3 \
	$(sort $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3)) \
	$(wildcard /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9])
FOUND_PYTHON := $(shell for p in $(PYTHON_CANDIDATES); do \
	if "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	"$$p" -c 'import sys; print(sys.executable)'; break; fi; done)

.PHONY: help run test lint format check-migrations messages makemessages chromium libreoffice \
	install install-dev worker beat bench bench-compute bench-serve bench-pages clean

help:
	@echo "make run    install, migrate, load the demo province and serve http://$(HOST):$(PORT)"
	@echo "make test   install and run the whole test suite"
	@echo "make lint   ruff (lint and format check) and mypy"
	@echo "make worker / make beat   a Celery worker / the beat scheduler (need REDIS_URL)"
	@echo "make bench  the case-record benchmark on PostgreSQL (bench/README.md)"
	@echo "make bench-compute  the year's computation for 3,321 communes (bench/README.md)"
	@echo "make bench-serve  the rankings and the dashboard under load, gunicorn and wrk (bench/README.md)"
	@echo "make bench-pages  every page of each role against a time budget (bench/README.md)"

$(BIN)/python:
	@if [ -z "$(FOUND_PYTHON)" ]; then \
	  echo "No Python 3.12 or newer found (tried: $(PYTHON_CANDIDATES))." >&2; \
	  echo "Install python3.12 or python3.13, or run: make PYTHON=/path/to/python3.12 ..." >&2; \
	  exit 1; fi
	"$(FOUND_PYTHON)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.stamp-install: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.stamp-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(VENV)/.stamp-install $@

install: $(VENV)/.stamp-install messages .env
install-dev: $(VENV)/.stamp-dev messages .env

# A development machine's settings, written once when there is no .env: DEBUG
# on and a secret key of its own, so that `.venv/bin/python manage.py ...`
# works as the README prints it. Never production's: the image never copies a
# .env (.dockerignore) and docker-compose sets DEBUG=0 itself; an existing .env
# (docker-compose's, or one you edited) is never touched.
.env: | $(BIN)/python
	@umask 077 && { \
	  echo "# Written by make on $$(date +%F) for development on this machine only."; \
	  echo "# Production sets its own variables (.env.example, docs/operations.md)."; \
	  echo "DEBUG=1"; \
	  echo "SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
	} > $@.tmp && mv $@.tmp $@
	@echo "Wrote .env for development (DEBUG=1 and a generated SECRET_KEY)."

# Compiled catalogues are build output (.gitignore'd); Babel needs no system gettext.
messages: $(VENV)/.stamp-install
	@$(BIN)/pybabel compile --domain django --directory locale --statistics 2>&1 | grep -v '^compiling' || true

# Developers: refresh the catalogues from the source (needs Debian's gettext).
makemessages: $(VENV)/.stamp-install
	$(BIN)/python manage.py makemessages --locale vi --locale en --no-obsolete \
	  --ignore '.venv/*' --ignore 'bench/*' --ignore 'tests/*'

# DEBUG and the key come from .env (written by install), as for every command.
run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# $(call debian_package,PACKAGE,WHAT_FOR): installed with apt-get when the
# session is root (as on CI), else a message saying what to install.
define debian_package
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's $(1) for $(2)"; \
	  (apt-get install -y -qq $(1) >/dev/null 2>&1 || \
	   (apt-get update -qq && apt-get install -y -qq $(1) >/dev/null)); \
	else \
	  echo "$(1) is missing, for $(2): sudo apt-get install $(1)" >&2; \
	  exit 1; \
	fi
endef

chromium:
ifeq ($(CHROMIUM),)
	$(call debian_package,chromium,the browser tests (or CHROMIUM=/path/to/chromium))
endif

# A real spreadsheet program opens the exports in a test (Debian's LibreOffice).
libreoffice:
ifeq ($(shell command -v soffice),)
	$(call debian_package,libreoffice-calc-nogui,the export tests)
endif

# One pytest worker per core (pytest-xdist); PYTEST_JOBS=0 runs in one process.
# Bytecode is written even where the environment says not to
# (PYTHONDONTWRITEBYTECODE): otherwise every worker compiles the portal and
# rewrites every test module again, run after run.
PYTEST_JOBS ?= auto
test: install-dev chromium libreoffice
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m compileall -q -j 0 \
	  cchc_portal commitments procedures scoring demo
	PYTHONDONTWRITEBYTECODE= CHROMIUM="$(or $(CHROMIUM),/usr/bin/chromium)" \
	  $(BIN)/pytest -n $(PYTEST_JOBS) \
	  --dist worksteal $(PYTEST_ARGS); \
	status=$$?; [ $$status -eq 5 ] && echo "pytest collected no tests" >&2; exit $$status

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/mypy .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-migrations: install
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

worker: install
	$(BIN)/celery -A cchc_portal worker --loglevel INFO

beat: install
	$(BIN)/celery -A cchc_portal beat --loglevel INFO

# Drops and recreates its own database (cchc_bench, or BENCH_DATABASE_URL).
bench: install-dev
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The year's computation: 3,321 communes x 100 leaves (cchc_bench_compute).
bench-compute: install-dev
	$(BIN)/python bench/compute.py $(BENCH_ARGS)

# Serving under load: gunicorn on the loopback, PostgreSQL, Redis, and Debian's
# wrk as the load (cchc_bench_serve, Redis database 5).
bench-serve: install-dev
ifeq ($(shell command -v wrk),)
	$(call debian_package,wrk,the serving benchmark)
endif
	$(BIN)/python bench/serve.py $(BENCH_ARGS)

# The page budget: each role's pages at province scale, in process
# (cchc_bench_pages, built once and reused).
bench-pages: install-dev
	$(BIN)/python bench/pages.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache *.egg-info
