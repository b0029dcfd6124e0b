# Each target creates .venv when it is missing (or when pyproject.toml changed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST := $(BIN)/python -m pytest

.PHONY: run test lint bench bench-compare table publish clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

## run: the main job on its embedded default: the speech task on generated speech, default profile
run: $(STAMP)
	$(BIN)/cnnbench run --task speech

## test: lint, the test suite, and every benchmark once as a plain test
test: $(STAMP)
	$(BIN)/ruff check cnnbench tasks tests benchmarks
	$(PYTEST) -q tests benchmarks --benchmark-disable

## bench: pytest-benchmark over every task's models, saved under .benchmarks/
bench: $(STAMP)
	$(PYTEST) benchmarks --benchmark-only --benchmark-autosave --benchmark-columns=min,median,iqr,rounds

## bench-compare: run again and fail on a median regression beyond BENCH_THRESHOLD against the last saved run
## (the threshold is set above the spread of repeated runs measured on these shared machines: see README)
BENCH_THRESHOLD ?= 100%
bench-compare: $(STAMP)
	$(PYTEST) benchmarks --benchmark-only --benchmark-compare --benchmark-compare-fail=median:$(BENCH_THRESHOLD) \
		--benchmark-columns=min,median,iqr,rounds

## table: regenerate results/README.md from the records in results/runs
table: $(STAMP)
	$(BIN)/cnnbench table

## publish: results/README.md, results/csv/<task>_<device>.csv and results/report/ from results/runs
publish: $(STAMP)
	$(BIN)/cnnbench publish

clean-venv:
	rm -rf $(VENV)
