# The two commands: `make run` and `make test`. Each does all of its own set-up.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTHON ?= python3
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test setup catalogs browser print-deps lint check bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## Compile the gettext catalogs (built here, never committed).
catalogs: $(STAMP)
	$(BIN)/pybabel compile --domain messages --directory locales --statistics

setup: $(STAMP) catalogs print-deps

## Serve on http://127.0.0.1:5000 in local mode: no Twilio account, demo directory (loaded
## only into an empty directory, so running it again keeps every change made in the console).
run: setup
	HOTLINE_BRIDGE_LOCAL=1 $(BIN)/hotline-bridge import --if-empty examples/demo/sites.csv
	HOTLINE_BRIDGE_LOCAL=1 $(BIN)/hotline-bridge import --if-empty examples/demo/services.csv
	HOTLINE_BRIDGE_LOCAL=1 HOTLINE_BRIDGE_VALIDATE_SIGNATURES=0 \
		$(BIN)/hotline-bridge serve --host $(HOST) --port $(PORT)

## Headless Chromium for the kiosk's browser tests (Debian's package; no browser downloads).
browser:
	bash tools/install-browser.sh

## Pango, the embedded fonts and pdftoppm for the printed cards and posters (Debian packages).
print-deps:
	bash tools/install-print.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: setup
	HOTLINE_BRIDGE_LOCAL=1 $(BIN)/hotline-bridge check

## Everything: lint, the content check, and the whole test suite including browser tests, run
## twice on a fixed clock: a weekday opening hour and a Sunday night (see tests/conftest.py).
test: setup browser lint check
	HOTLINE_BRIDGE_TEST_CLOCK=day $(BIN)/pytest -n 2
	HOTLINE_BRIDGE_TEST_CLOCK=night $(BIN)/pytest -n 2

## Benchmarks against the budgets listed in bench/budgets.py (see bench/README.md).
bench: setup
	$(BIN)/python -m bench.bench

## 10,000+ hostile webhooks against the real app under gunicorn on 127.0.0.1 (see bench/fuzz.py).
fuzz: setup
	$(BIN)/python -m bench.fuzz

clean:
	rm -rf $(VENV) instance test-artifacts locales/*/LC_MESSAGES/*.mo
