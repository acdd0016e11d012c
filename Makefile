# Huinong — two commands set up everything: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench drill fuzz install browser clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m service run

# Headless Chromium and a CJK font come from Debian when missing (browser tests, PDFs). Under CI
# (CI=true) failing to get them fails the run, as the tests needing them then fail too: a green CI
# has run the pages and the PDFs. Elsewhere a warning, and those tests are skipped.
HAVE_BROWSER := command -v chromium >/dev/null 2>&1 && test -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf && test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

browser:
	@$(HAVE_BROWSER) || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-droid-fallback fonts-dejavu-core >/dev/null && $(HAVE_BROWSER)) || \
	  if [ "$${CI:-}" = true ]; then \
	    echo "error: could not install chromium and fonts (CI=true needs them)" >&2; exit 1; \
	  else \
	    echo "warning: could not install chromium and fonts; browser and PDF tests will be skipped"; \
	  fi

# The suite runs on TEST_WORKERS processes (pytest-xdist; default one per core of the 2-core
# machines it is budgeted on): each builds its own template databases and picks its own ports.
# TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= 2

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist worksteal

# ruff (lint and format), mypy (strict on every rules.py and workflow.py), import-linter (pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m tests.layout_check

# The long crash drill (issue 13): SIGKILL a real server KILLS times during money-moving calls,
# restart, repeat each call with its Idempotency-Key, check the books (make test runs 4 kills).
KILLS ?= 100
drill: $(STAMP)
	HUINONG_DRILL_KILLS=$(KILLS) $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/api/test_crash_drill.py

# schemathesis over every operation of /schema with many more cases than `make test` draws (4 per
# operation and mode there); HUINONG_FUZZ_EXAMPLES=… sets how many, HUINONG_FUZZ_SEED=… a random run.
fuzz: $(STAMP)
	HUINONG_FUZZ_EXAMPLES=$${HUINONG_FUZZ_EXAMPLES:-50} $(BIN)/python -m pytest -q -p no:cacheprovider -s tests/api/test_schema_fuzz.py

bench: $(STAMP)
	$(BIN)/python -m tests.bench $(ONLY)

clean:
	rm -rf $(VENV) .data .pytest_cache
