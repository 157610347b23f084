# Nuanxin: `make run` serves the demo county; `make test` runs the whole suite on PostgreSQL + Redis.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

# Test services default to the local PostgreSQL and Redis; DATABASE_URL / REDIS_URL override.
TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/nuanxin)
TEST_REDIS_URL ?= $(or $(REDIS_URL),redis://127.0.0.1:6379/15)
# The suite migrates as the URL's user (the owner) and runs as this role (tests/conftest.py), as production does.
TEST_DATABASE_APP_ROLE ?= nuanxin_app
TEST_ENV := DJANGO_SETTINGS_MODULE=config.settings DEBUG=0 NUANXIN_TESTING=1 SCOPE_GUARD=1 CELERY_EAGER=1 \
	SECRET_KEY=test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz \
	ID_ENCRYPTION_KEY=dGVzdC1vbmx5LWlkLWVuY3J5cHRpb24ta2V5LTMyYnk= ID_HMAC_KEY=test-only-hmac-key AUDIT_HMAC_KEY=test-only-audit-hmac-key \
	STATICFILES_BACKEND=django.contrib.staticfiles.storage.StaticFilesStorage \
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DATABASE_APP_ROLE=$(TEST_DATABASE_APP_ROLE)

.PHONY: run test lint format bench venv migrate demo clean

$(VENV)/.installed: requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

run: venv
	NUANXIN_DEMO=1 $(PY) manage.py migrate --noinput
	NUANXIN_DEMO=1 $(PY) manage.py load_demo
	NUANXIN_DEMO=1 $(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "暖心 is at http://$(HOST):$(PORT)/  (demo logins: see README.md, all passwords Demo@2024nx)"
	NUANXIN_DEMO=1 $(PY) manage.py runserver $(HOST):$(PORT) --noreload

test: venv
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# `make bench` measures production settings (no NUANXIN_TESTING / SCOPE_GUARD) on the county-scale
# database, built by the bench if missing; the ID keys are the ones that database was loaded with.
# BENCH_ARGS: e.g. "registry visit_post --repeat 9" or "--quick".
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/nuanxin_county
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
BENCH_ENV := DJANGO_SETTINGS_MODULE=bench.settings DEBUG=0 \
	SECRET_KEY=test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz \
	ID_ENCRYPTION_KEY=dGVzdC1vbmx5LWlkLWVuY3J5cHRpb24ta2V5LTMyYnk= ID_HMAC_KEY=test-only-hmac-key AUDIT_HMAC_KEY=test-only-audit-hmac-key \
	STATICFILES_BACKEND=django.contrib.staticfiles.storage.StaticFilesStorage \
	DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL)

bench: venv
	env -u NUANXIN_TESTING -u SCOPE_GUARD -u CELERY_EAGER $(BENCH_ENV) $(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) demo.sqlite3 staticfiles
