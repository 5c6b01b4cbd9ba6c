# Mission Control: `make run` sets up and starts everything; `make test` sets up and tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := core ground command-sender spacecraft registry-api

.PHONY: install migrate seed run test bench clean

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

run: migrate
	@$(BIN)/python -m mission_control.serve --addresses
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile start --no-prefix

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var
