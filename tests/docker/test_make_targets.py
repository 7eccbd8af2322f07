"""The generated Makefile's targets do what `make help` says, run for real.

run, ps, logs and down manage the production services (edge and app); dev serves the sources and
clean removes everything; test, lint, add and shell run in the development image.
The targets most used are run with both the Compose plugin and a standalone
Compose v2 (the flavours in tests/docker/compose.py), checking that each compose
command went through the one make chose. Every project runs under a unique
COMPOSE_PROJECT_NAME (DockerSession.compose_project, which also takes it down at
the end) and publishes a free APP_PORT on 127.0.0.1. `make help` and `make .env`
need no Docker: they are in tests/test_makefile_help.py and tests/test_secret_key.py.
"""

import json
import os
import re
import tomllib

import pytest

from tests.docker.background import Background
from tests.docker.compose import answers_health, assert_ran_with
from tests.docker.session import APP_PORT, proc_cmdline
from tests.helpers import ANSI, docker, run, tool

pytestmark = pytest.mark.docker

BOTH = ["plugin", "standalone"]


@pytest.mark.parametrize("flavour", BOTH)
def test_make_run_ps_logs_and_down_manage_the_production_service(new_project, flavours, flavour):
    project = new_project(flavour)
    assert not (project.directory / ".env").exists()  # as baked: make writes it
    run_output = project.make("run").stdout
    assert "Wrote .env" in run_output and "Wrote a new secret" in run_output
    assert answers_health(project)
    [container] = project.containers("app")
    assert docker("exec", container, "id", "-u").stdout == "10001\n"

    ps = ANSI.sub("", project.make("ps").stdout)
    [app_row] = [line for line in ps.splitlines() if f"{project.name}-app-1" in line]
    [edge_row] = [line for line in ps.splitlines() if f"{project.name}-edge-1" in line]
    assert "(healthy)" in app_row and "(healthy)" in edge_row
    # Only the edge is published.
    assert f"127.0.0.1:{project.port}->8080/tcp" in edge_row
    assert "->" not in app_row

    # `make logs` follows until interrupted: read until gunicorn's start-up lines appear.
    follower = Background(["make", "logs"], cwd=project.directory, env=project.env)
    try:
        follower.wait_for(
            lambda: "Booting worker" in follower.output, timeout=60, what="gunicorn in make logs"
        )
    finally:
        logs = follower.stop()
    assert re.search(rf"app-1 +\| .*Listening at: http://0\.0\.0\.0:{APP_PORT}", logs), logs
    assert re.search(r"edge-1 +\| .*serving initial configuration", logs), logs

    project.make("down")
    assert project.containers() == []
    assert not answers_health(project)
    assert project.image_exists("app")  # down keeps the image; clean removes it
    assert_ran_with(
        flavours, flavour, "--profile prod up --build --detach --wait",
        "--profile dev --profile prod ps", "logs --follow --tail=100",
        "--profile dev --profile prod down --remove-orphans",
    )  # fmt: skip


@pytest.mark.parametrize("flavour", BOTH)
def test_make_dev_serves_the_sources_and_make_clean_removes_everything(
    new_project, flavours, flavour
):
    project = new_project(flavour)
    project.make("dev")
    assert answers_health(project)
    [container] = project.containers("dev")
    argv = proc_cmdline(container)
    assert argv[1:4] == ["/opt/venv/bin/flask", "run", "--debug"]
    # make passes your UID/GID, so files the container writes are yours.
    assert docker("exec", container, "id", "-u").stdout == f"{os.getuid()}\n"
    mounted = docker("inspect", "-f", "{{json .Mounts}}", container).stdout
    mounts = {mount["Destination"]: mount["Source"] for mount in json.loads(mounted)}
    # The sources, and the secret key as a compose secret file.
    assert mounts == {
        "/app": str(project.directory),
        "/run/secrets/flask_secret_key": str(project.directory / "secrets" / "flask_secret_key"),
    }
    assert project.image_exists("dev")

    project.make("clean")
    assert project.containers() == []
    assert not project.image_exists("dev")
    assert_ran_with(
        flavours, flavour, "--profile dev up --build --detach --wait dev",
        "--profile dev --profile prod down --remove-orphans --rmi local --volumes",
    )  # fmt: skip


@pytest.mark.parametrize("flavour", BOTH)
def test_make_test_runs_the_suite_in_the_development_image(new_project, flavours, flavour):
    project = new_project(flavour)
    result = project.make("test")
    assert re.search(r"^=+ \d+ passed in ", result.stdout, re.MULTILINE), result.stdout[-3000:]
    assert "failed" not in result.stdout
    assert project.containers() == []  # run --rm
    assert_ran_with(flavours, flavour, "--profile dev build dev", "run --rm --no-deps dev pytest")


def test_make_lint_passes_in_the_development_image(new_project):
    project = new_project("plugin")
    result = project.make("lint")
    assert "All checks passed!" in result.stdout  # ruff check
    assert "already formatted" in result.stdout  # ruff format --check
    assert "No findings to report" in result.stdout  # zizmor, last
    assert project.containers() == []


def test_make_add_locks_a_new_dependency_without_poetry_on_the_host(new_project):
    project = new_project("plugin")
    refused = project.make("add", check=False)
    assert refused.returncode != 0
    assert "make add PKG=" in refused.stderr

    project.make("add", "PKG=six", "GROUP=dev")

    pyproject = tomllib.loads((project.directory / "pyproject.toml").read_text(encoding="utf-8"))
    assert any(spec.startswith("six") for spec in pyproject["dependency-groups"]["dev"])
    assert 'name = "six"' in (project.directory / "poetry.lock").read_text(encoding="utf-8")
    run(tool("poetry"), "check", "--lock", cwd=project.directory)
    assert project.containers() == []


def test_make_add_takes_a_package_that_caps_its_python(new_project):
    """flask-cors declares Python <4.0: Poetry refuses it for an open-ended
    requires-python, and takes it for the project's capped one."""
    project = new_project("plugin")
    project.make("add", "PKG=flask-cors")

    pyproject = tomllib.loads((project.directory / "pyproject.toml").read_text(encoding="utf-8"))
    assert any(spec.startswith("flask-cors") for spec in pyproject["project"]["dependencies"])
    lock = tomllib.loads((project.directory / "poetry.lock").read_text(encoding="utf-8"))
    [locked] = [package for package in lock["package"] if package["name"] == "flask-cors"]
    assert "<4" in locked["python-versions"].replace(" ", "")
    run(tool("poetry"), "check", "--lock", cwd=project.directory)


def test_make_shell_runs_bash_in_the_development_image(new_project):
    project = new_project("plugin")
    result = project.make(
        "shell", input='echo "shell=$0 python=$(command -v python) uid=$(id -u)"; exit 0\n'
    )
    line = f"shell=bash python=/opt/venv/bin/python uid={os.getuid()}"
    assert line in result.stdout.splitlines()
    assert project.containers() == []
