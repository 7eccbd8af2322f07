""".env and the secrets: the generated Makefile's .env target is their only writer
(the bake writes neither), every target that needs them runs it first, and it writes
each only when it is missing: private secrets of their own, which git never sees.

All of it runs make in a baked project, without Docker. The secret files depend on
one answer, the database, so each check that reads them runs for both.
"""

import re
import shutil
import stat
from pathlib import Path

import pytest

from tests.helpers import DEFAULT_APP_NAME, make_dry_run, run

KEY_FILE = "secrets/flask_secret_key"
SECRETS = {
    "none": ["flask_secret_key"],
    "postgresql": ["flask_secret_key", "postgres_password"],
}
SETTINGS = {"FLASK_SECRET_KEY_FILE": KEY_FILE, "DOMAIN": ""}


@pytest.fixture(params=list(SECRETS))
def database(request) -> str:
    return request.param


@pytest.fixture
def fresh_bake(database, without_database, with_postgresql, tmp_path) -> Path:
    """A private copy of the project baked with that database answer, as the bake left it."""
    baked = with_postgresql if database == "postgresql" else without_database
    copy = tmp_path / DEFAULT_APP_NAME
    shutil.copytree(baked, copy, symlinks=True)
    return copy


def make_env(project: Path):
    return run("make", ".env", cwd=project, timeout=60)


def settings(env: str) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in env.splitlines() if line and not line.startswith("#")
    )


def test_the_bake_writes_no_env_file_and_no_secret(fresh_bake):
    assert not (fresh_bake / ".env").exists()
    assert not (fresh_bake / "secrets").exists()


def test_make_env_writes_the_settings_and_private_secrets_of_their_own(fresh_bake, database):
    make_env(fresh_bake)
    env = (fresh_bake / ".env").read_text(encoding="utf-8")
    assert settings(env) == SETTINGS
    secrets_dir = fresh_bake / "secrets"
    assert sorted(path.name for path in secrets_dir.iterdir()) == SECRETS[database]
    values = set()
    for name in SECRETS[database]:
        secret_file = secrets_dir / name
        value = secret_file.read_text(encoding="utf-8")
        assert re.fullmatch(r"[0-9a-f]{64}\n", value), name
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o640, name
        assert value.strip() not in env
        values.add(value)
    assert len(values) == len(SECRETS[database])  # each secret its own
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o750


def test_each_project_gets_its_own_secret_key(project_copy, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(project_copy, other, symlinks=True)
    make_env(project_copy)
    make_env(other)
    first = (project_copy / KEY_FILE).read_text(encoding="utf-8")
    assert first != (other / KEY_FILE).read_text(encoding="utf-8")


def test_a_second_make_env_keeps_the_settings_and_the_key(project_copy):
    env_file, key_file = project_copy / ".env", project_copy / KEY_FILE
    make_env(project_copy)
    written = env_file.read_text(encoding="utf-8"), key_file.read_text(encoding="utf-8")
    again = make_env(project_copy)
    assert (env_file.read_text(encoding="utf-8"), key_file.read_text(encoding="utf-8")) == written
    assert "up to date" in again.stdout


def test_make_env_keeps_your_settings_when_only_the_key_is_missing(project_copy):
    env_file, key_file = project_copy / ".env", project_copy / KEY_FILE
    make_env(project_copy)
    env_file.write_text("DOMAIN=api.example.com\n", encoding="utf-8")
    key_file.unlink()
    make_env(project_copy)
    assert env_file.read_text(encoding="utf-8") == "DOMAIN=api.example.com\n"
    assert re.fullmatch(r"[0-9a-f]{64}\n", key_file.read_text(encoding="utf-8"))


def test_every_target_but_help_writes_env_first(fresh_bake):
    """Compose reads .env (env_file) and mounts the secrets, even to list or stop the
    services: so each target that runs it has .env as a prerequisite."""
    makefile = (fresh_bake / "Makefile").read_text(encoding="utf-8")
    targets = re.findall(r"^([a-z][a-z-]*):.*## ", makefile, re.MULTILINE)
    assert {"run", "dev", "logs", "ps", "down", "clean"} <= set(targets)
    for target in targets:
        planned = make_dry_run(fresh_bake, target, "PKG=six", "MESSAGE=change")
        assert ("Wrote .env" in planned) == (target != "help"), target
    make_env(fresh_bake)
    for target in targets:
        assert "Wrote" not in make_dry_run(fresh_bake, target, "PKG=six", "MESSAGE=change")


def test_git_ignores_the_env_file_and_the_secrets(fresh_bake, database):
    make_env(fresh_bake)
    run("git", "init", "--quiet", cwd=fresh_bake)
    run("git", "add", "--all", cwd=fresh_bake)
    staged = run("git", "diff", "--cached", "--name-only", cwd=fresh_bake).stdout.splitlines()
    assert "pyproject.toml" in staged
    ignored = [".env", *(f"secrets/{name}" for name in SECRETS[database])]
    for name in ignored:
        assert name not in staged
        run("git", "check-ignore", "--quiet", name, cwd=fresh_bake)
