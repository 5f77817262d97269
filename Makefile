# rakennettu: `make demo` runs the default town offline; `make test` runs the test suite.
# Both create the virtual environment first when it is missing or out of date.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TOWN   ?= helsinki-keskusta

.PHONY: demo test explore lint typecheck check bench notebooks catalogues clean env

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	$(BIN)/python -m rakennettu._warmup   # compile the numba kernels once, into their cache
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

# After changing a message in the code: refresh the template and every language's catalogue,
# then translate the new entries (docs/translating.md).
catalogues: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k plural:1,2 --no-location --sort-output \
	  --project rakennettu --copyright-holder "rakennettu developers" \
	  -o src/rakennettu/locale/rakennettu.pot .
	$(BIN)/pybabel update -i src/rakennettu/locale/rakennettu.pot -d src/rakennettu/locale \
	  -D rakennettu --no-fuzzy-matching --ignore-obsolete --width 100

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
