"""The edge's cost: the bare production image against what `make run` starts.

run.py runs this section (`--sections edge`, or by default after the builds). It bakes
the template with its default answers and measures two setups of the same app:

  bare  `docker run` of the baked project's production image (`docker build --target
        production`), limited and hardened as compose.yaml's `app` service is: the
        service's cpus, mem_limit and pids_limit, a read-only root with its tmpfs, its
        cap_drop and security_opt, its gunicorn settings (WEB_CONCURRENCY, GUNICORN_*),
        all read from `docker compose --profile prod config`; FLASK_SECRET_KEY by env;
        published on a free loopback port
  edge  `docker compose --profile prod up --build --detach --wait` in the baked project,
        with a unique COMPOSE_PROJECT_NAME and a free APP_PORT: Caddy (the only published
        service, with a CPU limit of its own) in front of that same `app` service

For each it measures GET /health with wrk (`wrk --latency`, after a short warm-up;
requests/s and p50/p99 latency are medians over --runs, the setups taking turns to go
first, so that any drift of the machine falls on both), counting wrk's non-2xx responses
and socket errors; then, once per setup to keep the run short, a siege of slow clients
(harness/siege.py, the one the edge tests use): 1000 connections that never finish
their headers while a normal client asks every 0.5 s. The figure the edge
must meet: edge requests/s >= 0.60 x bare requests/s.

Results go to results/edge.md and edge.json, beside the build section's latest.md and
latest.json, which this section leaves alone: each report carries its own date, command
and machine, so a run of one section never shows the other's figures as new.

Everything it creates has a unique name under "pdbench-edge-" (the compose project, its
images, network and volume) or the benchmark's label (the bare image and container), and
is removed at the end, on failure too; a run first removes what an interrupted one left.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from common import (
    DOCKER_TIMEOUT,
    LABEL,
    SECRET_KEY,
    bake,
    docker,
    free_port,
    host_facts,
    image_fact,
    machine_load,
    remove_leftovers,
    run,
    template_commit,
    timed,
    wait_for_200,
)

from harness.siege import slow_client_siege

PREFIX = "pdbench-edge-"
COMPOSE_LABEL = "com.docker.compose.project"
# wrk: two threads (the machine has two cores, shared with the server), 32 connections.
WRK_THREADS = 2
WRK_CONNECTIONS = 32
WRK_SECONDS = 10
WRK_TIMEOUT = 2  # s; a slower answer counts as a timeout error, not as a latency
WARMUP_SECONDS = 2
# The siege: as the fault-tolerance tests run it.
SLOW_CLIENTS = 1000
SLOW_INTERVAL = 10  # s between two header lines of a slow client
SIEGE_SECONDS = 30
NORMAL_EVERY = 0.5  # s between two normal requests
NORMAL_TIMEOUT = 2  # s for a normal request to be answered
SIEGE_TIMEOUT = 180  # s; the siege stops by itself well before (30 s to connect, 30 s)
TARGET_RATIO = 0.60  # edge requests/s >= this x bare requests/s

COMPOSE_TIMEOUT = 600  # `up --build --wait`, the edge's image built cold
FIRST_RESPONSE_TIMEOUT = 60
# gunicorn's environment settings that the bare container takes from the `app` service.
GUNICORN_SETTINGS = re.compile(r"WEB_CONCURRENCY|GUNICORN_\w+")


@dataclass
class Load:
    """One wrk run."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int  # wrk's "Non-2xx or 3xx responses"
    socket_errors: dict[str, int]  # connect, read, write, timeout


@dataclass
class Setup:
    """One way of serving the app, and what was measured on it."""

    name: str
    port: int = 0
    start: float = 0.0  # s: bare, build + `docker run` to the first 200; edge, `up --wait`
    loads: list[Load] = field(default_factory=list)
    siege: dict | None = None
    recovery: float = 0.0  # s from the siege's end to the next 200
    errors_logged: dict[str, int] = field(default_factory=dict)  # service: error lines


@dataclass
class EdgeSession:
    """What this section created, so that it can all be removed at the end."""

    workdir: Path
    logs: Path
    name: str  # the compose project; the bare image and container are named after it
    project: Path | None = None
    compose_up: bool = False
    image: str = ""
    container: str = ""

    @property
    def compose_env(self) -> dict[str, str]:
        # As `make run` has them: the Makefile exports UID and GID, which compose.yaml uses
        # (the app joins your group to read the secret key file).
        return {"COMPOSE_PROJECT_NAME": self.name, "UID": str(os.getuid()),
                "GID": str(os.getgid())}  # fmt: skip


# --- the two setups ------------------------------------------------------------------------


def compose(session: EdgeSession, *args, timeout=DOCKER_TIMEOUT, log=None, check=True, env=None):
    return run(
        ["docker", "compose", "--profile", "prod", *args], cwd=session.project,
        env={**session.compose_env, **(env or {})}, timeout=timeout, log=log, check=check,
    )  # fmt: skip


def compose_config(session: EdgeSession) -> dict:
    """The baked compose.yaml as Compose reads it: what the bare container must copy."""
    return json.loads(compose(session, "config", "--format", "json").stdout)


def bare_run_options(app: dict) -> list[str]:
    """`docker run` options for the `app` service's limits and hardening."""
    if "cpus" not in app:
        sys.exit("benchmark: the app service in compose.yaml has no cpus limit to copy")
    options = ["--cpus", str(float(app["cpus"]))]
    if "mem_limit" in app:
        options += ["--memory", str(app["mem_limit"])]
    if "pids_limit" in app:
        options += ["--pids-limit", str(app["pids_limit"])]
    if app.get("read_only"):
        options.append("--read-only")
    for path in app.get("tmpfs", []):
        options += ["--tmpfs", path]
    for capability in app.get("cap_drop", []):
        options += ["--cap-drop", capability]
    for option in app.get("security_opt", []):
        options += ["--security-opt", option]
    for key, value in sorted((app.get("environment") or {}).items()):
        if GUNICORN_SETTINGS.fullmatch(key):
            options += ["--env", f"{key}={value}"]
    return options


def container_port(image: str) -> str:
    exposed = json.loads(docker("image", "inspect", "--format", "{{json .Config.ExposedPorts}}",
                                image))  # fmt: skip
    return next(port.split("/")[0] for port in exposed if port.endswith("/tcp"))


def start_bare(session: EdgeSession, options: list[str]) -> Setup:
    """Build the production image as the Dockerfile has it, and run it as compose would."""
    bare = Setup("bare", port=free_port())
    session.image = f"{session.name}-bare"
    session.container = f"{session.name}-bare"
    started = time.perf_counter()
    timed(
        ["docker", "build", "--progress=plain", "--target", "production", "--label", LABEL,
         "--tag", session.image, session.project],
        timeout=COMPOSE_TIMEOUT, log=session.logs / "bare-build.log",
    )  # fmt: skip
    docker(
        "run", "--detach", "--label", LABEL, "--name", session.container,
        "--publish", f"127.0.0.1:{bare.port}:{container_port(session.image)}",
        "--env", f"FLASK_SECRET_KEY={SECRET_KEY}", *options, session.image,
    )  # fmt: skip
    first_200(session, bare, started + COMPOSE_TIMEOUT)
    bare.start = time.perf_counter() - started
    return bare


def start_edge(session: EdgeSession) -> Setup:
    """`make run`'s command, in the baked project."""
    edge = Setup("edge", port=free_port())
    session.compose_up = True
    started = time.perf_counter()
    compose(
        session, "up", "--build", "--detach", "--wait", timeout=COMPOSE_TIMEOUT,
        log=session.logs / "edge-up.log", env={"APP_PORT": str(edge.port)},
    )  # fmt: skip
    first_200(session, edge, time.perf_counter() + FIRST_RESPONSE_TIMEOUT)
    edge.start = time.perf_counter() - started
    return edge


def first_200(session: EdgeSession, setup: Setup, deadline: float) -> None:
    try:
        wait_for_200(url(setup), deadline)
    except TimeoutError:
        sys.exit(f"benchmark: {setup.name} gave no 200 on /health\n{service_logs(session)}")


def url(setup: Setup) -> str:
    return f"http://127.0.0.1:{setup.port}/health"


def service_logs(session: EdgeSession) -> str:
    """The tail of every container's log, for a failure's message."""
    parts = []
    if session.container:
        parts.append(run(["docker", "logs", "--tail", "30", session.container],
                         timeout=DOCKER_TIMEOUT, check=False).stdout)  # fmt: skip
    if session.compose_up:
        parts.append(compose(session, "logs", "--tail", "30", check=False).stdout)
    return "\n".join(parts)


# --- load: wrk -------------------------------------------------------------------------------

# wrk prints times in us, ms, s, then m and h.
TIME_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def wrk(setup: Setup, seconds: int, log: Path) -> str:
    cmd = ["wrk", "--latency", "--threads", WRK_THREADS, "--connections", WRK_CONNECTIONS,
           "--duration", f"{seconds}s", "--timeout", f"{WRK_TIMEOUT}s", url(setup)]  # fmt: skip
    run(cmd, timeout=seconds + 60, log=log)
    return log.read_text()


def parse_wrk(output: str) -> Load:
    """wrk's summary; the error lines appear only when there are errors."""

    def milliseconds(percentile: str) -> float:
        match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
        if not match:
            sys.exit(f"benchmark: no {percentile}% latency in wrk's output:\n{output}")
        return float(match[1]) * TIME_UNITS_MS[match[2]]

    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s*(\d+) requests in ", output, re.M)
    if not (rate and total):
        sys.exit(f"benchmark: cannot read wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    kinds = ("connect", "read", "write", "timeout")
    return Load(
        requests_per_s=float(rate[1]),
        p50_ms=milliseconds("50"),
        p99_ms=milliseconds("99"),
        requests=int(total[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors={k: int(sockets[i + 1]) if sockets else 0 for i, k in enumerate(kinds)},
    )


def measure_load(session: EdgeSession, setup: Setup, run_no: int) -> Load:
    """A warm-up (not counted), then the measured run."""
    wrk(setup, WARMUP_SECONDS, session.logs / f"{setup.name}-run{run_no}-warmup.txt")
    load = parse_wrk(wrk(setup, WRK_SECONDS, session.logs / f"{setup.name}-run{run_no}.txt"))
    setup.loads.append(load)
    return load


# --- slow clients -----------------------------------------------------------------------


def measure_siege(setup: Setup) -> None:
    """The fault-tolerance tests' siege, then how long the setup takes to answer again."""
    wait_for_200(url(setup), time.perf_counter() + FIRST_RESPONSE_TIMEOUT)
    started = time.perf_counter()
    result = slow_client_siege(
        setup.port, slow=SLOW_CLIENTS, duration=SIEGE_SECONDS, interval=SLOW_INTERVAL,
        every=NORMAL_EVERY, timeout=NORMAL_TIMEOUT,
    )  # fmt: skip
    if time.perf_counter() - started > SIEGE_TIMEOUT:
        sys.exit(f"benchmark: the siege of {setup.name} took over {SIEGE_TIMEOUT}s")
    setup.siege = dataclasses.asdict(result)
    ended = time.perf_counter()
    try:
        wait_for_200(url(setup), ended + FIRST_RESPONSE_TIMEOUT)
    except TimeoutError:
        sys.exit(
            f"benchmark: {setup.name} gave no 200 in {FIRST_RESPONSE_TIMEOUT}s after the siege"
        )
    setup.recovery = time.perf_counter() - ended


# Caddy's and gunicorn's errors; their access logs go to stdout, not stderr. (Caddy's
# warnings are its start-up notices about this plain-HTTP setup.)
ERROR_LINE = re.compile(r'"level":"error"|\[(ERROR|CRITICAL)\]')


def logged_errors(session: EdgeSession, bare: Setup, edge: Setup) -> None:
    """Each container's stderr, saved beside wrk's output, and its errors counted: they
    say where any wrk error or failed normal request came from."""
    containers = (
        (bare, {"app": session.container}),
        (edge, {"edge": f"{session.name}-edge-1", "app": f"{session.name}-app-1"}),
    )
    for setup, names in containers:
        for service, container in names.items():
            log = session.logs / f"{setup.name}-{service}.stderr.log"
            run(
                ["sh", "-c", f"docker logs {container} 2>&1 >/dev/null"],
                timeout=DOCKER_TIMEOUT,
                log=log,
                check=False,
            )
            lines = log.read_text(errors="replace").splitlines()
            setup.errors_logged[service] = sum(bool(ERROR_LINE.search(line)) for line in lines)


# --- results ------------------------------------------------------------------------------


def medians(setup: Setup) -> dict[str, float]:
    return {
        figure: statistics.median(getattr(load, figure) for load in setup.loads)
        for figure in ("requests_per_s", "p50_ms", "p99_ms")
    }


def errors(setup: Setup) -> tuple[int, dict[str, int]]:
    """Non-2xx responses and socket errors, summed over the measured runs."""
    kinds = ("connect", "read", "write", "timeout")
    sockets = {k: sum(load.socket_errors[k] for load in setup.loads) for k in kinds}
    return sum(load.non_2xx for load in setup.loads), sockets


def summary(setup: Setup, load: Load) -> str:
    socket_errors = sum(load.socket_errors.values())
    return (
        f"{setup.name:4} {load.requests_per_s:8.0f} requests/s, p50 {load.p50_ms:.2f} ms, "
        f"p99 {load.p99_ms:.2f} ms, non-2xx {load.non_2xx}, socket errors {socket_errors}"
    )


def table(bare: Setup, edge: Setup) -> str:
    runs = len(bare.loads)
    mb, me = medians(bare), medians(edge)
    (nb, sb), (ne, se) = errors(bare), errors(edge)

    def per_run(setup: Setup) -> str:
        return ", ".join(f"{load.requests_per_s:.0f}" for load in setup.loads)

    def logged(setup: Setup) -> str:
        return ", ".join(f"{service} {count}" for service, count in setup.errors_logged.items())

    def sockets(counts: dict[str, int]) -> str:
        return " / ".join(str(count) for count in counts.values())

    def siege(setup: Setup, key: str) -> str:
        s = setup.siege
        return {
            "answered": f"{s['answered']} / {s['tried']}",
            "peak": f"{s['slow_held_peak']} of {SLOW_CLIENTS}",
            "opened": str(s["slow_opened"]),
            "slowest": f"{s['slowest']:.2f}" if s["answered"] else "none answered",
        }[key]

    rows = [
        (f"requests/s, median of {runs}", f"{mb['requests_per_s']:.0f}",
         f"{me['requests_per_s']:.0f}"),
        ("requests/s, each run", per_run(bare), per_run(edge)),
        (f"p50 latency, ms, median of {runs}", f"{mb['p50_ms']:.2f}", f"{me['p50_ms']:.2f}"),
        (f"p99 latency, ms, median of {runs}", f"{mb['p99_ms']:.2f}", f"{me['p99_ms']:.2f}"),
        (f"non-2xx responses, summed over {runs} runs", str(nb), str(ne)),
        (f"socket errors connect / read / write / timeout, summed over {runs} runs", sockets(sb),
         sockets(se)),
        (f"normal requests answered / tried, under {SLOW_CLIENTS} slow connections",
         siege(bare, "answered"), siege(edge, "answered")),
        ("slow connections held (peak)", siege(bare, "peak"), siege(edge, "peak")),
        ("slow connections opened in all (reconnects after a hang-up)", siege(bare, "opened"),
         siege(edge, "opened")),
        ("slowest answered normal request, s", siege(bare, "slowest"), siege(edge, "slowest")),
        ("first 200 after the siege ended, s", f"{bare.recovery:.2f}", f"{edge.recovery:.2f}"),
        ("errors the containers logged (stderr), whole run", logged(bare), logged(edge)),
    ]  # fmt: skip
    lines = ["| figure | bare | edge |", "|---|---|---|"]
    lines += [f"| {figure} | {b} | {e} |" for figure, b, e in rows]
    return "\n".join(lines)


def ratio(bare: Setup, edge: Setup) -> float:
    return medians(edge)["requests_per_s"] / medians(bare)["requests_per_s"]


def target(bare: Setup, edge: Setup) -> str:
    """The target, met or not, like the build section's targets table."""
    mine, theirs = medians(edge)["requests_per_s"], medians(bare)["requests_per_s"]
    r = ratio(bare, edge)
    met = "met" if r >= TARGET_RATIO else "**not met**"
    return "\n".join([
        "| figure | target: edge >= | edge | bare | ratio | |",
        "|---|---|---|---|---|---|",
        f"| requests/s, median | {TARGET_RATIO:.2f}x bare | {mine:.0f} | {theirs:.0f} | "
        f"{r:.2f}x | {met} |",
    ])  # fmt: skip


def report(args, bare: Setup, edge: Setup, facts, notes) -> str:
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    wrk_version = run(["wrk", "-v"], timeout=30, check=False).stdout.split()[:2]
    compose_version = docker("compose", "version", "--short")
    return "\n".join([
        f"# Benchmark: the production edge against the bare production image ({date})",
        "",
        *(f"- {fact}" for fact in facts),
        f"- `benchmark/run.py --sections edge --runs {args.runs} --python {args.python}` "
        f"(Compose {compose_version}, {' '.join(wrk_version)}): {notes['minutes']:.1f} min "
        "for this section",
        f"- template: {notes['template']}",
        f"- machine, shared with other work: at the start {notes['load_start']}; "
        f"at the end {notes['load_end']}",
        "",
        "Setups (the same baked project, default answers):",
        "",
        f"- **bare**: `docker run` of the production image (`docker build --target production`) "
        f"with `{' '.join(notes['bare_options'])}`, i.e. compose.yaml's `app` service's limits, "
        "read-only root and hardening; FLASK_SECRET_KEY by env; published on 127.0.0.1",
        "- **edge**: `docker compose --profile prod up --build --detach --wait` (what `make run` "
        f"starts): Caddy, the only published service (127.0.0.1, cpus {notes['edge_cpus']}), "
        f"in front of the `app` service (cpus {notes['app_cpus']}): the edge's CPU comes on top",
        "- both are reached through Docker's port publishing on 127.0.0.1 (docker-proxy), "
        "so any cost of that is in both",
        "",
        f"Load: `wrk --latency --threads {WRK_THREADS} --connections {WRK_CONNECTIONS} "
        f"--duration {WRK_SECONDS}s --timeout {WRK_TIMEOUT}s` on GET /health, after a "
        f"{WARMUP_SECONDS} s warm-up; {args.runs} run(s) per setup, bare and edge taking turns "
        "to go first; medians, errors summed. Slow clients: `slow_client_siege` from "
        f"harness/siege.py, once per setup (to keep the run short): {SLOW_CLIENTS} "
        f"connections that send one more header line every {SLOW_INTERVAL} s and never finish "
        f"it, while a normal client GETs /health every {NORMAL_EVERY} s with {NORMAL_TIMEOUT} s "
        f"to answer, for {SIEGE_SECONDS} s. wrk's output and each container's stderr are in "
        "results/logs/edge/ (not committed).",
        "",
        table(bare, edge),
        "",
        "Target:",
        "",
        target(bare, edge),
        "",
        *siege_failures(bare, edge),
    ]).rstrip("\n") + "\n"  # fmt: skip


def siege_failures(bare: Setup, edge: Setup) -> list[str]:
    lines = []
    for setup in (bare, edge):
        if setup.siege["failures"]:
            shown = "; ".join(f"`{f}`" for f in setup.siege["failures"])
            lines.append(f"- {setup.name}: the first failed normal requests: {shown}")
    return ["During the sieges:", "", *lines, ""] if lines else []


def results_json(args, bare: Setup, edge: Setup, notes) -> dict:
    def figures(setup: Setup) -> dict:
        non_2xx, sockets = errors(setup)
        return {
            "medians": medians(setup),
            "non_2xx": non_2xx,
            "socket_errors": sockets,
            "runs": [vars(load) for load in setup.loads],
            "siege": setup.siege,
            "first_200_after_siege_s": setup.recovery,
            "start_s": setup.start,
            "errors_logged": setup.errors_logged,
        }

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"benchmark/run.py --sections edge --runs {args.runs} --python {args.python}",
        "notes": notes,
        "wrk": {
            "threads": WRK_THREADS,
            "connections": WRK_CONNECTIONS,
            "seconds": WRK_SECONDS,
            "timeout_s": WRK_TIMEOUT,
            "warmup_s": WARMUP_SECONDS,
        },
        "siege": {
            "slow": SLOW_CLIENTS,
            "interval_s": SLOW_INTERVAL,
            "duration_s": SIEGE_SECONDS,
            "every_s": NORMAL_EVERY,
            "timeout_s": NORMAL_TIMEOUT,
            "runs": 1,
        },
        "bare": figures(bare),
        "edge": figures(edge),
        "ratio_requests_per_s": ratio(bare, edge),
        "target_ratio": TARGET_RATIO,
        "target_met": ratio(bare, edge) >= TARGET_RATIO,
    }


# --- cleaning up -------------------------------------------------------------------------


def remove_compose_leftovers() -> None:
    """Every compose project named PREFIX...: this run's, or an interrupted run's (by label
    and name, so that it works when the project's folder is gone)."""
    listed = {}
    for kind, listing in (
        ("container", ["ps", "-a"]), ("network", ["network", "ls"]), ("volume", ["volume", "ls"])
    ):  # fmt: skip
        out = run(["docker", *listing, "--filter", f"label={COMPOSE_LABEL}", "--format",
                   f'{{{{.ID}}}} {{{{.Label "{COMPOSE_LABEL}"}}}}'],
                  timeout=DOCKER_TIMEOUT, check=False).stdout  # fmt: skip
        pairs = (line.split() for line in out.splitlines())
        listed[kind] = sorted({p[0] for p in pairs if len(p) == 2 and p[1].startswith(PREFIX)})
    images = run(["docker", "images", "-q", "--filter", f"reference={PREFIX}*"],
                 timeout=DOCKER_TIMEOUT, check=False).stdout.split()  # fmt: skip
    listed["image"] = sorted(set(images))
    for kind in ("container", "network", "volume", "image"):
        if listed[kind]:
            force = ["--force"] if kind in ("container", "volume", "image") else []
            run(["docker", kind, "rm", *force, *listed[kind]], timeout=DOCKER_TIMEOUT, check=False)


def cleanup(session: EdgeSession) -> None:
    if session.container:
        run(["docker", "rm", "-f", "-v", session.container], timeout=DOCKER_TIMEOUT, check=False)
    if session.compose_up and session.project and session.project.exists():
        compose(session, "down", "--volumes", "--remove-orphans", "--rmi", "local",
                "--timeout", "15", timeout=DOCKER_TIMEOUT * 2, check=False)  # fmt: skip
    if session.image:
        run(["docker", "rmi", "-f", session.image], timeout=DOCKER_TIMEOUT, check=False)
    remove_compose_leftovers()
    remove_leftovers()
    shutil.rmtree(session.workdir, ignore_errors=True)


@contextlib.contextmanager
def exit_on_sigterm():
    """`kill` (or a CI timeout) raises SystemExit, so the cleanup still runs."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit("benchmark: terminated"))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- main --------------------------------------------------------------------------------


def preflight() -> None:
    if not shutil.which("wrk"):
        sys.exit("benchmark: wrk is missing (test-machine/setup.sh tools installs it)")


def main(args) -> None:
    """Measure both setups, write results/edge.md and edge.json, print the report."""
    preflight()
    started = time.perf_counter()
    logs = args.output / "logs" / "edge"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    session = EdgeSession(
        Path(tempfile.mkdtemp(prefix=PREFIX)), logs, f"{PREFIX}{uuid.uuid4().hex[:10]}"
    )
    with exit_on_sigterm():
        remove_compose_leftovers()
        try:
            notes = {"template": template_commit(), "load_start": machine_load(PREFIX)}
            session.project = bake(session.workdir, args.python)
            services = compose_config(session)["services"]
            options = bare_run_options(services["app"])
            notes.update(bare_options=options, app_cpus=services["app"]["cpus"],
                         edge_cpus=services["edge"].get("cpus", "none"))  # fmt: skip
            bare = start_bare(session, options)
            edge = start_edge(session)
            for run_no in range(args.runs):
                for setup in (bare, edge) if run_no % 2 == 0 else (edge, bare):
                    load = measure_load(session, setup, run_no)
                    print(f"  run {run_no + 1} {summary(setup, load)}", flush=True)
            for setup in (bare, edge):
                measure_siege(setup)
                s = setup.siege
                print(f"  siege {setup.name}: {s['answered']}/{s['tried']} answered, "
                      f"{s['slow_held_peak']} slow held at the peak", flush=True)  # fmt: skip
            notes["load_end"] = machine_load(PREFIX)
            logged_errors(session, bare, edge)
            edge_image = (session.project / "docker" / "edge" / "Dockerfile").read_text()
            caddy = re.search(r"^FROM\s+(\S+)", edge_image, re.M)[1]
            facts = [*host_facts(), f"app base image {image_fact(f'python:{args.python}-slim')}",
                     f"edge base image {image_fact(caddy)}"]  # fmt: skip
            notes["minutes"] = (time.perf_counter() - started) / 60
            text = report(args, bare, edge, facts, notes)
            raw = results_json(args, bare, edge, notes)
        finally:
            cleanup(session)
    (args.output / "edge.md").write_text(text)
    (args.output / "edge.json").write_text(json.dumps(raw, indent=2) + "\n")
    print("\n" + text)
    minutes = (time.perf_counter() - started) / 60
    print(f"written to {args.output / 'edge.md'} ({minutes:.1f} min, the cleanup included)")
