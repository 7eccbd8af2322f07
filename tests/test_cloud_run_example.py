"""The README's Cloud Run example is a command Cloud Run accepts, for every answer.

Its service name follows Cloud Run's rule (lowercase letters, digits and dashes, a
letter first, no dash last, 49 characters at most), derived from app_name in one place
(local_extensions.cloud_run_service): `gcloud run deploy my_flask_service` is refused.
Its secrets are files mounted from Secret Manager, as compose and Kubernetes mount
theirs, and the app is told where they are; no variable holds a secret. The paths are
ones Cloud Run allows: never under /dev, /proc or /sys, and one folder per secret, which
hides nothing the production image holds (tests/docker/test_production_runtime_contract.py
starts the image with the key mounted there).
"""

import re
from pathlib import Path, PurePosixPath

import pytest
from dockerfile_parse import DockerfileParser

from tests.helpers import bake_ok, gcloud_run_deploy, gcloud_settings

CLOUD_RUN_SERVICE = re.compile(r"[a-z](?:[a-z0-9-]{0,47}[a-z0-9])?")
# Cloud Run refuses a secret mounted in these folders or below them.
DISALLOWED_FOLDERS = [PurePosixPath(folder) for folder in ("/dev", "/proc", "/sys")]

# Valid app_name answers (the pre-generation hook's rule) that Cloud Run's rule is not.
AWKWARD_NAMES = [
    pytest.param({}, "my-flask-service", id="default"),
    pytest.param({"project_name": "Zoë's Café"}, "zoe-s-cafe", id="from-project-name"),
    pytest.param({"app_name": "a"}, "a", id="one-letter"),
    pytest.param({"app_name": "api_"}, "api", id="trailing-underscore"),
    pytest.param({"app_name": "billing__api"}, "billing-api", id="double-underscore"),
    pytest.param({"app_name": "v2_api_3"}, "v2-api-3", id="digits"),
    pytest.param({"app_name": "s" * 49}, "s" * 49, id="49-letters"),
    pytest.param({"app_name": "s" * 60}, "s" * 49, id="60-letters"),
    pytest.param({"app_name": "s" * 48 + "_tail"}, "s" * 48, id="cut-at-an-underscore"),
]


def production_paths(project: Path) -> list[PurePosixPath]:
    """The folders and files the Dockerfile's production stage puts into the image."""
    paths: list[PurePosixPath] = []
    workdir = PurePosixPath("/")
    stage = None
    for instruction in DockerfileParser(str(project / "Dockerfile")).structure:
        name, value = instruction["instruction"], instruction["value"]
        if name == "FROM":
            stage = value.split()[-1]
        elif stage != "production":
            continue
        elif name == "WORKDIR":
            workdir = workdir / value
            paths.append(workdir)
        elif name == "COPY":
            paths.append(workdir / value.split()[-1])
    return paths


@pytest.mark.parametrize(("answers", "service"), AWKWARD_NAMES)
def test_the_service_name_follows_cloud_runs_rule_for_every_app_name(cookies, answers, service):
    command = gcloud_run_deploy(bake_ok(cookies, **answers))
    name = command[3]
    assert CLOUD_RUN_SERVICE.fullmatch(name), f"gcloud run deploy {name}: not a Cloud Run name"
    assert name == service


@pytest.mark.parametrize("database", ["none", "postgresql"])
def test_the_secrets_are_files_from_secret_manager_that_the_app_is_pointed_at(cookies, database):
    command = gcloud_run_deploy(bake_ok(cookies, database=database))
    mounts = gcloud_settings(command, "--set-secrets")
    env = gcloud_settings(command, "--set-env-vars")
    files = {"FLASK_SECRET_KEY_FILE": "flask-secret-key:latest"}
    if database == "postgresql":
        files["DATABASE_PASSWORD_FILE"] = "postgres-password:latest"
        user_and_host = env["DATABASE_URL"].removeprefix("postgresql://").split("/")[0]
        assert user_and_host == "USER@HOST:5432"  # the password is the file's, never here
    # Each variable names the file its secret is mounted at, and no secret is a variable.
    assert {variable: mounts.get(env.get(variable)) for variable in files} == files
    assert all(target.startswith("/") for target in mounts), mounts
    assert "FLASK_SECRET_KEY" not in env and "DATABASE_PASSWORD" not in env


@pytest.mark.parametrize("database", ["none", "postgresql"])
def test_each_secret_has_a_folder_of_its_own_that_cloud_run_allows(cookies, database):
    project = bake_ok(cookies, database=database)
    mounts = gcloud_settings(gcloud_run_deploy(project), "--set-secrets")
    folders = [PurePosixPath(path).parent for path in mounts]
    assert len(set(folders)) == len(folders), folders
    image = production_paths(project)
    assert {PurePosixPath("/app"), PurePosixPath("/opt/venv")} <= set(image)  # parsed
    for folder in folders:
        assert folder.is_absolute(), folder
        assert not any(folder.is_relative_to(disallowed) for disallowed in DISALLOWED_FOLDERS)
        # A mount hides what its folder held: nothing of the image may be in one.
        hidden = [path for path in image if path.is_relative_to(folder)]
        assert not hidden, f"a secret mounted in {folder} would hide {hidden}"
