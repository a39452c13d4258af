# One command each: `make demo` sets up and scans the bundled example; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-slow bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e ".[train,dev]"
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/kasuhara scan data/examples/inbox.csv -o scan-results.jsonl
	@echo "results: scan-results.jsonl"

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

test-slow: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m slow

clean:
	rm -rf $(VENV) scan-results.jsonl
