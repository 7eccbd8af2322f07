"""The generated project's own tests pass, installed by Poetry from the shipped lock.

This is what a new user does first: `poetry install`, then `poetry run pytest`.
"""

import os
import re
from pathlib import Path

import pytest

from tests.helpers import bake_ok, run, tool

COMBINATIONS = [
    pytest.param({}, id="defaults"),
    pytest.param(
        {
            "project_name": "Billing API",
            "version": "2.0.0rc1",
            "license": "Proprietary",
            "python_version": "3.11",
            "github_actions": False,
        },
        id="py3.11-Proprietary-noci-billing_api-2.0.0rc1",
    ),
    pytest.param(
        {
            "project_name": "Zoë's Café",
            "description": 'Serves "coffee" \\ tea 🚀',
            "author_name": "Zoë Ñandú",
            "license": "BSD-3-Clause",
            "port": "9000",
        },
        id="py3.14-BSD-3-Clause-ci-unicode-answers",
    ),
]


def poetry(*args: str, cwd: Path):
    """Run Poetry as a user would, with its virtual environment inside the project."""
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env["POETRY_VIRTUALENVS_IN_PROJECT"] = "true"
    env["POETRY_NO_INTERACTION"] = "1"
    return run(tool("poetry"), *args, cwd=cwd, env=env)


@pytest.fixture(scope="module", params=COMBINATIONS)
def installed(request, cookies_session) -> Path:
    project = bake_ok(cookies_session, **request.param)
    poetry("install", cwd=project)
    return project


def test_poetry_installs_into_the_projects_own_venv(installed):
    venv = Path(poetry("env", "info", "--path", cwd=installed).stdout.strip())
    assert venv == installed / ".venv"
    assert (venv / "bin" / "python").is_file()


def test_the_generated_test_suite_passes(installed):
    result = poetry("run", "pytest", "-p", "no:cacheprovider", cwd=installed)
    summary = result.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) > 0, summary
    assert "failed" not in summary and "error" not in summary, summary


def test_ruff_from_the_lock_passes(installed):
    result = poetry("run", "ruff", "check", "--no-cache", ".", cwd=installed)
    assert "All checks passed!" in result.stdout
    assert Path(poetry("run", "which", "ruff", cwd=installed).stdout.strip()).is_relative_to(
        installed / ".venv"
    )
