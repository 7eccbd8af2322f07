"""HTTP on loopback, free ports, and waits bounded by a timeout."""

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

# Loopback requests must not go through a proxy configured for the outside world.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class WaitTimedOut(TimeoutError):
    """A bounded wait ended without its condition; last says what was seen last."""

    def __init__(self, what: str, last: object = None):
        self.what = what
        self.last = last
        super().__init__(what)


@dataclass
class HttpResponse:
    status: int
    body: str
    headers: dict[str, str]

    def json(self):
        return json.loads(self.body)


def http_get(url: str, timeout: float = 5) -> HttpResponse:
    """GET url; an HTTP error status is returned, not raised."""
    try:
        with HTTP.open(url, timeout=timeout) as response:
            return HttpResponse(response.status, response.read().decode(), dict(response.headers))
    except urllib.error.HTTPError as error:
        return HttpResponse(error.code, error.read().decode(), dict(error.headers))


def free_port() -> int:
    """A loopback TCP port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def until(check: Callable[[], object], timeout: float, interval: float = 0.2):
    """Call check until it returns something truthy, which is returned; check is called
    at least once, and again every interval seconds until timeout seconds have passed.
    Return None on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def wait_for_http(
    url: str,
    timeout: float,
    *,
    interval: float = 0.2,
    request_timeout: float = 2,
    gone: Callable[[], bool] | None = None,
) -> HttpResponse:
    """Poll url until it answers 200, and return that answer. Raise WaitTimedOut (with
    the last error or status seen) after timeout seconds, or as soon as gone() says the
    server has stopped."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = http_get(url, timeout=request_timeout)
            if response.status == 200:
                return response
            last = f"status {response.status}: {response.body[:200]}"
        except OSError as error:
            last = error
        if gone and gone():
            break
        time.sleep(interval)
    raise WaitTimedOut(url, last)
