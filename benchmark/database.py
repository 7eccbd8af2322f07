"""The database answer's cost: the production image with database=postgresql beside none.

run.py runs this section with `--sections database`. It bakes the template twice, with
database=none (the default) and database=postgresql, every other answer default (the
Python version is --python's), and for each answer and run builds the production image
with the baked project's own Dockerfile (`docker build --target production`), measuring:

  cold build      after `docker builder prune -af`, as the build section's cold builds:
                  no layer and no cache mount survives from an earlier build
  code edit       a rebuild after appending a comment line to <app>/api.py; the figure
                  beside it is how many of the image's layers changed (1: the app's)
  size            the production image (`docker image inspect .Size`), and what of it is
                  /opt/venv (the dependencies) and /opt/app (the app), summed file sizes

The two answers take turns to go first, so that any drift of the machine falls on both.
The first run checks each image: postgresql's holds the database packages and the
migrations, none's holds neither.

Results go to results/database.md and database.json (build logs in logs/database/, not
committed); the other sections' reports are left alone. Images carry the benchmark's
label and this section's own, and are removed at the end, on failure too; a run first
removes what an interrupted one of this section left (never another section's images,
which may be in use).

WARNING: like the build section, `docker builder prune -af` runs before every cold
build: it empties this Docker engine's whole build cache, other projects' included.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from common import (
    APP_NAME,
    DOCKER_TIMEOUT,
    LABEL,
    bake,
    canonical,
    docker,
    host_facts,
    image_fact,
    image_size,
    machine_load,
    prune_build_cache,
    remove_leftovers,
    run,
    template_commit,
    timed,
)

ANSWERS = ("none", "postgresql")
PREFIX = "pdbench-database-"
SECTION_LABEL = "org.poetry-docker.benchmark.section=database"
BUILD_TIMEOUT = 1200
EDITED = f"{APP_NAME}/api.py"  # the code edit's file, in the baked project
# What database=postgresql adds at runtime (canonical names), and must not be there without.
DATABASE_PACKAGES = ("alembic", "flask-migrate", "flask-sqlalchemy", "psycopg", "sqlalchemy")
MIGRATIONS = f"/opt/app/{APP_NAME}/migrations/versions"

# Run in the production image, with the migrations' folder as argument: what its
# dependencies and the app take, its packages, and whether it carries the migrations.
CONTENTS_SCRIPT = """
import importlib.metadata as m, json, os, sys
def size(top):
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(top) for name in names
               if not os.path.islink(os.path.join(root, name)))
names = [d.metadata["Name"] for d in m.distributions()]
print(json.dumps({"venv": size("/opt/venv"), "app": size("/opt/app"),
                  "packages": names, "migrations": os.path.isdir(sys.argv[1])}))
"""


@dataclass
class Measurement:
    cold: float  # s
    code_edit: float  # s
    size: int  # bytes
    venv: int  # bytes in /opt/venv
    app: int  # bytes in /opt/app
    layers: int  # in the image
    layers_changed: int  # by the code edit: layers of the rebuilt image not in the cold one
    steps_run: list[str]  # by the code edit: the Dockerfile steps that were not cached


@dataclass
class Session:
    """What this section created, so that it can all be removed at the end."""

    workdir: Path
    logs: Path
    images: set[str] = field(default_factory=set)  # IDs: a rebuild leaves the old untagged
    packages: dict[str, list[str]] = field(default_factory=dict)  # answer: in its image


# --- building and measuring ----------------------------------------------------------------


def build(session: Session, context: Path, tag: str, log: str) -> float:
    cmd = ["docker", "build", "--progress=plain", "--target", "production",
           "--label", LABEL, "--label", SECTION_LABEL, "--tag", tag, context]  # fmt: skip
    seconds = timed(cmd, timeout=BUILD_TIMEOUT, log=session.logs / f"{log}.log")
    session.images.add(docker("image", "inspect", "--format", "{{.Id}}", tag))
    return seconds


def layers(ref: str) -> list[str]:
    return json.loads(docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", ref))


def steps_run(log: Path) -> list[str]:
    """The Dockerfile steps a `--progress=plain` build ran rather than took from its cache
    (a FROM is never "CACHED", only resolved: not counted)."""
    names, done, cached = {}, set(), set()
    for line in log.read_text().splitlines():
        if match := re.match(r"#(\d+) \[([\w-]+ )?\d+/\d+\] (?!FROM )(.*)", line):
            step = re.sub(r"--(mount|chmod)=\S+|\\", "", match[3])
            names.setdefault(match[1], " ".join(step.split())[:60])
        elif match := re.match(r"#(\d+) (DONE|CACHED)", line):
            (done if match[2] == "DONE" else cached).add(match[1])
    return [names[n] for n in sorted(done - cached, key=int) if n in names]


def contents(image: str) -> dict:
    output = docker("run", "--rm", "--label", LABEL, "--label", SECTION_LABEL,
                    "--entrypoint", "python", image, "-c", CONTENTS_SCRIPT, MIGRATIONS)  # fmt: skip
    found = json.loads(output.splitlines()[-1])
    found["packages"] = sorted({canonical(name) for name in found["packages"]})
    return found


def check(answer: str, found: dict) -> None:
    """postgresql's image holds the database packages and the migrations; none's neither."""
    packages = set(found["packages"])
    extra = packages & set(DATABASE_PACKAGES)
    if answer == "postgresql":
        missing = [p for p in DATABASE_PACKAGES if p not in packages]
        if missing or not found["migrations"]:
            sys.exit(f"benchmark: the postgresql image lacks {missing or MIGRATIONS}")
    elif extra or found["migrations"]:
        sys.exit(f"benchmark: the image without a database holds {extra or MIGRATIONS}")


def measure(session: Session, project: Path, answer: str, run_no: int) -> Measurement:
    context = session.workdir / "contexts" / f"{answer}-{run_no}"
    shutil.copytree(project, context)
    tag = f"{PREFIX}{answer}-{uuid.uuid4().hex[:12]}"
    log = f"{answer}-run{run_no}"

    prune_build_cache()
    cold = build(session, context, tag, f"{log}-cold")
    size, before = image_size(tag), layers(tag)
    found = contents(tag)
    if run_no == 0:
        check(answer, found)
        # The dependencies: the app's own distribution (in /opt/app) aside.
        session.packages[answer] = [p for p in found["packages"] if p != canonical(APP_NAME)]

    with (context / EDITED).open("a") as module:
        module.write(f"# benchmark: a one-line code edit {uuid.uuid4().hex}\n")
    code_edit = build(session, context, tag, f"{log}-code-edit")
    after = layers(tag)

    remove_images(session)
    shutil.rmtree(context)
    return Measurement(
        cold=cold, code_edit=code_edit, size=size, venv=found["venv"], app=found["app"],
        layers=len(before), layers_changed=len(set(after) - set(before)),
        steps_run=steps_run(session.logs / f"{log}-code-edit.log"),
    )  # fmt: skip


def summary(m: Measurement) -> str:
    return (
        f"cold {m.cold:.1f}s, code edit {m.code_edit:.2f}s ({m.layers_changed} of {m.layers} "
        f"layers changed), {m.size / 1e6:.1f} MB (venv {m.venv / 1e6:.1f} MB)"
    )


# --- results ------------------------------------------------------------------------------

# label, the figure of one run (None: derived from the medians), format
FIGURES = (
    ("cold build, s", lambda m: m.cold, "{:.1f}"),
    ("rebuild after a code edit, s", lambda m: m.code_edit, "{:.2f}"),
    ("production image size, MB", lambda m: m.size / 1e6, "{:.1f}"),
    ("size over the base image, MB", None, "{:.1f}"),
    ("/opt/venv (dependencies), MB", lambda m: m.venv / 1e6, "{:.1f}"),
    ("/opt/app (the app), kB", lambda m: m.app / 1e3, "{:.0f}"),
    ("layers changed by the code edit", lambda m: m.layers_changed, "{:g}"),
)


def medians(runs: list[Measurement], base_size: int) -> dict[str, float]:
    figures = {label: statistics.median(get(m) for m in runs) for label, get, _ in FIGURES if get}
    figures["size over the base image, MB"] = figures["production image size, MB"] - base_size / 1e6
    return figures


def difference(none: float, postgresql: float, fmt: str) -> str:
    diff = fmt.format(postgresql - none)
    diff = diff if diff.startswith("-") else f"+{diff}"
    return f"{diff} ({postgresql / none:.2f}x)" if none else diff


def table(results: dict[str, dict[str, float]]) -> str:
    lines = ["| figure | none | postgresql | difference |", "|---|---|---|---|"]
    for label, _, fmt in FIGURES:
        none, postgresql = results["none"][label], results["postgresql"][label]
        lines.append(
            f"| {label} | {fmt.format(none)} | {fmt.format(postgresql)} | "
            f"{difference(none, postgresql, fmt)} |"
        )
    return "\n".join(lines)


def report(args, results, runs, facts, notes) -> str:
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    packages = {a: len(notes["packages"][a]) for a in ANSWERS}
    added = sorted(set(notes["packages"]["postgresql"]) - set(notes["packages"]["none"]))
    steps = {a: "; ".join(f"`{s}`" for s in runs[a][0].steps_run) for a in ANSWERS}
    return "\n".join([
        f"# Benchmark: the database answer, postgresql beside none ({date})",
        "",
        *(f"- {fact}" for fact in facts),
        f"- `benchmark/run.py --sections database --runs {args.runs} --python {args.python}`: "
        f"medians of {args.runs} run(s), {notes['minutes']:.1f} min for this section",
        f"- template: {notes['template']}",
        f"- machine, shared with other work: at the start {notes['load_start']}; "
        f"at the end {notes['load_end']}",
        "- the production image (`docker build --target production`) of the baked project's "
        "own Dockerfile; every cold build follows `docker builder prune -af`; the code edit "
        f"appends a comment line to `{EDITED}`; MB = 10^6 bytes; /opt/venv and /opt/app are "
        "their files' summed sizes",
        "",
        table(results),
        "",
        f"Packages installed in /opt/venv: {packages['none']} with none, "
        f"{packages['postgresql']} with postgresql, which adds {', '.join(added)}.",
        "",
        "The code edit changed only the app's layer (/opt/app) in every run: "
        f"{'yes' if all(m.layers_changed == 1 for a in ANSWERS for m in runs[a]) else '**no**'}."
        " The steps it ran (first run; every other step came from the cache):",
        "",
        *(f"- {a}: {steps[a]}" for a in ANSWERS),
        "",
        "Each run:",
        "",
        *(f"- {a}, run {i + 1}: {summary(m)}" for a in ANSWERS for i, m in enumerate(runs[a])),
    ]) + "\n"  # fmt: skip


def results_json(args, results, runs, notes) -> dict:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"benchmark/run.py --sections database --runs {args.runs} "
        f"--python {args.python}",
        "notes": notes,
        **{a: {"medians": results[a], "runs": [vars(m) for m in runs[a]]} for a in ANSWERS},
    }


# --- main --------------------------------------------------------------------------------


def remove_images(session: Session) -> None:
    if session.images:
        run(["docker", "rmi", "-f", *session.images], timeout=DOCKER_TIMEOUT, check=False)
    session.images.clear()


def main(args) -> None:
    """Measure both answers, write results/database.md and .json, print the report."""
    started = time.perf_counter()
    logs = args.output / "logs" / "database"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    session = Session(Path(tempfile.mkdtemp(prefix=PREFIX)), logs)
    remove_leftovers(SECTION_LABEL)
    try:
        base = f"python:{args.python}-slim"
        notes = {"template": template_commit(), "load_start": machine_load(PREFIX)}
        projects = {a: bake(session.workdir / a, args.python, database=a) for a in ANSWERS}
        runs = {a: [] for a in ANSWERS}
        for run_no in range(args.runs):
            for answer in ANSWERS if run_no % 2 == 0 else ANSWERS[::-1]:
                m = measure(session, projects[answer], answer, run_no)
                runs[answer].append(m)
                print(f"  run {run_no + 1} {answer:10} {summary(m)}", flush=True)
        notes["load_end"] = machine_load(PREFIX)
        notes["packages"] = session.packages
        results = {a: medians(runs[a], image_size(base)) for a in ANSWERS}
        facts = [*host_facts(), f"base image {image_fact(base)}"]
        notes["minutes"] = (time.perf_counter() - started) / 60
        text = report(args, results, runs, facts, notes)
        raw = results_json(args, results, runs, notes)
    finally:
        remove_images(session)
        remove_leftovers(SECTION_LABEL)
        shutil.rmtree(session.workdir, ignore_errors=True)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "database.md").write_text(text)
    (args.output / "database.json").write_text(json.dumps(raw, indent=2) + "\n")
    print("\n" + text)
    print(f"written to {args.output / 'database.md'}")
