"""This run's images, containers and compose projects (DockerSession), the facts about
the images the tests build, and looking inside a running container.
"""

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.docker.waits import wait_for_http
from tests.helpers import docker

RUN_PREFIX = f"pdtest-{uuid.uuid4().hex[:8]}"
# The Python versions whose base images the CI machines can build (no Debian suite has 3.12).
BUILDABLE_PYTHONS = ["3.11", "3.13", "3.14"]
DEFAULT_PYTHON = "3.14"
APP_PORT = 8888
# The name the HTTPS tests set as DOMAIN; they reach it on 127.0.0.1.
TEST_DOMAIN = "edge.test"
# The production image's fixed, numeric user and group.
APP_UID = "10001"
UID_GID = f"{APP_UID}:{APP_UID}"
SECRET_KEY = "docker-tests-only-" + uuid.uuid4().hex


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


# --- Looking inside a running container ------------------------------------------------


def running_server(docker_session: DockerSession, image: str, *options: str) -> str:
    """Start the image's default command and return the container once /health answers."""
    container = docker_session.run(image, options=options)
    wait_for_http(docker_session.url(container), container=container)
    return container


# gunicorn's own log lines, such as "[2026-01-01 00:00:00 +0000] [1] [INFO] Starting gunicorn".
GUNICORN_INFO_LINE = re.compile(r"\[[^]]+\] \[\d+\] \[INFO\] ")


@dataclass
class RefusedStart:
    """A container that ran its default command and exited on its own."""

    exit_code: int
    output: str

    @property
    def error_lines(self) -> list[str]:
        """The non-empty lines it printed, gunicorn's INFO lines left out."""
        return [
            line
            for line in self.output.splitlines()
            if line.strip() and not GUNICORN_INFO_LINE.match(line)
        ]


def refused_start(docker_session: DockerSession, image: str, *options: str) -> RefusedStart:
    """Run image's default command in the foreground, without a secret key unless
    options give one, until it exits; bounded, since a server that starts never would."""
    name = docker_session.name("refused")
    docker_session.containers.add(name)
    result = docker("run", "--name", name, *options, image, check=False, timeout=120)
    return RefusedStart(result.returncode, result.stdout + result.stderr)


def parse_proc_status(text: str) -> dict[str, list[str]]:
    """The fields of a /proc/PID/status text: {"Uid": ["10001", ...], "CapEff": [...]}."""
    return {
        name: value.split()
        for name, value in (line.split(":", 1) for line in text.splitlines() if ":" in line)
    }


def proc_status(container: str, pid: int = 1) -> dict[str, list[str]]:
    """The fields of /proc/PID/status in a running container."""
    return parse_proc_status(docker("exec", container, "cat", f"/proc/{pid}/status").stdout)


def proc_cmdline(container: str, pid: int = 1) -> list[str]:
    """The arguments of process PID in a running container."""
    raw = docker("exec", container, "cat", f"/proc/{pid}/cmdline").stdout
    return raw.split("\0")[:-1]


def logs(container: str) -> tuple[str, str]:
    """The container's stdout and stderr so far."""
    result = docker("logs", container, timeout=60)
    return result.stdout, result.stderr


def inspect(name: str, kind: str = "container") -> dict:
    return json.loads(docker(kind, "inspect", name, timeout=60).stdout)[0]


# Lists the gunicorn workers: the processes whose parent is the master, PID 1.
# (`docker exec` processes have parent 0, so this script never counts itself.)
WORKER_PIDS_SCRIPT = """
import json, os
pids = []
for entry in os.listdir("/proc"):
    if not entry.isdigit():
        continue
    try:
        with open(f"/proc/{entry}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
            command = cmdline.read()
    except OSError:  # the process ended while we looked
        continue
    if fields["PPid"].strip() == "1" and b"gunicorn" in command:
        pids.append(int(entry))
print(json.dumps(sorted(pids)))
"""


def worker_pids(container: str) -> list[int]:
    """PIDs (inside the container) of gunicorn's workers, read from /proc (no ps in slim)."""
    return json.loads(docker("exec", container, "python", "-c", WORKER_PIDS_SCRIPT).stdout)
