"""The generated project is clean under its own linters and pre-commit hooks.

Each linter runs as a user or the project's CI would run it, on the default
project and on combinations that change what the linted files contain. The
template's own code is linted in test_linting_template.py.
"""

import shutil
from pathlib import Path

import pytest

from tests.helpers import DEFAULT_ANSWERS, bake_ok, run, tool

COMBINATIONS = [
    pytest.param({}, id="defaults"),
    pytest.param(
        {"python_version": "3.11", "license": "Proprietary", "github_actions": False},
        id="py3.11-Proprietary-noci",
    ),
    pytest.param(
        {
            "python_version": "3.12",
            "license": "Apache-2.0",
            "project_name": "Billing API",
            "port": "9000",
        },
        id="py3.12-Apache-2.0-ci-port9000",
    ),
    pytest.param(
        {"project_name": "Billing API", "database": "postgresql"},
        id="py3.14-MIT-ci-postgresql-billing_api",
    ),
]
WITH_WORKFLOW = [
    param
    for param in COMBINATIONS
    if param.values[0].get("github_actions", DEFAULT_ANSWERS["github_actions"])
]


@pytest.fixture(scope="module", params=COMBINATIONS)
def project(request, cookies_session) -> Path:
    return bake_ok(cookies_session, **request.param)


@pytest.fixture(scope="module", params=WITH_WORKFLOW)
def project_with_workflow(request, cookies_session) -> Path:
    return bake_ok(cookies_session, **request.param)


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory) -> Path:
    """One pre-commit cache for the session, so each hook environment installs once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def test_hadolint_reports_nothing_at_warning_level(project):
    # DL3057 (no HEALTHCHECK) is only informational by default: make it count.
    result = run(
        tool("hadolint"),
        "--failure-threshold",
        "warning",
        "--warning",
        "DL3057",
        "Dockerfile",
        cwd=project,
    )
    assert result.stdout == ""


def test_shellcheck_finds_nothing_in_the_entrypoint(project):
    result = run(tool("shellcheck"), "docker/entrypoint.sh", cwd=project)
    assert result.stdout == ""


def test_ruff_check_passes_with_the_projects_own_config(project):
    run(tool("ruff"), "check", "--no-cache", ".", cwd=project)


def test_ruff_format_leaves_every_file_unchanged(project):
    run(tool("ruff"), "format", "--no-cache", "--check", ".", cwd=project)


def test_actionlint_accepts_the_workflow(project_with_workflow):
    result = run(tool("actionlint"), ".github/workflows/ci.yml", cwd=project_with_workflow)
    assert result.stdout == ""


def test_workflow_matches_the_github_workflow_schema(project_with_workflow):
    run(
        tool("check-jsonschema"),
        "--builtin-schema",
        "vendor.github-workflows",
        ".github/workflows/ci.yml",
        cwd=project_with_workflow,
    )


def test_zizmor_finds_nothing_in_the_workflows_dependabot_or_pre_commit(project):
    """The GitHub Actions security linter, as make lint and pre-commit run it: offline."""
    result = run(tool("zizmor"), "--offline", "--no-progress", "--color", "never", ".", cwd=project)
    assert "No findings to report" in result.stdout, result.stdout


def test_pre_commit_config_is_valid(project):
    run(tool("pre-commit"), "validate-config", ".pre-commit-config.yaml", cwd=project)


@pytest.mark.parametrize("answers", [*COMBINATIONS[:2], COMBINATIONS[-1]])
def test_pre_commit_hooks_all_pass_on_a_fresh_repository(
    answers, cookies, pre_commit_home, tmp_path, monkeypatch
):
    """What a user sees after `git init && git add . && pre-commit run --all-files`."""
    repository = tmp_path / "repository"
    shutil.copytree(bake_ok(cookies, **answers), repository)
    run("git", "init", "--quiet", cwd=repository)
    run("git", "add", "--all", cwd=repository)
    monkeypatch.setenv("PRE_COMMIT_HOME", str(pre_commit_home))
    result = run(tool("pre-commit"), "run", "--all-files", "--color", "never", cwd=repository)
    # Each hook ran on something (none was skipped for want of files), and all passed.
    hooks = ("ruff check", "hadolint", "shellcheck", "check toml", "poetry check --lock", "zizmor")
    for hook in hooks:
        line = next(line for line in result.stdout.splitlines() if line.startswith(hook))
        assert line.endswith("Passed"), line
    # No fixer hook changed a file: everything is still exactly as staged.
    status = run("git", "status", "--porcelain", cwd=repository).stdout.splitlines()
    assert status and all(line.startswith("A  ") for line in status), status
