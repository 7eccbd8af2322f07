"""Shared by every test: one way to bake the template, and the Docker switch."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
DEFAULT_ANSWERS = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))
DEFAULT_APP_NAME = "my_flask_service"

# Poetry's own PyPI client needs PyPI's JSON API, which some mirrors and proxies
# do not serve; the pypi-mirror plugin (in requirements-test.txt) makes it use
# the simple API of whatever index pip uses. Harmless where the JSON API works.
os.environ.setdefault(
    "POETRY_PYPI_MIRROR_URL", os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/")
)
# `make test` runs this suite; the generated project's make must not inherit the
# outer make's state (it would print "make[1]: Entering directory" lines).
for variable in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS"):
    os.environ.pop(variable, None)


def tool(name: str) -> str:
    """Path of a command installed by requirements-test.txt, next to this Python."""
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    return found or name


def run(
    *command: str | Path, cwd: Path | None = None, check: bool = True, **kwargs
) -> subprocess.CompletedProcess:
    """Run a command, capture its output, and (with check) fail the test with that
    output if it fails."""
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, **kwargs
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, command))} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}",
            pytrace=False,
        )
    return result


def bake_ok(cookies, **answers):
    """Bake the template with these answers and fail the test unless it succeeded."""
    result = cookies.bake(extra_context=answers)
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return Path(result.project_path)


@pytest.fixture(scope="session")
def default_project(cookies_session) -> Path:
    """A project baked once per session with the default answers (read-only by convention)."""
    return bake_ok(cookies_session)


# --- Docker: skipped without an engine, unless --require-docker (CI) -----------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-docker",
        action="store_true",
        help="fail instead of skipping the Docker tests when no engine answers (CI uses it)",
    )


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    docker_items = [item for item in items if "docker" in item.keywords]
    if not docker_items:
        return
    problem = docker_problem()
    if problem is None:
        return
    if config.getoption("--require-docker"):
        raise pytest.UsageError(f"Docker tests are required here, but {problem}.")
    skip = pytest.mark.skip(reason=f"{problem}: run `make test` to set up Docker and run them")
    for item in docker_items:
        item.add_marker(skip)
