"""What the sections of the benchmark share: running commands, the baked project, the
label on everything they create, images and the build cache, and the machine's facts.

run.py measures builds, edge.py the production edge, database.py the database answer's
cost; run.py's main runs any of them.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import sys
import time
from pathlib import Path

BENCHMARK_DIR = Path(__file__).resolve().parent
REPO = BENCHMARK_DIR.parent
# harness/, the library the tests use too, is beside benchmark/ (run.py is run as a
# script, so only benchmark/ is on the path). The sections import common before harness.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import harness.commands  # noqa: E402
import harness.containers  # noqa: E402
import harness.waits  # noqa: E402
from harness.commands import CommandFailed  # noqa: E402
from harness.waits import free_port  # noqa: E402, F401 (for the sections)

# The reference Dockerfiles name the app package: the template's default answers bake it.
APP_NAME = "my_flask_service"
# On everything the benchmark creates, so that a run can remove what an interrupted one left.
LABEL = "org.poetry-docker.benchmark=1"
SECRET_KEY = "benchmark-only-not-a-secret"  # a throw-away container's key

DOCKER_TIMEOUT = 120

TOOL_ENV = {
    **os.environ,
    "DOCKER_BUILDKIT": "1",
    "POETRY_NO_INTERACTION": "1",
    "UV_PYTHON_DOWNLOADS": "never",
    # Poetry's own client cannot read this network's index; the mirror plugin can.
    "POETRY_PYPI_MIRROR_URL": os.environ.get("POETRY_PYPI_MIRROR_URL", "https://pypi.org/simple/"),
}


# --- running commands -----------------------------------------------------------------


@contextlib.contextmanager
def exiting_on_failure():
    """A failed command (CommandFailed) ends the benchmark, with the tail of its output."""
    try:
        yield
    except CommandFailed as failed:
        tail = "\n".join(failed.output.splitlines()[-40:])
        sys.exit(
            f"benchmark: command failed ({failed.result.returncode}): {failed.command}\n{tail}"
        )


def run(cmd, *, timeout, cwd=None, log=None, check=True, env=None):
    """Run `cmd`, output captured (or written to `log`); fail loudly with its tail.

    `env` adds to TOOL_ENV (Compose takes its project name and port from there)."""
    with exiting_on_failure():
        return harness.commands.run(
            cmd, cwd=cwd, env={**TOOL_ENV, **(env or {})}, timeout=timeout, log=log, merge=True,
            check=check,
        )  # fmt: skip


def timed(cmd, **kwargs) -> float:
    start = time.perf_counter()
    run(cmd, **kwargs)
    return time.perf_counter() - start


def docker(*args, timeout=DOCKER_TIMEOUT, check=True) -> str:
    with exiting_on_failure():
        result = harness.containers.docker(
            *args, timeout=timeout, check=check, env=TOOL_ENV, merge=True
        )
    return result.stdout.strip()


def wait_for_200(url: str, deadline: float) -> None:
    """Poll url until it answers 200; raise TimeoutError at deadline (time.perf_counter)."""
    harness.waits.wait_for_http(
        url, deadline - time.perf_counter(), interval=0.01, request_timeout=1
    )


def remove_leftovers(label: str = LABEL) -> None:
    """Every container and image with `label` (by default the benchmark's): this run's, or
    what an interrupted earlier run left behind."""
    for kind, remove in (("ps", "rm"), ("images", "rmi")):
        listing = run(["docker", kind, "-aq", "--filter", f"label={label}"],
                      timeout=DOCKER_TIMEOUT, check=False)  # fmt: skip
        ids = sorted(set(listing.stdout.split()))
        if listing.returncode == 0 and ids:
            run(["docker", remove, "-f", *ids], timeout=DOCKER_TIMEOUT, check=False)


def canonical(name: str) -> str:
    """A package's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


# --- images and the build cache -----------------------------------------------------------


def prune_build_cache() -> None:
    """Empty the engine's whole build cache, cache mounts included: a cold build's start."""
    docker("builder", "prune", "-af", timeout=DOCKER_TIMEOUT * 3)


def image_size(ref: str) -> int:
    return int(docker("image", "inspect", "--format", "{{.Size}}", ref))


def image_fact(ref: str) -> str:
    """An image's name, whether it is a local stand-in, its size and ID, for a report."""
    fields = docker("image", "inspect", "--format",
                    '{{.Id}} {{.Size}} {{index .Config.Labels "org.poetry-docker.stand-in"}}',
                    ref).split()  # fmt: skip
    kind = "a local stand-in built from Debian" if fields[2:] == ["true"] else "official"
    return f"{ref} ({kind}), {int(fields[1]) / 1e6:.1f} MB, id {fields[0][7:19]}"


def machine_load(prefix: str) -> str:
    """The machine may be shared: what else ran while a section measured (containers not
    named `prefix`...)."""
    others = [name for name in docker("ps", "--format", "{{.Names}}").split()
              if not name.startswith(prefix)]  # fmt: skip
    one, five, _ = os.getloadavg()
    return (
        f"load average {one:.2f} (1 min), {five:.2f} (5 min), "
        f"{len(others)} other containers running"
    )


# --- the project and the machine ----------------------------------------------------------


def bake(workdir: Path, python: str, **answers: str) -> Path:
    """The template baked into workdir/baked with `python` and `answers`, the rest default."""
    from cookiecutter.main import cookiecutter  # the tooling venv's

    baked = cookiecutter(
        str(REPO),
        no_input=True,
        output_dir=str(workdir / "baked"),
        extra_context={"python_version": python, **answers},
    )
    project = Path(baked)
    if project.name != APP_NAME:
        sys.exit(f"benchmark: expected the default app name {APP_NAME}, got {project.name}")
    return project


def template_commit() -> str:
    git = ["git", "-C", REPO]
    commit = run([*git, "rev-parse", "--short", "HEAD"], timeout=30, check=False).stdout.strip()
    dirty = run([*git, "status", "--porcelain", "--", "{{cookiecutter.app_name}}"],
                timeout=30, check=False).stdout.strip()  # fmt: skip
    return f"{commit or 'unknown'}{' with uncommitted changes to the template' if dirty else ''}"


def host_facts() -> list[str]:
    """CPU, memory, kernel and Docker: what any figure here depends on."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown",
    )  # fmt: skip
    memory_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1])
    client = docker("version", "--format", "{{.Client.Version}}")
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores (nproc); memory {memory_kb / 2**20:.1f} GiB",
        f"kernel {platform.release()}; Docker engine "
        f"{docker('version', '--format', '{{.Server.Version}}')}, builder: BuildKit "
        f"(DOCKER_BUILDKIT=1 docker build, client {client})",
    ]
