"""Bounded waits that fail the test: for HTTP, for a container's health, for any condition.

The waiting itself is harness.waits'; these add what a failing test should show.
"""

from collections.abc import Callable

import pytest

import harness.waits
from harness.waits import HttpResponse, WaitTimedOut, until
from tests.helpers import docker


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
