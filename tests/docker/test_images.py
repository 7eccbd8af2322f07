"""Every stage builds for every Python, and the production image behaves as documented.

Builds go through the session's `image` fixture, so each (stage, Python) image is
built once and shared with the other Docker test modules.
"""

import subprocess

import pytest

from tests.docker.helpers import (
    APP_PORT,
    APP_UID,
    BUILDABLE_PYTHONS,
    DockerSession,
    docker,
    http_get,
    proc_cmdline,
    running_server,
    wait_for_http,
)
from tests.helpers import DEFAULT_APP_NAME

pytestmark = pytest.mark.docker

STAGES = ["development", "build", "production"]
PRINT_PYTHON = "import sys; print('%d.%d' % sys.version_info[:2])"


# --- Every stage, every Python ---------------------------------------------------


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


# --- The production image's runtime contract (default Python) -------------------


@pytest.fixture(scope="module")
def production(image) -> str:
    return image("production")


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
    status = docker("exec", server, "cat", "/proc/1/status").stdout
    ids = {line.split(":")[0]: line.split()[1:] for line in status.splitlines()}
    assert ids["Uid"] == [APP_UID] * 4
    assert ids["Gid"] == [APP_UID] * 4
    assert docker("exec", server, "id", "-u").stdout == f"{APP_UID}\n"


def test_docker_stop_ends_the_server_promptly_and_cleanly(docker_session, production):
    container = running_server(docker_session, production)
    try:
        # gunicorn, as PID 1, gets SIGTERM itself; a shell in between would wait for SIGKILL.
        stopped = subprocess.run(
            ["docker", "stop", "-t", "10", container], capture_output=True, text=True, timeout=5
        )
    except subprocess.TimeoutExpired:
        pytest.fail("docker stop -t 10 took longer than 5 s: SIGTERM did not stop the server")
    assert stopped.returncode == 0, stopped.stderr
    state = docker("inspect", "-f", "{{.State.ExitCode}} {{.State.OOMKilled}}", container)
    assert state.stdout.split() == ["0", "false"]
    assert "Shutting down: Master" in docker("logs", container).stderr


# --- What the production image does not carry ------------------------------------

# Each probe prints what it finds, or nothing. To show that a probe can find what
# it looks for, the control test plants that thing in a production container first.
FIND = "find / -xdev -path /proc -prune -o"
PROBES = {
    "poetry-on-path": (
        "command -v poetry",
        "touch /usr/local/bin/poetry; chmod +x /usr/local/bin/poetry",
    ),
    "opt-poetry": ("ls -d /opt/poetry", "mkdir /opt/poetry"),
    "poetry-importable": (
        "python -c 'import poetry' && echo importable",
        "mkdir /opt/app/poetry && touch /opt/app/poetry/__init__.py",
    ),
    "poetry-anywhere": (f"{FIND} -name 'poetry*' -prune -print", "touch /srv/poetry"),
    "uv": (f"command -v uv; {FIND} -name uv -print", "touch /srv/uv"),
    "pip-in-venv": (
        "ls -d /opt/venv/bin/pip* /opt/venv/lib/python*/site-packages/pip*;"
        " /opt/venv/bin/python -m pip --version",
        "mkdir /opt/venv/bin/pip",
    ),
    "compiler": (
        "for name in gcc cc c++ g++ clang; do command -v $name; done",
        "touch /usr/local/bin/cc; chmod +x /usr/local/bin/cc",
    ),
    "project-tests": (
        f"{FIND} \\( -name test_api.py -o -name conftest.py -o -path '*/app/tests' \\) -print",
        "mkdir /app/tests",
    ),
    "git": (f"{FIND} -name .git -print", "mkdir /app/.git"),
    "dotenv": (f"{FIND} -name .env -print", "touch /app/.env"),
    "pyproject-or-lock": (
        f"{FIND} \\( -name pyproject.toml -o -name poetry.lock \\) -print",
        "touch /opt/app/poetry.lock",
    ),
}


def probe(tag: str, check: str, plant: str = "true") -> str:
    script = f"{plant}; {{ {check}; }} 2>/dev/null; true"
    return docker("run", "--rm", "--user", "0", "--entrypoint", "sh", tag, "-c", script).stdout


@pytest.mark.parametrize("check", PROBES)
def test_production_image_carries_no(production, check):
    assert probe(production, PROBES[check][0]) == ""


@pytest.mark.parametrize("check", PROBES)
def test_absence_probe_finds_what_it_looks_for_once_planted(production, check):
    assert probe(production, *PROBES[check]) != ""


def test_production_image_holds_only_the_app_its_dependencies_and_two_scripts(production):
    listing = docker(
        "run", "--rm", "--entrypoint", "sh", production, "-c",
        "ls -A /app; echo --; ls -A /opt; echo --; ls -A /opt/app; echo --;"
        " ls /usr/local/bin/entrypoint.sh /usr/local/bin/healthcheck.py",
    ).stdout.split("--\n")  # fmt: skip
    app, opt, opt_app, scripts = (part.split() for part in listing)
    assert app == ["gunicorn.conf.py"]
    assert opt == ["app", "venv"]
    # `uv pip install --target` leaves its (empty) .lock file beside the package.
    assert set(opt_app) - {".lock"} == {DEFAULT_APP_NAME, f"{DEFAULT_APP_NAME}-0.1.0.dist-info"}
    assert scripts == ["/usr/local/bin/entrypoint.sh", "/usr/local/bin/healthcheck.py"]
