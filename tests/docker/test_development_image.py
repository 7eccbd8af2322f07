"""The development image: Flask's reloader over bind-mounted sources, as a non-root user.

The container runs the way the dev compose service runs it, without Compose:
`docker run --user 1234:1234 -v PROJECT:/app --env-file .env`. The project copy
belongs to 1234:1234 on the host, like a developer's own checkout.
"""

import os
import time
from pathlib import Path

import pytest

from harness.waits import http_get
from tests.docker.compose import write_env
from tests.docker.session import DockerSession, proc_cmdline
from tests.docker.waits import wait_for_http
from tests.helpers import DEFAULT_APP_NAME, docker, pre_commit_shellcheck_version

pytestmark = pytest.mark.docker

DEVELOPER = (1234, 1234)
USER = f"{DEVELOPER[0]}:{DEVELOPER[1]}"


def chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for directory, subdirectories, files in os.walk(root):
        for name in subdirectories + files:
            os.chown(os.path.join(directory, name), uid, gid, follow_symlinks=False)


@pytest.fixture
def checkout(project_copy: Path) -> Path:
    """A fresh copy of the project owned by the developer, with no cache written yet,
    and the .env and secret key that `make .env` writes."""
    write_env(project_copy)
    chown_tree(project_copy, *DEVELOPER)
    assert not (project_copy / ".pytest_cache").exists()
    return project_copy


@pytest.fixture
def dev_server(docker_session: DockerSession, image, checkout: Path) -> tuple[str, Path]:
    container = docker_session.run(
        image("development"),
        options=(
            "--user", USER,
            "--volume", f"{checkout}:/app",
            "--env-file", str(checkout / ".env"),
        ),
    )  # fmt: skip
    wait_for_http(docker_session.url(container), container=container)
    return container, checkout


def container_state(container: str) -> str:
    return docker(
        "inspect", "-f", "{{.State.StartedAt}} {{.State.Pid}} {{.RestartCount}}", container
    ).stdout


def test_serves_with_the_debug_reloader(docker_session, dev_server):
    container, _ = dev_server
    response = http_get(docker_session.url(container))
    assert (response.status, response.json()) == (200, {"status": "ok"})
    logs = docker("logs", container)
    output = logs.stdout + logs.stderr
    assert "Debug mode: on" in output
    assert "Restarting with" in output  # the reloader's parent starts the serving child
    assert "Debugger is active!" in output
    argv = proc_cmdline(container)
    assert argv[1:5] == ["/opt/venv/bin/flask", "run", "--debug", "--host"]


def test_edited_view_is_served_without_restarting_the_container(docker_session, dev_server):
    container, checkout = dev_server
    url = docker_session.url(container)
    before = container_state(container)
    marker = f"edited-{time.monotonic_ns()}"
    api = checkout / DEFAULT_APP_NAME / "api.py"
    source = api.read_text(encoding="utf-8")
    assert source.count('return {"status": "ok"}') == 1
    api.write_text(source.replace('return {"status": "ok"}', f'return {{"status": "{marker}"}}'))

    deadline = time.monotonic() + 30
    body = None
    while time.monotonic() < deadline:
        try:
            response = http_get(url, timeout=2)
            body = response.json() if response.status == 200 else response.status
        except (OSError, ValueError) as error:  # the reloader is between two children
            body = error
        if body == {"status": marker}:
            break
        time.sleep(0.3)
    assert body == {"status": marker}, docker("logs", container).stderr[-3000:]
    # The same container, started once, with the same PID 1: only the reloader's child restarted.
    assert container_state(container) == before
    assert "Detected change in '/app/" in docker("logs", container).stderr


def test_bind_mount_leaves_the_virtual_environment_visible(dev_server):
    container, _ = dev_server
    assert (
        docker("exec", container, "sh", "-c", "command -v python").stdout
        == "/opt/venv/bin/python\n"
    )
    docker("exec", container, "test", "-x", "/opt/venv/bin/flask")
    located = docker(
        "exec", container, "python", "-c",
        f"import flask, {DEFAULT_APP_NAME} as app; print(app.__file__)",
    )  # fmt: skip
    # The project is installed editable: the code that runs is the bind-mounted copy.
    assert located.stdout == f"/app/{DEFAULT_APP_NAME}/__init__.py\n"


def test_files_written_into_the_bind_mount_belong_to_the_developer(dev_server):
    container, checkout = dev_server
    assert docker("exec", container, "id", "-u").stdout == f"{DEVELOPER[0]}\n"
    # pytest, run in the container, writes its cache into the project.
    docker("exec", container, "pytest", "-q")
    docker("exec", container, "touch", "/app/written-in-container")
    written = [checkout / "written-in-container", *(checkout / ".pytest_cache").rglob("*")]
    assert len(written) > 3
    owners = {(path.stat().st_uid, path.stat().st_gid) for path in written}
    assert owners == {DEVELOPER}


def test_project_test_suite_passes_inside_the_development_image(image):
    result = docker("run", "--rm", image("development"), "pytest", "-q", "-p", "no:cacheprovider")
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary


# --- make lint's shellcheck: Debian's package, the version pre-commit pins -------------

LINTER_PROBE = (
    "dpkg -S /usr/bin/shellcheck && command -v shellcheck && . /etc/os-release"
    " && echo $VERSION_CODENAME && dpkg-query -W -f '${Version}\\n' shellcheck"
    " && shellcheck --version | sed -n 's/^version: //p'"
    " && shellcheck docker/entrypoint.sh && echo clean"
)


def linter_probe(tag: str) -> list[str]:
    result = docker("run", "--rm", "--entrypoint", "sh", tag, "-c", LINTER_PROBE)
    return result.stdout.splitlines()


def test_shellcheck_is_debians_package_and_lints_the_entrypoint(image):
    owner, path, _, package, version, verdict = linter_probe(image("development"))
    assert owner == "shellcheck: /usr/bin/shellcheck"
    assert (path, verdict) == ("/usr/bin/shellcheck", "clean")
    # The version of the base image's Debian release.
    assert package.startswith(f"{version}-"), (package, version)


def test_pre_commit_pins_the_shellcheck_of_the_trixie_image(image, default_project):
    """python:3.13-slim is Debian trixie, stand-in or official (every official python:*-slim
    image is): there, make lint and pre-commit run the same shellcheck."""
    _, _, codename, _, version, _ = linter_probe(image("development", "3.13"))
    assert codename == "trixie"
    assert version == pre_commit_shellcheck_version(default_project)
