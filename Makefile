# relman: the two commands that matter are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export RELMAN_DATA_DIR ?= $(CURDIR)/var
# pytest-xdist workers of `make test` (the CI machine has 2 cores).
TEST_WORKERS ?= 2

.PHONY: run test install install-dev lint format messages bench fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -qq --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -qq -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -qq -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## Serve http://127.0.0.1:8000 on the embedded SQLite database with demo data.
run: install
	$(BIN)/relman setup --demo
	$(BIN)/relman serve --embedded-worker $(if $(PORT),--port $(PORT))

## Lint, migrations check and the whole suite (SQLite; also PostgreSQL when
## RELMAN_TEST_DATABASE_URL is set).
test: install-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	RELMAN_DATA_DIR=$$(mktemp -d) $(BIN)/python manage.py makemigrations --check --dry-run
	RELMAN_DATA_DIR=$$(mktemp -d) $(BIN)/pytest -q -n $(TEST_WORKERS)
	if [ -n "$$RELMAN_TEST_DATABASE_URL" ]; then \
	  RELMAN_DATA_DIR=$$(mktemp -d) DATABASE_URL="$$RELMAN_TEST_DATABASE_URL" $(BIN)/pytest -q -n $(TEST_WORKERS); \
	fi

lint: install-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Refresh the Chinese catalogue (needs gettext) and compile it.
messages: install-dev
	cd relman && ../$(BIN)/django-admin makemessages -l zh_Hans --no-obsolete --settings=relman.settings --pythonpath=..
	cd relman && ../$(BIN)/django-admin compilemessages -l zh_Hans --settings=relman.settings --pythonpath=..

## A longer schemathesis pass over the API: 200 examples per operation, new inputs each run.
fuzz: install-dev
	RELMAN_DATA_DIR=$$(mktemp -d) RELMAN_FUZZ_EXAMPLES=200 RELMAN_FUZZ_RANDOM=1 $(BIN)/pytest -q -n 2 tests/api/test_fuzz.py

bench: install-dev
	$(BIN)/python bench/api_list.py

clean:
	rm -rf $(VENV) var
