# outcomes: the two commands a newcomer types are `make report` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
QUARTER ?= 2024Q1
REFERENCE := data/reference
STAMP  := $(VENV)/.installed

.PHONY: report test test-all lab install lock reference validate benchmarks clean

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: $(PYTHON) not found; set PYTHON=/path/to/python3.11" >&2; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "uv==0.13.9"
	VIRTUAL_ENV=$(VENV) $(BIN)/uv pip sync --quiet --compile-bytecode requirements.lock
	VIRTUAL_ENV=$(VENV) $(BIN)/uv pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name outcomes --display-name "Python (outcomes)" >/dev/null
	touch $(STAMP)

install: $(STAMP)

## the reference extract (synthetic, deterministic) is built once and kept under data/ (git-ignored);
## rebuilt when its generator or the data contract changes (an extract without a new table would
## give a different report without saying so)
$(REFERENCE)/truth.json: $(wildcard outcomes/reference/*.py data_dictionary/tables/*.yaml) | $(STAMP)
	$(BIN)/outcomes reference --out $(REFERENCE)

reference: $(REFERENCE)/truth.json

validate: $(STAMP) $(REFERENCE)/truth.json
	$(BIN)/outcomes validate $(REFERENCE)

## the package's own bytecode too (where PYTHONDONTWRITEBYTECODE is set, every kernel would compile it)
report: $(STAMP) $(REFERENCE)/truth.json
	$(BIN)/python -m compileall -q outcomes >/dev/null
	$(BIN)/outcomes report --quarter $(QUARTER) --extract $(REFERENCE)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q -m ""

## JupyterLab on the notebooks (as root, e.g. in a container, Jupyter needs --allow-root)
lab: $(STAMP) $(REFERENCE)/truth.json
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

benchmarks: $(STAMP)
	for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

## regenerate the lock file from pyproject.toml (needs network access to PyPI)
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra engines --extra lab --extra dev --python-version 3.11 \
	  -o requirements.lock --no-header --custom-compile-command "make lock"

clean:
	rm -rf $(VENV) data/reference
