# casework: developer entry points.
#   make run     set up everything, migrate, load demo data, serve on http://127.0.0.1:5000
#   make test    set up everything, run all tests (SQLite, PostgreSQL + replica, browser, deploy): scripts/test-all.sh
#   make serve   production-ish: gunicorn on 127.0.0.1:8000, needs CASEWORK_DATABASE_URL and CASEWORK_PUBLIC_URL
#   make system  install the missing Debian packages (scripts/install-system.sh)
#   make venv    create .venv and install casework with its test and serve extras
#   make axe     install axe-core (pinned in package-lock.json) into node_modules/ for the browser tests
#   make clean   remove .venv, instance/ and node_modules/

SHELL   := /bin/bash
PYTHON3 ?= python3
VENV    := .venv
FLASK   := $(VENV)/bin/flask --app wsgi

.DEFAULT_GOAL := help
.PHONY: help system venv axe run test serve clean require-database-url require-public-url

help:
	@sed -n 's/^#   //p' Makefile

system:
	scripts/install-system.sh

venv: $(VENV)/.installed

# Re-run only when the dependencies change. A missing, broken or too old .venv is (re)created.
$(VENV)/.installed: setup.cfg pyproject.toml
	@if ! $(PYTHON3) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
		echo "error: casework needs Python >= 3.11, but '$(PYTHON3)' is:" \
			"$$(command -v $(PYTHON3) >/dev/null && $(PYTHON3) --version 2>&1 || echo 'not found')." \
			"Install Python 3.11+ or run: make PYTHON3=/path/to/python3.11 ..." >&2; \
		exit 1; \
	fi
	@if ! $(VENV)/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
		echo "Creating $(VENV) with $$($(PYTHON3) --version)"; \
		$(PYTHON3) -m venv --clear $(VENV); \
	fi
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test,serve]'
	touch $@

# axe-core checks every page the browser tests visit; npm ci installs exactly the locked version.
AXE := node_modules/axe-core/axe.min.js
axe: $(AXE)

$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: system venv
	$(FLASK) db upgrade
	$(FLASK) casework demo
	exec scripts/run-dev.sh

test: system venv axe
	scripts/test-all.sh

require-database-url:
	@if [ -z "$$CASEWORK_DATABASE_URL" ]; then \
		echo "error: make serve needs CASEWORK_DATABASE_URL, e.g." \
			"CASEWORK_DATABASE_URL=postgresql+psycopg://casework@127.0.0.1:5432/casework make serve" >&2; \
		exit 1; \
	fi

# Printed on notices and QR codes, in mails and in the OpenAPI servers; never taken from a request's Host.
require-public-url:
	@if [ -z "$$CASEWORK_PUBLIC_URL" ]; then \
		echo "error: make serve needs CASEWORK_PUBLIC_URL, the address people reach the service at, e.g." \
			"CASEWORK_PUBLIC_URL=https://casework.example.org make serve" >&2; \
		exit 1; \
	fi

serve: require-database-url require-public-url system venv
	$(FLASK) db upgrade
	exec scripts/run-dev.sh $(VENV)/bin/gunicorn -w 4 -b 127.0.0.1:8000 wsgi:app

clean:
	rm -rf $(VENV) instance/ node_modules/
