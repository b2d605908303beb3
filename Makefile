# OneWindow: `make run` serves the platform with demo data on SQLite; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Parallel test processes; override with `make test JOBS=1`.
JOBS ?= auto

.PHONY: run install migrate demo serve worker test test-fast bench check messages clean

$(BIN)/onewindow: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,redis]'
	touch $@

install: $(BIN)/onewindow

# Plain HTTP on localhost; production deployments keep HTTPS (the default).
run: export ONEWINDOW_HTTPS ?= 0
run: install
	$(BIN)/onewindow migrate --no-input
	$(BIN)/onewindow demo
	$(BIN)/onewindow serve --host $(HOST) --port $(PORT)

worker: export ONEWINDOW_HTTPS ?= 0
worker: install
	$(BIN)/onewindow worker

test: install
	$(BIN)/pytest -n $(JOBS)

# Everything except the browser and fuzz runs.
test-fast: install
	$(BIN)/pytest -n $(JOBS) -m "not e2e and not fuzz"

check: install
	$(BIN)/onewindow check
	$(BIN)/onewindow makemigrations --check --dry-run

bench: install
	$(BIN)/python benchmarks/working_days.py
	$(BIN)/python benchmarks/audit.py

messages: install
	cd src/onewindow && ../../$(BIN)/django-admin compilemessages

clean:
	rm -rf var artifacts
