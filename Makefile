# The README's two commands: `make run` (the example Flow) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.flowql-installed

.PHONY: test lint typecheck pytest run screenshots bench bench-quick proto system-deps clean

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

# The example Flow: web page at /, GraphQL + GraphiQL at /graphql, gRPC on 8081. Ctrl-C stops it.
run: $(STAMP)
	@echo "Example: web page http://127.0.0.1:8080/  GraphiQL http://127.0.0.1:8080/graphql  gRPC 127.0.0.1:8081  (Ctrl-C stops it)"
	$(BIN)/flowql flow --uses examples/textsearch/flow.yml

# Refresh the README's screenshots from the browser tests.
screenshots: $(STAMP) system-deps
	FLOWQL_UPDATE_DOCS_IMAGES=1 $(BIN)/pytest tests/e2e

# The benchmark suite (benchmarks/README.md): one table of figures, targets and floors.
BENCH_STAMP := $(VENV)/.flowql-bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	bash scripts/install_system_deps.sh bench
	$(BIN)/python benchmarks/run.py

bench-quick: $(BENCH_STAMP)
	bash scripts/install_system_deps.sh bench
	$(BIN)/python benchmarks/run.py --quick

proto: $(STAMP)
	$(BIN)/python scripts/generate_proto.py

clean:
	rm -rf build dist *.egg-info .mypy_cache .pytest_cache .ruff_cache
