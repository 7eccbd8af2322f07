#!/usr/bin/env python3
"""Build speed and image size: the template's Dockerfile beside three reference recipes.

Run it with `make benchmark` (extra options through BENCHMARK_ARGS, for example
BENCHMARK_ARGS="--runs 1 --variants light" for a quick look). It has four sections,
chosen with --sections (default "build,edge"): "build", described here; "edge", the
production edge against the bare production image, described in edge.py; "arm64",
the images built for linux/arm64 under emulation beside linux/amd64, described in
arm64.py (not in the default: it takes minutes per run); and "database", the production
image with database=postgresql beside none, described in database.py. edge.py, arm64.py
and database.py write their own reports (results/edge.md, arm64.md, database.md and
their .json) so that running one section never overwrites another's figures.

For each dependency set it bakes the template, and builds four production images from
the same sources on the same python:<v>-slim base image:

  template   the baked project's own Dockerfile
  seed-000   recipes/seed-000.Dockerfile   (the "multi-stage build with Poetry" write-up)
  seed-002   recipes/seed-002.Dockerfile   (the "Python Poetry on Docker" write-up)
  uv         recipes/uv.Dockerfile         (uv's Docker guide, with a uv.lock resolved
                                            on the host to poetry.lock's exact versions)

Dependency sets: "light" is the project as baked; "heavy" adds ten runtime dependencies
with `poetry add` (about 35 packages in poetry.lock; the exact count is printed).

For every recipe and run it measures: a cold build (after `docker builder prune -af`, so
cache mounts start empty too), a rebuild after a one-line code edit, a rebuild after a
dependency change (one small package added and re-locked), the image size and its size
over the base image, the time from `docker run` to the first HTTP 200 on /health, and the
`docker stop` time with the container's exit code. It prints a Markdown table of medians
and writes it, with the machine's facts, to results/latest.md (raw figures in
latest.json, build logs in logs/).

WARNING: `docker builder prune -af` runs before every cold build. It empties this Docker
engine's whole build cache, other projects' included. Images and containers the benchmark
creates carry unique names and are removed when it ends.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
import tomllib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import arm64
import database
import edge
from common import (
    APP_NAME,
    BENCHMARK_DIR,
    DOCKER_TIMEOUT,
    LABEL,
    SECRET_KEY,
    bake,
    canonical,
    docker,
    free_port,
    host_facts,
    image_size,
    prune_build_cache,
    remove_leftovers,
    run,
    template_commit,
    timed,
    wait_for_200,
)
from packaging.markers import Marker

RECIPE_DIR = BENCHMARK_DIR / "recipes"
RECIPES = ("template", "seed-000", "seed-002", "uv")
VARIANTS = ("light", "heavy")
CONTAINER_PORT = 8888
HEAVY_DEPENDENCIES = [
    "requests",
    "sqlalchemy",
    "pydantic",
    "structlog",
    "python-dotenv",
    "flask-cors",
    "marshmallow",
    "redis",
    "psycopg[binary]",
    "sentry-sdk",
]
# The dependency change: the first of these that the lock does not hold yet is added.
DEPENDENCY_CHANGE_CANDIDATES = ("six", "tomli-w", "toolz")
UV_BLOCK_MARKER = "# --- benchmark/run.py: uv.lock pinned to poetry.lock's versions ---"

BUILD_TIMEOUT = 1200
TOOL_TIMEOUT = 600
FIRST_RESPONSE_TIMEOUT = 60
STOP_TIMEOUT = 10  # docker stop's grace period; the wait for it is bounded separately

BIN = Path(sys.executable).parent
# The environment the images run in, for evaluating poetry.lock's markers.
LINUX_ENV = {
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}


@dataclass
class Variant:
    name: str
    project: Path  # sources with poetry.lock and uv.lock, copied for every build
    changed: Path  # pyproject.toml, poetry.lock and uv.lock after the dependency change
    added: str  # the package the dependency change adds
    lock_packages: int  # packages in poetry.lock
    runtime_packages: int  # of which the production image installs (main group, Linux)


@dataclass
class Measurement:
    cold: float
    code_edit: float
    dependency_change: float
    size: int
    size_over_base: int
    first_response: float
    stop: float
    exit_code: int


@dataclass
class Session:
    """What the benchmark created, so that it can all be removed at the end."""

    workdir: Path
    logs: Path
    python: str
    base_size: int
    template: str = ""  # which template was baked: commit and Dockerfile digest
    images: set[str] = field(default_factory=set)  # IDs: a rebuild leaves the old one untagged
    containers: set[str] = field(default_factory=set)


# --- the projects -----------------------------------------------------------------------


def lock_versions(lock_file: Path) -> set[tuple[str, str]]:
    packages = tomllib.loads(lock_file.read_text())["package"]
    return {(canonical(p["name"]), p["version"]) for p in packages}


def runtime_versions(poetry_lock: Path, python: str) -> dict[str, str]:
    """The packages a production image must hold: main group, markers true on Linux."""
    environment = {
        **LINUX_ENV,
        "python_version": python,
        "python_full_version": f"{python}.0",
    }
    wanted = {}
    for package in tomllib.loads(poetry_lock.read_text())["package"]:
        if "main" not in package.get("groups", ["main"]):
            continue
        markers = package.get("markers")
        if isinstance(markers, dict):
            markers = markers.get("main")
        if markers and not Marker(markers).evaluate(environment):
            continue
        wanted[canonical(package["name"])] = package["version"]
    return wanted


def poetry_add(project: Path, *requirements: str) -> None:
    run([BIN / "poetry", "add", "--lock", *requirements], cwd=project, timeout=TOOL_TIMEOUT)


def write_uv_lock(project: Path) -> None:
    """Resolve uv.lock with poetry.lock's exact versions, and check that it has them.

    uv reads the PEP 621 [project] table and the [dependency-groups]; the pins go into
    [tool.uv] constraint-dependencies, which Poetry ignores (its content-hash too).
    """
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().split(UV_BLOCK_MARKER)[0].rstrip("\n")
    pins = sorted(f"{name}=={version}" for name, version in lock_versions(project / "poetry.lock"))
    block = "\n".join(f'    "{pin}",' for pin in pins)
    pyproject.write_text(
        f"{text}\n\n{UV_BLOCK_MARKER}\n[tool.uv]\nconstraint-dependencies = [\n{block}\n]\n"
    )
    run([BIN / "uv", "lock", "--quiet"], cwd=project, timeout=TOOL_TIMEOUT)
    verify_uv_lock(project)


def verify_uv_lock(project: Path) -> None:
    poetry = lock_versions(project / "poetry.lock")
    uv = lock_versions(project / "uv.lock") - {(canonical(APP_NAME), read_version(project))}
    if poetry != uv:
        sys.exit(
            "benchmark: uv.lock does not hold poetry.lock's versions\n"
            f"  only in poetry.lock: {sorted(poetry - uv)}\n"
            f"  only in uv.lock:     {sorted(uv - poetry)}"
        )


def read_version(project: Path) -> str:
    return tomllib.loads((project / "pyproject.toml").read_text())["project"]["version"]


def add_recipe_files(project: Path) -> None:
    """What the reference recipes need in the build context beside the project."""
    # seed-002's entrypoint, the write-up's two lines.
    entrypoint = project / "docker" / "docker-entrypoint.sh"
    entrypoint.write_text('#!/bin/sh\nset -e\neval "exec $@"\n')
    entrypoint.chmod(0o755)


def recipe_dockerfiles(workdir: Path, project: Path) -> dict[str, Path]:
    """Each recipe's Dockerfile; uv's gets an ignore file that lets uv.lock in."""
    folder = workdir / "recipes"
    folder.mkdir(exist_ok=True)
    files = {"template": None}
    for recipe in RECIPES[1:]:
        files[recipe] = folder / f"{recipe}.Dockerfile"
        shutil.copyfile(RECIPE_DIR / f"{recipe}.Dockerfile", files[recipe])
    ignore = (project / ".dockerignore").read_text()
    (folder / "uv.Dockerfile.dockerignore").write_text(f"{ignore}\n!uv.lock\n")
    return files


def prepare_variant(session: Session, baked: Path, name: str) -> Variant:
    project = session.workdir / name / APP_NAME
    shutil.copytree(baked, project)
    if name == "heavy":
        poetry_add(project, *HEAVY_DEPENDENCIES)
    write_uv_lock(project)
    add_recipe_files(project)

    changed = session.workdir / name / "changed"
    shutil.copytree(project, changed)
    present = {package for package, _ in lock_versions(project / "poetry.lock")}
    added = next(p for p in DEPENDENCY_CHANGE_CANDIDATES if canonical(p) not in present)
    poetry_add(changed, added)
    write_uv_lock(changed)

    lock = project / "poetry.lock"
    return Variant(
        name=name,
        project=project,
        changed=changed,
        added=added,
        lock_packages=len(lock_versions(lock)),
        runtime_packages=len(runtime_versions(lock, session.python)),
    )


# --- Docker measurements -------------------------------------------------------------


def build(session: Session, context: Path, dockerfile: Path | None, tag: str, log: str):
    cmd = ["docker", "build", "--progress=plain", "--label", LABEL, "-t", tag]
    cmd += ["--build-arg", f"PYTHON_VERSION={session.python}"]
    if dockerfile:
        cmd += ["-f", dockerfile]
    seconds = timed([*cmd, context], timeout=BUILD_TIMEOUT, log=session.logs / f"{log}.log")
    session.images.add(docker("image", "inspect", "--format", "{{.Id}}", tag))
    return seconds


def start_and_stop(session: Session, image: str) -> tuple[float, float, int]:
    """Seconds from `docker run` to the first 200, `docker stop` seconds, exit code."""
    name = f"{image}-run"
    port = free_port()
    session.containers.add(name)
    start = time.perf_counter()
    docker(
        "run", "-d", "--label", LABEL, "--name", name, "-p", f"127.0.0.1:{port}:{CONTAINER_PORT}",
        "-e", f"FLASK_SECRET_KEY={SECRET_KEY}", image,
    )  # fmt: skip
    try:
        wait_for_200(f"http://127.0.0.1:{port}/health", start + FIRST_RESPONSE_TIMEOUT)
    except TimeoutError:
        logs = docker("logs", name, check=False)
        sys.exit(f"benchmark: {image} gave no 200 on /health in {FIRST_RESPONSE_TIMEOUT}s\n{logs}")
    first_response = time.perf_counter() - start
    stop = timed(
        ["docker", "stop", "--time", STOP_TIMEOUT, name], timeout=STOP_TIMEOUT + DOCKER_TIMEOUT
    )
    exit_code = int(docker("inspect", "--format", "{{.State.ExitCode}}", name))
    docker("rm", "-f", name)
    session.containers.discard(name)
    return first_response, stop, exit_code


def check_installed(image: str, poetry_lock: Path, python: str) -> None:
    """Every runtime package of poetry.lock is in the image, at the locked version."""
    script = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    output = docker("run", "--rm", "--label", LABEL, "--entrypoint", "python", image, "-c", script)
    installed = {canonical(k): v for k, v in json.loads(output.splitlines()[-1]).items()}
    wanted = runtime_versions(poetry_lock, python)
    wrong = {p: (v, installed.get(p)) for p, v in wanted.items() if installed.get(p) != v}
    if wrong:
        sys.exit(f"benchmark: {image} does not hold poetry.lock's versions: {wrong}")


def measure(session: Session, variant: Variant, recipe: str, dockerfile, run_no: int):
    context = session.workdir / "contexts" / f"{variant.name}-{recipe}-{run_no}"
    shutil.copytree(variant.project, context)
    tag = f"pdbench-{recipe}-{variant.name}-{uuid.uuid4().hex[:12]}"
    log = f"{variant.name}-{recipe}-run{run_no}"

    prune_build_cache()
    cold = build(session, context, dockerfile, tag, f"{log}-cold")
    size = image_size(tag)
    first_response, stop, exit_code = start_and_stop(session, tag)
    if run_no == 0:
        check_installed(tag, variant.project / "poetry.lock", session.python)

    with (context / APP_NAME / "__init__.py").open("a") as module:
        module.write(f"# benchmark: a one-line code edit {uuid.uuid4().hex}\n")
    code_edit = build(session, context, dockerfile, tag, f"{log}-code-edit")

    for name in ("pyproject.toml", "poetry.lock", "uv.lock"):
        shutil.copyfile(variant.changed / name, context / name)
    dependency_change = build(session, context, dockerfile, tag, f"{log}-dependency-change")
    if run_no == 0:
        check_installed(tag, variant.changed / "poetry.lock", session.python)

    remove_images(session)
    shutil.rmtree(context)
    return Measurement(
        cold, code_edit, dependency_change, size, size - session.base_size,
        first_response, stop, exit_code,
    )  # fmt: skip


# --- results ------------------------------------------------------------------------------

COLD, CODE, OVER = "cold build, s", "rebuild after code edit, s", "over base image, MB"
FIRST, STOP = "`docker run` to first 200, s", "`docker stop`, s"
COLUMNS = (
    (COLD, lambda m: m.cold, "{:.1f}"),
    (CODE, lambda m: m.code_edit, "{:.2f}"),
    ("rebuild after dependency change, s", lambda m: m.dependency_change, "{:.1f}"),
    ("image size, MB", lambda m: m.size / 1e6, "{:.1f}"),
    (OVER, lambda m: m.size_over_base / 1e6, "{:.1f}"),
    (FIRST, lambda m: m.first_response, "{:.2f}"),
    (STOP, lambda m: m.stop, "{:.2f}"),
)


def summary(m: Measurement) -> str:
    return (
        f"cold {m.cold:.1f}s, code edit {m.code_edit:.2f}s, dependency change "
        f"{m.dependency_change:.1f}s, +{m.size_over_base / 1e6:.1f} MB, first 200 "
        f"{m.first_response:.2f}s, stop {m.stop:.2f}s (exit {m.exit_code})"
    )


def medians(runs: list[Measurement]) -> dict[str, float]:
    figures = {label: statistics.median(get(m) for m in runs) for label, get, _ in COLUMNS}
    figures["exit codes"] = sorted({m.exit_code for m in runs})
    return figures


def table(variant: Variant, figures: dict[str, dict]) -> str:
    head = ["recipe", *(label for label, _, _ in COLUMNS), "exit code"]
    lines = [
        f"**{variant.name}**: {variant.lock_packages} packages in poetry.lock, "
        f"{variant.runtime_packages} installed in the production image; "
        f"dependency change = adding `{variant.added}`",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for recipe, row in figures.items():
        cells = [fmt.format(row[label]) for label, _, fmt in COLUMNS]
        codes = ", ".join(str(c) for c in row["exit codes"])
        lines.append(f"| {recipe} | " + " | ".join(cells) + f" | {codes} |")
    return "\n".join(lines)


# What the template must achieve: template <= reference x factor + margin, for the sets named.
# "Far below seed-000" is read as at least 50 MB below it (its runtime venv carries
# Poetry, about 93 MB).
TARGETS = (
    (CODE, "seed-002", 0.5, 0, ("light",)),
    (CODE, "seed-002", 0.2, 0, ("heavy",)),
    (CODE, "uv", 1.2, 0, VARIANTS),
    (OVER, "uv", 1.0, 1, VARIANTS),
    (OVER, "seed-000", 1.0, -50, VARIANTS),
    (COLD, "uv", 2.0, 0, ("heavy",)),
    (COLD, "seed-002", 1.0, 0, VARIANTS),
    (FIRST, "uv", 1.2, 0, VARIANTS),
    (STOP, "uv", 1.2, 0, VARIANTS),
)


def targets(results: dict[str, dict[str, dict]]) -> str:
    """Each target, met or not, with the ratio of the medians."""
    lines = [
        "| set | figure | target: template <= | template | reference | ratio | |",
        "|---|---|---|---|---|---|---|",
    ]
    for figure, other, factor, margin, variants in TARGETS:
        for variant in (v for v in variants if v in results):
            mine, theirs = results[variant]["template"][figure], results[variant][other][figure]
            bound = f"{factor:g}x {other}" + (f" {margin:+g} MB" if margin else "")
            met = "met" if mine <= theirs * factor + margin else "**not met**"
            lines.append(
                f"| {variant} | {figure} | {bound} | {mine:.2f} | {theirs:.2f} | "
                f"{mine / theirs:.2f}x | {met} |"
            )
    for variant, rows in results.items():
        codes = rows["template"]["exit codes"]
        met = "met" if codes == [0] else "**not met**"
        shown = ", ".join(map(str, codes))
        lines.append(f"| {variant} | exit code after `docker stop` | 0 | {shown} | | | {met} |")
    return "\n".join(lines)


def slowest_steps(log: Path, count: int = 4) -> str:
    """The slowest build steps in a `--progress=plain` log, for the notes."""
    names, seconds = {}, {}
    for line in log.read_text().splitlines():
        if match := re.match(r"#(\d+) (\[.*?\] .*)", line):
            step = re.sub(r"--(mount|chmod)=\S+|\\", "", match[2])
            names.setdefault(match[1], " ".join(step.split())[:70])
        elif match := re.match(r"#(\d+) DONE ([\d.]+)s", line):
            seconds[match[1]] = float(match[2])
    steps = sorted((s, names[n]) for n, s in seconds.items() if n in names)[::-1][:count]
    return "; ".join(f"`{name}` {s:.1f}s" for s, name in steps)


def machine_facts(python: str) -> list[str]:
    return [
        *host_facts(),
        f"base image python:{python}-slim, {image_size(f'python:{python}-slim') / 1e6:.1f} MB, "
        f"id {docker('image', 'inspect', '--format', '{{.Id}}', f'python:{python}-slim')[7:19]}",
    ]


def report(session: Session, args, variants, results, started: float) -> str:
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    minutes = (time.perf_counter() - started) / 60
    parts = [
        f"# Benchmark: the template's Dockerfile and three reference recipes ({date})",
        "",
        *(f"- {fact}" for fact in machine_facts(session.python)),
        f"- `benchmark/run.py --runs {args.runs} --variants {','.join(args.variants)} "
        f"--python {args.python}`: medians of {args.runs} run(s), {minutes:.0f} min in all",
        f"- template: {session.template}",
        "- every cold build follows `docker builder prune -af`; MB = 10^6 bytes; "
        "size over base = image size - base image size (`docker image inspect .Size`)",
        "",
    ]
    for variant in variants:
        parts += [table(variant, results[variant.name]), ""]
    heavy = ", ".join(f"`{d}`" for d in HEAVY_DEPENDENCIES)
    if "heavy" in results:
        parts += [f"Heavy = light + `poetry add` {heavy}.", ""]
    parts += [
        "Every uv.lock was resolved on the host and checked to hold exactly poetry.lock's "
        "versions; each recipe's first image, and its first after the dependency change, "
        "was checked to hold poetry.lock's runtime packages at their locked versions.",
        "",
    ]
    parts += ["Targets, template against the references:", "", targets(results), ""]
    parts += ["Slowest steps of each recipe's first cold build:", ""]
    for variant in variants:
        for recipe in RECIPES:
            log = session.logs / f"{variant.name}-{recipe}-run0-cold.log"
            parts.append(f"- {variant.name}, {recipe}: {slowest_steps(log)}")
    return "\n".join(parts) + "\n"


# --- main ----------------------------------------------------------------------------------


SECTIONS = ("build", "edge", "arm64", "database")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="WARNING: runs `docker builder prune -af` before every cold build, which "
        "empties this Docker engine's whole build cache (other projects' too).",
    )
    parser.add_argument(
        "--sections",
        default="build,edge",
        type=lambda text: [s for s in text.split(",") if s],
        help="comma-separated among build (the builds against the recipes, to latest.md), edge "
        "(edge.py: the production edge against the bare image, to edge.md), arm64 "
        "(arm64.py: both images for linux/arm64 under QEMU and for amd64, to arm64.md) and "
        "database (database.py: the production image with database=postgresql beside none, "
        "to database.md); default build,edge",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="runs per recipe, per database answer, and wrk runs per edge setup "
        "(median; default 3)",
    )
    parser.add_argument(
        "--variants",
        default="light,heavy",
        type=lambda text: [v for v in text.split(",") if v],
        help="comma-separated dependency sets among light,heavy (default both)",
    )
    parser.add_argument("--python", default="3.11", help="base image python:<v>-slim (3.11)")
    parser.add_argument(
        "--output",
        type=Path,
        default=BENCHMARK_DIR / "results",
        help="folder for latest.md, edge.md, arm64.md, database.md, their .json and the logs",
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or not args.variants or set(args.variants) - set(VARIANTS):
        parser.error("--runs must be >= 1 and --variants a subset of light,heavy")
    if not args.sections or set(args.sections) - set(SECTIONS):
        parser.error("--sections must be a subset of " + ",".join(SECTIONS))
    return args


def preflight(python: str) -> None:
    base = f"python:{python}-slim"
    if run(["docker", "image", "inspect", base], timeout=DOCKER_TIMEOUT, check=False).returncode:
        sys.exit(f"benchmark: base image {base} is missing (make docker-up builds it)")


def remove_images(session: Session) -> None:
    if session.images:
        run(["docker", "rmi", "-f", *session.images], timeout=DOCKER_TIMEOUT, check=False)
    session.images.clear()


def cleanup(session: Session) -> None:
    for name in session.containers:
        run(["docker", "rm", "-f", name], timeout=DOCKER_TIMEOUT, check=False)
    remove_images(session)
    remove_leftovers()
    shutil.rmtree(session.workdir, ignore_errors=True)


def main(argv=None) -> None:
    args = parse_args(argv)
    preflight(args.python)
    if "build" in args.sections:
        benchmark_builds(args)
    if "edge" in args.sections:
        edge.main(args)
    if "arm64" in args.sections:
        arm64.main(args)
    if "database" in args.sections:
        database.main(args)


def benchmark_builds(args) -> None:
    started = time.perf_counter()
    remove_leftovers()
    args.output.mkdir(parents=True, exist_ok=True)
    logs = args.output / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    base_size = image_size(f"python:{args.python}-slim")
    session = Session(Path(tempfile.mkdtemp(prefix="pdbench-")), logs, args.python, base_size)
    try:
        session.template = template_commit()
        baked = bake(session.workdir, args.python)
        digest = hashlib.sha256((baked / "Dockerfile").read_bytes()).hexdigest()[:12]
        session.template += f", baked Dockerfile sha256 {digest}"
        dockerfiles = recipe_dockerfiles(session.workdir, baked)
        variants = [prepare_variant(session, baked, name) for name in args.variants]
        results, raw = {}, {}
        for variant in variants:
            print(
                f"{variant.name}: {variant.lock_packages} packages in poetry.lock, "
                f"{variant.runtime_packages} at runtime",
                flush=True,
            )
            runs = {recipe: [] for recipe in RECIPES}
            for run_no in range(args.runs):
                order = RECIPES[run_no % 4 :] + RECIPES[: run_no % 4]  # spread any drift
                for recipe in order:
                    m = measure(session, variant, recipe, dockerfiles[recipe], run_no)
                    runs[recipe].append(m)
                    print(f"  run {run_no + 1} {recipe:9} {summary(m)}", flush=True)
            results[variant.name] = {r: medians(runs[r]) for r in RECIPES}
            raw[variant.name] = {r: [vars(m) for m in runs[r]] for r in RECIPES}
        text = report(session, args, variants, results, started)
    finally:
        cleanup(session)
    (args.output / "latest.md").write_text(text)
    (args.output / "latest.json").write_text(json.dumps(raw, indent=2) + "\n")
    print("\n" + text)
    print(f"written to {args.output / 'latest.md'}")


if __name__ == "__main__":
    main()
