"""The production image under faults: a stop mid-request, a dead worker, a crashed server.

Each test runs the real production image. Where a test needs a slow view, the
view comes from a test-only module mounted into the container (faults_app, in
tests/docker/faults.py).
"""

import os
import signal
import subprocess
from datetime import datetime

import pytest

from harness.containers import BUILD_ENV
from harness.waits import http_get
from tests.docker.faults import HeldRequests, run_test_app
from tests.docker.session import inspect, logs, worker_pids
from tests.docker.waits import wait_for_health, wait_for_http, wait_until
from tests.helpers import docker

pytestmark = pytest.mark.docker


def parse_docker_time(value: str) -> datetime:
    """Docker's RFC 3339 timestamps carry nanoseconds, which datetime does not take."""
    head, _, fraction = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(fraction or '0')[:6]:0<6}+00:00")


HELD_REQUESTS = 5
# The bound of a graceful stop: Docker sends SIGKILL (exit code 137) after it.
STOP_TIMEOUT = 30


def test_in_flight_requests_finish_when_the_container_is_stopped(docker_session, image, tmp_path):
    """`docker stop` (SIGTERM) lets every request already in a worker finish with 200.

    Enough threads for every request at once (8 per worker). Each request is held in
    the view until the test releases it, which it does only once gunicorn has logged
    the SIGTERM: so every request is in flight when the stop comes, whatever the
    machine's speed. The stop is graceful when the container exits 0, not 137.
    """
    app_dir = tmp_path / "app"
    container = run_test_app(
        docker_session, image("production"), app_dir, "--env", "GUNICORN_THREADS=8"
    )
    base = docker_session.url(container, "")
    wait_for_http(f"{base}/health", container=container)

    ids = [f"r{number}" for number in range(HELD_REQUESTS)]
    held = HeldRequests(lambda request_id: f"{base}/_test/held?id={request_id}", ids, app_dir)
    wait_until(
        lambda: held.all_in_view(logs(container)[1]),
        timeout=30,
        what=f"all {HELD_REQUESTS} held requests are in the view",
        explain=lambda: f"responses: {held.results}\nlogs:\n{logs(container)[1][-3000:]}",
    )

    stop = subprocess.Popen(
        ["docker", "stop", "--time", str(STOP_TIMEOUT), container], env=BUILD_ENV,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_until(
        lambda: "Handling signal: term" in logs(container)[1],
        timeout=STOP_TIMEOUT,
        what="gunicorn has the SIGTERM",
    )
    held.release()
    assert stop.wait(timeout=STOP_TIMEOUT + 30) == 0, stop.stderr.read()
    assert not held.join(), "a request never returned"

    for request_id in ids:
        response = held.results[request_id]
        assert not isinstance(response, Exception), f"{request_id}: {response!r}"
        assert response.status == 200, (request_id, response.status, response.body)
        assert response.json() == {"id": request_id, "finished": True}
    state = inspect(container)["State"]
    assert (state["Running"], state["ExitCode"], state["OOMKilled"]) == (False, 0, False)
    assert "Shutting down: Master" in logs(container)[1]


def test_a_killed_worker_is_replaced_by_the_master(docker_session, image):
    """SIGKILL one worker: gunicorn forks a new one, and the service keeps answering."""
    workers = 2
    container = docker_session.run(
        image("production"), options=("--env", f"WEB_CONCURRENCY={workers}")
    )
    url = docker_session.url(container)
    wait_for_http(url, container=container)
    before = wait_until(
        lambda: (pids := worker_pids(container)) and len(pids) == workers and pids,
        timeout=30,
        what=f"{workers} workers run",
    )

    victim = before[0]
    docker("exec", container, "python", "-c", f"import os; os.kill({victim}, 9)")

    after = wait_until(
        lambda: (
            (pids := worker_pids(container))
            and len(pids) == workers
            and victim not in pids
            and set(pids) - set(before)
            and pids
        ),
        timeout=30,
        what=f"the master replaced worker {victim}",
    )
    assert before[1] in after  # the other worker was left alone
    assert f"Worker (pid:{victim}) was sent SIGKILL" in logs(container)[1]
    statuses = [http_get(url, timeout=5).status for _ in range(20)]
    assert statuses == [200] * 20
    assert inspect(container)["RestartCount"] == 0  # the container itself never restarted


def test_a_crashed_server_is_restarted_by_the_restart_policy_and_becomes_healthy(
    docker_session, image
):
    """SIGKILL of the container's main process from the host is a crash, not a stop.

    (`docker kill`/`docker stop` count as a manual stop and PID 1 ignores a
    SIGKILL sent from inside, so neither would exercise the restart policy.)
    The new process must pass a health check of its own, not inherit the old status.
    """
    container = docker_session.run(image("production"), options=("--restart", "unless-stopped"))
    wait_for_health(container)
    before = inspect(container)
    assert before["RestartCount"] == 0

    os.kill(before["State"]["Pid"], signal.SIGKILL)

    after = wait_until(
        lambda: (
            (info := inspect(container))["RestartCount"] > before["RestartCount"]
            and info["State"]["Running"]
            and info["State"]["Pid"] not in (0, before["State"]["Pid"])
            and info
        ),
        timeout=60,
        what="Docker restarted the crashed container",
    )
    restarted_at = parse_docker_time(after["State"]["StartedAt"])
    assert restarted_at > parse_docker_time(before["State"]["StartedAt"])

    def passed_a_probe_since_restart() -> bool:
        health = inspect(container)["State"]["Health"]
        return health["Status"] == "healthy" and any(
            probe["ExitCode"] == 0 and parse_docker_time(probe["Start"]) >= restarted_at
            for probe in health["Log"]
        )

    wait_until(passed_a_probe_since_restart, timeout=90, what="a health probe passed again")
    wait_for_health(container)
    # Published ports may move on restart: ask Docker again.
    assert http_get(docker_session.url(container), timeout=5).status == 200
