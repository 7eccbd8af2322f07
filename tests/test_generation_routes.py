"""Other ways to generate: from a git clone, with --replay, with cruft, and not twice.

Each runs the command a user would type (cookiecutter or cruft), and checks the
result is the very project a plain bake gives, or that nothing was overwritten.
"""

import json
import os
import shutil
import stat
import tomllib
from pathlib import Path

import pytest

from tests.helpers import TEMPLATE_DIR, cookiecutter_cli, project_in, run, tool

# What these bakes answer, as `cookiecutter --no-input TEMPLATE key=value ...` takes them.
ANSWERS = ["project_name=Billing API", "license=Apache-2.0", "github_actions=no"]


def tree(project: Path) -> dict[str, tuple[bytes, bool]]:
    """Each file's content and whether it is executable, by relative path."""
    return {
        path.relative_to(project).as_posix(): (
            path.read_bytes(),
            bool(path.stat().st_mode & stat.S_IXUSR),
        )
        for path in sorted(project.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory) -> Path:
    """A git repository of the template as it is in the working tree, committed."""
    repo = tmp_path_factory.mktemp("template-repo") / "poetry-docker"
    listed = run(
        "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=TEMPLATE_DIR
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = TEMPLATE_DIR / name
        if source.is_file():  # a file deleted but not yet committed is still listed
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    identity = ["-c", "user.name=Template Tests", "-c", "user.email=tests@example.com"]
    run("git", "init", "--quiet", repo)
    run("git", "add", "--all", cwd=repo)
    run("git", *identity, "commit", "--quiet", "--message", "template", cwd=repo)
    return repo


def assert_same_tree(first: Path, second: Path) -> None:
    """The same files, contents and executable bits (the bake writes no secret: the
    first make does)."""
    first_tree, second_tree = tree(first), tree(second)
    assert sorted(first_tree) == sorted(second_tree)
    for name, (content, executable) in first_tree.items():
        assert second_tree[name][0] == content, f"{name} differs"
        assert second_tree[name][1] == executable, f"{name}: executable bit differs"


def test_a_git_clone_of_the_template_bakes_the_same_project(
    template_repo, cookiecutter_config, tmp_path
):
    clone = tmp_path / "clone"
    run("git", "clone", "--quiet", template_repo, clone)
    cookiecutter_cli(cookiecutter_config, clone, tmp_path / "clone-bake", *ANSWERS)
    cookiecutter_cli(cookiecutter_config, TEMPLATE_DIR, tmp_path / "bake", *ANSWERS)
    from_clone, from_path = project_in(tmp_path / "clone-bake"), project_in(tmp_path / "bake")
    assert from_clone.name == from_path.name == "billing_api"
    assert_same_tree(from_clone, from_path)
    assert os.access(from_clone / "docker" / "entrypoint.sh", os.X_OK)


def test_replay_reproduces_the_first_answers(cookiecutter_config, tmp_path):
    cookiecutter_cli(cookiecutter_config, TEMPLATE_DIR, tmp_path / "first", *ANSWERS)
    cookiecutter_cli(cookiecutter_config, TEMPLATE_DIR, tmp_path / "again", replay=True)
    first, replayed = project_in(tmp_path / "first"), project_in(tmp_path / "again")
    assert replayed.name == "billing_api"
    assert_same_tree(first, replayed)
    pyproject = tomllib.loads((replayed / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == "Apache-2.0"
    assert not (replayed / ".github").exists()


def test_cruft_create_gives_a_project_that_cruft_check_accepts(
    template_repo, cookiecutter_config, tmp_path
):
    output = tmp_path / "out"
    output.mkdir()
    run(
        tool("cruft"),
        "create",
        "--no-input",
        "--config-file",
        cookiecutter_config,
        "--output-dir",
        output,
        "--extra-context",
        json.dumps({"project_name": "Billing API", "python_version": "3.12"}),
        template_repo,
    )
    project = output / "billing_api"
    cruft_state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert cruft_state["context"]["cookiecutter"]["python_version"] == "3.12"
    result = run(tool("cruft"), "check", cwd=project)
    assert "up to date" in result.stdout
    # The post-gen hook ran, as from cookiecutter itself: one lock, and no secret yet.
    assert (project / "poetry.lock").is_file()
    assert not (project / "poetry.postgresql.lock").exists()
    assert not (project / ".env").exists()
    assert not (project / "secrets").exists()
    assert "ARG PYTHON_VERSION=3.12" in (project / "Dockerfile").read_text(encoding="utf-8")


def test_a_second_bake_into_the_same_folder_is_refused_and_changes_nothing(
    cookiecutter_config, tmp_path
):
    output = tmp_path / "out"
    cookiecutter_cli(cookiecutter_config, TEMPLATE_DIR, output)
    project = project_in(output)
    before = tree(project)
    again = cookiecutter_cli(cookiecutter_config, TEMPLATE_DIR, output, check=False)
    assert again.returncode != 0
    assert "already exists" in again.stdout + again.stderr
    assert tree(project) == before
