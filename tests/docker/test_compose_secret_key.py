"""The secret key reaches the production service as a compose secret file, and only
through its owner's group: the app (UID 10001) joins that group to read it.

The project copy belongs to a developer, UID and GID 1234 here (the tests run as
root), with secrets/flask_secret_key at mode 0640 as `make .env` writes it; the
compose commands get GID=1234, as the generated Makefile exports it for them.
"""

import os
from pathlib import Path

import pytest

from harness.containers import BUILD_ENV
from tests.docker.compose import write_env
from tests.docker.session import APP_UID, DockerSession, inspect, logs
from tests.docker.waits import wait_until
from tests.helpers import docker

pytestmark = pytest.mark.docker

DEVELOPER = 1234
KEY_FILE = "secrets/flask_secret_key"


def owned_by_the_developer(project: Path, mode: int) -> str:
    """Write .env and the key (`make .env`), give the project to the developer and
    the key file `mode`; return the key."""
    write_env(project)
    for path in [project, *project.rglob("*")]:
        os.chown(path, DEVELOPER, DEVELOPER, follow_symlinks=False)
    (project / KEY_FILE).chmod(mode)
    return (project / KEY_FILE).read_text(encoding="utf-8").strip()


def start_app(session: DockerSession, project: Path, *wait: str) -> str:
    """`docker compose --profile prod up --detach [--wait] app`; return its container."""
    env = {**BUILD_ENV, "COMPOSE_PROJECT_NAME": session.compose_project(project),
           "GID": str(DEVELOPER)}  # fmt: skip
    compose = ["compose", "--profile", "prod"]
    docker(*compose, "up", "--build", "--detach", *wait, "app", cwd=project, env=env)
    return docker(*compose, "ps", "--all", "--quiet", "app", cwd=project, env=env).stdout.strip()


def test_the_key_is_in_no_environment_and_the_app_reads_it_through_the_group(
    docker_session, project_copy
):
    key = owned_by_the_developer(project_copy, 0o640)
    app = start_app(docker_session, project_copy, "--wait")
    info = inspect(app)
    assert key not in str(info)
    assert "FLASK_SECRET_KEY_FILE=/run/secrets/flask_secret_key" in info["Config"]["Env"]
    assert not any(item.startswith("FLASK_SECRET_KEY=") for item in info["Config"]["Env"])
    ids = docker("exec", app, "id").stdout
    assert ids.startswith(f"uid={APP_UID}(app) gid={APP_UID}(app)"), ids
    assert f",{DEVELOPER}" in ids  # group_add: the developer's group
    read = docker("exec", app, "cat", "/run/secrets/flask_secret_key").stdout
    assert read.strip() == key


def test_a_key_only_its_owner_can_read_stops_the_app_with_a_clear_line(
    docker_session, project_copy
):
    """The control: at mode 0600 the group cannot read the key, so the app refuses
    to start, and says which file it could not read."""
    owned_by_the_developer(project_copy, 0o600)
    app = start_app(docker_session, project_copy)
    message = "FLASK_SECRET_KEY_FILE=/run/secrets/flask_secret_key cannot be read"
    wait_until(
        lambda: message in "".join(logs(app)),
        timeout=60,
        what="the app says it cannot read the key file",
        explain=lambda: "".join(logs(app))[-3000:],
    )
    assert inspect(app)["State"]["Health"]["Status"] != "healthy"
