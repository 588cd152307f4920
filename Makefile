# Atrium: `make run` serves the demo on http://127.0.0.1:8000; `make test` runs every check and the whole suite.
# Both work on a fresh Debian/Ubuntu machine that has Python 3 and Node.js; run as root so missing system
# packages can be installed with apt (otherwise the command that would install them is printed).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist workers for `make test` (CI has two cores); TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= 2

# What the test suite needs from the system: MariaDB and Redis servers (started privately by the harness), and
# the headers to compile mysqlclient and python-ldap.
TEST_SYSTEM_PACKAGES := mariadb-server mariadb-client redis-server default-libmysqlclient-dev pkg-config \
	build-essential libldap2-dev libsasl2-dev python3-dev slapd ldap-utils xmlsec1 chromium galera-4 rsync cron \
	nginx haproxy shellcheck cloud-init prometheus systemd

.PHONY: run test lint typecheck templates migrations-check docs pytest bench clean venv venv-test node \
	system-packages python-venv

run: venv node  ## Install, migrate, load the demo and serve it on http://127.0.0.1:8000
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo "Serving the demo on http://$(HOST):$(PORT)/ — sign in as fiona / atrium-demo (see README.md)."
	$(PY) manage.py runserver $(HOST):$(PORT)

test: system-packages venv-test node lint typecheck templates migrations-check docs pytest  ## Everything CI runs

python-venv:
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; \
		else echo "Python's venv module is missing: run 'sudo apt-get install python3-venv'"; exit 1; fi; }

$(VENV)/.base: requirements/base.txt | python-venv
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements/base.txt
	touch $@

$(VENV)/.test: $(VENV)/.base requirements/test.txt requirements/mysql.txt requirements/ldap.txt
	$(PIP) install -q -r requirements/test.txt
	touch $@

venv: $(VENV)/.base
venv-test: $(VENV)/.test

node: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

system-packages:
	@command -v dpkg-query >/dev/null || { echo "Not a Debian/Ubuntu system: install MariaDB, Redis and the mysqlclient/python-ldap headers yourself (docs/setup/)."; exit 0; }; \
	missing=""; for p in $(TEST_SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing system packages:$$missing"; \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
		else echo "Missing system packages:$$missing — run: sudo apt-get install$$missing"; exit 1; fi; \
	fi

lint: venv-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv-test
	$(VENV)/bin/mypy platform tenants themes

templates: venv-test
	$(VENV)/bin/djlint --lint platform tenants themes

migrations-check: venv-test
	$(PY) manage.py makemigrations --check --dry-run

docs: venv-test
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir $$(mktemp -d)

pytest: venv-test node
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadgroup --durations=30

bench: system-packages venv-test node  ## Benchmarks (tests/perf); not part of `make test`
	@command -v wrk >/dev/null || { if [ "$$(id -u)" = 0 ]; then apt-get install -y -q wrk; else echo "Install wrk: sudo apt-get install wrk"; exit 1; fi; }
	$(VENV)/bin/pytest tests/perf -p no:cacheprovider -s -q

clean:
	rm -rf $(VENV) node_modules var site .pytest_cache .mypy_cache .ruff_cache .hypothesis
