# Two commands on a fresh machine:  `make run`  and  `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -c "from pipeline.ingest.fastrows import warm_up; print(f'compiled the dump tokenizer in {warm_up():.1f} s')"
	touch $(STAMP)

run: install
	$(BIN)/stackmine run

test: install
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) data/stackmine.duckdb data/exports data/report
