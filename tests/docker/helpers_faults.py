"""Helpers for the fault and hardening tests: a test-only app module, /proc, bounded waits.

The shipped app has no slow or failing view, and it must not grow one for the
tests' sake. Instead the tests mount `faults_app.py` (below) read-only into the
production image and tell gunicorn to serve `faults_app:create_app()`: the real
factory, with the same configuration and error handlers, plus three views under
/_test/ that exist only in the test container.
"""

import json
import re
from datetime import datetime
from pathlib import Path

from tests.conftest import DEFAULT_APP_NAME
from tests.docker.conftest import DockerSession, docker

TEST_APP_MODULE = "faults_app"
TEST_APP_MOUNT = "/opt/testapp"
# Printed by the slow view when a request has reached it, so a test knows which
# requests are in flight without guessing with a sleep.
SLOW_START_MARKER = "faults-app: slow request started id="

TEST_APP_SOURCE = f'''\
"""Test-only views around the shipped factory; never part of the image."""

import os
import time

from flask import request

from {DEFAULT_APP_NAME} import create_app as shipped_create_app


def create_app():
    app = shipped_create_app()

    @app.get("/_test/slow")
    def slow():
        # One write(2) per line, so lines from concurrent threads never interleave.
        os.write(2, f"{SLOW_START_MARKER}{{request.args['id']}}\\n".encode())
        time.sleep(float(request.args["seconds"]))
        return {{"id": request.args["id"], "finished": True}}

    @app.get("/_test/boom")
    def boom():
        raise RuntimeError("faults-app internal detail: boom")

    @app.get("/_test/whoami")
    def whoami():
        return {{"scheme": request.scheme, "remote_addr": request.remote_addr}}

    return app
'''

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


def write_test_app(directory: Path) -> Path:
    """Write faults_app.py into directory, readable by the image's non-root user."""
    directory.mkdir(parents=True, exist_ok=True)
    module = directory / f"{TEST_APP_MODULE}.py"
    module.write_text(TEST_APP_SOURCE, encoding="utf-8")
    directory.chmod(0o755)
    module.chmod(0o644)
    return directory


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


def logs(container: str) -> tuple[str, str]:
    """The container's stdout and stderr so far."""
    result = docker("logs", container, timeout=60)
    return result.stdout, result.stderr


def inspect(name: str, kind: str = "container") -> dict:
    return json.loads(docker(kind, "inspect", name, timeout=60).stdout)[0]


def worker_pids(container: str) -> list[int]:
    """PIDs (inside the container) of gunicorn's workers, read from /proc (no ps in slim)."""
    return json.loads(docker("exec", container, "python", "-c", WORKER_PIDS_SCRIPT).stdout)


def started_requests(stderr: str) -> set[str]:
    """The ids of the slow requests that have reached the view."""
    return set(re.findall(rf"{re.escape(SLOW_START_MARKER)}(\w+)", stderr))


def parse_docker_time(value: str) -> datetime:
    """Docker's RFC 3339 timestamps carry nanoseconds, which datetime does not take."""
    head, _, fraction = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(fraction or '0')[:6]:0<6}+00:00")
