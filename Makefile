# The README's two commands: `make run` (the example Flow) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.flowql-installed

.PHONY: test lint typecheck pytest run bench bench-quick proto system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

system-deps:
	bash scripts/install_system_deps.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/generate_proto.py --check

typecheck: $(STAMP)
	VENV=$(VENV) bash scripts/typecheck.sh

pytest: $(STAMP) system-deps
	$(BIN)/pytest

test: lint typecheck pytest

run: $(STAMP) system-deps
	@echo "make run arrives with the GraphQL gateway (issue: the GraphQL-first gateway)."; exit 1

bench: $(STAMP)
	$(BIN)/python benchmarks/codec.py

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/codec.py --quick

proto: $(STAMP)
	$(BIN)/python scripts/generate_proto.py

clean:
	rm -rf build dist *.egg-info .mypy_cache .pytest_cache .ruff_cache
