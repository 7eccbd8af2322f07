"""arm64 under emulation: the template's two images built for linux/arm64 beside linux/amd64.

run.py runs this section with `--sections arm64` (it is not in the default: each arm64 run
takes minutes). It bakes the template with its default answers and, for each architecture
and run, times on this machine:

  development  a cold `docker build --target development`
  production   a cold `docker build --target production` after it
               (both --no-cache: no layer is reused, from this run or an earlier one,
               while the cache mounts keep their downloads, as on a developer's machine)
  first 200    from `docker run` of the production image to its first 200 on /health

Both build from python:3.13-slim (Debian trixie, the official images' release): amd64 from
the engine's own image, arm64 from its arm64 variant, run by QEMU (test-machine/arm64.sh
sets it up). Where no registry answers, that variant is the stand-in arm64.sh builds,
poetry-docker/python-arm64:3.13-slim, given a tag of this run's own in the python
repository and named through the PYTHON_VERSION build argument, so the Dockerfile is built
as generated (tests/docker/test_arm64_images.py says why it is never python:3.13-slim);
where one answers, buildx builds from the official image (--platform linux/arm64) in a
docker-container builder of its own and loads the result.

Results go to results/arm64.md and arm64.json; the other sections' reports are left alone.
Images and containers carry the benchmark's label or a "pdbench-arm64-" name, and are
removed at the end, on failure too.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from common import (
    DOCKER_TIMEOUT,
    LABEL,
    SECRET_KEY,
    bake,
    docker,
    exiting_on_failure,
    free_port,
    host_facts,
    remove_leftovers,
    run,
    template_commit,
    wait_for_200,
)

from harness.arm64 import (
    ARM64_STAND_IN,
    BUILD_TIMEOUT,
    OFFICIAL_BASE,
    PYTHON,
    Arm64Build,
    StandInMissing,
)

PREFIX = "pdbench-arm64-"
FIRST_RESPONSE_TIMEOUT = 180
CONTAINER_PORT = 8888
FIGURES = ("development_s", "production_s", "first_200_s")


class Builds:
    """How each architecture is built here (arm64: harness.arm64.Arm64Build), and what
    was created for it."""

    def __init__(self, name: str, workdir: Path):
        self.name = name
        self.workdir = workdir
        self.images: list[str] = []
        try:
            with exiting_on_failure():
                self.arm64 = Arm64Build(name)
        except StandInMissing:
            sys.exit(f"benchmark: {ARM64_STAND_IN} is missing (make docker-up builds it)")
        self.stand_in = self.arm64.stand_in
        if self.arm64.alias:
            self.images.append(self.arm64.alias)
            self.arm64_base = f"{ARM64_STAND_IN} (a stand-in from Debian trixie's arm64 packages)"
        else:
            self.arm64_base = f"{OFFICIAL_BASE}, linux/arm64 (buildx, docker-container driver)"

    def build(self, arch: str, project: Path, target: str, log: Path, *extra: str) -> tuple:
        tag = f"{self.name}-{arch}-{target}:bench"
        self.images.append(tag)
        extra = ("--label", LABEL, *extra)
        if arch == "arm64":
            command = self.arm64.command(target, tag, *extra)
        else:
            command = ["build", "--target", target, "--tag", tag,
                       "--build-arg", f"PYTHON_VERSION={PYTHON}", *extra]  # fmt: skip
        started = time.perf_counter()
        run(["docker", *command, project], timeout=BUILD_TIMEOUT, log=log)
        return tag, time.perf_counter() - started

    def cleanup(self) -> None:
        with exiting_on_failure():
            self.arm64.close()
        if self.images:
            run(["docker", "rmi", "-f", *self.images], timeout=DOCKER_TIMEOUT, check=False)


def first_200(image: str, name: str, arch: str) -> float:
    """Seconds from `docker run` to the first 200 on /health; checks the architecture too."""
    port = free_port()
    started = time.perf_counter()
    docker("run", "--detach", "--name", name, "--label", LABEL,
           "--publish", f"127.0.0.1:{port}:{CONTAINER_PORT}",
           "--env", f"FLASK_SECRET_KEY={SECRET_KEY}", image)  # fmt: skip
    try:
        wait_for_200(f"http://127.0.0.1:{port}/health", started + FIRST_RESPONSE_TIMEOUT)
        seconds = time.perf_counter() - started
        machine = docker("exec", name, "uname", "-m")
        expected = {"amd64": "x86_64", "arm64": "aarch64"}[arch]
        if machine != expected:
            sys.exit(f"benchmark: the {arch} image runs as {machine}, not {expected}")
        return seconds
    finally:
        run(["docker", "rm", "-f", name], timeout=DOCKER_TIMEOUT, check=False)


def table(results: dict[str, dict[str, float]]) -> str:
    lines = [
        "| | cold development build, s | cold production build, s | `docker run` to first 200, s |",
        "|---|---|---|---|",
    ]
    for arch, figures in results.items():
        lines.append(f"| {arch} | " + " | ".join(f"{figures[f]:.1f}" for f in FIGURES) + " |")
    amd64, arm64 = results["amd64"], results["arm64"]
    lines.append(
        "| arm64 / amd64 | " + " | ".join(f"{arm64[f] / amd64[f]:.1f}x" for f in FIGURES) + " |"
    )
    return "\n".join(lines)


def main(args) -> None:
    """Measure both architectures, write results/arm64.md and arm64.json, print the report."""
    started = time.perf_counter()
    logs = args.output / "logs" / "arm64"
    logs.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=PREFIX))
    remove_leftovers()
    builds = Builds(f"{PREFIX}{uuid.uuid4().hex[:10]}", workdir)
    raw: dict[str, list[dict[str, float]]] = {"amd64": [], "arm64": []}
    try:
        template = template_commit()
        project = bake(workdir, PYTHON)
        for run_no in range(args.runs):
            for arch in ("amd64", "arm64") if run_no % 2 == 0 else ("arm64", "amd64"):
                log = logs / f"{arch}-{run_no + 1}"
                dev, dev_s = builds.build(arch, project, "development", log.with_suffix(".dev.log"),
                                          "--no-cache")  # fmt: skip
                prod, prod_s = builds.build(arch, project, "production",
                                            log.with_suffix(".prod.log"), "--no-cache")  # fmt: skip
                start_s = first_200(prod, f"{builds.name}-{arch}-{run_no}", arch)
                raw[arch].append(dict(zip(FIGURES, (dev_s, prod_s, start_s), strict=True)))
                print(f"  run {run_no + 1} {arch}: development {dev_s:.1f} s, production "
                      f"{prod_s:.1f} s, first 200 {start_s:.2f} s", flush=True)  # fmt: skip
                run(["docker", "rmi", "-f", dev, prod], timeout=DOCKER_TIMEOUT, check=False)
        facts = host_facts()
    finally:
        builds.cleanup()
        remove_leftovers()
    results = {
        arch: {f: statistics.median(r[f] for r in runs) for f in FIGURES}
        for arch, runs in raw.items()
    }
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join([
        "# arm64 under emulation, beside amd64",
        "",
        f"{when}, template {template}; medians of {args.runs} run(s), "
        f"{(time.perf_counter() - started) / 60:.1f} min in all.",
        "",
        *(f"- {fact}" for fact in facts),
        f"- amd64 base image: {OFFICIAL_BASE}"
        + (" (a stand-in from Debian trixie)" if builds.stand_in else ""),
        f"- arm64 base image: {builds.arm64_base}, run by QEMU user-mode emulation",
        "",
        table(results),
        "",
        "Both builds are cold (`--no-cache`; the cache mounts keep their downloads). Each",
        "container answered /health and reported its architecture (`uname -m`).",
        "",
    ])  # fmt: skip
    (args.output / "arm64.md").write_text(text)
    summary = {"date": when, "template": template, "runs": raw, "medians": results}
    (args.output / "arm64.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("\n" + text)
