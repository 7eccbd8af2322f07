"""Docker fixtures: bake once, build each image once, remove everything afterwards.

Every image, container and compose project a test creates carries this run's
unique prefix and is removed at the end of the session, so a leftover from an
earlier run can never make a test pass. Each test module here starts with
`pytestmark = pytest.mark.docker`, which makes the tests skip without an engine.
"""

import json
import os
import shutil
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import DEFAULT_APP_NAME, bake_ok, run

RUN_PREFIX = f"pdtest-{uuid.uuid4().hex[:8]}"
# The Python versions whose base images the CI machines can build (no Debian suite has 3.12).
BUILDABLE_PYTHONS = ["3.11", "3.13", "3.14"]
DEFAULT_PYTHON = "3.14"
APP_PORT = 8888
SECRET_KEY = "docker-tests-only-" + uuid.uuid4().hex
BUILD_ENV = {**os.environ, "DOCKER_BUILDKIT": "1"}
# Loopback requests must not go through a proxy configured for the outside world.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def docker(*args: str, check: bool = True, timeout: float = 600, **kwargs):
    """Run `docker ARGS` with BuildKit on; with check, fail the test with its output if it fails."""
    kwargs.setdefault("env", BUILD_ENV)
    return run("docker", *args, check=check, timeout=timeout, **kwargs)


@dataclass
class HttpResponse:
    status: int
    body: str
    headers: dict[str, str]

    def json(self):
        return json.loads(self.body)


def http_get(url: str, timeout: float = 5) -> HttpResponse:
    """GET url; an HTTP error status is returned, not raised."""
    try:
        with HTTP.open(url, timeout=timeout) as response:
            return HttpResponse(response.status, response.read().decode(), dict(response.headers))
    except urllib.error.HTTPError as error:
        return HttpResponse(error.code, error.read().decode(), dict(error.headers))


def wait_for_http(url: str, timeout: float = 60, container: str | None = None) -> HttpResponse:
    """Poll url until it answers 200; fail with the container's logs after timeout seconds."""
    deadline = time.monotonic() + timeout
    last_error: object = None
    while time.monotonic() < deadline:
        try:
            response = http_get(url, timeout=2)
            if response.status == 200:
                return response
            last_error = f"status {response.status}: {response.body[:200]}"
        except OSError as error:
            last_error = error
        if container and not is_running(container):
            break
        time.sleep(0.2)
    logs = docker("logs", container, check=False).stderr[-4000:] if container else ""
    pytest.fail(f"{url} did not answer 200 within {timeout} s ({last_error})\n{logs}")


def is_running(container: str) -> bool:
    state = docker("inspect", "-f", "{{.State.Running}}", container, check=False)
    return state.stdout.strip() == "true"


def wait_for_health(container: str, timeout: float = 90) -> None:
    """Wait until Docker reports the container healthy (its HEALTHCHECK passed)."""

    def healthy() -> bool:
        status = docker("inspect", "-f", "{{.State.Health.Status}}", container).stdout.strip()
        return status == "healthy"

    wait_until(
        healthy, timeout, f"{container} is healthy",
        interval=0.5, explain=lambda: docker("logs", container, check=False).stderr[-4000:],
    )  # fmt: skip


def wait_until(
    check: Callable[[], object],
    timeout: float,
    what: str,
    interval: float = 0.2,
    explain: Callable[[], str] | None = None,
):
    """Call check until it returns something truthy, which is returned; fail after timeout s.

    explain, if given, says what the test saw, for the failure message.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            seen = f"\n{explain()}" if explain else ""
            pytest.fail(f"timed out after {timeout} s waiting until {what}{seen}", pytrace=False)
        time.sleep(interval)


def free_port() -> int:
    """A loopback TCP port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class DockerSession:
    """Builds and runs things under this run's prefix, and removes them all at the end."""

    images: set[str] = field(default_factory=set)
    containers: set[str] = field(default_factory=set)
    compose_projects: list[str] = field(default_factory=list)

    def name(self, purpose: str) -> str:
        return f"{RUN_PREFIX}-{purpose}-{uuid.uuid4().hex[:6]}"

    def build(self, context: Path, target: str, *extra: str, tag: str | None = None) -> str:
        tag = tag or f"{self.name(target)}:test"
        self.images.add(tag)
        docker("build", "--target", target, "--tag", tag, *extra, str(context))
        return tag

    def run(self, image: str, *command: str, options: tuple[str, ...] = ()) -> str:
        """Start a detached container from image, with the app's port published on loopback."""
        name = self.name("run")
        self.containers.add(name)
        docker(
            "run", "--detach", "--name", name,
            "--publish", f"127.0.0.1::{APP_PORT}",
            "--env", f"FLASK_SECRET_KEY={SECRET_KEY}",
            *options, image, *command,
        )  # fmt: skip
        return name

    def url(self, container: str, path: str = "/health", port: int = APP_PORT) -> str:
        published = docker("port", container, f"{port}/tcp").stdout.split()[0]
        return f"http://{published.replace('0.0.0.0', '127.0.0.1')}{path}"

    def compose_project(self, project_dir: Path) -> str:
        """A unique compose project name for project_dir; whatever it creates is removed
        at the end (by label, so the folder may be gone by then)."""
        name = self.name("compose")
        self.compose_projects.append(name)
        return name

    def cleanup(self) -> None:
        for name in self.compose_projects:
            remove_compose_project(name)
        if self.containers:
            docker("rm", "--force", "--volumes", *self.containers, check=False)
        if self.images:
            docker("rmi", "--force", *self.images, check=False)


def remove_compose_project(name: str) -> None:
    """Remove a compose project's containers, networks, volumes and images by their labels
    and names, so it works even when the project's folder is already gone."""
    label = f"label=com.docker.compose.project={name}"
    for kind, listing in [
        ("container", ["ps", "--all", "--quiet", "--filter", label]),
        ("network", ["network", "ls", "--quiet", "--filter", label]),
        ("volume", ["volume", "ls", "--quiet", "--filter", label]),
        ("image", ["images", "--quiet", "--filter", f"reference={name}-*"]),
    ]:
        ids = sorted(set(docker(*listing, check=False).stdout.split()))
        if ids:
            docker(kind, "rm", "--force", *ids, check=False)


@pytest.fixture(scope="session")
def docker_session() -> Iterator[DockerSession]:
    session = DockerSession()
    yield session
    session.cleanup()


@pytest.fixture(scope="session")
def docker_project(cookies_session) -> Path:
    """The default project, baked once for the Docker tests; copy it before editing it."""
    return bake_ok(cookies_session)


@pytest.fixture(scope="session")
def image(docker_session: DockerSession, docker_project: Path):
    """image(target, python=DEFAULT_PYTHON): the tag of that image, built once per session."""
    built: dict[tuple[str, str], str] = {}

    def build(target: str, python: str = DEFAULT_PYTHON) -> str:
        if (target, python) not in built:
            built[target, python] = docker_session.build(
                docker_project, target, "--build-arg", f"PYTHON_VERSION={python}"
            )
        return built[target, python]

    return build


@pytest.fixture
def project_copy(docker_project: Path, tmp_path: Path) -> Path:
    """A private copy of the default project, for tests that edit it."""
    copy = tmp_path / DEFAULT_APP_NAME
    shutil.copytree(docker_project, copy, symlinks=True)
    return copy
