# The two commands a newcomer needs are `make run` and `make test`; both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Only these targets choose the relaxed local settings, and they say so; everything a deployment
# runs (manage.py, wsgi, celery, the image) defaults to project.settings.production.
LOCAL := DJANGO_SETTINGS_MODULE=project.settings.local
# The embedded default keeps codes, limits and decoys in this process's memory: one process, with
# threads. With REDIS_URL and DATABASE_URL set, WEB_WORKERS can be raised.
WEB_WORKERS ?= 1
WEB_THREADS ?= 8

.PHONY: run test install install-dev messages browser migrate superuser worker beat flower bench bench-scale lint schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-prod: requirements/base.txt requirements/production.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/production.txt
	touch $@

$(VENV)/.installed-dev: requirements/base.txt requirements/production.txt requirements/local.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/local.txt
	touch $(VENV)/.installed-prod $@

# The translation catalogs: locale/<language>/LC_MESSAGES/*.po are written by hand (after
# `manage.py makemessages`); the .mo files the server reads are built from them, never committed.
MO := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))

locale/%.mo: locale/%.po | $(VENV)/.installed-prod
	$(BIN)/pybabel -q compile -i $< -o $@

messages: $(MO)

install: $(VENV)/.installed-prod messages
install-dev: $(VENV)/.installed-dev messages

## run: serve the API on http://$(HOST):$(PORT) (embedded default unless DATABASE_URL/REDIS_URL are set)
run: install
	$(LOCAL) $(BIN)/python manage.py migrate --noinput
	$(LOCAL) $(BIN)/gunicorn project.wsgi:application --bind $(HOST):$(PORT) --workers $(WEB_WORKERS) \
	  --threads $(WEB_THREADS) --no-control-socket --access-logfile -

## test: the whole suite, against PostgreSQL and Redis (DATABASE_URL, TEST_REDIS_URL)
test: install-dev browser
	DJANGO_SETTINGS_MODULE=project.settings.test $(BIN)/python -m pytest $(PYTEST_ARGS)

# Tools the suite drives, from Debian: Chromium for the browser tests (Playwright never downloads
# one) and nginx for the scale recipe's proxy (never started as a service: the tests run their own
# on 127.0.0.1). Root can install them.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq; \
	    [ -x /usr/bin/chromium ] || apt-get install -y -qq chromium; \
	    if [ ! -x /usr/sbin/nginx ]; then \
	      policy=""; [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; \
	        chmod +x /usr/sbin/policy-rc.d; policy=1; }; \
	      apt-get install -y -qq --no-install-recommends nginx-light; \
	      [ -z "$$policy" ] || rm -f /usr/sbin/policy-rc.d; \
	    fi; \
	  else echo "Chromium or nginx is missing: run 'sudo apt-get install chromium nginx-light' for the browser and scale tests"; fi; \
	fi

migrate: install
	$(LOCAL) $(BIN)/python manage.py migrate --noinput

## superuser: an admin account for /admin/ on the local settings
superuser: install
	$(LOCAL) $(BIN)/python manage.py createsuperuser

## worker: the Celery worker that delivers codes (needs REDIS_URL or CELERY_BROKER_URL)
worker: install
	$(LOCAL) $(BIN)/celery -A project worker -Q notifications,default --loglevel=INFO -E

beat: install
	$(LOCAL) $(BIN)/celery -A project beat --loglevel=INFO

## flower: monitoring UI on http://127.0.0.1:5555 (FLOWER_BASIC_AUTH=user:password)
flower: install
	@if [ -z "$$FLOWER_BASIC_AUTH" ]; then echo "Set FLOWER_BASIC_AUTH=user:password first" >&2; exit 2; fi
	$(LOCAL) $(BIN)/celery -A project flower --address=127.0.0.1 --port=5555 --basic-auth="$$FLOWER_BASIC_AUTH"

## bench: the hot paths against a bare DRF floor on 2 gunicorn workers (PostgreSQL, Redis, wrk),
## then one worker's delivery rate; writes docs/benchmarks.md
bench: install-dev
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python bench/run.py

## bench-scale: the same with 10^6 users and 10^6 live refresh tokens in the database
bench-scale: install-dev
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python bench/run.py --scale 1000000 --output docs/benchmarks-scale.md

lint: install-dev
	$(BIN)/ruff check .

schema: install
	$(LOCAL) $(BIN)/python manage.py spectacular --validate --fail-on-warn --file openapi.yml

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .ruff_cache
