# The two commands of the README: `make run` (the product, with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# `make run` is the local demo: DEBUG on, development secrets, SQLite unless DATABASE_URL is set,
# and a stand-in LeerID (oidc-provider-mock) with demo pupils on 127.0.0.1:9400.
RUN_PORT ?= 8000
LEERID_PORT ?= 9400
DEMO_ENV := DEBUG=true LEERID_DEMO=true LEERID_ISSUER=http://127.0.0.1:$(LEERID_PORT)

.PHONY: install run test lint format

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(INSTALLED)

install: $(INSTALLED)

run: install
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	$(DEMO_ENV) $(BIN)/python -m demo.run --port $(RUN_PORT) --leerid-port $(LEERID_PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
