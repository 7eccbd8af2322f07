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
"""

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import threading
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run, tool
from tests.docker.conftest import (
    APP_PORT,
    BUILD_ENV,
    DockerSession,
    docker,
    free_port,
    http_get,
    wait_for_http,
    wait_until,
)

pytestmark = pytest.mark.docker

PLUGINS = Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "cli-plugins"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Rules of the generated Makefile that `make help` must not list: internal helpers.
INTERNAL_TARGETS = {"compose-check"}
PUBLIC_TARGETS = {
    "help", ".env", "dev", "watch", "run", "test", "lint", "shell", "add", "logs", "ps", "down",
    "clean",
}  # fmt: skip


def executable(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


# --- Flavours of Compose -----------------------------------------------------------


@dataclass
class Flavour:
    name: str
    env: dict[str, str]
    # Where the docker-compose on PATH, if the flavour has one, logs its arguments.
    log: Path | None = None
    has_plugin: bool = False
    has_docker_compose: bool = False

    def calls(self) -> list[str]:
        if self.log is None or not self.log.exists():
            return []
        return self.log.read_text(encoding="utf-8").splitlines()

    def prepare(self) -> None:
        """Check the environment is what its name says (else tests prove nothing); clear the log."""
        plugin = subprocess.run(
            ["docker", "compose", "version"], env=self.env, capture_output=True, timeout=30
        )
        assert (plugin.returncode == 0) == self.has_plugin, (self.name, plugin.stderr)
        if not self.has_plugin or self.has_docker_compose:
            which = shutil.which("docker-compose", path=self.env["PATH"])
            assert (which is not None) == self.has_docker_compose, (self.name, which)
        if self.log is not None:
            self.log.write_text("", encoding="utf-8")


@pytest.fixture(scope="module")
def flavours(tmp_path_factory) -> dict[str, Flavour]:
    root = tmp_path_factory.mktemp("compose-flavours")
    compose_binary = PLUGINS / "docker-compose"
    assert os.access(compose_binary, os.X_OK), f"no Compose plugin binary at {compose_binary}"

    # A Docker config folder with buildx but no compose plugin.
    no_plugin = root / "docker-config"
    (no_plugin / "cli-plugins").mkdir(parents=True)
    (no_plugin / "cli-plugins" / "docker-buildx").symlink_to(PLUGINS / "docker-buildx")

    def bin_dir(name: str, script: str) -> tuple[Path, Path]:
        folder = root / name
        folder.mkdir()
        log = folder / "calls.log"
        executable(folder / "docker-compose", script.replace("LOG", str(log)))
        return folder, log

    standalone_bin, standalone_log = bin_dir(
        "standalone-bin",
        f'#!/bin/sh\nprintf "%s\\n" "$*" >> LOG\nexec {compose_binary} "$@"\n',
    )
    v1_bin, v1_log = bin_dir(
        "v1-bin",
        "#!/bin/sh\n"
        'printf "%s\\n" "$*" >> LOG\n'
        'if [ "$*" = "version --short" ]; then echo 1.29.2; exit 0; fi\n'
        'echo "docker-compose version 1.29.2, build 5becea4c"\n',
    )
    path = BUILD_ENV["PATH"]
    no_plugin_env = {**BUILD_ENV, "DOCKER_CONFIG": str(no_plugin)}
    standalone = Flavour(
        "standalone",
        {**no_plugin_env, "PATH": f"{standalone_bin}:{path}"},
        standalone_log,
        has_docker_compose=True,
    )
    found = {
        "plugin": Flavour("plugin", dict(BUILD_ENV), has_plugin=True),
        "standalone": standalone,
        "plugin-and-standalone": Flavour(
            "plugin-and-standalone",
            {**BUILD_ENV, "PATH": f"{standalone_bin}:{path}"},
            standalone_log,
            has_plugin=True,
            has_docker_compose=True,
        ),
        "v1-only": Flavour(
            "v1-only",
            {**no_plugin_env, "PATH": f"{v1_bin}:{path}"},
            v1_log,
            has_docker_compose=True,
        ),
        "none": Flavour("none", no_plugin_env),
    }
    # The standalone flavour is a real Compose v2, and builds with BuildKit through buildx.
    short = subprocess.run(
        ["docker-compose", "version", "--short"],
        env=standalone.env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert re.match(r"v?2\.", short.stdout), short.stdout
    docker("buildx", "version", env=standalone.env)
    return found


# --- A project, as a user would have it, with its own compose project name and port ---


@dataclass
class Project:
    directory: Path
    name: str
    port: int
    env: dict[str, str]

    def make(self, *targets: str, check: bool = True, timeout: float = 600, **kwargs):
        return run(
            "make", *targets, cwd=self.directory, env=self.env, check=check, timeout=timeout,
            **kwargs,
        )  # fmt: skip

    def compose(self, *args: str, check: bool = True, timeout: float = 600):
        """The real plugin, whatever the flavour: for inspecting what make did."""
        return docker(
            "compose", "--profile", "dev", "--profile", "prod", *args,
            cwd=self.directory, env={**BUILD_ENV, **self.compose_env}, check=check,
            timeout=timeout,
        )  # fmt: skip

    @property
    def compose_env(self) -> dict[str, str]:
        return {"COMPOSE_PROJECT_NAME": self.name, "APP_PORT": str(self.port)}

    def url(self, path: str = "/health") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def containers(self, service: str | None = None) -> list[str]:
        args = ["ps", "--all", "--quiet"] + ([service] if service else [])
        return self.compose(*args).stdout.split()

    def image_exists(self, service: str) -> bool:
        return docker("image", "inspect", f"{self.name}-{service}", check=False).returncode == 0

    def down(self) -> None:
        self.compose("down", "--volumes", "--remove-orphans", check=False)


@pytest.fixture
def new_project(
    docker_session: DockerSession, project_copy: Path, flavours
) -> Iterator[Callable[[str], Project]]:
    """new_project(flavour): the test's project copy, set up to run with that flavour."""
    started: list[Project] = []

    def setup(flavour: str) -> Project:
        flavours[flavour].prepare()
        name = docker_session.compose_project(project_copy)
        port = free_port()
        env = {**flavours[flavour].env, "COMPOSE_PROJECT_NAME": name, "APP_PORT": str(port)}
        project = Project(project_copy, name, port, env)
        started.append(project)
        return project

    yield setup
    for project in started:
        project.down()


class Background:
    """A command running in its own process group, its output collected as it comes."""

    def __init__(self, command: list[str], **kwargs):
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            start_new_session=True,
            **kwargs,
        )
        self.chunks: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.chunks.append(line)

    @property
    def output(self) -> str:
        return ANSI.sub("", "".join(self.chunks))

    def wait_for(self, condition: Callable[[], object], timeout: float, what: str):
        """wait_until condition holds, failing at once (with the output) if the process exits."""

        def met():
            if (value := condition()) or self.process.poll() is None:
                return value
            exited = self.process.poll()
            pytest.fail(f"{what}: the process exited ({exited})\n{self.output[-6000:]}")

        return wait_until(met, timeout, what, interval=0.5, explain=lambda: self.output[-6000:])

    def stop(self) -> str:
        """Interrupt the whole process group, as Ctrl-C would, then kill it if it lingers."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.reader.join(timeout=10)
        return self.output


def answers_health(project: Project) -> bool:
    try:
        response = http_get(project.url(), timeout=2)
    except OSError:
        return False
    return response.status == 200 and response.json() == {"status": "ok"}


# --- compose.yaml ----------------------------------------------------------------


def test_compose_config_validates_and_publishes_app_port_on_loopback(docker_project):
    port = free_port()
    result = docker(
        "compose", "--profile", "dev", "--profile", "prod", "config", "--format", "json",
        cwd=docker_project, env={**BUILD_ENV, "APP_PORT": str(port)},
    )  # fmt: skip
    services = json.loads(result.stdout)["services"]
    assert set(services) == {"app", "dev"}
    for service in services.values():
        [published] = service["ports"]
        assert published["host_ip"] == "127.0.0.1"
        assert (published["published"], published["target"]) == (str(port), APP_PORT)
    assert services["app"]["build"]["target"] == "production"
    assert services["dev"]["build"]["target"] == "development"
    docker("compose", "config", "--quiet", cwd=docker_project)


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


def test_make_help_lists_every_target_with_its_description(docker_project):
    makefile = (docker_project / "Makefile").read_text(encoding="utf-8")
    rules = {
        match[1]
        for match in re.finditer(r"^([A-Za-z0-9_.-]+):", makefile, re.MULTILINE)
        if not re.fullmatch(r"\.[A-Z_]+", match[1])  # .PHONY and other special targets
    }
    described = dict(re.findall(r"^([A-Za-z0-9_.-]+):.*?## (.+)$", makefile, re.MULTILINE))
    assert rules - set(described) == INTERNAL_TARGETS
    assert set(described) == PUBLIC_TARGETS

    result = subprocess.run(
        ["make", "help"], cwd=docker_project, capture_output=True, text=True, timeout=60, check=True
    )
    listed = dict(
        line.strip().split(maxsplit=1) for line in ANSI.sub("", result.stdout).splitlines()
    )
    assert listed == {target: text.strip() for target, text in described.items()}
    # `make` alone prints the same list.
    bare = subprocess.run(["make"], cwd=docker_project, capture_output=True, text=True, timeout=60)
    assert bare.stdout == result.stdout


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


def assert_ran_with(flavours, flavour: str, *expected: str) -> None:
    """With the standalone flavour, each compose command went through docker-compose."""
    if flavour == "standalone":
        calls = flavours[flavour].calls()
        for command in expected:
            assert any(call.endswith(command) for call in calls), (command, calls)


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


def test_make_env_writes_a_private_secret_key_once(project_copy):
    env_file = project_copy / ".env"
    env_file.unlink()
    run("make", ".env", cwd=project_copy, timeout=60)
    written = env_file.read_text(encoding="utf-8")
    assert re.fullmatch(r"FLASK_SECRET_KEY=[0-9a-f]{64}\n", written)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    again = run("make", ".env", cwd=project_copy, timeout=60)
    assert env_file.read_text(encoding="utf-8") == written
    assert "up to date" in again.stdout


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
