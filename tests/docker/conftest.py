"""Docker fixtures: build each image once, remove everything afterwards.

Every image, container and compose project a test creates carries this run's
unique prefix and is removed at the end of the session, so a leftover from an
earlier run can never make a test pass. Each test module here starts with
`pytestmark = pytest.mark.docker`, which makes the tests skip without an engine.
The project they build is tests/conftest.py's default_project (or project_copy for a
test that edits it). Only fixtures live here; the helpers they use are in
tests/docker/ by subject (session, waits, compose, faults), and a fixture that one
module alone uses (arm64, kube_pod) is in that module.
"""

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.docker.compose import (
    Flavour,
    Project,
    compose_project,
    make_flavours,
    start_with_make_run,
    write_env,
)
from tests.docker.faults import faults_views_dir, write_test_views_override
from tests.docker.session import DEFAULT_PYTHON, TEST_DOMAIN, DockerSession
from tests.helpers import DEFAULT_APP_NAME


@pytest.fixture(scope="session")
def docker_session() -> Iterator[DockerSession]:
    session = DockerSession()
    yield session
    session.cleanup()


@pytest.fixture(scope="session")
def image(docker_session: DockerSession, default_project: Path):
    """image(target, python=DEFAULT_PYTHON): the tag of that image, built once per session."""
    built: dict[tuple[str, str], str] = {}

    def build(target: str, python: str = DEFAULT_PYTHON) -> str:
        if (target, python) not in built:
            built[target, python] = docker_session.build(
                default_project, target, "--build-arg", f"PYTHON_VERSION={python}"
            )
        return built[target, python]

    return build


@pytest.fixture(scope="session")
def production(image) -> str:
    """The production image on the default Python (image("production"))."""
    return image("production")


@pytest.fixture(scope="session")
def postgresql_production(docker_session: DockerSession, with_postgresql: Path) -> str:
    """The production image of the database=postgresql project, on the default Python."""
    return docker_session.build(
        with_postgresql, "production", "--build-arg", f"PYTHON_VERSION={DEFAULT_PYTHON}"
    )


@pytest.fixture(scope="module")
def flavours(tmp_path_factory) -> dict[str, Flavour]:
    """Every flavour of Compose (see tests/docker/compose.py), set up once per module."""
    return make_flavours(tmp_path_factory.mktemp("compose-flavours"))


@pytest.fixture
def new_project(
    docker_session: DockerSession, project_copy: Path, flavours
) -> Iterator[Callable[[str], Project]]:
    """new_project(flavour): the test's project copy, set up to run with that flavour."""
    started: list[Project] = []

    def setup(flavour: str) -> Project:
        flavours[flavour].prepare()
        project = compose_project(docker_session, project_copy, flavours[flavour].env)
        started.append(project)
        return project

    yield setup
    for project in started:
        project.down()


@pytest.fixture(scope="module")
def edge_stack(
    docker_session: DockerSession, default_project: Path, tmp_path_factory
) -> Iterator[Project]:
    """`make run` in a copy of the project, whose compose.override.yaml (which Compose
    reads by itself) mounts the test-only views into app: the edge and app as a user
    runs them, plus /_test/held and /_test/whoami behind the edge."""
    project_dir = tmp_path_factory.mktemp("edge") / DEFAULT_APP_NAME
    shutil.copytree(default_project, project_dir, symlinks=True)
    write_test_views_override(project_dir, faults_views_dir(project_dir))
    stack = start_with_make_run(docker_session, project_dir)
    yield stack
    stack.down()


@pytest.fixture(scope="module")
def https_stack(
    docker_session: DockerSession, default_project: Path, tmp_path_factory
) -> Iterator[Project]:
    """`make run` with DOMAIN set in .env (and TLS_ISSUER=internal: no ACME server is
    reachable here), which publishes the edge on ports 80 and 443."""
    project_dir = tmp_path_factory.mktemp("https") / DEFAULT_APP_NAME
    shutil.copytree(default_project, project_dir, symlinks=True)
    write_env(project_dir)
    env_file = project_dir / ".env"
    settings = env_file.read_text(encoding="utf-8").replace("DOMAIN=\n", f"DOMAIN={TEST_DOMAIN}\n")
    env_file.write_text(f"{settings}TLS_ISSUER=internal\n", encoding="utf-8")
    stack = start_with_make_run(docker_session, project_dir)
    yield stack
    stack.down()


@pytest.fixture(scope="module")
def postgresql_copy(docker_session: DockerSession, with_postgresql: Path, tmp_path_factory):
    """postgresql_copy(): a fresh copy of the database=postgresql project, with its own
    compose project name and port; taken down with its volumes at the end."""
    projects: list[Project] = []

    def copy() -> Project:
        directory = tmp_path_factory.mktemp("postgresql") / DEFAULT_APP_NAME
        shutil.copytree(with_postgresql, directory, symlinks=True)
        project = compose_project(docker_session, directory)
        projects.append(project)
        return project

    yield copy
    for project in projects:
        project.down()


@pytest.fixture(scope="module")
def postgresql_stack(postgresql_copy) -> Iterator[Project]:
    """`make run` in a copy: edge, app, migrate and db."""
    project = postgresql_copy()
    project.make("run")
    yield project


@pytest.fixture(scope="module")
def postgresql_dev(postgresql_copy) -> Project:
    """A copy for make test, make dev and make migration."""
    return postgresql_copy()
