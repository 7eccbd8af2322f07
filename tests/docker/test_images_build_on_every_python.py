"""Every stage builds on every Python the CI can build, and production serves on each.

Each stage (development, build, production) runs that Python with the locked
dependencies importable; the production container answers /health with its
server running on that very interpreter. Builds go through the session's `image`
fixture, so each (stage, Python) image is built once and shared with the other
Docker test modules.
"""

import pytest

from harness.waits import http_get
from tests.docker.session import BUILDABLE_PYTHONS, running_server
from tests.helpers import docker

pytestmark = pytest.mark.docker

STAGES = ["development", "build", "production"]
PRINT_PYTHON = "import sys; print('%d.%d' % sys.version_info[:2])"


@pytest.mark.parametrize(
    ("stage", "python"),
    [
        pytest.param(stage, python, id=f"py{python}-{stage}")
        for python in BUILDABLE_PYTHONS
        for stage in STAGES
    ],
)
def test_stage_builds_with_its_python_and_the_locked_dependencies(image, stage, python):
    tag = image(stage, python)
    # /opt/venv is first on PATH in every stage: its Python is the image's, with Flask in it.
    result = docker(
        "run", "--rm", "--entrypoint", "python", tag,
        "-c", f"import flask, gunicorn; {PRINT_PYTHON}",
    )  # fmt: skip
    assert result.stdout == f"{python}\n"


@pytest.mark.parametrize("python", BUILDABLE_PYTHONS, ids=lambda python: f"py{python}")
def test_production_container_serves_health_on_its_python(image, docker_session, python):
    container = running_server(docker_session, image("production", python))
    response = http_get(docker_session.url(container))
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}
    # The interpreter of the running server itself (PID 1), not just any python on PATH.
    interpreter = docker("exec", container, "readlink", "/proc/1/exe").stdout.strip()
    assert interpreter.rsplit("/", 1)[-1] == f"python{python}"
    assert docker("exec", container, "python", "-c", PRINT_PYTHON).stdout == f"{python}\n"
