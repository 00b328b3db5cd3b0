# uep: two commands do all the set-up. `make dev` runs the stack; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test install lint fmt typecheck bench mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

dev: $(STAMP)
	$(BIN)/uep dev

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -rs

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy .
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/append.py
	$(BIN)/python bench/cases.py

# Mutation testing of domain/ and the User ID claim policy against tests/unit (docs/testing.md).
# Not part of `make test`: it takes a long while. MUTANTS narrows it ("domain.deadlines*"),
# MUTATION_JOBS sets mutmut's worker count; mutants/ keeps the results between runs.
MUTANTS ?=
MUTATION_JOBS ?= 1
mutation: $(STAMP)
	UEP_NO_HARD_EXIT=1 $(BIN)/mutmut run --max-children $(MUTATION_JOBS) $(MUTANTS)
	$(BIN)/python -m tests.mutation_report --survivors

clean:
	rm -rf $(VENV) build *.egg-info mutants
