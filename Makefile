# Huinong — two commands set up everything: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install browser clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m service run

# Headless Chromium and a CJK font come from Debian when missing (browser tests, PDFs).
browser:
	@command -v chromium >/dev/null 2>&1 && test -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf && test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-droid-fallback fonts-dejavu-core >/dev/null) || \
	  echo "warning: could not install chromium and fonts; browser tests will be skipped"

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -p no:cacheprovider

# ruff (lint and format), mypy (strict on every rules.py and workflow.py), import-linter (pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m tests.layout_check

bench: $(STAMP)
	$(BIN)/python -m tests.bench $(ONLY)

clean:
	rm -rf $(VENV) .data .pytest_cache
