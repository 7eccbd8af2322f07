# poetry-docker, the template repository. `make help` lists the targets.
.DEFAULT_GOAL := help
.PHONY: help project test test-fast lint lock benchmark docker-up docker-down clean

PYTHON ?= python3
VENV := .venv
OUTPUT_DIR ?= generated
# Not the template folder: unrendered Jinja is not Python (the tests lint the output).
PYTHON_SOURCES := hooks harness tests scripts benchmark local_extensions.py

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-11s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The tooling venv, rebuilt when the pinned requirements change.
$(VENV)/.installed: requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@touch $@

project: $(VENV)/.installed ## Generate a project with the default answers into ./generated (OUTPUT_DIR=...)
	$(VENV)/bin/cookiecutter --no-input --output-dir "$(OUTPUT_DIR)" .

# What CI runs (.ci/run and .github/workflows/test.yml): the Docker tests are
# required, never skipped, so the test machine is set up first.
test: $(VENV)/.installed docker-up ## Run every test, the Docker ones included (sets up Docker where missing)
	$(VENV)/bin/pytest --require-docker $(PYTEST_ARGS)

test-fast: $(VENV)/.installed ## Run the tests that need no Docker engine
	$(VENV)/bin/pytest -m "not docker" $(PYTEST_ARGS)

lint: $(VENV)/.installed ## Lint the template's own code
	$(VENV)/bin/ruff check $(PYTHON_SOURCES) && $(VENV)/bin/ruff format --check $(PYTHON_SOURCES)
	$(VENV)/bin/shellcheck test-machine/*.sh .ci/run

lock: $(VENV)/.installed ## Refresh the generated project's poetry.lock (after editing its pyproject.toml)
	$(VENV)/bin/python scripts/refresh_lock.py

benchmark: $(VENV)/.installed docker-up ## Measure build speed and image size against the seed and uv recipes
	test-machine/setup.sh tools
	$(VENV)/bin/python benchmark/run.py $(BENCHMARK_ARGS)

docker-up: ## Set up the test machine: Docker engine, Compose, buildx and base images where missing
	test-machine/setup.sh up

docker-down: ## Stop the Docker engine if docker-up started it
	test-machine/setup.sh down

clean: ## Remove the tooling venv and generated projects
	rm -rf $(VENV) $(OUTPUT_DIR) .pytest_cache .hypothesis
