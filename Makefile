# The warehouse's entry points. `make run` and `make test` do their own set-up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCAL := .local
STAMPS := $(LOCAL)/stamps
MVN := mvn -q -B -s jars/settings.xml
# pytest-xdist is not used: the integration tests share one local stack sized for 2 cores.
PYTEST_ARGS ?=

.PHONY: help setup up down status run test bench lint docs notebook clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

setup: $(STAMPS)/system $(STAMPS)/venv $(STAMPS)/kafka-jars $(STAMPS)/spark-jars $(LOCAL)/bin/ferretdb $(LOCAL)/bin/compose-check  ## venv, packages, jars, binaries (fast when nothing changed)
	@$(BIN)/python -m moviepipe.spark_archive

$(STAMPS)/system: scripts/install-system.sh
	@mkdir -p $(STAMPS)
	bash scripts/install-system.sh
	@touch $@

$(STAMPS)/venv: pyproject.toml
	@mkdir -p $(STAMPS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

# One rule for every jars/<name>/pom.xml: its runtime dependencies into .local/jars/<name>.
$(STAMPS)/%-jars: jars/%/pom.xml jars/settings.xml
	@mkdir -p $(STAMPS)
	rm -rf $(LOCAL)/jars/$*
	$(MVN) -f jars/$*/pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=$(CURDIR)/$(LOCAL)/jars/$*
	@touch $@

$(LOCAL)/bin/ferretdb: tools/ferretdb/go.mod tools/ferretdb/go.sum scripts/build-ferretdb.sh $(STAMPS)/system
	bash scripts/build-ferretdb.sh $@

# compose-go, the Compose spec's reference loader: validates docker-compose.yml without Docker.
$(LOCAL)/bin/compose-check: tools/compose-check/go.mod tools/compose-check/go.sum tools/compose-check/main.go
	@mkdir -p $(LOCAL)/bin
	cd tools/compose-check && go build -mod=mod -o $(CURDIR)/$@ .

up: setup  ## start PostgreSQL, Kafka and the MongoDB-wire server
	$(BIN)/moviepipe services up

down:  ## stop what `up` started
	@if [ -x $(BIN)/moviepipe ]; then $(BIN)/moviepipe services down; fi

status:  ## print each service with its address and health
	$(BIN)/moviepipe services status

run: setup  ## every step in order on the sample data
	$(BIN)/moviepipe run

test: setup  ## the whole test suite against real local servers
	$(BIN)/pytest $(PYTEST_ARGS)

bench: setup  ## benchmarks; each prints its figures
	$(BIN)/python -m bench

lint: setup  ## ruff, and sqlfluff on the dbt project (needs the database: `make up`)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/moviepipe rules check
	$(BIN)/moviepipe lint-sql

docs: up  ## the docs site: .local/docs/index.html (dbt docs, GX data docs, charts, API)
	$(BIN)/moviepipe docs

# Output to .local/ (git-ignored): the notebook in git stays without outputs.
notebook: up  ## run notebooks/tour.ipynb headless (after `make run`) into .local/notebooks/
	$(BIN)/jupyter nbconvert --to notebook --execute notebooks/tour.ipynb --output-dir $(LOCAL)/notebooks
	@echo "executed notebook: $(LOCAL)/notebooks/tour.ipynb"

clean: down  ## remove .local (data, logs, jars, binaries) and the venv
	rm -rf $(LOCAL) $(VENV)
