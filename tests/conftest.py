"""Fixtures shared by every test, and the switch that skips the Docker tests without Docker.

Only fixtures and pytest hooks live here; the helpers they use are in tests/helpers.py
(whose import also sets the environment every test runs in).
"""

from pathlib import Path

import pytest

from tests.helpers import bake_ok, docker_problem


@pytest.fixture(scope="session")
def default_project(cookies_session) -> Path:
    """A project baked once per session with the default answers (read-only by convention)."""
    return bake_ok(cookies_session)


# --- Docker: skipped without an engine, unless --require-docker (CI) -----------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-docker",
        action="store_true",
        help="fail instead of skipping the Docker tests when no engine answers (CI uses it)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    docker_items = [item for item in items if "docker" in item.keywords]
    if not docker_items:
        return
    problem = docker_problem()
    if problem is None:
        return
    if config.getoption("--require-docker"):
        raise pytest.UsageError(f"Docker tests are required here, but {problem}.")
    skip = pytest.mark.skip(reason=f"{problem}: run `make test` to set up Docker and run them")
    for item in docker_items:
        item.add_marker(skip)
