# Lambda runs Python 3.12: find it (pyenv on these machines, python3.12 elsewhere) and keep a venv.
PY312 := $(shell (pyenv prefix 3.12.1 2>/dev/null || pyenv prefix 3.12 2>/dev/null) | head -1)
PYTHON312 := $(if $(PY312),$(PY312)/bin/python3.12,$(shell command -v python3.12))
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(if $(PY312),$(PY312)/bin:,)$(PATH)

.PHONY: venv run test lint build validate bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml layers/promscrape/requirements.txt
	@test -n "$(PYTHON312)" || { echo "Python 3.12 not found: install it (pyenv install 3.12.1)"; exit 1; }
	test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

run: venv
	$(VENV)/bin/promscrape local --config examples/demo.yaml --demo --duration 3m

test: venv lint validate
	$(PY) -m pytest -q

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

validate: venv
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint

build: venv
	$(VENV)/bin/sam build

bench: venv
	$(PY) benchmarks/pipeline.py
	$(PY) benchmarks/dispatch.py

clean:
	rm -rf .aws-sam $(VENV) .pytest_cache .ruff_cache
