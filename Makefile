# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test lint messages browser-deps bench-quotes clean

$(PY):
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_demo_admin
	$(PY) manage.py ensure_demo_staff
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver $(HOST):$(PORT)

# The production process model (Procfile: gunicorn, Celery workers, beat) under honcho, on PostgreSQL and Redis.
SERVE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/lending
SERVE_BROKER_URL ?= redis://127.0.0.1:6379/0

serve: $(VENV)/.installed-dev
	export DATABASE_URL="$${DATABASE_URL:-$(SERVE_DATABASE_URL)}" CELERY_BROKER_URL="$${CELERY_BROKER_URL:-$(SERVE_BROKER_URL)}" \
		PATH="$(CURDIR)/$(VENV)/bin:$$PATH" && \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py ensure_demo_admin && \
	exec honcho start -p $(PORT)

test: $(VENV)/.installed-dev browser-deps
	$(PY) -m pytest

# The browser tests drive the system Chromium (never `playwright install`, which downloads one). Installed
# here when missing and possible (root with apt-get); otherwise those tests skip, and fail in CI.
browser-deps:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
			|| echo "could not install chromium: the browser tests will skip (fail in CI)" >&2; \
	else echo "chromium is missing and cannot be installed here: the browser tests will skip (fail in CI)" >&2; fi

# Re-extract the project's strings into locale/zh_Hans and recompile the .mo (needs GNU gettext);
# translate the new or fuzzy entries in django.po, then run it again. The compiled .mo is committed.
messages: $(VENV)/.installed-dev
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --add-location=file \
		--ignore='.venv/*' --ignore='var/*' --ignore='bench/*' --ignore='tests/*'
	$(PY) manage.py compilemessages -l zh_Hans --ignore='.venv/*'

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* var .pytest_cache .hypothesis
