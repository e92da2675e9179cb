# Lambda runs Python 3.12: find it (pyenv on these machines, python3.12 elsewhere) and keep a venv.
PY312 := $(shell (pyenv prefix 3.12.1 2>/dev/null || pyenv prefix 3.12 2>/dev/null) | head -1)
PYTHON312 := $(if $(PY312),$(PY312)/bin/python3.12,$(shell command -v python3.12))
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(if $(PY312),$(PY312)/bin:,)$(PATH)

# The C hot path for the arm64 layer (`make venv` builds the machine's own through pip): cross-compiled
# with Debian's aarch64 gcc (glibc 2.17 symbols only) against the 3.12 headers (LP64 on both), then
# put into the built layer, since sam build's Python workflow never copies `*.so` from the sources.
CROSS_CC := aarch64-linux-gnu-gcc
NATIVE_ARM64 := build/native-arm64/_native.cpython-312-aarch64-linux-gnu.so
LAYER_PACKAGE := .aws-sam/build/PromscrapeLayer/python/promscrape

.PHONY: venv run test lint build validate bench clean native-arm64

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml layers/promscrape/requirements.txt native/native.c
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

native-arm64: $(NATIVE_ARM64)

$(NATIVE_ARM64): native/native.c | venv
	@command -v $(CROSS_CC) >/dev/null || { echo "$(CROSS_CC) not found: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross"; exit 1; }
	mkdir -p $(dir $@)
	$(CROSS_CC) -O3 -fPIC -shared -s -Wall -Wextra -Werror -fno-strict-overflow -DNDEBUG \
	  -I$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("include"))') $< -o $@

build: venv $(NATIVE_ARM64)
	$(VENV)/bin/sam build
	cp $(NATIVE_ARM64) $(LAYER_PACKAGE)/

bench: venv
	$(PY) benchmarks/pipeline.py
	$(PY) benchmarks/dispatch.py

clean:
	rm -rf .aws-sam $(VENV) .pytest_cache .ruff_cache build layers/promscrape/promscrape/_native.*.so
