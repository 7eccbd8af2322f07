"""Fixtures shared by every test, and the switch that skips the Docker tests without Docker.

Only fixtures and pytest hooks live here; the helpers they use are in tests/helpers.py
(whose import also sets the environment every test runs in).
"""

import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import DEFAULT_APP_NAME, bake_ok, docker_problem

# --- The template, baked --------------------------------------------------------------


@pytest.fixture(scope="session")
def default_project(cookies_session) -> Path:
    """The project baked with the default answers, once per session, for every test that
    reads it (the Docker tests build their images from it). Read-only by convention:
    a test that edits the project takes project_copy instead."""
    return bake_ok(cookies_session)


@pytest.fixture(scope="session")
def without_database(cookies_session) -> Path:
    return bake_ok(cookies_session, database="none")


@pytest.fixture(scope="session")
def with_postgresql(cookies_session) -> Path:
    return bake_ok(cookies_session, database="postgresql")


@pytest.fixture
def project_copy(default_project: Path, tmp_path: Path) -> Path:
    """A private copy of the default project, for a test that edits it."""
    copy = tmp_path / DEFAULT_APP_NAME
    shutil.copytree(default_project, copy, symlinks=True)
    return copy


@pytest.fixture(scope="session")
def cookiecutter_config(tmp_path_factory) -> Path:
    """A cookiecutter user config that keeps replays and clones out of the home folder,
    for tests that run the `cookiecutter` command (tests.helpers.cookiecutter_cli)."""
    home = tmp_path_factory.mktemp("cookiecutter-home")
    config = home / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "cookiecutters_dir": str(home / "cookiecutters"),
                "replay_dir": str(home / "replay"),
            }
        ),
        encoding="utf-8",
    )
    return config


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
