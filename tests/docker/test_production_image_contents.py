"""What the production image holds, and what it does not.

It holds the app, its dependencies and two scripts, runs as a fixed numeric UID,
and probes its health with Python. It carries no Poetry, uv, pip, compiler,
tests, git, .env, pyproject or lock, no curl or wget, and no setuid or setgid
file; its own layers are added by COPY only, never ADD. Each absence probe is
shown to find what it looks for once that thing is planted.
"""

from pathlib import Path

import pytest

from tests.docker.session import DEFAULT_PYTHON, UID_GID, inspect
from tests.helpers import DEFAULT_APP_NAME, docker

pytestmark = pytest.mark.docker

BASE_IMAGE = f"python:{DEFAULT_PYTHON}-slim"


# Each probe prints what it finds, or nothing. To show that a probe can find what
# it looks for, the control test plants that thing in a production container first.
FIND = "find / -xdev -path /proc -prune -o"
PROBES = {
    "poetry-on-path": (
        "command -v poetry",
        "touch /usr/local/bin/poetry; chmod +x /usr/local/bin/poetry",
    ),
    "opt-poetry": ("ls -d /opt/poetry", "mkdir /opt/poetry"),
    "poetry-importable": (
        "python -c 'import poetry' && echo importable",
        "mkdir /opt/app/poetry && touch /opt/app/poetry/__init__.py",
    ),
    "poetry-anywhere": (f"{FIND} -name 'poetry*' -prune -print", "touch /srv/poetry"),
    "uv": (f"command -v uv; {FIND} -name uv -print", "touch /srv/uv"),
    "pip-in-venv": (
        "ls -d /opt/venv/bin/pip* /opt/venv/lib/python*/site-packages/pip*;"
        " /opt/venv/bin/python -m pip --version",
        "mkdir /opt/venv/bin/pip",
    ),
    "compiler": (
        "for name in gcc cc c++ g++ clang; do command -v $name; done",
        "touch /usr/local/bin/cc; chmod +x /usr/local/bin/cc",
    ),
    "project-tests": (
        f"{FIND} \\( -name test_api.py -o -name conftest.py -o -path '*/app/tests' \\) -print",
        "mkdir /app/tests",
    ),
    "git": (f"{FIND} -name .git -print", "mkdir /app/.git"),
    "dotenv": (f"{FIND} -name .env -print", "touch /app/.env"),
    "pyproject-or-lock": (
        f"{FIND} \\( -name pyproject.toml -o -name poetry.lock \\) -print",
        "touch /opt/app/poetry.lock",
    ),
}


def probe(tag: str, check: str, plant: str = "true") -> str:
    script = f"{plant}; {{ {check}; }} 2>/dev/null; true"
    return docker("run", "--rm", "--user", "0", "--entrypoint", "sh", tag, "-c", script).stdout


@pytest.mark.parametrize("check", PROBES)
def test_production_image_carries_no(production, check):
    assert probe(production, PROBES[check][0]) == ""


@pytest.mark.parametrize("check", PROBES)
def test_absence_probe_finds_what_it_looks_for_once_planted(production, check):
    assert probe(production, *PROBES[check]) != ""


def test_production_image_holds_only_the_app_its_dependencies_and_two_scripts(production):
    listing = docker(
        "run", "--rm", "--entrypoint", "sh", production, "-c",
        "ls -A /app; echo --; ls -A /opt; echo --; ls -A /opt/app; echo --;"
        " ls /usr/local/bin/entrypoint.sh /usr/local/bin/healthcheck.py",
    ).stdout.split("--\n")  # fmt: skip
    app, opt, opt_app, scripts = (part.split() for part in listing)
    assert app == ["gunicorn.conf.py"]
    assert opt == ["app", "venv"]
    # `uv pip install --target` leaves its (empty) .lock file beside the package.
    assert set(opt_app) - {".lock"} == {DEFAULT_APP_NAME, f"{DEFAULT_APP_NAME}-0.1.0.dist-info"}
    assert scripts == ["/usr/local/bin/entrypoint.sh", "/usr/local/bin/healthcheck.py"]


def test_image_runs_as_a_fixed_numeric_uid(production):
    tag = production
    assert inspect(tag, "image")["Config"]["User"] == UID_GID
    ids = docker("run", "--rm", "--entrypoint", "id", tag).stdout
    assert ids.startswith("uid=10001(app) gid=10001(app)"), ids


def test_healthcheck_uses_python_and_the_image_has_no_curl_or_wget(production):
    tag = production
    healthcheck = inspect(tag, "image")["Config"]["Healthcheck"]
    assert healthcheck["Test"][0] == "CMD"
    probe = healthcheck["Test"][1:]
    assert not {"curl", "wget"} & {Path(word).name for word in probe}, probe
    script = docker(
        "run", "--rm", "--entrypoint", "sh", tag, "-c", f'cat "$(command -v {probe[0]})"'
    ).stdout
    assert script.startswith("#!/usr/bin/env python3"), script[:200]
    found = docker(
        "run", "--rm", "--user", "0", "--entrypoint", "find", tag,
        "/", "-xdev", "(", "-name", "curl", "-o", "-name", "wget", ")",
    ).stdout  # fmt: skip
    assert found == ""


def test_production_stage_adds_layers_with_copy_never_add(production):
    """ADD can fetch URLs and unpack archives; the Dockerfile copies only."""

    def history(tag: str) -> list[str]:
        return docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", tag).stdout.split(
            "\n"
        )[:-1]

    own, base = history(production), history(BASE_IMAGE)
    assert own[len(own) - len(base) :] == base, "the production stage is not built on the base"
    added = own[: len(own) - len(base)]
    copies = [step for step in added if step.startswith("COPY ")]
    assert len(copies) >= 4, added
    assert [step for step in added if step.startswith("ADD ")] == []


def test_no_file_in_the_image_is_setuid_or_setgid(production):
    def privileged_files(tag: str) -> list[str]:
        return docker(
            "run", "--rm", "--user", "0", "--entrypoint", "find", tag,
            "/", "-xdev", "-perm", "/6000", "-type", "f",
        ).stdout.split()  # fmt: skip

    assert privileged_files(production) == []
    # The same search does find them in the base image (su, passwd, ...).
    assert privileged_files(BASE_IMAGE)
