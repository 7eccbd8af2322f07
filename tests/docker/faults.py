"""A test-only app module, for faults the shipped app has no view for.

The shipped app has no slow or failing view, and it must not grow one for the
tests' sake. Instead the tests mount `faults_app.py` (below) read-only into the
production image and tell gunicorn to serve `faults_app:create_app()`: the real
factory, with the same configuration and error handlers, plus the views under
/_test/ that exist only in the test container.
"""

import json
import re
import threading
from collections.abc import Callable
from pathlib import Path

from harness.waits import http_get
from tests.docker.session import DockerSession
from tests.helpers import DEFAULT_APP_NAME

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


class HeldRequests:
    """GET /_test/held once per id, each from a thread of its own, started at once; the
    view holds each request until release(). url(id) is a request's URL, views_dir the
    folder write_test_app wrote (the server's)."""

    def __init__(self, url: Callable[[str], str], ids: list[str], views_dir: Path):
        self.ids = ids
        self.views_dir = views_dir
        self.results: dict[str, object] = {}  # id: the response, or the error
        self.threads = [
            threading.Thread(target=self._get, args=(request_id, url(request_id)), daemon=True)
            for request_id in ids
        ]
        for thread in self.threads:
            thread.start()

    def _get(self, request_id: str, url: str) -> None:
        try:
            self.results[request_id] = http_get(url, timeout=60)
        except OSError as error:
            self.results[request_id] = error

    def all_in_view(self, stderr: str) -> bool:
        """Whether the server's stderr says that every request has reached the view."""
        return started_requests(stderr) >= set(self.ids)

    def release(self) -> None:
        """Let every held request answer."""
        for request_id in self.ids:
            (self.views_dir / HELD_RELEASE_DIR / request_id).touch()

    def join(self, timeout: float = 30) -> list[str]:
        """Wait (each bounded by timeout) for the requests to return; the ids still out."""
        for thread in self.threads:
            thread.join(timeout=timeout)
        return [i for i, thread in zip(self.ids, self.threads, strict=True) if thread.is_alive()]


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
