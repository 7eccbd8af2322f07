"""Flavours of Compose, each a real environment for `make`, and a project as a user
would have it, with its own compose project name and port.

  plugin      this machine's `docker compose` plugin (~/.docker/cli-plugins)
  standalone  no plugin (DOCKER_CONFIG points at a folder whose cli-plugins holds only
              buildx); a `docker-compose` on PATH runs the plugin's binary directly,
              which is exactly a standalone Compose v2; a wrapper logs its arguments
  plugin-and-standalone  both of the above
  v1-only     no plugin; a fake `docker-compose` that says it is the retired 1.29.2
  none        no plugin, no docker-compose
"""

import os
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.containers import BUILD_ENV
from harness.waits import free_port, http_get
from tests.docker.session import DockerSession
from tests.helpers import docker, run

PLUGINS = Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "cli-plugins"


def executable(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


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


def make_flavours(root: Path) -> dict[str, Flavour]:
    """Set up every flavour of Compose under root; check the standalone one is a real v2."""
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


def assert_ran_with(flavours: dict[str, Flavour], flavour: str, *expected: str) -> None:
    """With the standalone flavour, each compose command went through docker-compose."""
    if flavour == "standalone":
        calls = flavours[flavour].calls()
        for command in expected:
            assert any(call.endswith(command) for call in calls), (command, calls)


# --- A project, as a user would have it -------------------------------------------------


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


def answers_health(project: Project) -> bool:
    try:
        response = http_get(project.url(), timeout=2)
    except OSError:
        return False
    return response.status == 200 and response.json() == {"status": "ok"}


def write_env(project_dir: Path) -> None:
    """`make .env`: the generated Makefile's target, the only writer of .env and the
    secrets (the bake writes neither), for a test that runs Docker without make."""
    run("make", ".env", cwd=project_dir, timeout=60)


def compose_project(
    session: DockerSession, project_dir: Path, base_env: dict[str, str] = BUILD_ENV
) -> Project:
    """project_dir as a Project under a unique compose project name and a free APP_PORT."""
    name = session.compose_project(project_dir)
    port = free_port()
    env = {**base_env, "COMPOSE_PROJECT_NAME": name, "APP_PORT": str(port)}
    return Project(project_dir, name, port, env)


def start_with_make_run(session: DockerSession, project_dir: Path) -> Project:
    """`make run` in project_dir, under a unique compose project name and a free APP_PORT."""
    project = compose_project(session, project_dir)
    project.make("run")
    return project
