"""compose.yaml and the Makefile, run for real, with each flavour of Compose v2.

Flavours of Compose, each a real environment for `make`:
  plugin      this machine's `docker compose` plugin (~/.docker/cli-plugins)
  standalone  no plugin (DOCKER_CONFIG points at a folder whose cli-plugins holds only
              buildx); a `docker-compose` on PATH runs the plugin's binary directly,
              which is exactly a standalone Compose v2; a wrapper logs its arguments
  v1-only     no plugin; a fake `docker-compose` that says it is the retired 1.29.2
  none        no plugin, no docker-compose

Every project runs under a unique COMPOSE_PROJECT_NAME (DockerSession.compose_project,
which also takes it down at the end) and publishes a free APP_PORT on 127.0.0.1.
The flavours and the Project harness are in tests/docker/helpers.py.
"""

import json
import os
import re
import tomllib

import pytest

from tests.docker.helpers import (
    ANSI,
    APP_PORT,
    BUILD_ENV,
    Background,
    answers_health,
    assert_ran_with,
    docker,
    free_port,
    wait_for_http,
)
from tests.helpers import run, tool

pytestmark = pytest.mark.docker

# --- compose.yaml ----------------------------------------------------------------


def test_compose_config_validates_and_publishes_app_port_on_loopback(default_project):
    port = free_port()
    result = docker(
        "compose", "--profile", "dev", "--profile", "prod", "config", "--format", "json",
        cwd=default_project, env={**BUILD_ENV, "APP_PORT": str(port)},
    )  # fmt: skip
    services = json.loads(result.stdout)["services"]
    assert set(services) == {"app", "dev"}
    for service in services.values():
        [published] = service["ports"]
        assert published["host_ip"] == "127.0.0.1"
        assert (published["published"], published["target"]) == (str(port), APP_PORT)
    assert services["app"]["build"]["target"] == "production"
    assert services["dev"]["build"]["target"] == "development"
    docker("compose", "config", "--quiet", cwd=default_project)


@pytest.mark.parametrize(
    ("profile", "service", "server"),
    [
        pytest.param("dev", "dev", "/opt/venv/bin/flask", id="dev-profile-dev-service"),
        pytest.param("prod", "app", "/opt/venv/bin/gunicorn", id="prod-profile-app-service"),
    ],
)
def test_compose_up_wait_brings_the_service_up_healthy(new_project, profile, service, server):
    project = new_project("plugin")
    docker(
        "compose", "--profile", profile, "up", "--build", "--wait", service,
        cwd=project.directory, env=project.env,
    )  # fmt: skip
    [container] = project.containers(service)
    assert docker("inspect", "-f", "{{.State.Health.Status}}", container).stdout == "healthy\n"
    response = wait_for_http(project.url(), timeout=30, container=container)
    assert response.json() == {"status": "ok"}
    argv = docker("exec", container, "cat", "/proc/1/cmdline").stdout.split("\0")
    assert argv[1] == server
    # Only the asked-for service of that profile runs.
    assert project.containers() == [container]


# --- The Makefile: which Compose it uses ------------------------------------------


@pytest.mark.parametrize(
    ("flavour", "command"),
    [
        pytest.param("plugin", "docker compose", id="plugin"),
        pytest.param("plugin-and-standalone", "docker compose", id="plugin-and-standalone"),
        pytest.param("standalone", "docker-compose", id="standalone"),
    ],
)
def test_make_uses_the_plugin_first_then_a_standalone_compose_v2(
    new_project, flavours, flavour, command
):
    project = new_project(flavour)
    planned = project.make("-n", "run").stdout.splitlines()
    assert f"{command} --profile prod up --build --detach --wait app" in planned
    if flavour == "plugin-and-standalone":
        assert flavours[flavour].calls() == []  # docker-compose was not even asked its version


@pytest.mark.parametrize(
    ("flavour", "message", "calls"),
    [
        pytest.param(
            "v1-only",
            "Found only docker-compose v1, retired since 2023: install Docker Compose v2",
            {"version --short"},  # asked its version, never to build or start anything
            id="v1-only",
        ),
        pytest.param("none", "Docker Compose v2 not found", set(), id="none"),
    ],
)
def test_make_refuses_to_run_without_compose_v2(new_project, flavours, flavour, message, calls):
    project = new_project(flavour)
    result = project.make("run", check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert project.containers() == []
    assert set(flavours[flavour].calls()) == calls


# --- The Makefile's targets, for real ----------------------------------------------

BOTH = ["plugin", "standalone"]


@pytest.mark.parametrize("flavour", BOTH)
def test_make_run_ps_logs_and_down_manage_the_production_service(new_project, flavours, flavour):
    project = new_project(flavour)
    project.make("run")
    assert answers_health(project)
    [container] = project.containers("app")
    assert docker("exec", container, "id", "-u").stdout == "10001\n"

    ps = ANSI.sub("", project.make("ps").stdout)
    [row] = [line for line in ps.splitlines() if f"{project.name}-app-1" in line]
    assert "(healthy)" in row
    assert f"127.0.0.1:{project.port}->{APP_PORT}/tcp" in row

    # `make logs` follows until interrupted: read until gunicorn's start-up lines appear.
    follower = Background(["make", "logs"], cwd=project.directory, env=project.env)
    try:
        follower.wait_for(
            lambda: "Booting worker" in follower.output, timeout=60, what="gunicorn in make logs"
        )
    finally:
        logs = follower.stop()
    assert re.search(rf"app-1 +\| .*Listening at: http://0\.0\.0\.0:{APP_PORT}", logs), logs

    project.make("down")
    assert project.containers() == []
    assert not answers_health(project)
    assert project.image_exists("app")  # down keeps the image; clean removes it
    assert_ran_with(
        flavours, flavour, "--profile prod up --build --detach --wait app",
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
    argv = docker("exec", container, "cat", "/proc/1/cmdline").stdout.split("\0")
    assert argv[1:4] == ["/opt/venv/bin/flask", "run", "--debug"]
    # make passes your UID/GID, so files the container writes are yours.
    assert docker("exec", container, "id", "-u").stdout == f"{os.getuid()}\n"
    mounted = docker("inspect", "-f", "{{json .Mounts}}", container).stdout
    [mount] = json.loads(mounted)
    assert (mount["Source"], mount["Destination"]) == (str(project.directory), "/app")
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


def test_make_shell_runs_bash_in_the_development_image(new_project):
    project = new_project("plugin")
    result = project.make(
        "shell", input='echo "shell=$0 python=$(command -v python) uid=$(id -u)"; exit 0\n'
    )
    line = f"shell=bash python=/opt/venv/bin/python uid={os.getuid()}"
    assert line in result.stdout.splitlines()
    assert project.containers() == []


# --- docker compose watch ----------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["docker", "compose", "--profile", "dev", "watch", "dev"], id="compose-watch"),
        pytest.param(["make", "watch"], id="make-watch"),
    ],
)
def test_watch_rebuilds_the_dev_image_when_pyproject_changes(new_project, command):
    project = new_project("plugin")
    watcher = Background(command, cwd=project.directory, env=project.env)
    try:
        watcher.wait_for(
            lambda: answers_health(project) and "Watch enabled" in watcher.output,
            timeout=300,
            what="the watched dev service answers",
        )
        assert "won't be monitored" not in watcher.output
        [first] = project.containers("dev")
        first_image = docker("inspect", "-f", "{{.Image}}", first).stdout

        # A comment leaves the lock's content-hash valid, but the image copies the file.
        with (project.directory / "pyproject.toml").open("a", encoding="utf-8") as file:
            file.write("# changed while watching\n")

        def rebuilt() -> str | None:
            containers = project.containers("dev")
            if containers == [first] or len(containers) != 1 or not answers_health(project):
                return None
            return containers[0]

        second = watcher.wait_for(rebuilt, timeout=300, what="a rebuilt dev container answers")
        assert docker("inspect", "-f", "{{.Image}}", second).stdout != first_image
        assert 'Rebuilding service "dev"' in watcher.output
    finally:
        watcher.stop()
