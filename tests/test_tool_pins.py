"""The generated project pins its build tools in one way: Poetry follows the
poetry_version answer everywhere, and the other tools of the images are build
arguments beside it.
"""

import re

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from tests.helpers import DEFAULT_ANSWERS, bake_ok

# Not the default, so that a pin that ignores the answer shows.
OTHER_POETRY = "2.4.1"


@pytest.fixture(scope="module")
def project(cookies_session):
    assert DEFAULT_ANSWERS["poetry_version"] != OTHER_POETRY
    return bake_ok(cookies_session, poetry_version=OTHER_POETRY, github_actions=True)


def global_and_stage_args(project) -> dict[str, str]:
    """Every ARG with a default in the Dockerfile, by name."""
    dockerfile = DockerfileParser(str(project / "Dockerfile"))
    args = {}
    for item in dockerfile.structure:
        if item["instruction"] == "ARG" and "=" in item["value"]:
            name, default = item["value"].split("=", 1)
            args[name] = default
    return args


def test_the_dockerfile_pins_the_answered_poetry(project):
    assert global_and_stage_args(project)["POETRY_VERSION"] == OTHER_POETRY


def test_pre_commit_pins_the_answered_poetry(project):
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert hooks["poetry-check"]["additional_dependencies"] == [f"poetry=={OTHER_POETRY}"]


def test_the_ci_workflow_installs_the_answered_poetry(project):
    workflow = (project / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert f"pipx install poetry=={OTHER_POETRY}" in workflow


def test_no_file_pins_another_poetry(project):
    pins = {
        path.relative_to(project).as_posix(): re.findall(r"poetry[=:]{1,2}\s*(\d+\.\d+\.\d+)", text)
        for path in project.rglob("*")
        if path.is_file() and path.name != "poetry.lock"
        for text in [path.read_text(encoding="utf-8", errors="replace")]
    }
    found = {name: versions for name, versions in pins.items() if versions}
    assert found, "no Poetry pin was found at all"
    assert all(set(versions) == {OTHER_POETRY} for versions in found.values()), found


def test_the_build_tools_are_build_arguments_used_by_the_install(project):
    args = global_and_stage_args(project)
    tools = {
        "POETRY_VERSION": "poetry",
        "POETRY_PLUGIN_EXPORT_VERSION": "poetry-plugin-export",
        "POETRY_PLUGIN_PYPI_MIRROR_VERSION": "poetry-plugin-pypi-mirror",
        "UV_VERSION": "uv",
    }
    assert set(tools) <= set(args)
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    for arg, package in tools.items():
        assert f"{package}==${{{arg}}}" in dockerfile, package
        # ...and nowhere pinned with a literal version instead.
        assert not re.search(rf"{re.escape(package)}==\d", dockerfile), package
