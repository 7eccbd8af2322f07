"""A curated matrix of the options bakes complete, valid projects.

Rather than every combination of the four choices (Python version, licence, database,
GitHub Actions), SUPPORTED_COMBINATIONS bakes each answer value once and the pairs of
answers that interact, each once per session. Each check then runs on one bake per
distinct value of the answers that the files it reads depend on (one_bake_per), and
reads them with the real parsers and tools. Other ways to bake (git clone, --replay,
cruft) are in test_generation_routes.py, refused answers in test_answer_validation.py.
"""

import fnmatch
import itertools
import re
import stat
import tomllib
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml
from dockerfile_parse import DockerfileParser
from packaging.specifiers import SpecifierSet

from tests.helpers import DEFAULT_ANSWERS, DEFAULT_APP_NAME, bake_ok, run, tool

PYTHON_VERSIONS = ["3.11", "3.12", "3.13", "3.14"]
LICENSES = ["MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"]
DATABASES = ["none", "postgresql"]
STAGES = ["staging", "development", "build", "production"]
OFFERED = {
    "python_version": PYTHON_VERSIONS,
    "license": LICENSES,
    "database": DATABASES,
    "github_actions": [True, False],
}

# What the licence choice writes: the SPDX expression in pyproject.toml and words
# that only that licence's text contains.
LICENSE_SPDX = {
    "MIT": "MIT",
    "Apache-2.0": "Apache-2.0",
    "BSD-3-Clause": "BSD-3-Clause",
    "Proprietary": "LicenseRef-Proprietary",
}
LICENSE_MARKERS = {
    "MIT": ["MIT License", "Permission is hereby granted, free of charge"],
    "Apache-2.0": ["Apache License", "Version 2.0, January 2004", "TERMS AND CONDITIONS"],
    "BSD-3-Clause": ["BSD 3-Clause License", "Neither the name of the copyright holder"],
    "Proprietary": ["All rights reserved.", "proprietary and confidential"],
}

# Every file a project has whatever the answers (.github only with github_actions).
EXPECTED_FILES = [
    ".dockerignore",
    ".gitattributes",
    ".gitignore",
    ".pre-commit-config.yaml",
    "Dockerfile",
    "LICENSE",
    "Makefile",
    "README.md",
    "compose.domain.yaml",
    "compose.yaml",
    "deploy/kubernetes/kustomization.yaml",
    "docker/edge/Caddyfile",
    "docker/edge/Dockerfile",
    "docker/entrypoint.sh",
    "docker/healthcheck.py",
    "gunicorn.conf.py",
    "poetry.lock",
    "pyproject.toml",
    "tests/conftest.py",
    f"{DEFAULT_APP_NAME}/__init__.py",
    f"{DEFAULT_APP_NAME}/api.py",
    f"{DEFAULT_APP_NAME}/errors.py",
]
# What database=postgresql adds, and only it.
DATABASE_FILES = [
    "tests/test_database_settings.py",
    "tests/test_items.py",
    "tests/test_migrations.py",
    "tests/test_readiness.py",
    f"{DEFAULT_APP_NAME}/database.py",
    f"{DEFAULT_APP_NAME}/items.py",
    f"{DEFAULT_APP_NAME}/migrations/alembic.ini",
    f"{DEFAULT_APP_NAME}/migrations/env.py",
    f"{DEFAULT_APP_NAME}/migrations/script.py.mako",
]
WORKFLOW = ".github/workflows/ci.yml"
JINJA_LEFTOVERS = ["{{", "{%", "{#", "cookiecutter."]
# The workflow's own syntax, meant to stay: GitHub expressions ${{ ... }} and
# docker/metadata-action's tag patterns such as pattern={{version}}.
GITHUB_SYNTAX = re.compile(r"\$\{\{[^}]*\}\}|pattern=\{\{[a-z]+\}\}(?:\.\{\{[a-z]+\}\})?")


# The first choice of each answer in cookiecutter.json.
DEFAULTS = {"python_version": "3.14", "license": "MIT", "database": "none", "github_actions": True}


def varied(**answers) -> dict:
    """The default answers, but for these."""
    return DEFAULTS | answers


SUPPORTED_COMBINATIONS = [
    # Each answer value once, the other answers at their defaults.
    varied(),
    varied(python_version="3.13"),
    varied(python_version="3.12"),
    varied(python_version="3.11"),
    varied(license="Apache-2.0"),
    varied(license="BSD-3-Clause"),
    varied(license="Proprietary"),
    varied(database="postgresql"),
    varied(github_actions=False),
    # The answers that interact. CI x database: the hook removes .github and the
    # database files, and the workflow starts a database service. Python x database:
    # the workflow renders both, and the one postgresql lock serves every image Python.
    varied(github_actions=False, database="postgresql"),
    varied(python_version="3.13", database="postgresql"),
    varied(python_version="3.12", database="postgresql"),
    varied(python_version="3.11", database="postgresql"),
]
INTERACTING_ANSWERS = [("github_actions", "database"), ("python_version", "database")]


def combination_id(answers: dict) -> str:
    ci = "ci" if answers["github_actions"] else "noci"
    return f"py{answers['python_version']}-{answers['database']}-{ci}-{answers['license']}"


def one_bake_per(*answer_names: str):
    """Parametrize a check over the first supported combination for each distinct value
    of these answers: those the files it reads depend on (none: the defaults alone)."""
    chosen = {}
    for answers in SUPPORTED_COMBINATIONS:
        chosen.setdefault(tuple(answers[name] for name in answer_names), answers)
    return pytest.mark.parametrize(
        "combination",
        [pytest.param(answers, id=combination_id(answers)) for answers in chosen.values()],
    )


every_bake = one_bake_per(*DEFAULTS)


class Baked(NamedTuple):
    path: Path
    answers: dict


@pytest.fixture(scope="session")
def bake_combination(cookies_session):
    """Bake a supported combination, each once per session however many checks read it."""
    projects = {}

    def bake(answers: dict) -> Path:
        key = combination_id(answers)
        if key not in projects:
            projects[key] = bake_ok(cookies_session, **answers)
        return projects[key]

    return bake


@pytest.fixture
def baked(combination, bake_combination) -> Baked:
    """The project of the combination the check is parametrized with (one_bake_per)."""
    return Baked(bake_combination(combination), combination)


def text_files(project: Path) -> dict[str, str]:
    """Every file of the project that is UTF-8 text, by relative path."""
    texts = {}
    for path in sorted(project.rglob("*")):
        if path.is_file():
            try:
                texts[path.relative_to(project).as_posix()] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    return texts


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Whether Docker leaves `path` out of the build context (the last match wins).

    Like Docker, a pattern also matches every file under a directory it matches.
    """
    parents = [path] + ["/".join(path.split("/")[:i]) for i in range(1, path.count("/") + 1)]
    excluded = False
    for line in patterns:
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        candidates = [pattern, pattern[3:]] if pattern.startswith("**/") else [pattern]
        if any(fnmatch.fnmatchcase(p, c) for p in parents for c in candidates):
            excluded = not negated
    return excluded


# --- The options are the template's ------------------------------------------------


def test_the_tested_choices_and_defaults_are_the_templates():
    assert sorted(DEFAULT_ANSWERS["python_version"]) == PYTHON_VERSIONS
    assert sorted(DEFAULT_ANSWERS["license"]) == sorted(LICENSES)
    assert isinstance(DEFAULT_ANSWERS["github_actions"], bool)
    assert DEFAULT_ANSWERS["database"] == DATABASES  # "none" first: the default
    first_choices = {
        name: value[0] if isinstance(value, list) else value
        for name, value in DEFAULT_ANSWERS.items()
        if name in DEFAULTS
    }
    assert first_choices == DEFAULTS


def test_every_answer_value_is_baked_with_the_other_answers_at_their_defaults():
    for name, values in OFFERED.items():
        for value in values:
            assert varied(**{name: value}) in SUPPORTED_COMBINATIONS, (name, value)


def test_every_pair_of_interacting_answers_is_baked_with_the_others_at_their_defaults():
    for first, second in INTERACTING_ANSWERS:
        for pair in itertools.product(OFFERED[first], OFFERED[second]):
            answers = varied(**dict(zip((first, second), pair, strict=True)))
            assert answers in SUPPORTED_COMBINATIONS, answers


def test_no_combination_is_baked_twice():
    ids = [combination_id(answers) for answers in SUPPORTED_COMBINATIONS]
    assert len(set(ids)) == len(ids), ids


# --- The checks, each on the bakes that differ in what it reads ---------------------


@one_bake_per("database", "github_actions")
def test_bakes_every_expected_file(baked):
    expected = EXPECTED_FILES
    if baked.answers["database"] == "postgresql":
        expected = EXPECTED_FILES + DATABASE_FILES
    missing = [name for name in expected if not (baked.path / name).is_file()]
    assert not missing, f"missing from the generated project: {missing}"


@one_bake_per("database", "github_actions")
def test_database_files_exist_only_with_a_database(baked):
    present = [name for name in DATABASE_FILES if (baked.path / name).exists()]
    assert present == (DATABASE_FILES if baked.answers["database"] == "postgresql" else [])
    assert not (baked.path / "poetry.postgresql.lock").exists()  # the hook kept one lock


@one_bake_per("database", "github_actions")
def test_ci_workflow_exists_only_with_github_actions(baked):
    assert (baked.path / WORKFLOW).is_file() == baked.answers["github_actions"]
    assert (baked.path / ".github").exists() == baked.answers["github_actions"]


@every_bake
def test_no_template_syntax_is_left_in_any_file(baked):
    texts = text_files(baked.path)
    assert "pyproject.toml" in texts  # the scan did read the project
    if WORKFLOW in texts:
        texts[WORKFLOW] = GITHUB_SYNTAX.sub("", texts[WORKFLOW])
    leftovers = {
        name: [token for token in JINJA_LEFTOVERS if token in text]
        for name, text in texts.items()
        if any(token in text for token in JINJA_LEFTOVERS)
    }
    assert not leftovers, f"unrendered template syntax: {leftovers}"


@one_bake_per()
def test_container_scripts_are_executable(baked):
    for name in ("docker/entrypoint.sh", "docker/healthcheck.py"):
        mode = (baked.path / name).stat().st_mode
        assert mode & 0o111 == 0o111, f"{name} has mode {stat.filemode(mode)}"


@one_bake_per("license", "database")
def test_pyproject_names_the_project_and_its_licence(baked):
    pyproject = tomllib.loads((baked.path / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    assert project["name"] == DEFAULT_APP_NAME
    assert project["version"] == DEFAULT_ANSWERS["version"]
    assert project["license"] == LICENSE_SPDX[baked.answers["license"]]
    assert project["authors"] == [
        {"name": DEFAULT_ANSWERS["author_name"], "email": DEFAULT_ANSWERS["author_email"]}
    ]


@one_bake_per("python_version", "database")
def test_requires_python_is_the_same_for_every_image_python(baked, default_project):
    """One poetry.lock serves every image, so the Python range must not follow the choice."""
    requires = tomllib.loads((baked.path / "pyproject.toml").read_text(encoding="utf-8"))
    default = tomllib.loads((default_project / "pyproject.toml").read_text(encoding="utf-8"))
    assert requires["project"]["requires-python"] == default["project"]["requires-python"]
    assert baked.answers["python_version"] in SpecifierSet(requires["project"]["requires-python"])
    # An application caps it, so that packages capping their own Python can be added.
    assert "4.0" not in SpecifierSet(requires["project"]["requires-python"])


@one_bake_per("database")
def test_compose_files_are_valid_compose_spec(baked):
    compose = yaml.safe_load((baked.path / "compose.yaml").read_text(encoding="utf-8"))
    services = {"edge", "app", "dev"}
    if baked.answers["database"] == "postgresql":
        services |= {"migrate", "db"}
    assert set(compose["services"]) == services
    domain = yaml.safe_load((baked.path / "compose.domain.yaml").read_text(encoding="utf-8"))
    assert set(domain["services"]) == {"edge"}
    run(
        tool("check-jsonschema"),
        "--builtin-schema",
        "vendor.compose-spec",
        baked.path / "compose.yaml",
        baked.path / "compose.domain.yaml",
    )


@one_bake_per("python_version")
def test_dockerfile_has_the_four_stages_on_the_chosen_python(baked):
    dockerfile = DockerfileParser(str(baked.path / "Dockerfile"))
    froms = [item["value"] for item in dockerfile.structure if item["instruction"] == "FROM"]
    assert [line.split()[-1] for line in froms] == STAGES
    assert all(re.fullmatch(r"\S+ AS \w+", line) for line in froms), froms

    # The version is one ARG before the first FROM, used by both python:* stages.
    first_from = next(
        i for i, item in enumerate(dockerfile.structure) if item["instruction"] == "FROM"
    )
    global_args = [
        item["value"] for item in dockerfile.structure[:first_from] if item["instruction"] == "ARG"
    ]
    assert f"PYTHON_VERSION={baked.answers['python_version']}" in global_args
    assert froms[0] == "python:${PYTHON_VERSION}-slim AS staging"
    assert froms[3] == "python:${PYTHON_VERSION}-slim AS production"
    image = f"python:{baked.answers['python_version']}-slim"
    assert dockerfile.parent_images == [image, "staging", "staging", image]


@one_bake_per("database")
def test_python_passes_ruff_with_the_projects_own_config(baked):
    run(tool("ruff"), "check", "--no-cache", ".", cwd=baked.path)
    run(tool("ruff"), "format", "--no-cache", "--check", ".", cwd=baked.path)


@one_bake_per("database")
def test_lock_file_is_in_sync_with_pyproject(baked):
    run(tool("poetry"), "check", "--lock", cwd=baked.path)


@one_bake_per()
def test_env_file_and_secrets_are_kept_out_of_git_and_of_the_image(baked):
    gitignore = (baked.path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in gitignore
    assert "secrets/" in gitignore
    dockerignore = (baked.path / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert dockerignore_excludes(dockerignore, ".env")
    assert dockerignore_excludes(dockerignore, "secrets/flask_secret_key")
    # ...while what the Dockerfile copies is still sent.
    for needed in ("pyproject.toml", "poetry.lock", "docker/entrypoint.sh"):
        assert not dockerignore_excludes(dockerignore, needed), needed
    assert not dockerignore_excludes(dockerignore, f"{DEFAULT_APP_NAME}/__init__.py")


@one_bake_per("license")
def test_licence_text_matches_the_choice_and_names_the_author(baked):
    text = (baked.path / "LICENSE").read_text(encoding="utf-8")
    for marker in LICENSE_MARKERS[baked.answers["license"]]:
        assert marker in text
    for other, markers in LICENSE_MARKERS.items():
        if other != baked.answers["license"]:
            assert markers[0] not in text, f"{other} text in a {baked.answers['license']} LICENSE"
    author = re.escape(DEFAULT_ANSWERS["author_name"])
    assert re.search(rf"Copyright (\(c\) )?\d{{4}},? {author}", text), "no copyright line"
