# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export KERAS_BACKEND ?= torch

.PHONY: venv demo test test-fast lint docs bench bench-keras-env clean postgres chromium

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the CPU build of torch first (a file on this machine), so nothing later pulls the multi-GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[keras,jax,analysis,strategies,postgres,ray,dashboard,bench,tensorboard,mlflow,notebooks,docs,hyperopt,sklearn,scikeras,dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(PY) examples/breast_cancer.py

# the PostgreSQL server the storage tests start on loopback (Debian's package; CI runs as root)
postgres:
	@if command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then :; \
	else apt-get update && apt-get install -y postgresql; fi

# the browser the dashboard's end-to-end tests drive through playwright (Debian's package, never a download)
chromium:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

test: venv postgres chromium
	$(PY) -m pytest -q

test-fast: venv
	$(PY) -m pytest -q -m "not slow"

# the reference manual: the API from the docstrings, the guides from docs/*.md; any warning fails (build/docs/)
docs: venv
	$(PY) -m sphinx -W --keep-going -q -b html docs build/docs

# style and types: CI's first stage (mypy's settings are in pyproject.toml; every module is checked)
lint: venv
	$(VENV)/bin/ruff check src tests examples bench
	$(VENV)/bin/ruff format --check src tests examples bench
	$(VENV)/bin/mypy

# the benchmarks of bench/README.md against Optuna, Hyperopt and scikit-optimize (hours on 2 cores; never run by
# `make test`); BENCH_ARGS=--quick for a smoke run of a few minutes
bench: venv
	nice -n 10 $(PY) -m bench.run --workers 2 $(BENCH_ARGS)
	$(PY) -m bench.report $(BENCH_ARGS)

# the environment of bench/keras (Keras Tuner, Talos, Optuna and knoblab on one Keras backend, torch): its own,
# since Talos 2 pins pandas < 3 (bench/keras/README.md); never committed
BENCH_ENV ?= /work/benchenv
bench-keras-env:
	@test -x $(BENCH_ENV)/bin/python || $(PYTHON) -m venv $(BENCH_ENV)
	$(BENCH_ENV)/bin/pip install -q torch==2.13.0
	$(BENCH_ENV)/bin/pip install -q -e '.[bench-keras]'

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
