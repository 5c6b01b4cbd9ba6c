# Mission Control: `make run` sets up and starts everything; `make test` sets up and tests;
# `make up` runs it as containers (docs/deployment.md).
PYTHON ?= python3
# make test: pytest processes in parallel (pytest-xdist); 0 runs the suite in this process.
TEST_WORKERS ?= 2
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := core ground command-sender spacecraft registry-api robot-server robot-client

.PHONY: install migrate seed run test bench clean up down logs compose-test

$(STAMP): $(addsuffix /pyproject.toml,$(PACKAGES)) requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(addprefix -e ./,$(PACKAGES)) -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/mc-migrate

seed: migrate
	$(BIN)/registry-seed

run: seed
	@$(BIN)/python -m mission_control.serve --addresses
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile start --no-prefix

# PYTHONDONTWRITEBYTECODE emptied: where the environment sets it, every process of the run
# (each pytest worker's collection, every service it starts) would compile the project again.
test: install
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var

# -- the docker-compose stack (docs/deployment.md) -------------------------------------------
# Compose v2 (`docker compose`) when the docker CLI has it, else the standalone docker-compose.
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
COMPOSE_PROJECT_NAME ?= mission-control
PUBLISH_HOST ?= 127.0.0.1
export PUBLISH_HOST
# compose-test: its own project (fresh database, removed afterwards) without the override
# file, so it publishes no port and runs beside the stack of `make up`; short delays.
TEST_COMPOSE = $(COMPOSE) -p $(COMPOSE_PROJECT_NAME)-test -f docker-compose.yml --profile test
TEST_DELAYS = MAX_TRANSMIT_DELAY_S=1 MAX_STAGE_DELAY_S=0.5

up:
	@$(PYTHON) deploy/make_env.py
	@$(PYTHON) deploy/make_mosquitto.py
	@$(COMPOSE) -p $(COMPOSE_PROJECT_NAME) up -d --build || { echo "make up: $(COMPOSE) failed (above). It needs a running Docker engine: does 'docker info' answer?" >&2; exit 1; }
	@echo "Mission Control runs in containers (make logs follows them; make down stops them):"
	@echo "  operator page  http://$(PUBLISH_HOST):5000/   API docs: http://$(PUBLISH_HOST):5000/docs"
	@echo "  registry-api   http://$(PUBLISH_HOST):8000/docs"
	@echo "  spacecraft     http://$(PUBLISH_HOST):8080/state"
	@echo "  robot-server   http://$(PUBLISH_HOST):7070/docs"
	@echo "  sign in        as admin, password: ADMIN_PASSWORD in $(CURDIR)/.env"
	@echo "  observability  COMPOSE_PROFILES=observability make up: Grafana http://$(PUBLISH_HOST):3000"

down:
	$(COMPOSE) -p $(COMPOSE_PROJECT_NAME) --profile observability --profile test down --remove-orphans

logs:
	$(COMPOSE) -p $(COMPOSE_PROJECT_NAME) logs --follow --tail=100

compose-test:
	@$(PYTHON) deploy/make_env.py
	@$(PYTHON) deploy/make_mosquitto.py
	$(TEST_COMPOSE) build
	$(TEST_DELAYS) $(TEST_COMPOSE) run --rm e2e python -m pytest tests/e2e -p no:cacheprovider $(PYTEST_ARGS); \
	status=$$?; $(TEST_COMPOSE) down --volumes --remove-orphans; exit $$status
