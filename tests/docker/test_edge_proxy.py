"""`make run`: the edge proxy in front of gunicorn, for real, on loopback.

One stack, started with `make run` as a user would, serves the module; the
project carries a compose.override.yaml (which Compose reads by itself) that
mounts the test-only views into app (faults.TEST_APP_SOURCE). The last test
stops the stack, so it stays last.
"""

import http.client
import json
import re
import select
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.containers import BUILD_ENV
from harness.siege import slow_client_siege
from harness.waits import HTTP, http_get
from tests.docker.background import Background
from tests.docker.compose import Project
from tests.docker.faults import HeldRequests, faults_views_dir
from tests.docker.session import inspect, logs, proc_status
from tests.docker.waits import wait_until
from tests.helpers import docker

pytestmark = pytest.mark.docker

EDGE_UID_GID = "10002:10002"
DOCKER_DNS = "0B00007F:"  # 127.0.0.11 as /proc/net/tcp writes it
# The slow-client requirement: this many connections hold unfinished headers...
SLOW_CONNECTIONS = 1000
# ...while a normal client asks every half second; each answer is waited for this long
# (s), a bound, not a latency target: a starved server never answers.
NORMAL_TIMEOUT = 10
# What Caddy logs when SIGTERM starts its graceful shutdown.
CADDY_SIGTERM = '"signal":"SIGTERM"'


def container(stack: Project, service: str) -> str:
    [found] = stack.containers(service)
    return found


def request(url: str, headers: dict[str, str] | None = None, data: bytes | None = None):
    """Send a request; return (status, headers, body) whatever the status."""
    prepared = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with HTTP.open(prepared, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def refused_request(url: str, headers: dict[str, str], data: bytes = b""):
    """Send a request the server may refuse before it has read it all; return (status,
    headers). A raw socket: the body goes out only while the server has not answered,
    and once it has, the answer is read, where urllib would fail on the closed pipe."""
    parts = urllib.parse.urlsplit(url)
    head = [f"POST {parts.path}?{parts.query} HTTP/1.1", f"Host: {parts.netloc}",
            f"Content-Length: {len(data)}", "Connection: close"]  # fmt: skip
    head += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        pending = memoryview(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        while pending:
            readable, writable, _ = select.select([sock], [sock], [], 10)
            if readable or not writable:  # answered early (or stuck: the read says which)
                break
            try:
                pending = pending[sock.send(pending[:65536]) :]
            except (BrokenPipeError, ConnectionResetError):
                break  # it stopped reading; its answer is waiting to be read
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.headers


# --- The configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site_address", "tls_issuer"),
    [
        pytest.param(":8080", "acme", id="plain-http"),
        pytest.param("api.example.com", "acme", id="domain-acme"),
        pytest.param("api.example.com", "internal", id="domain-internal-ca"),
    ],
)
def test_the_caddyfile_is_valid_for_every_setting_of_the_switch(
    default_project, site_address, tls_issuer
):
    """`caddy validate` with the edge's own image, as compose sets its environment."""
    edge_dir = default_project / "docker" / "edge"
    [base_image] = re.findall(r"^FROM (\S+)", (edge_dir / "Dockerfile").read_text(), re.M)
    caddyfile = edge_dir / "Caddyfile"
    result = docker(
        "run", "--rm", "--volume", f"{caddyfile}:/etc/caddy/Caddyfile:ro",
        "--env", f"SITE_ADDRESS={site_address}", "--env", f"TLS_ISSUER={tls_issuer}",
        base_image, "caddy", "validate", "--config", "/etc/caddy/Caddyfile",
    )  # fmt: skip
    assert "Valid configuration" in result.stdout + result.stderr


# --- Only the edge is published ---------------------------------------------------------


def test_the_edge_is_the_only_published_service(edge_stack):
    edge = inspect(container(edge_stack, "edge"))
    app = inspect(container(edge_stack, "app"))
    bindings = edge["HostConfig"]["PortBindings"]
    assert bindings == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(edge_stack.port)}]}
    assert not app["HostConfig"]["PortBindings"]
    assert not app["NetworkSettings"]["Ports"] or all(
        not published for published in app["NetworkSettings"]["Ports"].values()
    )


def test_requests_reach_gunicorn_through_the_edge(edge_stack):
    status, headers, body = request(edge_stack.url("/health"))
    assert status == 200
    assert json.loads(body) == {"status": "ok"}
    assert headers["Via"] == "1.1 Caddy"
    assert headers["Server"] == "gunicorn"


# --- Slow clients -------------------------------------------------------------------------


def test_slow_clients_cannot_keep_normal_requests_waiting(edge_stack):
    """1000 connections send one more header line every 10 s and never finish; a normal
    client from the same address asks /health every 0.5 s for 30 s, and every request
    is answered. (Without the edge, the same siege starves gunicorn: the benchmark's
    edge section measures both, benchmark/edge.py.)"""
    result = slow_client_siege(
        edge_stack.port, slow=SLOW_CONNECTIONS, duration=30, interval=10, timeout=NORMAL_TIMEOUT
    )
    assert result.slow_held_peak == SLOW_CONNECTIONS, result
    assert result.answered == result.tried, result


# --- Load, addresses, limits ----------------------------------------------------------------


def test_load_through_the_edge_gives_no_errors(edge_stack):
    def get(number: int) -> int:
        return http_get(edge_stack.url(f"/health?load={number}"), timeout=10).status

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(get, range(2000)))
    assert statuses == [200] * 2000


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param({}, id="no-forwarded-header"),
        pytest.param({"X-Forwarded-For": "203.0.113.9"}, id="spoofed-x-forwarded-for"),
        pytest.param(
            {"X-Forwarded-For": "203.0.113.9, 198.51.100.7", "X-Forwarded-Proto": "https"},
            id="spoofed-chain-and-scheme",
        ),
    ],
)
def test_the_app_sees_the_real_client_address_never_a_spoofed_one(edge_stack, sent):
    edge = inspect(container(edge_stack, "edge"))
    [network] = edge["NetworkSettings"]["Networks"].values()
    # Docker forwards loopback traffic to a published port from the network's gateway:
    # that is the client address the edge sees.
    client = network["Gateway"]
    status, _, body = request(edge_stack.url("/_test/whoami"), headers=sent)
    assert status == 200
    assert json.loads(body) == {"scheme": "http", "remote_addr": client}
    assert client not in sent.get("X-Forwarded-For", "")


def test_the_app_believes_one_proxy_the_edge(edge_stack):
    """The app is configured for exactly one proxy in front of it."""
    app = inspect(container(edge_stack, "app"))
    environment = dict(item.split("=", 1) for item in app["Config"]["Env"])
    assert environment["FLASK_TRUSTED_PROXIES"] == "1"


@pytest.mark.parametrize(
    ("headers", "data", "status"),
    [
        pytest.param({"X-Big": "a" * 64 * 1024}, b"", 431, id="64KB-header-431"),
        pytest.param({}, b"x" * 2 * 1024 * 1024, 413, id="2MB-body-413"),
    ],
)
def test_oversized_requests_are_refused_by_the_edge(edge_stack, headers, data, status):
    marker = uuid.uuid4().hex
    got, response_headers = refused_request(
        edge_stack.url(f"/health?oversized={marker}"), headers=headers, data=data
    )
    assert got == status
    assert response_headers.get("Server") != "gunicorn"  # the edge answered, not the app
    app_stdout = logs(container(edge_stack, "app"))[0]
    assert f"oversized={marker} " not in app_stdout


def test_requests_within_the_limits_reach_the_app_whole(edge_stack):
    body = b"x" * 900 * 1024
    got, headers, answer = request(
        edge_stack.url("/_test/size"), headers={"X-Fits": "a" * 8000}, data=body
    )
    assert (got, headers["Server"]) == (200, "gunicorn")
    assert json.loads(answer) == {"size": len(body)}


def test_the_edge_logs_one_json_line_per_request_on_stdout(edge_stack):
    marker = uuid.uuid4().hex
    assert http_get(edge_stack.url(f"/health?edge-log={marker}")).status == 200
    edge = container(edge_stack, "edge")

    def logged() -> list[dict]:
        return [
            json.loads(line)
            for line in logs(edge)[0].splitlines()
            if marker in line and line.startswith("{")
        ]

    [line] = wait_until(logged, timeout=10, what="the edge logged the request")
    assert line["request"]["uri"] == f"/health?edge-log={marker}"
    assert line["status"] == 200
    assert marker not in logs(edge)[1]  # stdout only


# --- Hardening ------------------------------------------------------------------------------


def test_the_edge_is_hardened_like_the_app(edge_stack):
    for service in ("edge", "app"):
        info = inspect(container(edge_stack, service))
        host = info["HostConfig"]
        assert host["ReadonlyRootfs"] is True, service
        assert "no-new-privileges:true" in host["SecurityOpt"], service
        assert host["CapDrop"] == ["ALL"], service
        assert not host["CapAdd"], service
        assert host["Memory"] > 0 and host["NanoCpus"] > 0 and host["PidsLimit"] > 0, service
        assert host["RestartPolicy"]["Name"] == "unless-stopped", service
        assert info["State"]["Health"]["Status"] == "healthy", service
    edge = inspect(container(edge_stack, "edge"))
    assert edge["Config"]["User"] == EDGE_UID_GID


def test_the_edge_listens_on_unprivileged_ports_only(edge_stack):
    """Its sockets, read from /proc: 8080 (the site) and 8081 (the healthcheck,
    on loopback); 8443 too once DOMAIN is set."""
    tables = docker(
        "exec", container(edge_stack, "edge"), "cat", "/proc/net/tcp", "/proc/net/tcp6"
    ).stdout  # fmt: skip
    listening = {
        int(fields[1].rsplit(":", 1)[1], 16)
        for line in tables.splitlines()
        if (fields := line.split())
        and fields[0].endswith(":")
        and fields[3] == "0A"
        # Docker's embedded DNS server, 127.0.0.11, listens in every container's network.
        and not fields[1].startswith(DOCKER_DNS)
    }
    assert listening == {8080, 8081}


def test_the_edge_runs_as_its_own_user_with_no_capabilities(edge_stack):
    fields = proc_status(container(edge_stack, "edge"))
    assert fields["Uid"] == ["10002"] * 4
    assert fields["CapEff"] == ["0000000000000000"]
    assert fields["NoNewPrivs"] == ["1"]


# --- Stopping (last: it stops the module's stack) --------------------------------------------


def test_in_flight_requests_through_the_edge_finish_when_the_stack_stops(edge_stack):
    """`compose stop` stops the edge first: Caddy lets the requests it is proxying
    finish. They are held in the app's view until Caddy has logged the SIGTERM, so
    every one is in flight when the stop comes; both services then exit 0, not 137."""
    ids = [f"edge{number}" for number in range(5)]
    held = HeldRequests(
        lambda request_id: edge_stack.url(f"/_test/held?id={request_id}"),
        ids, faults_views_dir(edge_stack.directory),
    )  # fmt: skip
    app, edge = container(edge_stack, "app"), container(edge_stack, "edge")
    wait_until(
        lambda: held.all_in_view(logs(app)[1]),
        timeout=30,
        what="every held request reached the app",
    )
    stop = Background(
        ["docker", "compose", "--profile", "prod", "stop"], cwd=edge_stack.directory,
        env={**BUILD_ENV, **edge_stack.compose_env},
    )  # fmt: skip
    try:
        stop.wait_for(
            lambda: CADDY_SIGTERM in "".join(logs(edge)), timeout=60, what="Caddy has the SIGTERM"
        )
        held.release()
        assert stop.process.wait(timeout=90) == 0, stop.output
    finally:
        stop.stop()
    held.join()
    for request_id in ids:
        response = held.results[request_id]
        assert not isinstance(response, Exception), (request_id, response)
        assert (response.status, response.json()) == (200, {"id": request_id, "finished": True})
    for service in ("edge", "app"):
        state = inspect(container(edge_stack, service))["State"]
        assert (state["Running"], state["ExitCode"]) == (False, 0), service
