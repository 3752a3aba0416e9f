# authmon: `make demo` serves the console with demo data; `make test` runs the whole suite.
# Both create .venv and install the project first. PostgreSQL/Redis are used when DATABASE_URL/REDIS_URL are set.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_ROWS ?= 20000

.PHONY: install demo test lint format migrate serve bench bench-smoke clean browsers screenshots mutation

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput

demo: migrate
	DEBUG=1 $(BIN)/python manage.py load_demo_data --rows $(DEMO_ROWS)
	@echo "Serving authmon on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

# In parallel (pytest-xdist): TEST_WORKERS processes, one per core by default; the browser tests stay on one of them
# (tests/conftest.py). TEST_WORKERS=0 runs everything in this one process.
TEST_WORKERS ?= auto
TEST_ARGS ?=
test: install
	SECRET_KEY=$${SECRET_KEY:-authmon-test-secret-key-not-for-production-0123456789abcdef} \
		$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(TEST_ARGS)

# The README's pictures (docs/screenshots/): the browser tests' page walk, writing there instead of data/screenshots/.
screenshots: install
	SECRET_KEY=$${SECRET_KEY:-authmon-test-secret-key-not-for-production-0123456789abcdef} $(BIN)/python scripts/screenshots.py

# Mutate the most critical modules and fail on more survivors than their budgets (scripts/mutation.py, README).
mutation: install
	SECRET_KEY=$${SECRET_KEY:-authmon-test-secret-key-not-for-production-0123456789abcdef} DATABASE_URL= \
		$(BIN)/python scripts/mutation.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The benchmark (bench/README.md): creates and loads a PostgreSQL database, measures, prints a table and writes JSON.
# BENCH_ARGS passes options through, e.g. make bench BENCH_ARGS="--reuse --only pages".
BENCH_ARGS ?=
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

# A small end-to-end run of the same harness (CI): 100,000 events, 10,000 of each other kind, in its own database.
bench-smoke: install
	$(BIN)/python -m bench --events 100000 --others 10000 --repeat 3 --database authmon_bench_smoke \
		--export-rows 10000 --ingest-rows 10000 --restore-rows 2000 \
		--json $${BENCH_JSON:-/tmp/authmon-bench-smoke.json} $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
