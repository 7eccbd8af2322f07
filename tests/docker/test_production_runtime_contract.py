"""The production image's runtime contract: how it starts, listens, runs and stops.

PORT moves the listening port; arguments after the image replace the command;
--entrypoint gives a shell; gunicorn is PID 1 with the default command expanded,
runs as UID 10001, and stops promptly and cleanly on `docker stop`; the secret
key, mounted where the README's Cloud Run example mounts it, is read from there. All
on the default Python; every Python is in test_images_build_on_every_python.py.
"""

import subprocess
from pathlib import PurePosixPath

import pytest

from harness.waits import http_get
from tests.docker.session import (
    APP_PORT,
    APP_UID,
    DockerSession,
    proc_cmdline,
    proc_status,
    running_server,
)
from tests.docker.waits import wait_for_http
from tests.helpers import DEFAULT_APP_NAME, docker, gcloud_run_deploy, gcloud_settings

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def server(docker_session: DockerSession, production: str) -> str:
    """One production container with the default command, shared by read-only checks."""
    return running_server(docker_session, production)


def test_port_variable_moves_the_listening_port(docker_session, production):
    container = docker_session.run(
        production, options=("--env", "PORT=5555", "--publish", "127.0.0.1::5555")
    )
    response = wait_for_http(docker_session.url(container, port=5555), container=container)
    assert response.json() == {"status": "ok"}
    assert "Listening at: http://0.0.0.0:5555" in docker("logs", container).stderr
    # Nothing listens on the default port any more (Docker's proxy accepts, then drops).
    with pytest.raises(OSError):
        http_get(docker_session.url(container, port=APP_PORT), timeout=3)


def test_arguments_after_the_image_replace_the_command(production):
    result = docker("run", "--rm", production, "python", "-c", "print('replaced', 6 * 7)")
    assert result.stdout == "replaced 42\n"


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_entrypoint_option_gives_a_shell(production, shell):
    result = docker("run", "--rm", "--entrypoint", shell, production, "-c", 'echo "$0:$PORT"')
    assert result.stdout == f"{shell}:{APP_PORT}\n"


def test_gunicorn_is_pid_1_with_the_expanded_default_command(server):
    argv = proc_cmdline(server)
    assert argv[1:] == [
        "/opt/venv/bin/gunicorn",
        "--bind",
        f"0.0.0.0:{APP_PORT}",
        f"{DEFAULT_APP_NAME}:create_app()",
    ]
    assert argv[0].startswith("/opt/venv/bin/python")


def test_server_runs_as_uid_10001(server):
    ids = proc_status(server)
    assert ids["Uid"] == [APP_UID] * 4
    assert ids["Gid"] == [APP_UID] * 4
    assert docker("exec", server, "id", "-u").stdout == f"{APP_UID}\n"


def test_docker_stop_ends_the_server_on_sigterm_with_code_0(docker_session, production):
    container = running_server(docker_session, production)
    # gunicorn, as PID 1, gets SIGTERM itself; a shell in between would ignore it until
    # Docker's SIGKILL after --time, and the container would exit 137, not 0.
    stopped = subprocess.run(
        ["docker", "stop", "--time", "30", container], capture_output=True, text=True, timeout=90
    )
    assert stopped.returncode == 0, stopped.stderr
    state = docker("inspect", "-f", "{{.State.ExitCode}} {{.State.OOMKilled}}", container)
    assert state.stdout.split() == ["0", "false"]
    assert "Shutting down: Master" in docker("logs", container).stderr


def test_the_key_is_read_from_where_the_cloud_run_example_mounts_it(
    docker_session, production, default_project, tmp_path
):
    command = gcloud_run_deploy(default_project)
    [mount] = gcloud_settings(command, "--set-secrets")
    key_file = gcloud_settings(command, "--set-env-vars")["FLASK_SECRET_KEY_FILE"]
    # The folder is new to the image, so mounting the secret there hides nothing.
    folder = PurePosixPath(mount).parent
    probe = docker(
        "run", "--rm", "--entrypoint", "sh", production, "-c", f"test -e {folder}; echo $?"
    )
    assert probe.stdout == "1\n", f"{folder} exists in the image"
    key = tmp_path / "flask-secret-key"
    key.write_text("cloud-run-style-key\n", encoding="utf-8")
    key.chmod(0o644)
    # The file wins over the FLASK_SECRET_KEY every test container gets: an unreadable
    # one would stop the app before /health answers.
    container = running_server(
        docker_session, production,
        "--volume", f"{key}:{mount}:ro", "--env", f"FLASK_SECRET_KEY_FILE={key_file}",
    )  # fmt: skip
    read = docker("exec", container, "cat", key_file).stdout
    assert read == "cloud-run-style-key\n"
