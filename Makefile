# ombud — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
export OMBUD_DATA_DIR ?= $(CURDIR)/var
export OMBUD_PORT ?= 8000

.PHONY: run test lint bench demo install chromium postgres clean migrate sysdeps messages

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

install: $(STAMP) sysdeps

## sysdeps: the system libraries WeasyPrint needs for PDF reports (Pango), from Debian
sysdeps:
	@ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || { \
	  echo "installing Pango for PDF reports"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null; }

migrate: install
	$(BIN)/ombud db upgrade

## run: set everything up and serve the demo at http://127.0.0.1:$(OMBUD_PORT)
run: migrate
	OMBUD_ENV=development $(BIN)/ombud demo load --if-empty
	OMBUD_ENV=development $(BIN)/ombud serve --host 127.0.0.1 --port $(OMBUD_PORT)

demo: migrate
	OMBUD_ENV=development $(BIN)/ombud demo load --if-empty

## chromium: Debian's Chromium for the browser tests (never a downloaded browser)
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian chromium for browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## postgres: start the local PostgreSQL cluster if it is down
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { \
	  echo "starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
	  for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: install chromium postgres lint
	$(BIN)/pytest -n 2 --dist loadgroup -p no:cacheprovider

bench: install postgres
	@for b in bench/[!_]*.py; do echo "# $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache

## messages: extract the public texts into messages.pot and update every catalogue
messages: install
	$(BIN)/pybabel extract -F babel.cfg -o src/ombud/resources/locale/messages.pot \
	  --no-location --sort-output --project ombud --version 0.1 .
	$(BIN)/pybabel update -i src/ombud/resources/locale/messages.pot \
	  -d src/ombud/resources/locale --no-location --no-fuzzy-matching
