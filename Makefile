# Two commands on a fresh machine:  `make run`  and  `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast bench clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -c "from pipeline.ingest.fastrows import warm_up; print(f'compiled the dump tokenizer in {warm_up():.1f} s')"
	touch $(STAMP)

run: install
	$(BIN)/stackmine run

# Everything, as CI runs it (.ci/run): about 13-15 min on two cores, 15-17 with the install.
test: install
	$(BIN)/pytest -q

# The inner loop: all but the tests marked slow (Prefect server, subprocess runs, kill -9, Dask,
# UMAP): 581 tests in about 4 min on two cores.
test-fast: install
	$(BIN)/pytest -q -m "not slow"

clean:
	rm -rf $(VENV) data/stackmine.duckdb data/exports data/report
