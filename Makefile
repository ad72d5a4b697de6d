# The two commands: `make demo` runs Cairn with demo data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test fuzz lint schemas messages bench soak chaos clean

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

BROWSER_JS := tests/browser/js
$(BROWSER_JS)/node_modules: $(BROWSER_JS)/package-lock.json
	npm ci --prefix $(BROWSER_JS) --no-audit --no-fund --loglevel=error
	touch $@

# Test modules run on TEST_WORKERS parallel pytest-xdist workers; --dist loadfile keeps each
# module on one worker, so its module-scoped broker and system start once.
TEST_WORKERS ?= 2
test: lint $(INTEROP_JS)/node_modules $(BROWSER_JS)/node_modules
	mkdir -p test-output
	$(BIN)/pytest -ra -n $(TEST_WORKERS) --dist loadfile --junitxml=test-output/junit.xml

# The nightly-size API fuzzing run (`make test` runs the same test with 20 examples per operation).
CAIRN_FUZZ_EXAMPLES ?= 500
fuzz: $(BIN)/cairn
	mkdir -p test-output
	CAIRN_FUZZ_EXAMPLES=$(CAIRN_FUZZ_EXAMPLES) $(BIN)/pytest -ra tests/e2e/test_api_fuzzing.py

# Throughput figures (JSON lines, ratios within the run): gateway CPU per POST, then the aggregator
# against bare aiokafka and Faust's do-nothing agent, then event to email at 20/50/100 events/s and
# ingest against a bare producer (each starts its own broker; minutes; CAIRN_BENCH_SECONDS shortens).
bench: $(BIN)/cairn
	PYTHONPATH=. $(BIN)/python bench/gateway.py
	PYTHONPATH=. $(BIN)/python bench/aggregate.py
	PYTHONPATH=. $(BIN)/python bench/pipeline.py

# The soak (not in `make test`): 20 events/s for SOAK_MINUTES with every service running, each
# service's RSS sampled every SOAK_SAMPLE_SECONDS into test-output/soak.jsonl; exit 1 unless flat.
SOAK_MINUTES ?= 60
SOAK_SAMPLE_SECONDS ?= 60
soak: $(BIN)/cairn
	PYTHONPATH=. $(BIN)/python devtools/soak.py --minutes $(SOAK_MINUTES) --sample-seconds $(SOAK_SAMPLE_SECONDS)

# The chaos run (a short one is in `make test`): CHAOS_VOLUNTEERS' events through the API on three
# brokers and PostgreSQL while every service, a broker and the database are killed and the SMTP
# server misbehaves; the verdict in test-output/chaos.json, exit 1 unless nothing was lost or doubled.
CHAOS_VOLUNTEERS ?= 2000
CHAOS_MINUTES ?= 10
chaos: $(BIN)/cairn
	PYTHONPATH=. $(BIN)/python devtools/chaos.py --volunteers $(CHAOS_VOLUNTEERS) --minutes $(CHAOS_MINUTES)

schemas: $(BIN)/cairn
	$(BIN)/python -m schemas.export

# Volunteer-facing text: extract it (babel.cfg), update each language's .po, compile the .mo
# files (committed, so a clean clone runs). A new language: `$(BIN)/pybabel init -i
# cairn/locale/messages.pot -d cairn/locale -l fr`, translate its .po, then `make messages`.
LOCALES := cairn/locale
messages: $(BIN)/cairn
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k translate:2 -k translate_plural:2,3 -k NP_:1,2 \
		--project=Cairn --no-wrap --sort-by-file -o $(LOCALES)/messages.pot .
	$(BIN)/pybabel -q update -i $(LOCALES)/messages.pot -d $(LOCALES) --no-wrap --ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -d $(LOCALES) --statistics

clean:
	rm -rf $(VENV) var test-output
