# Coprod: `make run` (set up and serve the demo), `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PORT ?= 8000

.PHONY: run test serve install lint typecheck check migrate demo messages clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_study --builtin
	$(PY) manage.py seed_demo

## run: set everything up and serve at http://127.0.0.1:$(PORT)
## (SQLite + in-process tasks by default; with DATABASE_URL / CELERY_BROKER_URL
## set it uses PostgreSQL, Redis and a real Celery worker and beat)
run: demo
	@echo "Coprod is starting at http://127.0.0.1:$(PORT)/ (admin: http://127.0.0.1:$(PORT)/admin/)"
	@if [ -n "$$CELERY_BROKER_URL" ]; then \
		PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT) $(BIN)/honcho -f Procfile.dev start; \
	else \
		$(PY) manage.py runserver 127.0.0.1:$(PORT); \
	fi

## test: the whole suite (embedded defaults, or the real services when their URLs are set)
test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy coprod surveys analytics

## check: migrations in sync and the deploy checklist clean on production settings
check: install
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=coprod.settings.production $(PY) manage.py check --deploy --fail-level WARNING

## serve: the production run (gunicorn + Celery worker + beat); needs the production
## environment (DJANGO_SETTINGS_MODULE=coprod.settings.production, SECRET_KEY, ...)
serve: install
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-coprod.settings.production} $(PY) manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-coprod.settings.production} $(PY) manage.py collectstatic --noinput
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-coprod.settings.production} PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile start

## messages: refresh the interface catalogues (locale/) and compile them (needs GNU gettext)
messages: install
	$(PY) manage.py makemessages -l fr -l de -l da -l cs --ignore='.venv/*' --ignore='tests/*' --ignore='bench/*' --no-obsolete
	$(PY) manage.py compilemessages --ignore='.venv/*'

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache
