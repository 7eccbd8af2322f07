# poetry-docker, the template repository. `make help` lists the targets.
.DEFAULT_GOAL := help
.PHONY: help project test test-fast lint lock benchmark docker-up docker-down clean

PYTHON ?= python3
VENV := .venv
OUTPUT_DIR ?= generated
# Not the template folder: unrendered Jinja is not Python (the tests lint the output).
PYTHON_SOURCES := hooks tests scripts local_extensions.py
# Set SETUP_DOCKER=1 (CI does) to install and start a Docker engine, Compose,
# buildx and base images where missing, and to fail rather than skip without them.
SETUP_DOCKER ?=

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-11s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The tooling venv, rebuilt when the pinned requirements change.
$(VENV)/.installed: requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@touch $@

project: $(VENV)/.installed ## Generate a project with the default answers into ./generated (OUTPUT_DIR=...)
	$(VENV)/bin/cookiecutter --no-input --output-dir "$(OUTPUT_DIR)" .

test: $(VENV)/.installed ## Run every test; the Docker ones need an engine (SETUP_DOCKER=1 sets one up)
ifneq ($(SETUP_DOCKER),)
	scripts/docker-env.sh up
	$(VENV)/bin/pytest --require-docker $(PYTEST_ARGS)
else
	$(VENV)/bin/pytest $(PYTEST_ARGS)
endif

test-fast: $(VENV)/.installed ## Run the tests that need no Docker engine
	$(VENV)/bin/pytest -m "not docker" $(PYTEST_ARGS)

lint: $(VENV)/.installed ## Lint the template's own code
	$(VENV)/bin/ruff check $(PYTHON_SOURCES) && $(VENV)/bin/ruff format --check $(PYTHON_SOURCES)
	$(VENV)/bin/shellcheck scripts/*.sh .ci/run

lock: $(VENV)/.installed ## Refresh the generated project's poetry.lock (after editing its pyproject.toml)
	$(VENV)/bin/python scripts/refresh_lock.py

benchmark: $(VENV)/.installed ## Measure build speed and image size against the seed and uv recipes
	$(VENV)/bin/python scripts/benchmark.py $(BENCHMARK_ARGS)

docker-up: ## Set up a Docker engine, Compose, buildx and base images where missing
	scripts/docker-env.sh up

docker-down: ## Stop the Docker engine if docker-up started it
	scripts/docker-env.sh down

clean: ## Remove the tooling venv and generated projects
	rm -rf $(VENV) $(OUTPUT_DIR) .pytest_cache .hypothesis
