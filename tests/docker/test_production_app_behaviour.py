"""The app as the production image serves it: safe defaults that settings cannot undo.

Without a secret key, gunicorn's master refuses to start, in one line, for both
database answers; FLASK_DEBUG=1 never turns on debugging (errors are JSON, the
traceback goes to the logs only); workers and threads follow WEB_CONCURRENCY and
GUNICORN_THREADS, and every request is access-logged; and X-Forwarded-* headers
are believed only when proxies are configured. Where a test needs a failing view,
it comes from the test-only faults_app (tests/docker/faults.py).
"""

import json
import re
import urllib.request

import pytest

from harness.waits import HTTP, http_get
from tests.docker.faults import run_test_app
from tests.docker.session import inspect, logs, refused_start, worker_pids
from tests.docker.waits import wait_for_http, wait_until

pytestmark = pytest.mark.docker


@pytest.mark.parametrize("production_image", ["production", "postgresql_production"])
def test_the_master_refuses_to_start_without_a_secret_key_in_one_line(
    docker_session, request, production_image
):
    """Before any worker boots: one line naming the setting, not a traceback per worker."""
    refused = refused_start(docker_session, request.getfixturevalue(production_image))
    assert refused.exit_code != 0
    assert "Traceback" not in refused.output
    assert "Booting worker" not in refused.output
    [line] = refused.error_lines
    assert "neither FLASK_SECRET_KEY_FILE nor FLASK_SECRET_KEY is set" in line


def test_debug_flag_never_turns_on_debugging_in_production(docker_session, image, tmp_path):
    container = run_test_app(
        docker_session, image("production"), tmp_path / "app", "--env", "FLASK_DEBUG=1"
    )
    base = docker_session.url(container, "")
    wait_for_http(f"{base}/health", container=container)

    for path in ("/no-such-page", "/console"):
        response = http_get(f"{base}{path}")
        assert response.status == 404
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["status"] == 404

    failure = http_get(f"{base}/_test/boom")
    assert failure.status == 500
    assert failure.headers["Content-Type"] == "application/json"
    assert failure.json()["status"] == 500
    for leak in ("Traceback", "RuntimeError", "internal detail", "faults_app", ".py"):
        assert leak not in failure.body
    # The traceback is for the operator: it is in the logs.
    wait_until(
        lambda: "RuntimeError: faults-app internal detail" in logs(container)[1],
        timeout=10,
        what="the traceback is logged",
    )


def test_workers_and_threads_follow_the_environment_and_requests_are_access_logged(
    docker_session, image
):
    container = docker_session.run(
        image("production"),
        options=(
            "--env", "WEB_CONCURRENCY=3",
            "--env", "GUNICORN_THREADS=2",
            # Gunicorn's own variable: print its configuration at start-up.
            "--env", "GUNICORN_CMD_ARGS=--log-level debug",
        ),
    )  # fmt: skip
    url = docker_session.url(container)
    wait_for_http(url, container=container)
    wait_until(lambda: len(worker_pids(container)) == 3, timeout=30, what="3 worker processes run")
    stderr = logs(container)[1]
    assert "Using worker: gthread" in stderr
    assert re.search(r"^\s*threads: 2$", stderr, re.MULTILINE), stderr[-3000:]
    assert re.search(r"^\s*workers: 3$", stderr, re.MULTILINE), stderr[-3000:]

    paths = [f"/health?access-log={number}" for number in range(5)]
    for path in paths:
        assert http_get(url.replace("/health", path)).status == 200

    def logged() -> bool:
        stdout = logs(container)[0]
        return all(f'"GET {path} HTTP/1.1" 200' in stdout for path in paths)

    wait_until(logged, timeout=10, what="every request has an access-log line on stdout")


@pytest.mark.parametrize(
    ("settings", "trusted"),
    [
        pytest.param((), False, id="ignored-by-default"),
        pytest.param(
            ("FLASK_TRUSTED_PROXIES=1", "FORWARDED_ALLOW_IPS=*"),
            True,
            id="believed-when-configured",
        ),
    ],
)
def test_forwarded_headers_are_believed_only_when_proxies_are_configured(
    docker_session, image, tmp_path, settings, trusted
):
    """The test's requests reach the container from Docker's gateway, not from loopback."""
    options = [option for setting in settings for option in ("--env", setting)]
    container = run_test_app(docker_session, image("production"), tmp_path / "app", *options)
    base = docker_session.url(container, "")
    wait_for_http(f"{base}/health", container=container)
    gateway = inspect(container)["NetworkSettings"]["Gateway"]
    assert gateway

    request = urllib.request.Request(
        f"{base}/_test/whoami",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
    )
    with HTTP.open(request, timeout=5) as response:
        seen = json.loads(response.read())
    if trusted:
        assert seen == {"scheme": "https", "remote_addr": "203.0.113.9"}
    else:
        assert seen == {"scheme": "http", "remote_addr": gateway}
