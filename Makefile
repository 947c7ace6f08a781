# Infoshare: the two commands (README.md) and the benchmarks.
#   make run    set up, migrate, load demo data, serve http://127.0.0.1:$(PORT)
#   make test   set up, then ruff, mypy and the whole test suite
#   make bench  set up, then the benchmarks in bench/ (JSON in bench/results/)
SHELL := /bin/bash
PYTHON ?= python3
PY := .venv/bin/python
PORT ?= 8000

.PHONY: run test bench setup lint browser pdf-libs clean

run: setup pdf-libs .env
	@mkdir -p var
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	@echo "Infoshare is at http://127.0.0.1:$(PORT) (stop with Ctrl-C)"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Development settings for this machine only (git-ignored); never in production.
.env:
	@echo "DEBUG=true" > $@
	@$(PYTHON) -c 'import base64, os; print("INFOSHARE_MASTER_KEY=" + base64.urlsafe_b64encode(os.urandom(32)).decode())' >> $@
	@echo "Wrote .env with DEBUG=true (development only)."

test: setup browser pdf-libs lint
	$(PY) -m pytest

bench: setup
	$(PY) bench/audit.py
	$(PY) bench/decisions.py
	$(PY) bench/agreements.py
	$(PY) bench/anonymise.py
	$(PY) bench/transfers.py

lint: setup
	$(PY) -m ruff check .
	DEBUG=true $(PY) -m mypy infoshare  # the settings load as on a developer machine

setup: .venv/.installed infoshare/static/dist/.built

.venv/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

infoshare/static/dist/.built: node_modules/.installed $(shell find assets -type f)
	npm run --silent build
	@touch $@

# The browser tests drive Debian's Chromium (Playwright cannot download its own here).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

# WeasyPrint renders PDFs with Debian's Pango.
pdf-libs:
	@ldconfig -p | grep -q libpangoft2-1.0 || { apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0; }

clean:
	rm -rf .venv node_modules infoshare/static/dist staticfiles var
