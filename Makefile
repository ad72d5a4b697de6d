# The two commands: `make demo` runs Cairn with demo data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint schemas clean

$(BIN)/cairn: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/cairn
	$(BIN)/cairn dev --demo

lint: $(BIN)/cairn
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

INTEROP_JS := tests/interop/js
$(INTEROP_JS)/node_modules: $(INTEROP_JS)/package-lock.json
	npm ci --prefix $(INTEROP_JS) --no-audit --no-fund --loglevel=error
	touch $@

test: lint $(INTEROP_JS)/node_modules
	mkdir -p test-output
	$(BIN)/pytest -ra --junitxml=test-output/junit.xml

schemas: $(BIN)/cairn
	$(BIN)/python -m schemas.export

clean:
	rm -rf $(VENV) var test-output
