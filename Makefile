# Aisle — every command a newcomer needs. `make run` and `make test` set up what is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV       := .venv
VENV_RASA  := .venv-rasa
PY         := $(VENV)/bin/python
RASA       := $(VENV_RASA)/bin/rasa
CATALOG    ?= data/catalog/products.jsonl
LOOKUPS    := data/nlu/generated/lookups.yml
RASA_MODEL := models/aisle.tar.gz
AXE        := tests/browser/node_modules/axe-core/axe.min.js
RASA_INPUTS := config.yml domain.yml $(LOOKUPS) $(filter-out rasa_ext/__init__.py rasa_ext/tracker_store.py rasa_ext/action_validation.py rasa_ext/action_client.py rasa_ext/turn_timing.py,$(wildcard rasa_ext/*.py)) $(shell find data/nlu data/stories data/rules -name '*.yml' -not -path '*/generated/*' -not -path '*/reviewed/*' 2>/dev/null)

export RASA_TELEMETRY_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export SANIC_HOST := 127.0.0.1
export AISLE_RASA_PORT ?= 5005
export AISLE_ACTIONS_PORT ?= 5055
export AISLE_GATEWAY_PORT ?= 8080
export AISLE_RASA_URL ?= http://127.0.0.1:$(AISLE_RASA_PORT)
export AISLE_ACTIONS_URL ?= http://127.0.0.1:$(AISLE_ACTIONS_PORT)

.PHONY: help setup data build run cluster cluster-test loadtest test lint bench convbench eval eval-nlu finetune retrain rollback smoke clean system-tools

help:
	@echo "make run       start the whole assistant (sets up and builds what is missing)"
	@echo "make cluster   the production topology here: 2 gateways behind haproxy, 2 Rasa, 2 action"
	@echo "               servers, on this machine's PostgreSQL and Redis (docs/architecture.md §7)"
	@echo "make test      run the whole test suite (sets up what it needs)"
	@echo "make lint      ruff"
	@echo "make bench     benchmarks (encoding, retrieval, ingestion)"
	@echo "make loadtest  shoppers with think time against make run and make cluster until p95 > 1 s"
	@echo "make eval      retrieval evaluation of every mode on both judged catalogs (data/eval, data/eval/home)"
	@echo "make convbench conversations in shoppers' words (../shared/convbench) on a fresh assistant"
	@echo "make eval-nlu  NLU evaluation on ../shared/data"
	@echo "make finetune  fine-tune the product encoder"
	@echo "make retrain   learn from logged chats; promote only if the gate says better"
	@echo "make rollback  go back to the previous encoder"
	@echo "make smoke     check a running instance"
	@echo "make clean     remove everything generated"

# --- environments -------------------------------------------------------------
setup: $(VENV)/.installed $(VENV_RASA)/.installed system-tools $(AXE)

$(VENV)/.installed: requirements/app.txt requirements/load.txt pyproject.toml
	@py=$$(tools/find_python.sh 3.11) || exit 1; \
	  [ -x $(PY) ] || $$py -m venv $(VENV)
	$(PY) -m pip install -q --no-deps -r requirements/app.txt -r requirements/load.txt
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

$(VENV_RASA)/.installed: requirements/rasa.txt
	@py=$$(tools/find_python.sh 3.10) || exit 1; \
	  [ -x $(RASA) ] || $$py -m venv $(VENV_RASA)
	$(VENV_RASA)/bin/python -m pip install -q --no-deps -r requirements/rasa.txt
	@touch $@

# axe-core from npm, at the version of the lockfile, for the browser tests' accessibility checks
# (they skip with a reason without it); Debian's npm is installed when missing
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	@command -v npm >/dev/null 2>&1 || apt-get install -y -q npm >/dev/null 2>&1 || \
	  (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q npm >/dev/null 2>&1) || true
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "warning: npm is missing; the accessibility checks will be skipped"; fi

# Debian's chromium (browser tests), docker-compose (compose file validation) and haproxy (the
# load balancer of `make cluster`); the tests that need them skip with a reason when they cannot
# be installed
system-tools:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	  command -v docker-compose >/dev/null 2>&1 || missing="$$missing docker-compose"; \
	  command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing="$$missing haproxy"; \
	  [ -z "$$missing" ] || (apt-get install -y -q $$missing >/dev/null 2>&1 || \
	    (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $$missing >/dev/null 2>&1)) || \
	    echo "warning: could not install$$missing; the tests that need them will be skipped"

# --- generated data and models ---------------------------------------------------
data: $(CATALOG) $(LOOKUPS)

data/catalog/products.jsonl: tools/generate_catalog.py | $(VENV)/.installed
	$(PY) -m tools.generate_catalog --out $@

$(LOOKUPS): $(CATALOG) tools/build_lookups.py | $(VENV)/.installed
	$(PY) -m tools.build_lookups --catalog $(CATALOG) --out $@

# AISLE_ENCODER_BACKEND=auto (the default) serves the ONNX int8 export only where this check
# recorded that it ranks data/eval within 0.01 nDCG@10 of fp32 (var/onnx/<model>/quality.json);
# the embedded text (recommender/catalog.py) is part of what it checks
var/.onnx-checked: $(CATALOG) recommender/catalog.py data/eval/queries.tsv data/eval/qrels.tsv $(wildcard models/encoder/*/training.json) | $(VENV)/.installed
	$(PY) -m recommender check-onnx --catalog $(CATALOG)
	@mkdir -p var && touch $@

# recommender/catalog.py decides the embedded text: a change there re-embeds (ingest is incremental)
var/.ingested: $(CATALOG) recommender/catalog.py recommender/bm25.py $(wildcard models/encoder/*/training.json) var/.onnx-checked | $(VENV)/.installed
	$(PY) -m recommender ingest $(CATALOG)
	@touch $@

# new reviewed examples (data/nlu/reviewed) do not retrain the model here: `make retrain` trains
# a candidate and gates it. Their held-out share never trains a model (see `rasa-data` in
# learning/rasa_round.py).
$(RASA_MODEL): $(RASA_INPUTS) | $(VENV_RASA)/.installed $(VENV)/.installed
	$(RASA) train --fixed-model-name aisle --out models --num-threads 2 \
	  --data $$($(PY) -m learning rasa-data)

build: setup data var/.ingested $(RASA_MODEL)

var/rasa-token:
	@mkdir -p var && $(PY) -c "import secrets; print(secrets.token_urlsafe(24))" > $@

# --- the assistant ------------------------------------------------------------------
run: build var/rasa-token
	@mkdir -p var/log
	@echo "Aisle: open http://127.0.0.1:$(AISLE_GATEWAY_PORT)/ (agent desk: /desk). Ctrl-C stops everything."
	AISLE_RASA_TOKEN=$${AISLE_RASA_TOKEN:-$$(cat var/rasa-token)} $(VENV)/bin/supervisord -c deploy/supervisord.conf

# POSTGRES=… / REDIS=…: other servers than this machine's (loopback, trust auth)
cluster: build
	$(PY) -m tools.cluster --port $(AISLE_GATEWAY_PORT) $(if $(POSTGRES),--postgres $(POSTGRES)) \
	  $(if $(REDIS),--redis $(REDIS))

# locust shoppers with think time against make run's stack and make cluster's, in growing steps
# until p95 > 1 s (tools/loadtest.py; TARGET=single|cluster|both)
loadtest: build
	$(PY) -m tools.loadtest --target $(or $(TARGET),both)

# the cluster's own tests (also part of `make test` under .ci/run, which sets these URLs)
cluster-test: build
	AISLE_TEST_POSTGRES_URL=$${AISLE_TEST_POSTGRES_URL:-postgresql+psycopg2://postgres@127.0.0.1:5432/test} \
	AISLE_TEST_REDIS_URL=$${AISLE_TEST_REDIS_URL:-redis://127.0.0.1:6379/0} \
	  $(PY) -m pytest tests/integration/test_cluster.py tests/bot/test_replicas.py

smoke: | $(VENV)/.installed
	$(PY) -m tools.smoke --url http://127.0.0.1:$(AISLE_GATEWAY_PORT)

# --- quality ------------------------------------------------------------------------
test: build
	$(VENV)/bin/ruff check .
	$(RASA) data validate
	$(RASA) test core --stories tests/test_stories.yml --fail-on-prediction-errors --model $(RASA_MODEL) --out results/core
	$(PY) -m pytest

lint: | $(VENV)/.installed
	$(VENV)/bin/ruff check .

bench: build
	$(PY) -m recommender bench
	$(PY) -m tools.bench_chat

# ../shared/convbench: the outside conversation benchmark, on a fresh stack and a fresh demo shop
convbench: build
	$(PY) -m tools.convbench $(if $(SAVE),--save $(SAVE)) $(if $(TAGS),--only-tags $(TAGS))

eval: setup data
	$(PY) -m tools.eval_table --catalog $(CATALOG)

# Learning loop (learning): export logged chats, fine-tune a candidate encoder, gate,
# promote or refuse, report to reports/. Promotion and rollback publish the active encoder with
# its own vectors into a new store under var/stores/ and switch var/active.json, which a running
# action server follows (recommender/active.py); no separate ingest.
retrain: build
	AISLE_CATALOG=$(CATALOG) $(PY) -m learning retrain $(if $(SINCE),--since $(SINCE))
	@touch var/.ingested

rollback: | $(VENV)/.installed
	AISLE_CATALOG=$(CATALOG) $(PY) -m learning rollback
	@touch var/.ingested

eval-nlu: build
	$(VENV_RASA)/bin/python -m tools.eval_nlu --model $(RASA_MODEL)

# the shop's encoder (served after `make retrain` gates it), and each other evaluation catalog's
# own, trained on that catalog's pairs only, never served: `make eval` measures them
finetune: setup data
	$(PY) -m recommender finetune --catalog $(CATALOG)
	$(PY) -m recommender finetune --catalog data/eval/home/products.jsonl --output-dir models/eval/home \
	  --eval-queries data/eval/home/queries.tsv --eval-qrels data/eval/home/qrels.tsv

clean:
	rm -rf $(VENV) $(VENV_RASA) models var .rasa results reports tests/artifacts tests/browser/node_modules \
	  $(CATALOG) data/nlu/generated .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
