"""The production image under faults: a stop mid-request, a dead worker, a crashed server.

Each test runs the real production image. Where a test needs a slow view, the
view comes from a test-only module mounted into the container (faults_app, in
tests/docker/helpers.py).
"""

import os
import signal
import subprocess
import threading
import time

import pytest

from tests.docker.helpers import (
    BUILD_ENV,
    docker,
    http_get,
    inspect,
    logs,
    parse_docker_time,
    run_test_app,
    started_requests,
    wait_for_health,
    wait_for_http,
    wait_until,
    worker_pids,
)

pytestmark = pytest.mark.docker

SLOW_REQUESTS = 5
SLOW_SECONDS = 3
# Docker's default stop timeout is 10 s, after which it sends SIGKILL (exit 137).
DOCKER_STOP_TIMEOUT = 10


def test_in_flight_requests_finish_when_the_container_is_stopped(docker_session, image, tmp_path):
    """`docker stop` (SIGTERM) lets every request already in a worker finish with 200.

    Enough threads for every request at once (8 per worker), so all of them are
    running when the stop comes: the test waits until the view has printed a
    start line for each, and only then stops the container.
    """
    container = run_test_app(
        docker_session, image("production"), tmp_path / "app", "--env", "GUNICORN_THREADS=8"
    )
    base = docker_session.url(container, "")
    wait_for_http(f"{base}/health", container=container)

    results: dict[str, object] = {}
    finished_at: dict[str, float] = {}

    def request(request_id: str) -> None:
        url = f"{base}/_test/slow?id={request_id}&seconds={SLOW_SECONDS}"
        try:
            results[request_id] = http_get(url, timeout=30)
        except OSError as error:
            results[request_id] = error
        finished_at[request_id] = time.monotonic()

    ids = [f"r{number}" for number in range(SLOW_REQUESTS)]
    threads = [
        threading.Thread(target=request, args=(request_id,), daemon=True) for request_id in ids
    ]
    for thread in threads:
        thread.start()
    wait_until(
        lambda: started_requests(logs(container)[1]) >= set(ids),
        timeout=20,
        what=f"all {SLOW_REQUESTS} slow requests are in the view",
        explain=lambda: f"responses: {results}\nlogs:\n{logs(container)[1][-3000:]}",
    )

    stop_sent = time.monotonic()
    try:
        # Bounded below Docker's own SIGKILL deadline: the stop must be graceful.
        subprocess.run(
            ["docker", "stop", container],
            capture_output=True,
            check=True,
            env=BUILD_ENV,
            timeout=DOCKER_STOP_TIMEOUT - 1,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"docker stop needed more than {DOCKER_STOP_TIMEOUT - 1} s: no graceful exit")
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a request never returned"

    for request_id in ids:
        response = results[request_id]
        assert not isinstance(response, Exception), f"{request_id}: {response!r}"
        assert response.status == 200, (request_id, response.status, response.body)
        assert response.json() == {"id": request_id, "finished": True}
        # It was still running when SIGTERM was sent: the stop waited for it.
        assert finished_at[request_id] > stop_sent
    state = inspect(container)["State"]
    assert (state["Running"], state["ExitCode"], state["OOMKilled"]) == (False, 0, False)
    stderr = logs(container)[1]
    assert "Handling signal: term" in stderr
    assert "Shutting down: Master" in stderr


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
