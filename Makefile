# rakennettu: `make demo` runs the default town offline; `make test` runs the test suite.
# Both create the virtual environment first when it is missing or out of date.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TOWN   ?= helsinki-keskusta

.PHONY: demo test explore lint typecheck check bench notebooks clean env

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

env: $(STAMP)

demo: $(STAMP)
	$(BIN)/rakennettu run workflows/$(TOWN).toml

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/ruff format --check src tests benchmarks notebooks

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -n 2 --dist loadfile

# the property-based (Hypothesis) tests with fresh random examples instead of the fixed ones
explore: $(STAMP)
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -n 2 --dist loadfile -m hypothesis tests

notebooks: $(STAMP)
	$(BIN)/python -m pytest tests/test_notebooks.py

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[bench]"
	$(BIN)/python benchmarks/stages.py --network

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
