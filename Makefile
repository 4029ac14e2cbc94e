# The two commands: `make run` and `make test`. Each does all of its own set-up.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTHON ?= python3
HOST   ?= 127.0.0.1
PORT   ?= 5000
PIP_AUDIT ?= $(BIN)/pip-audit

.PHONY: run test setup catalogs browser print-deps lint check bench fuzz audit clean \
	kiosk-screenshots

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

## The content check, walking SMS conversations with the demo directory too (what make run loads).
check: setup
	HOTLINE_BRIDGE_LOCAL=1 $(BIN)/hotline-bridge check --demo

## Everything: lint, the content check, and the whole test suite including browser tests, on a
## fixed clock: a weekday opening hour, and a Sunday night as well for the tests marked `clock`
## (see tests/conftest.py).
## Each step prints its wall time, and the suite its 25 slowest tests.
test:
	@bash tools/timed.sh set-up $(MAKE) --no-print-directory setup browser
	@bash tools/timed.sh lint $(MAKE) --no-print-directory lint
	@bash tools/timed.sh check $(MAKE) --no-print-directory check
	@bash tools/timed.sh suite $(BIN)/pytest -n 2 --durations=25

## The kiosk's layout test, drawing every page it measures into test-artifacts/kiosk/.
kiosk-screenshots: setup browser
	KIOSK_SCREENSHOTS=1 $(BIN)/pytest -n 2 tests/channels/kiosk/test_kiosk_layout.py

## Benchmarks against the budgets listed in bench/budgets.py (see bench/README.md).
bench: setup
	$(BIN)/python -m bench.bench

## 10,000+ hostile webhooks against the real app under gunicorn on 127.0.0.1 (see bench/fuzz.py).
fuzz: setup
	$(BIN)/python -m bench.fuzz

## Known vulnerabilities in the installed dependencies (pip-audit, which needs the network, so
## not part of make test). Fails when it could not audit every package, never "nothing found".
audit: $(STAMP)
	$(BIN)/python tools/audit.py $(PIP_AUDIT)

clean:
	rm -rf $(VENV) instance test-artifacts locales/*/LC_MESSAGES/*.mo
